"""The sweep's checks: each reads the projections at an instant and returns its findings.

Every check is a set-based query (a few indexed SELECTs, never a loop over people),
so a sweep over a million people costs a handful of queries.  Time limits that depend
on dated law (R3, R5) are monotone in the start of detention, so the law is turned
into one threshold instant per jurisdiction by bisection and the query compares
against it (see :func:`latest_breaching_start`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, Select, and_, exists, func, not_, or_, select

from habeas.domain.custody import HELD, Status
from habeas.domain.law import JUDICIAL_KINDS
from habeas.domain.policy import Deadline, Policy
from habeas.ledger.timefmt import format_instant
from habeas.store.law_tables import cases, defendants, duties, instruments, orders, sentences
from habeas.store.register_tables import cells, episodes, facilities, units

HELD_VALUES = tuple(s.value for s in HELD)


@dataclass(frozen=True)
class Finding:
    rule: str
    subject: str  # a person, cell, unit, order or event id
    message: str
    refs: tuple[str, ...] = ()


@dataclass
class Context:
    conn: Connection
    ledger: str
    at: datetime
    policies: dict[str, Policy]  # facility id -> its jurisdiction's policy
    persons: Sequence[str] | None = None  # only these people (a command's subjects); None: everyone
    cell_ids: Sequence[str] | None = None  # only these cells; None: every cell

    def held(self) -> Any:
        """Episodes held now, restricted to the context's people."""
        where = [episodes.c.ledger_id == self.ledger, episodes.c.status.in_(HELD_VALUES)]
        if self.persons is not None:
            where.append(episodes.c.person_id.in_(list(self.persons)))
        return and_(*where)

    def by_jurisdiction(self) -> dict[str, tuple[Policy, list[str]]]:
        groups: dict[str, tuple[Policy, list[str]]] = {}
        for facility_id, policy in self.policies.items():
            groups.setdefault(policy.code, (policy, []))[1].append(facility_id)
        return groups


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


def check_administrative_detention(ctx: Context) -> Iterable[Finding]:
    """R3: held without any judicial order or appearance beyond the administrative limit in force."""
    for policy, facility_ids in ctx.by_jurisdiction().values():
        earliest = _earliest(ctx, duties.c.arrested_at, facility_ids)
        if earliest is None:
            continue
        threshold = latest_breaching_start(policy.administrative_deadline, ctx.at, earliest)
        query = _duty_rows(ctx, facility_ids).where(
            _not_done_by(duties.c.judicial_at, ctx),
            _not_done_by(duties.c.appearance_at, ctx),
            duties.c.arrested_at <= threshold,
        )
        for row in ctx.conn.execute(query):
            deadline = policy.administrative_deadline(row.arrested_at)
            yield Finding(
                "R3",
                row.person_id,
                f"held {_hours(ctx.at - row.arrested_at)} since arrest at {format_instant(row.arrested_at)} "
                f"with no judicial order; the limit ended {format_instant(deadline.due)} ({deadline.basis})",
                (row.episode_id, *deadline.instruments),
            )


def check_judicial_decision(ctx: Context) -> Iterable[Finding]:
    """R4: placed before a judge, no judicial decision within the limit (Cn. 13(3))."""
    for policy, facility_ids in ctx.by_jurisdiction().values():
        limit = policy.limits.judicial_decision
        decided = exists().where(  # a judge's instrument issued at or after the appearance
            instruments.c.ledger_id == duties.c.ledger_id,
            instruments.c.episode_id == duties.c.episode_id,
            instruments.c.kind.in_(sorted(JUDICIAL_KINDS)),
            instruments.c.issued_at >= duties.c.appearance_at,
            instruments.c.issued_at <= ctx.at,
        )
        query = _duty_rows(ctx, facility_ids).where(
            duties.c.appearance_at.is_not(None),
            not_(decided),
            duties.c.appearance_at < _ago(ctx, limit.duration),
        )
        for row in ctx.conn.execute(query):
            yield Finding(
                "R4",
                row.person_id,
                f"before a judge since {format_instant(row.appearance_at)} with no decision after "
                f"{_hours(ctx.at - row.appearance_at)} ({limit.basis})",
                (row.episode_id,),
            )


def check_provisional_detention(ctx: Context) -> Iterable[Finding]:
    """R5: provisional detention beyond its limit with no extension instrument in force."""
    for policy, facility_ids in ctx.by_jurisdiction().values():
        groups = ctx.conn.execute(
            select(instruments.c.offence_class, instruments.c.scope)
            .distinct()
            .join(
                episodes,
                and_(
                    episodes.c.ledger_id == instruments.c.ledger_id, episodes.c.episode_id == instruments.c.episode_id
                ),
            )
            .where(
                ctx.held(),
                episodes.c.facility_id.in_(facility_ids),
                instruments.c.kind == "provisional_detention_order",
                instruments.c.ended_at.is_(None),
            )
        ).all()
        for offence_class, scope in groups:
            klass = offence_class or "serious"
            scopes = (scope,) if scope else ()

            def deadline(
                start: datetime, klass: str = klass, scopes: tuple[str, ...] = scopes, policy: Policy = policy
            ) -> Deadline:
                return policy.provisional_detention_limit(klass, start, ctx.at, scopes)

            threshold = latest_breaching_start(deadline, ctx.at, EARLIEST.replace(year=1950))
            query = (
                select(
                    episodes.c.person_id,
                    episodes.c.episode_id,
                    duties.c.arrested_at,
                    instruments.c.instrument_id,
                    instruments.c.reference,
                )
                .join(
                    duties,
                    and_(duties.c.ledger_id == episodes.c.ledger_id, duties.c.episode_id == episodes.c.episode_id),
                )
                .join(
                    instruments,
                    and_(
                        instruments.c.ledger_id == episodes.c.ledger_id,
                        instruments.c.episode_id == episodes.c.episode_id,
                    ),
                )
                .where(
                    ctx.held(),
                    episodes.c.facility_id.in_(facility_ids),
                    episodes.c.legal_status == "untried",
                    instruments.c.kind == "provisional_detention_order",
                    instruments.c.ended_at.is_(None),
                    _same(instruments.c.offence_class, offence_class),
                    _same(instruments.c.scope, scope),
                    duties.c.arrested_at <= threshold,
                )
            )
            for row in ctx.conn.execute(query):
                due = deadline(row.arrested_at)
                yield Finding(
                    "R5",
                    row.person_id,
                    f"in provisional detention ({klass}) since {format_instant(row.arrested_at)}; the limit "
                    f"ended {format_instant(due.due)} ({due.basis})",
                    (row.instrument_id, row.reference, *due.instruments),
                )


def _same(column: Any, value: Any) -> Any:
    return column.is_(None) if value is None else column == value


def check_legal_basis(ctx: Context) -> Iterable[Finding]:
    """R6: held while no instrument is in force (all expired or ended)."""
    in_force = exists().where(
        instruments.c.ledger_id == episodes.c.ledger_id,
        instruments.c.episode_id == episodes.c.episode_id,
        instruments.c.ended_at.is_(None),
        instruments.c.issued_at <= ctx.at,
        or_(instruments.c.expires_at.is_(None), instruments.c.expires_at > ctx.at),
    )
    query = select(episodes.c.person_id, episodes.c.episode_id).where(ctx.held(), not_(in_force))
    found = ctx.conn.execute(query).all()
    # The instrument that lapsed last, for every episode found, in batches (not one query each).
    last: dict[str, tuple[datetime, str]] = {}
    ids = [row.episode_id for row in found]
    for start in range(0, len(ids), 900):
        rows = ctx.conn.execute(
            select(instruments.c.episode_id, instruments.c.reference, instruments.c.expires_at, instruments.c.ended_at)
            .where(instruments.c.ledger_id == ctx.ledger, instruments.c.episode_id.in_(ids[start : start + 900]))
        )
        for r in rows:
            when = r.ended_at or r.expires_at
            if when is not None and (r.episode_id not in last or when > last[r.episode_id][0]):
                last[r.episode_id] = (when, r.reference)
    for row in found:
        lapsed = last.get(row.episode_id)
        detail = f"; the last, {lapsed[1]}, lapsed {format_instant(lapsed[0])}" if lapsed else ""
        yield Finding("R6", row.person_id, f"held with no legal basis in force{detail}", (row.episode_id,))


def _not_done_by(column: Any, ctx: Context) -> Any:
    """A duty not yet done at the instant checked (done later counts as not done then)."""
    return or_(column.is_(None), column > ctx.at)


def _duty_rows(ctx: Context, facility_ids: Sequence[str] | None = None) -> Select[Any]:
    query = (
        select(
            duties.c.person_id,
            duties.c.episode_id,
            duties.c.admitted_at,
            duties.c.arrested_at,
            duties.c.appearance_at,
            duties.c.judicial_at,
            duties.c.injury_at,
            duties.c.moved_at,
        )
        .join(episodes, and_(episodes.c.ledger_id == duties.c.ledger_id, episodes.c.episode_id == duties.c.episode_id))
        .where(ctx.held())
    )
    if facility_ids is not None:
        query = query.where(episodes.c.facility_id.in_(list(facility_ids)))
    return query


def _earliest(ctx: Context, column: Any, facility_ids: Sequence[str]) -> datetime | None:
    value = ctx.conn.execute(
        select(func.min(column))
        .join(episodes, and_(episodes.c.ledger_id == duties.c.ledger_id, episodes.c.episode_id == duties.c.episode_id))
        .where(ctx.held(), episodes.c.facility_id.in_(facility_ids))
    ).scalar()
    return value if isinstance(value, datetime) else None


def _window_check(rule: str, column: str, window: str, what: str) -> Callable[[Context], Iterable[Finding]]:
    def check(ctx: Context) -> Iterable[Finding]:
        for policy, facility_ids in ctx.by_jurisdiction().values():
            limit = policy.limits.windows[window]
            query = _duty_rows(ctx, facility_ids).where(
                _not_done_by(duties.c[column], ctx), duties.c.admitted_at < _ago(ctx, limit.duration)
            )
            if rule == "R8":
                query = query.where(or_(duties.c.family_delay_until.is_(None), duties.c.family_delay_until < ctx.at))
            if rule == "R9":
                query = query.where(duties.c.foreign_national.is_(True))
            for row in ctx.conn.execute(query):
                yield Finding(
                    rule,
                    row.person_id,
                    f"{what} {_hours(ctx.at - row.admitted_at)} after admission ({limit.basis})",
                    (row.episode_id,),
                )

    check.__doc__ = f"{rule}: {what} within the window."
    return check


check_rights = _window_check("R7", "rights_at", "R7", "not told the reasons and rights")
check_family = _window_check("R8", "family_at", "R8", "family not notified")
check_consulate = _window_check("R9", "consular_at", "R7", "foreign national with no consular notification offered")
check_examination = _window_check("R10", "examined_at", "R10", "no medical examination")


def check_family_after_transfer(ctx: Context) -> Iterable[Finding]:
    """R8 (transfer): family not told of the new place within the window after each transfer."""
    for policy, facility_ids in ctx.by_jurisdiction().values():
        limit = policy.limits.windows["R8"]
        query = _duty_rows(ctx, facility_ids).where(
            duties.c.moved_at.is_not(None),
            _not_done_by(duties.c.family_after_move_at, ctx),
            duties.c.moved_at < _ago(ctx, limit.duration),
            or_(duties.c.family_delay_until.is_(None), duties.c.family_delay_until < ctx.at),
        )
        for row in ctx.conn.execute(query):
            yield Finding(
                "R8",
                row.person_id,
                f"family not told of the transfer of {format_instant(row.moved_at)} ({limit.basis})",
                (row.episode_id,),
            )


def check_referral(ctx: Context) -> Iterable[Finding]:
    """R11: an injury, complaint or torture indicator with no referral within the window."""
    for policy, facility_ids in ctx.by_jurisdiction().values():
        limit = policy.limits.windows["R11"]
        query = _duty_rows(ctx, facility_ids).where(
            duties.c.injury_at.is_not(None),  # an injury or indicator still unreferred (see projections.law)
            duties.c.injury_at < _ago(ctx, limit.duration),
        )
        for row in ctx.conn.execute(query):
            yield Finding(
                "R11",
                row.person_id,
                f"injury or ill-treatment noted {format_instant(row.injury_at)}, not referred to an "
                f"independent authority ({limit.basis})",
                (row.episode_id,),
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
        query = query.where(duties.c.person_id.in_(list(ctx.persons)))
    for row in ctx.conn.execute(query):
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
        episodes.c.status.in_([Status.OUT.value, Status.IN_TRANSIT.value]),
        episodes.c.expected_by < ctx.at,
    )
    for row in ctx.conn.execute(query):
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
        query = query.where(cells.c.cell_id.in_(list(ctx.cell_ids)))
    for row in ctx.conn.execute(query):
        policy = ctx.policies.get(row.facility_id)
        if policy is None:
            continue
        area, people = Decimal(str(row.floor_area_m2)), int(row.occupants)
        per = area / people
        space = policy.space
        icrc = space.icrc_single_m2 if row.single else space.icrc_shared_m2
        cpt = space.cpt_single_m2 if row.single else space.cpt_shared_m2
        figures = f"{people} people in {area.normalize()} m²: {per.quantize(Decimal('0.01'))} m² each"
        if per < space.critical_shared_m2:
            yield Finding("R18", row.cell_id, f"{figures}, below {space.critical_shared_m2} m² (presumed degrading)")
        elif per < icrc:
            yield Finding("R16", row.cell_id, f"{figures}, below the ICRC's {icrc} m²")
        elif per < cpt:
            yield Finding("R17", row.cell_id, f"{figures}, below the CPT's {cpt} m²")
        if people > row.beds:
            yield Finding("R19", row.cell_id, f"{people} occupants for {row.beds} beds")


def check_capacity(ctx: Context) -> Iterable[Finding]:
    """R20: a unit above its declared capacity, or above its standards-based capacity (both reported)."""
    declared = {
        r.unit_id: r.declared_capacity
        for r in ctx.conn.execute(
            select(units.c.unit_id, units.c.declared_capacity).where(units.c.ledger_id == ctx.ledger)
        )
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
        ).where(cells.c.ledger_id == ctx.ledger)
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
    for unit_id, people in sorted(population.items()):
        parts = []
        if declared.get(unit_id) is not None and people > int(declared[unit_id]):
            parts.append(f"above its declared capacity of {declared[unit_id]}")
        if people > capacity.get(unit_id, 0):
            parts.append(f"above its standards-based capacity of {capacity.get(unit_id, 0)}")
        if parts:
            yield Finding("R20", unit_id, f"{people} people: {' and '.join(parts)}")


def check_mixing(ctx: Context) -> Iterable[Finding]:
    """R21: untried and convicted in one cell, unless housed so with a recorded justification.

    A person an officer placed against the rule with a reason (``override_reason``) is the
    recorded justification: only people housed without one count towards the mix.
    """
    query = (
        select(episodes.c.cell_id, func.count(func.distinct(episodes.c.legal_status)).label("kinds"))
        .where(
            episodes.c.ledger_id == ctx.ledger,
            episodes.c.status == Status.IN_CELL.value,
            episodes.c.legal_status.in_(["untried", "convicted"]),
            episodes.c.placement_override.is_(None),
        )
        .group_by(episodes.c.cell_id)
        .having(func.count(func.distinct(episodes.c.legal_status)) > 1)
    )
    for row in ctx.conn.execute(query):
        if ctx.cell_ids is None or row.cell_id in ctx.cell_ids:
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
        query = query.where(orders.c.person_id.in_(list(ctx.persons)))
    for row in ctx.conn.execute(query):
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
        query = query.where(defendants.c.person_id.in_(list(ctx.persons)))
    for row in ctx.conn.execute(query):
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
    ).where(sentences.c.ledger_id == ctx.ledger)
    if ctx.persons is not None:
        query = query.where(sentences.c.person_id.in_(list(ctx.persons)))
    for row in ctx.conn.execute(query):
        if any("R29" in w for w in orjson.loads(row.warnings)):
            yield Finding(
                "R29",
                row.sentence_id,
                f"announced aggregate {row.aggregate} for {row.person_id} is beyond any enforceable term "
                f"(enforceable: {row.enforceable})",
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
    }
)
# R13 is swept for overdue movements only; roll-call alerts (subject = person) share the id but are
# closed by people, so the sweep only resolves R13 alerts it raised itself (refs start with an episode).


def facilities_policies(conn: Connection, ledger: str, load: Callable[[str], Policy]) -> dict[str, Policy]:
    rows = conn.execute(
        select(facilities.c.facility_id, facilities.c.jurisdiction).where(facilities.c.ledger_id == ledger)
    )
    return {r.facility_id: load(r.jurisdiction) for r in rows}


__all__ = ["SWEEP_CHECKS", "SWEPT_RULES", "Context", "Finding", "facilities_policies", "latest_breaching_start"]
