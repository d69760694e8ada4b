"""The sweep's checks: each reads the projections at an instant and returns its findings.

Every check is a set-based query that reads only the rows that can breach, through an index (see
store.law_tables: one narrow index per duty clock), never every person: a window check (R7–R11) reads
the episodes whose duty is not done, R4 those before a judge, R6 those whose instruments ran out, R5
the orders whose detention began before a threshold.  Whether an episode is held, and where, is in
``duties.held_in``, so the duty checks never join a candidate to its episode.  So a sweep over a
million people costs a few queries and, in Python, only the findings themselves.

Time limits that depend on dated law (R3, R5) are monotone in the start of detention, so the law is
turned into one threshold instant per jurisdiction by bisection and the query compares against it (see
:func:`latest_breaching_start`).  A finding's explanation needs the deadline itself: it was computed
under the law when the fact was recorded and stored (projections.law.stored_deadline / stored_limit);
it is reused only while the facility's policy is still the law it was computed under (and, for R5, the
instant checked lies where the extensions in force are the same), else computed again from the policy.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Connection, Executable, Select, and_, exists, func, not_, or_, select, union_all

from habeas.domain.custody import HELD, Status
from habeas.domain.law import JUDICIAL_KINDS
from habeas.domain.policy import Deadline, Limit, Policy
from habeas.ledger.timefmt import format_instant, parse_instant
from habeas.projections.law import PD_KIND, law_key, limit_klass, limit_scopes
from habeas.safeguards.transfer_checks import TRANSFER_CHECKS, TRANSFER_RULES
from habeas.store.bulk import among
from habeas.store.law_tables import cases, defendants, duties, instruments, orders, sentences
from habeas.store.register_tables import cells, episodes, facilities, people, units

HELD_VALUES = tuple(s.value for s in HELD)


class Finding(NamedTuple):
    """A breach found at the instant checked.  A named tuple, not a dataclass: a full sweep makes half a
    million of them, and a frozen dataclass costs twice as much to build."""

    rule: str
    subject: str  # a person, cell, unit, order or event id
    message: str
    refs: tuple[str, ...] = ()


# Breaches already open as alerts: rule -> subjects.  Their findings carry no message, which only a new
# alert needs (the full sweep's steady state finds half a million of them and raises none).
Known = Mapping[str, Collection[str]]


@dataclass
class Context:
    conn: Connection
    ledger: str
    at: datetime
    policies: dict[str, Policy]  # facility id -> its jurisdiction's policy
    persons: Sequence[str] | None = None  # only these people (a command's subjects); None: everyone
    cell_ids: Sequence[str] | None = None  # only these cells; None: every cell
    known: Known = field(default_factory=dict)  # breaches already open as alerts (see Known)

    def held(self) -> Any:
        """Episodes held now, restricted to the context's people."""
        where = [episodes.c.ledger_id == self.ledger, episodes.c.status.in_(HELD_VALUES)]
        if self.persons is not None:
            where.append(among(self.conn, episodes.c.person_id, self.persons))
        return and_(*where)

    def by_jurisdiction(self) -> dict[str, tuple[Policy, list[str]]]:
        groups: dict[str, tuple[Policy, list[str]]] = {}
        for facility_id, policy in self.policies.items():
            groups.setdefault(policy.code, (policy, []))[1].append(facility_id)
        return groups


def _known(ctx: Context, rule: str, subject: str) -> Finding | None:
    """The finding of a breach already open as an alert, without the message nobody will read."""
    subjects = ctx.known.get(rule)
    return Finding(rule, subject, "") if subjects is not None and subject in subjects else None


def _rows(ctx: Context, query: Executable) -> Sequence[Any]:
    """All the rows of a check's query in one fetch: row by row, the driver's per-call cost (psycopg's above
    all) weighs as much as the query itself when a check finds a hundred thousand breaches."""
    return ctx.conn.execute(query).all()


def _ago(ctx: Context, limit: timedelta) -> datetime:
    return ctx.at - limit


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 72 else f"{hours / 24:.1f} days"


def latest_breaching_start(deadline: Callable[[datetime], Deadline], at: datetime, earliest: datetime) -> datetime:
    """The latest start whose deadline has passed at ``at`` (deadline strictly before ``at``).

    ``deadline`` must be monotone non-decreasing in its start, which holds for every limit
    here (a later arrest never has an earlier deadline).  Bisection to the microsecond.
    """
    lo, hi = earliest, at
    if deadline(lo).due >= at:
        return earliest - timedelta(microseconds=1)  # nobody breaches
    while hi - lo > timedelta(microseconds=1):
        mid = lo + (hi - lo) / 2
        if deadline(mid).due < at:
            lo = mid
        else:
            hi = mid
    return lo


EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)


# --- the shape every person check shares ------------------------------------------------------------------


def _held_duties(ctx: Context, *columns: Any, facility_ids: Sequence[str] | None = None) -> Select[Any]:
    """Duty rows of held episodes (in these facilities), for the context's people.

    The query reads ``duties`` alone (the caller adds the indexed condition that picks the candidates):
    ``held_in`` is the facility holding the episode, NULL once it is closed (projections.law keeps it in
    step with every status change), so no candidate is joined to its episode.  People are restricted on
    ``duties.person_id`` (indexed; always the episode's person).
    """
    query = select(*columns).where(duties.c.ledger_id == ctx.ledger)
    if facility_ids is not None:
        query = query.where(duties.c.held_in.in_(list(facility_ids)))
    else:
        query = query.where(duties.c.held_in.is_not(None))
    if ctx.persons is not None:
        query = query.where(among(ctx.conn, duties.c.person_id, ctx.persons))
    return query


def _not_done_by(column: Any, ctx: Context) -> Any:
    """A duty not yet done at the instant checked (done later counts as not done then).

    Both branches are ranges of the column's index (NULL, and after the instant)."""
    return or_(column.is_(None), column > ctx.at)


def _stored(text: str | None, key: str) -> dict[str, Any] | None:
    """A stored deadline (projections.law), if it was computed under the law ``key``."""
    if not text:
        return None
    stored: dict[str, Any] = orjson.loads(text)
    return stored if stored.get("law") == key else None


# --- R3–R6: the custody clocks (Cn. 13, CPP 8) and the legal basis (F1) ------------------------------------


def check_administrative_detention(ctx: Context) -> Iterable[Finding]:
    """R3: held without any judicial order or appearance beyond the administrative limit in force."""
    for policy, facility_ids in ctx.by_jurisdiction().values():
        key = law_key(policy)
        threshold = latest_breaching_start(policy.administrative_deadline, ctx.at, EARLIEST)
        if threshold < EARLIEST:
            continue
        query = _held_duties(
            ctx,
            duties.c.person_id,
            duties.c.episode_id,
            duties.c.arrested_at,
            duties.c.admin_deadline,
            facility_ids=facility_ids,
        ).where(  # candidates: ix_duties_judicial (no judge's instrument by the instant checked)
            _not_done_by(duties.c.judicial_at, ctx),
            _not_done_by(duties.c.appearance_at, ctx),
            duties.c.arrested_at <= threshold,
        )
        for row in _rows(ctx, query):
            if known := _known(ctx, "R3", row.person_id):
                yield known
                continue
            stored = _stored(row.admin_deadline, key)
            if stored is not None:
                due, basis, refs = stored["due"], stored["basis"], tuple(stored["refs"])
            else:  # computed under another law, or not stored (recorded before 0004, or judged later)
                deadline = policy.administrative_deadline(row.arrested_at)
                due, basis, refs = format_instant(deadline.due), deadline.basis, deadline.instruments
            yield Finding(
                "R3",
                row.person_id,
                f"held {_hours(ctx.at - row.arrested_at)} since arrest at {format_instant(row.arrested_at)} "
                f"with no judicial order; the limit ended {due} ({basis})",
                (row.episode_id, *refs),
            )


def check_judicial_decision(ctx: Context) -> Iterable[Finding]:
    """R4: placed before a judge, no judicial decision within the limit (Cn. 13(3))."""
    for policy, facility_ids in ctx.by_jurisdiction().values():
        limit = policy.limits.judicial_decision
        # Candidates (ix_duties_appearance): before a judge since longer than the limit.  The first judge's
        # instrument (judicial_at, in the same index) settles most of them without reading instruments:
        # issued between the appearance and the instant checked, it is a decision.
        decided_first = and_(duties.c.judicial_at >= duties.c.appearance_at, duties.c.judicial_at <= ctx.at)
        query = _held_duties(
            ctx, duties.c.person_id, duties.c.episode_id, duties.c.appearance_at, facility_ids=facility_ids
        ).where(
            duties.c.appearance_at.is_not(None),
            duties.c.appearance_at < _ago(ctx, limit.duration),
            or_(duties.c.judicial_at.is_(None), not_(decided_first)),
        )
        # The rest: a judge's instrument issued at or after the appearance, by the instant checked, looked up
        # per candidate through ix_instruments_episode in the same statement (an EXISTS in the select list
        # is evaluated per row: in WHERE, PostgreSQL may turn it into an anti-join that hashes every
        # instrument).
        decided = (
            exists()
            .where(
                instruments.c.ledger_id == duties.c.ledger_id,
                instruments.c.episode_id == duties.c.episode_id,
                instruments.c.kind.in_(sorted(JUDICIAL_KINDS)),
                instruments.c.issued_at >= duties.c.appearance_at,
                instruments.c.issued_at <= ctx.at,
            )
            .label("decided")
        )
        for row in _rows(ctx, query.add_columns(decided)):
            if row.decided:
                continue
            if known := _known(ctx, "R4", row.person_id):
                yield known
                continue
            yield Finding(
                "R4",
                row.person_id,
                f"before a judge since {format_instant(row.appearance_at)} with no decision after "
                f"{_hours(ctx.at - row.appearance_at)} ({limit.basis})",
                (row.episode_id,),
            )


def _limit_groups(ctx: Context) -> list[tuple[str | None, str | None]]:
    """The classes and scopes of the provisional detention orders on record (R5).

    Found by seeking ix_instruments_limit once per distinct value (a skip scan), not by reading every order.
    A group without orders costs one empty index range below, so NULL is always included."""
    base = [instruments.c.ledger_id == ctx.ledger, instruments.c.kind == PD_KIND]
    groups: list[tuple[str | None, str | None]] = []
    for klass in [None, *_distinct(ctx, instruments.c.offence_class, base)]:
        within = [*base, _same(instruments.c.offence_class, klass)]
        groups += [(klass, scope) for scope in [None, *_distinct(ctx, instruments.c.scope, within)]]
    return groups


def _distinct(ctx: Context, column: Any, where: Sequence[Any]) -> list[str]:
    """The distinct non-NULL values of an indexed column, one index seek each."""
    values: list[str] = []
    while True:
        query = select(column).where(*where, column.is_not(None))
        if values:
            query = query.where(column > values[-1])
        value = ctx.conn.execute(query.order_by(column).limit(1)).scalar()
        if value is None:
            return values
        values.append(str(value))


def check_provisional_detention(ctx: Context) -> Iterable[Finding]:
    """R5: provisional detention beyond its limit with no extension instrument in force."""
    groups = _limit_groups(ctx)
    for policy, facility_ids in ctx.by_jurisdiction().values():
        key = law_key(policy)
        for offence_class, scope in groups:
            klass, scopes = limit_klass(offence_class), limit_scopes(scope)

            def deadline(
                start: datetime, klass: str = klass, scopes: tuple[str, ...] = scopes, policy: Policy = policy
            ) -> Deadline:
                return policy.provisional_detention_limit(klass, start, ctx.at, scopes)

            threshold = latest_breaching_start(deadline, ctx.at, EARLIEST.replace(year=1950))
            if threshold < EARLIEST.replace(year=1950):
                continue
            query = (
                select(
                    instruments.c.person_id,  # the episode's person (services.legal), so the join reads only the index
                    instruments.c.episode_id,
                    instruments.c.detained_from,
                    instruments.c.instrument_id,
                    instruments.c.reference,
                    instruments.c.limit_deadline,
                )
                .join(  # held here and untried: each candidate's entry in ix_episodes_held (covering)
                    episodes,
                    and_(episodes.c.ledger_id == ctx.ledger, episodes.c.episode_id == instruments.c.episode_id),
                )
                .where(  # candidates: ix_instruments_limit (class, scope, detained before the threshold)
                    instruments.c.ledger_id == ctx.ledger,
                    instruments.c.kind == PD_KIND,
                    _same(instruments.c.offence_class, offence_class),
                    _same(instruments.c.scope, scope),
                    instruments.c.detained_from <= threshold,
                    instruments.c.ended_at.is_(None),
                    episodes.c.status.in_(HELD_VALUES),
                    episodes.c.legal_status == "untried",
                    episodes.c.facility_id.in_(facility_ids),
                )
            )
            if ctx.persons is not None:
                # Through the people's episodes (ix_episodes_person, then ix_instruments_episode): filtering
                # the class's whole candidate range by person read ~60,000 orders at 1M for one person.
                theirs = select(episodes.c.episode_id).where(
                    episodes.c.ledger_id == ctx.ledger, among(ctx.conn, episodes.c.person_id, ctx.persons)
                )
                query = query.where(instruments.c.episode_id.in_(theirs))
            for row in _rows(ctx, query):
                if known := _known(ctx, "R5", row.person_id):
                    yield known
                    continue
                stored = _stored(row.limit_deadline, key)
                refs: tuple[str, ...]
                if stored is not None and _in_window(stored, ctx.at):
                    due, basis, refs = stored["due"], stored["basis"], ()
                else:
                    computed = deadline(row.detained_from)
                    due, basis, refs = format_instant(computed.due), computed.basis, computed.instruments
                yield Finding(
                    "R5",
                    row.person_id,
                    f"in provisional detention ({klass}) since {format_instant(row.detained_from)}; the limit "
                    f"ended {due} ({basis})",
                    (row.instrument_id, row.reference, *refs),
                )


def _in_window(stored: dict[str, Any], at: datetime) -> bool:
    """Whether ``at`` lies where the extensions in force are those the stored limit was computed with."""
    start, end = stored.get("from"), stored.get("to")
    return (start is None or parse_instant(start) <= at) and (end is None or at < parse_instant(end))


def _same(column: Any, value: Any) -> Any:
    return column.is_(None) if value is None else column == value


def check_legal_basis(ctx: Context) -> Iterable[Finding]:
    """R6: held while no instrument is in force (all expired or ended)."""
    # Candidates: every instrument not ended expired by the instant checked (ix_duties_basis_until), or
    # one was issued after it (ix_duties_basis_issued); only those can be without a basis in force.  Two
    # ranges, one each (as one OR, SQLite would rather read every held episode), in one statement.
    # Their instruments are looked up per candidate (ix_instruments_episode) in the select list: whether
    # one is in force, and which lapsed last (for the message).
    mine = and_(instruments.c.ledger_id == duties.c.ledger_id, instruments.c.episode_id == duties.c.episode_id)
    lapse = func.coalesce(instruments.c.ended_at, instruments.c.expires_at)
    last = select(lapse, instruments.c.reference).where(mine, lapse.is_not(None))
    last = last.order_by(lapse.desc(), instruments.c.instrument_id).limit(1)
    columns = (
        duties.c.person_id,
        duties.c.episode_id,
        exists()
        .where(
            mine,
            instruments.c.ended_at.is_(None),
            instruments.c.issued_at <= ctx.at,
            or_(instruments.c.expires_at.is_(None), instruments.c.expires_at > ctx.at),
        )
        .label("in_force"),
        last.with_only_columns(lapse).scalar_subquery().label("lapsed_at"),
        last.with_only_columns(instruments.c.reference).scalar_subquery().label("lapsed"),
    )
    expired = duties.c.basis_until <= ctx.at
    query = union_all(
        _held_duties(ctx, *columns).where(expired),
        _held_duties(ctx, *columns).where(
            duties.c.basis_issued > ctx.at, or_(duties.c.basis_until.is_(None), not_(expired))
        ),
    )
    for row in _rows(ctx, query):
        if row.in_force:
            continue
        if known := _known(ctx, "R6", row.person_id):
            yield known
            continue
        detail = f"; the last, {row.lapsed}, lapsed {format_instant(row.lapsed_at)}" if row.lapsed_at else ""
        yield Finding("R6", row.person_id, f"held with no legal basis in force{detail}", (row.episode_id,))


# --- R7–R11: duties with a window (told of rights, family, consulate, examination, referral) ----------------

Describe = Callable[[Any, Context, Limit], str]


def _window_check(
    rule: str,
    window: str,
    since: Any,
    describe: Describe,
    *,
    done: Any = None,
    where: Sequence[Callable[[Context], Any]] = (),
    doc: str = "",
) -> Callable[[Context], Iterable[Finding]]:
    """A duty due within a policy window after ``since`` (admission, a transfer, an injury).

    A breach: ``since`` more than the window before the instant checked, and ``done`` not done by then (when
    ``done`` is None, ``since`` itself is cleared once the duty is done, as ``injury_at`` by a referral).  The
    candidates come from the index on ``done`` (or ``since``); ``where`` adds the rule's own conditions.
    """

    def check(ctx: Context) -> Iterable[Finding]:
        for policy, facility_ids in ctx.by_jurisdiction().values():
            limit = policy.limits.windows[window]
            query = _held_duties(ctx, duties.c.person_id, duties.c.episode_id, since, facility_ids=facility_ids).where(
                since.is_not(None), since < _ago(ctx, limit.duration), *(w(ctx) for w in where)
            )
            if done is not None:
                query = query.where(_not_done_by(done, ctx))
            for row in _rows(ctx, query):
                known = _known(ctx, rule, row.person_id)
                yield known or Finding(rule, row.person_id, describe(row, ctx, limit), (row.episode_id,))

    check.__doc__ = doc or f"{rule}: a duty within the window after {since.name}."
    return check


def _after_admission(what: str) -> Describe:
    return lambda row, ctx, limit: f"{what} {_hours(ctx.at - row.admitted_at)} after admission ({limit.basis})"


def _no_family_delay(ctx: Context) -> Any:
    """R8: unless a recorded, authorized delay still runs."""
    return or_(duties.c.family_delay_until.is_(None), duties.c.family_delay_until < ctx.at)


def _foreign(ctx: Context) -> Any:
    return duties.c.foreign_national.is_(True)


check_rights = _window_check(
    "R7",
    "R7",
    duties.c.admitted_at,
    _after_admission("not told the reasons and rights"),
    done=duties.c.rights_at,
    doc="R7: not told the reasons and rights within the window.",
)
check_family = _window_check(
    "R8",
    "R8",
    duties.c.admitted_at,
    _after_admission("family not notified"),
    done=duties.c.family_at,
    where=(_no_family_delay,),
    doc="R8: family not notified within the window.",
)
check_family_after_transfer = _window_check(
    "R8",
    "R8",
    duties.c.moved_at,
    lambda row, ctx, limit: f"family not told of the transfer of {format_instant(row.moved_at)} ({limit.basis})",
    done=duties.c.family_after_move_at,
    where=(_no_family_delay,),
    doc="R8 (transfer): family not told of the new place within the window after each transfer.",
)
check_consulate = _window_check(
    "R9",
    "R7",
    duties.c.admitted_at,
    _after_admission("foreign national with no consular notification offered"),
    done=duties.c.consular_at,
    where=(_foreign,),
    doc="R9: foreign national with no consular notification offered within the window.",
)
check_examination = _window_check(
    "R10",
    "R10",
    duties.c.admitted_at,
    _after_admission("no medical examination"),
    done=duties.c.examined_at,
    doc="R10: no medical examination within the window.",
)
check_referral = _window_check(
    "R11",
    "R11",
    duties.c.injury_at,  # the first injury or indicator still unreferred (see projections.law)
    lambda row, ctx, limit: (
        f"injury or ill-treatment noted {format_instant(row.injury_at)}, not referred to an "
        f"independent authority ({limit.basis})"
    ),
    doc="R11: an injury, complaint or torture indicator with no referral within the window.",
)


def check_deaths(ctx: Context) -> Iterable[Finding]:
    """R12: a death record lacking next-of-kin notice, independent report, cause or destination of remains."""
    query = select(duties.c.person_id, duties.c.episode_id, duties.c.died_at, duties.c.death_missing).where(
        duties.c.ledger_id == ctx.ledger,
        duties.c.died_at.is_not(None),
        duties.c.died_at <= ctx.at,
        duties.c.death_missing.is_not(None),
    )
    if ctx.persons is not None:
        query = query.where(among(ctx.conn, duties.c.person_id, ctx.persons))
    for row in _rows(ctx, query):
        yield Finding(
            "R12",
            row.person_id,
            f"died {format_instant(row.died_at)}; the record lacks {row.death_missing.replace(',', ', ')}",
            (row.episode_id,),
        )


def check_overdue(ctx: Context) -> Iterable[Finding]:
    """R13: out of the facility or in transit beyond the expected return or arrival."""
    query = select(
        episodes.c.person_id, episodes.c.episode_id, episodes.c.status, episodes.c.place, episodes.c.expected_by
    ).where(
        ctx.held(),
        # every facility of the ledger, so that ix_episodes_status (facility, status) finds the few outside
        episodes.c.facility_id.in_(sorted(ctx.policies)),
        episodes.c.status.in_([Status.OUT.value, Status.IN_TRANSIT.value]),
        episodes.c.expected_by < ctx.at,
    )
    for row in _rows(ctx, query):
        what = "not back from" if row.status == Status.OUT.value else "not arrived at"
        yield Finding(
            "R13",
            row.person_id,
            f"{what} {row.place}: expected by {format_instant(row.expected_by)}",
            (row.episode_id,),
        )


def check_space(ctx: Context) -> Iterable[Finding]:
    """R16–R19: m² per person under the ICRC, CPT and 3 m² floors (the gravest applies), and beds."""
    query = select(
        cells.c.cell_id, cells.c.facility_id, cells.c.floor_area_m2, cells.c.occupants, cells.c.beds, cells.c.single
    ).where(cells.c.ledger_id == ctx.ledger, cells.c.occupants > 0)
    if ctx.cell_ids is not None:
        query = query.where(among(ctx.conn, cells.c.cell_id, ctx.cell_ids))
    for row in _rows(ctx, query):
        policy = ctx.policies.get(row.facility_id)
        if policy is None:
            continue
        area, people = Decimal(str(row.floor_area_m2)), int(row.occupants)
        per = area / people
        space = policy.space
        icrc = space.icrc_single_m2 if row.single else space.icrc_shared_m2
        cpt = space.cpt_single_m2 if row.single else space.cpt_shared_m2
        figures = f"{people} people in {area.normalize():f} m²: {per.quantize(Decimal('0.01'))} m² each"
        if per < space.critical_shared_m2:
            yield Finding("R18", row.cell_id, f"{figures}, below {space.critical_shared_m2} m² (presumed degrading)")
        elif per < icrc:
            yield Finding("R16", row.cell_id, f"{figures}, below the ICRC's {icrc} m²")
        elif per < cpt:
            yield Finding("R17", row.cell_id, f"{figures}, below the CPT's {cpt} m²")
        if people > row.beds:
            yield Finding("R19", row.cell_id, f"{people} occupants for {row.beds} beds")


def check_capacity(ctx: Context) -> Iterable[Finding]:
    """R20: a unit above its declared capacity, or above its standards-based capacity (both reported).

    After a command, only the units of the cells it touched (a unit's population changes only through
    its cells): before, every command re-read every cell of the ledger (250 units at 1,000,000 people).
    """
    unit_where = [units.c.ledger_id == ctx.ledger]
    cell_where = [cells.c.ledger_id == ctx.ledger]
    if ctx.cell_ids is not None:
        if not ctx.cell_ids:
            return
        touched = select(cells.c.unit_id).where(
            cells.c.ledger_id == ctx.ledger, among(ctx.conn, cells.c.cell_id, ctx.cell_ids)
        )
        unit_where.append(units.c.unit_id.in_(touched))
        cell_where.append(cells.c.unit_id.in_(touched))
    declared = {
        r.unit_id: r.declared_capacity
        for r in ctx.conn.execute(select(units.c.unit_id, units.c.declared_capacity).where(*unit_where))
    }
    population: dict[str, int] = {}
    capacity: dict[str, int] = {}
    rows = ctx.conn.execute(
        select(
            cells.c.unit_id,
            cells.c.facility_id,
            cells.c.occupants,
            cells.c.floor_area_m2,
            cells.c.single,
            cells.c.in_service,
        ).where(*cell_where)
    )
    for row in rows:
        policy = ctx.policies.get(row.facility_id)
        if policy is None:
            continue
        population[row.unit_id] = population.get(row.unit_id, 0) + int(row.occupants)
        if row.in_service:
            area = Decimal(str(row.floor_area_m2))
            per = policy.space.single_m2 if row.single else policy.space.shared_m2
            room = (1 if area >= per else 0) if row.single else int(area / per)
            capacity[row.unit_id] = capacity.get(row.unit_id, 0) + room
    for unit_id, headcount in sorted(population.items()):
        parts = []
        if declared.get(unit_id) is not None and headcount > int(declared[unit_id]):
            parts.append(f"above its declared capacity of {declared[unit_id]}")
        if headcount > capacity.get(unit_id, 0):
            parts.append(f"above its standards-based capacity of {capacity.get(unit_id, 0)}")
        if parts:
            yield Finding("R20", unit_id, f"{headcount} people: {' and '.join(parts)}")


def check_mixing(ctx: Context) -> Iterable[Finding]:
    """R21: untried and convicted in one cell, unless housed so with a recorded justification.

    A person an officer placed against the rule with a reason (``override_reason``) is the
    recorded justification: only people housed without one count towards the mix.  Two index
    probes per cell (ix_episodes_cell_status), not a pass over everyone housed.
    """

    def housed(legal_status: str) -> Any:
        return exists().where(
            episodes.c.ledger_id == cells.c.ledger_id,
            episodes.c.cell_id == cells.c.cell_id,
            episodes.c.legal_status == legal_status,
            episodes.c.status == Status.IN_CELL.value,
            episodes.c.placement_override.is_(None),
        )

    query = (
        select(cells.c.cell_id)
        .where(cells.c.ledger_id == ctx.ledger, cells.c.occupants > 1, housed("untried"), housed("convicted"))
        .order_by(cells.c.cell_id)
    )
    if ctx.cell_ids is not None:
        query = query.where(among(ctx.conn, cells.c.cell_id, ctx.cell_ids))
    for row in _rows(ctx, query):
        yield Finding("R21", str(row.cell_id), "untried and convicted people share the cell (MR 11(b))")


def check_orders(ctx: Context) -> Iterable[Finding]:
    """R26: an order with a deadline, still not executed when the deadline passed."""
    query = select(orders).where(
        orders.c.ledger_id == ctx.ledger,
        orders.c.status == "active",
        orders.c.deadline.is_not(None),
        orders.c.deadline < ctx.at,
    )
    if ctx.persons is not None:
        query = query.where(among(ctx.conn, orders.c.person_id, ctx.persons))
    for row in _rows(ctx, query):
        yield Finding(
            "R26",
            row.order_id,
            f"{row.kind.replace('_', '-')} order {row.reference} of {row.court} ({row.court_state}) for "
            f"{row.person_id} not executed by its deadline {format_instant(row.deadline)}",
            (row.order_id, row.person_id),
        )


def check_group_cases(ctx: Context) -> Iterable[Finding]:
    """R28: a defendant in a group case with no individual hearing record, or no counsel."""
    query = (
        select(
            defendants.c.case_id, defendants.c.person_id, defendants.c.hearings, defendants.c.counsel, cases.c.reference
        )
        .join(cases, and_(cases.c.ledger_id == defendants.c.ledger_id, cases.c.case_id == defendants.c.case_id))
        .where(
            defendants.c.ledger_id == ctx.ledger,
            cases.c.group_case.is_(True),
            or_(defendants.c.hearings == 0, defendants.c.counsel.is_(None)),
        )
    )
    if ctx.persons is not None:
        query = query.where(among(ctx.conn, defendants.c.person_id, ctx.persons))
    for row in _rows(ctx, query):
        if known := _known(ctx, "R28", f"{row.case_id}:{row.person_id}"):
            yield known
            continue
        lacks = [
            w
            for w, missing in (("individual hearing record", row.hearings == 0), ("counsel", row.counsel is None))
            if missing
        ]
        yield Finding(
            "R28",
            f"{row.case_id}:{row.person_id}",
            f"{row.person_id} in group case {row.reference} has no {' and no '.join(lacks)}",
            (row.case_id, row.person_id),
        )


def check_sentences(ctx: Context) -> Iterable[Finding]:
    """R29: an announced aggregate beyond any enforceable term."""
    query = select(
        sentences.c.sentence_id,
        sentences.c.person_id,
        sentences.c.aggregate,
        sentences.c.enforceable,
        sentences.c.warnings,
    ).where(
        sentences.c.ledger_id == ctx.ledger,
        sentences.c.warnings.like("%R29%"),  # in SQL: only the sentences with such a warning are read
    )
    if ctx.persons is not None:
        query = query.where(among(ctx.conn, sentences.c.person_id, ctx.persons))
    for row in _rows(ctx, query):
        if any("R29" in w for w in orjson.loads(row.warnings)):
            yield Finding(
                "R29",
                row.sentence_id,
                f"announced aggregate {row.aggregate} for {row.person_id} is beyond any enforceable term "
                f"(enforceable: {row.enforceable})",
                (row.person_id,),
            )


def check_group_labels(ctx: Context) -> Iterable[Finding]:
    """H1: someone held under a group label with no document behind it (recorded as unsubstantiated).

    The label is kept (MR 8: the classification is on record) but it is not evidence: separation rules
    act on it, and courts and families read it.  Cleared when a document is recorded for it, the label
    is withdrawn, or the person is no longer held.  Read through ``ix_people_unsubstantiated``: the
    candidates are the few people so labelled, each probed for a held episode.
    """
    held = exists(select(episodes.c.episode_id).where(ctx.held(), episodes.c.person_id == people.c.person_id))
    query = select(people.c.person_id, people.c.group_affiliation).where(
        people.c.ledger_id == ctx.ledger,
        people.c.group_substantiated.is_(False),
        people.c.group_affiliation.is_not(None),
        held,
    )
    if ctx.persons is not None:
        query = query.where(among(ctx.conn, people.c.person_id, ctx.persons))
    for row in _rows(ctx, query):
        if known := _known(ctx, "H1", row.person_id):
            yield known
            continue
        yield Finding(
            "H1",
            row.person_id,
            f"{row.person_id} is held labelled {row.group_affiliation!r} with no documented evidence "
            "(recorded as unsubstantiated)",
            (row.person_id,),
        )


# R13 (missing at a roll call), R1 and R23 are raised by the events themselves and closed by a person.
SWEEP_CHECKS: tuple[tuple[str, Callable[[Context], Iterable[Finding]]], ...] = (
    ("R3", check_administrative_detention),
    ("R4", check_judicial_decision),
    ("R5", check_provisional_detention),
    ("R6", check_legal_basis),
    ("R7", check_rights),
    ("R8", check_family),
    ("R8", check_family_after_transfer),
    ("R9", check_consulate),
    ("R10", check_examination),
    ("R11", check_referral),
    ("R12", check_deaths),
    ("R13", check_overdue),
    ("R16-R19", check_space),
    ("R20", check_capacity),
    ("R21", check_mixing),
    ("R26", check_orders),
    ("R28", check_group_cases),
    ("R29", check_sentences),
    ("H1", check_group_labels),
    *TRANSFER_CHECKS,  # R25, R26 (refused at the gate), R27: transfers between states
)
SWEPT_RULES = frozenset(
    {
        "R3",
        "R4",
        "R5",
        "R6",
        "R7",
        "R8",
        "R9",
        "R10",
        "R11",
        "R12",
        "R16",
        "R17",
        "R18",
        "R19",
        "R20",
        "R21",
        "R26",
        "R28",
        "R29",
        "H1",
    }
    | TRANSFER_RULES
)
# R13 is swept for overdue movements only; roll-call alerts (subject = person) share the id but are
# closed by people, so the sweep only resolves R13 alerts it raised itself (refs start with an episode).


def facilities_policies(conn: Connection, ledger: str, load: Callable[[str], Policy]) -> dict[str, Policy]:
    rows = conn.execute(
        select(facilities.c.facility_id, facilities.c.jurisdiction).where(facilities.c.ledger_id == ledger)
    )
    return {r.facility_id: load(r.jurisdiction) for r in rows}


__all__ = [
    "SWEEP_CHECKS", "SWEPT_RULES", "Context", "Finding", "Known", "facilities_policies", "latest_breaching_start",
]  # fmt: skip
