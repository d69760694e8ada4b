"""The law's read models, folded from events: instruments, duty clocks, orders, cases, sentences."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, insert, select, update

from habeas.domain.custody import TRANSITIONS
from habeas.domain.law import JUDICIAL_KINDS
from habeas.domain.policy import Policy
from habeas.domain.sentencing import Calculation, CountSentence, CustodyCredit, Term, compute, rules_from_policy
from habeas.errors import HabeasError
from habeas.ledger.envelope import StoredEvent
from habeas.ledger.log import read_events_by_id
from habeas.ledger.timefmt import format_instant, parse_instant
from habeas.policy.loader import load_policy
from habeas.store.bulk import among, insert_dicts, update_rows
from habeas.store.law_tables import (
    HELD_VALUES,
    basis_summary,
    cases,
    defendants,
    duties,
    instruments,
    orders,
    sentences,
)
from habeas.store.register_tables import episodes, facilities, people

Item = tuple[StoredEvent, dict[str, Any]]
Handler = Callable[[Connection, str, list[Item]], None]


def _t(text: str | None) -> datetime | None:
    return parse_instant(text) if text else None


def _instrument_row(ledger: str, p: dict[str, Any], episode_id: str, person_id: str) -> dict[str, Any]:
    return {
        "ledger_id": ledger,
        "instrument_id": p["instrument_id"],
        "episode_id": episode_id,
        "person_id": person_id,
        "kind": p["kind"],
        "reference": p["reference"],
        "issued_by": p["issued_by"],
        "issued_at": parse_instant(p["issued_at"]),
        "article": p.get("article"),
        "expires_at": _t(p.get("expires_at")),
        "offence_class": p.get("offence_class"),
        "scope": p.get("scope"),
        "ended_at": None,
        "detained_from": None,
        "limit_deadline": None,
    }


# --- deadlines computed once and stored (R3, R5) --------------------------------------------------------------
# A deadline is a function of the start of detention and of the law (the jurisdiction's dated policy), so it is
# computed when the fact is recorded and stored with the key of the law it was computed under.  The sweep reuses
# it only while the facility's policy has that key (a renewal added to the policy file, a transfer to another
# jurisdiction, or a policy given for a test changes the key) and, for R5, while the instant checked lies in the
# window where the extensions in force do not change; otherwise it computes the deadline again from the policy.

PD_KIND = "provisional_detention_order"
_LAW_KEYS: dict[int, tuple[Policy, str]] = {}


def law_key(policy: Policy) -> str:
    """Which law a stored deadline was computed under: the jurisdiction and a digest of its whole policy."""
    known = _LAW_KEYS.get(id(policy))
    if known is not None and known[0] is policy:
        return known[1]
    digest = hashlib.sha256(orjson.dumps(_canonical(policy), option=orjson.OPT_SORT_KEYS)).hexdigest()
    key = f"{policy.code}:{digest[:20]}"
    _LAW_KEYS[id(policy)] = (policy, key)  # policies are immutable and few: keep each one alive with its key
    return key


def _canonical(value: Any) -> Any:
    """A policy as plain JSON values, the same in every process (sets sorted: no hash-seed order)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((_canonical(v) for v in value), key=repr)
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)  # datetimes, durations, decimals, zones: their repr is exact and stable


def stored_deadline(policy: Policy, arrested_at: datetime) -> str | None:
    """R3: the administrative-detention deadline from this arrest (Cn. 13(2), Cn. 29), as stored in duties."""
    try:
        deadline = policy.administrative_deadline(arrested_at)
    except HabeasError:  # the sweep meets the same problem and reports it; recording is not the place
        return None
    return orjson.dumps(
        {"law": law_key(policy), "due": format_instant(deadline.due), "basis": deadline.basis,
         "refs": list(deadline.instruments)}
    ).decode()  # fmt: skip


def limit_klass(offence_class: str | None) -> str:
    """The CPP 8 class an order counts under (an order naming none counts as serious: the longer limit)."""
    return offence_class or "serious"


def limit_scopes(scope: str | None) -> tuple[str, ...]:
    return (scope,) if scope else ()


def limit_window(
    policy: Policy, klass: str, scopes: Iterable[str], at: datetime
) -> tuple[datetime | None, datetime | None]:
    """The instants around ``at`` between which no extension covering the case enters into or leaves force."""
    case_scopes = frozenset(scopes)
    bounds = sorted(
        {
            b
            for e in policy.extensions
            if e.applies_to == "provisional_detention" and e.covers(klass, case_scopes)
            for b in (e.in_force_from, e.in_force_to)
            if b is not None
        }
    )
    start = max((b for b in bounds if b <= at), default=None)
    end = min((b for b in bounds if b > at), default=None)
    return start, end


def stored_limit(
    policy: Policy, offence_class: str | None, scope: str | None, detained_from: datetime, at: datetime
) -> str | None:
    """R5: the provisional-detention limit as the law stands at ``at`` (CPP 8), as stored on the order.

    Stored only when no extension lengthens it: an extended limit's explanation names the instant it was
    evaluated at, so the sweep computes those (few breach an extension) each time."""
    klass, scopes = limit_klass(offence_class), limit_scopes(scope)
    try:
        deadline = policy.provisional_detention_limit(klass, detained_from, at, scopes)
    except HabeasError:
        return None
    if deadline.instruments:
        return None
    start, end = limit_window(policy, klass, scopes, at)
    return orjson.dumps(
        {"law": law_key(policy), "due": format_instant(deadline.due), "basis": deadline.basis,
         "from": format_instant(start) if start else None, "to": format_instant(end) if end else None}
    ).decode()  # fmt: skip


def _jurisdictions(conn: Connection, ledger: str, episode_ids: Iterable[str]) -> dict[str, tuple[datetime, str]]:
    """Each episode's arrest and the jurisdiction of the facility holding it."""
    rows = conn.execute(
        select(duties.c.episode_id, duties.c.arrested_at, facilities.c.jurisdiction)
        .join(episodes, (episodes.c.ledger_id == duties.c.ledger_id) & (episodes.c.episode_id == duties.c.episode_id))
        .join(
            facilities,
            (facilities.c.ledger_id == episodes.c.ledger_id) & (facilities.c.facility_id == episodes.c.facility_id),
        )
        .where(duties.c.ledger_id == ledger, among(conn, duties.c.episode_id, sorted(set(episode_ids))))
    )
    return {r.episode_id: (r.arrested_at, r.jurisdiction) for r in rows}


def _policy(code: str) -> Policy | None:
    try:
        return load_policy(code)
    except HabeasError:
        return None


def _summarize_basis(conn: Connection, ledger: str, episode_ids: Iterable[str]) -> None:
    """R6: recompute duties.basis_until / basis_issued of these episodes from their instruments."""
    ids = sorted(set(episode_ids))
    if ids:
        until, issued = basis_summary(duties.c.ledger_id, duties.c.episode_id)
        conn.execute(
            update(duties)
            .where(duties.c.ledger_id == ledger, among(conn, duties.c.episode_id, ids))
            .values(basis_until=until, basis_issued=issued)
        )


def _admitted(conn: Connection, ledger: str, items: list[Item]) -> None:
    """Each admission brings its first instrument and opens the episode's duty clocks."""
    countries = {}  # R9: the country whose nationals are not foreign here (None: unknown, nobody flagged)
    jurisdictions = {}
    for r in conn.execute(
        select(facilities.c.facility_id, facilities.c.jurisdiction, facilities.c.country).where(
            facilities.c.ledger_id == ledger
        )
    ):
        countries[r.facility_id] = r.country or (r.jurisdiction.upper() if len(r.jurisdiction) == 3 else None)
        jurisdictions[r.facility_id] = r.jurisdiction
    nationalities = {
        r.person_id: orjson.loads(r.nationalities)
        for r in conn.execute(
            select(people.c.person_id, people.c.nationalities).where(
                people.c.ledger_id == ledger, among(conn, people.c.person_id, {p["person_id"] for _, p in items})
            )
        )
    }
    rows, clocks = [], []
    for event, p in items:
        basis = p["legal_basis"]
        row = _instrument_row(ledger, basis, p["episode_id"], p["person_id"])
        rows.append(row)
        arrested = parse_instant(p["arrested_at"])
        judicial = basis["kind"] in JUDICIAL_KINDS
        policy = _policy(jurisdictions.get(p["facility_id"], ""))
        if basis["kind"] == PD_KIND:
            row["detained_from"] = arrested
            if policy is not None:
                row["limit_deadline"] = stored_limit(
                    policy, row["offence_class"], row["scope"], arrested, event.occurred_at
                )
        country = countries.get(p["facility_id"])
        injured = bool(p.get("injuries_observed")) or bool(p.get("ill_treatment_complaint"))
        clocks.append(
            {
                "ledger_id": ledger,
                "episode_id": p["episode_id"],
                "person_id": p["person_id"],
                "held_in": p["facility_id"],
                "admitted_at": event.occurred_at,
                "arrested_at": arrested,
                "foreign_national": country is not None
                and country not in {n.upper() for n in nationalities.get(p["person_id"], [])},
                "judicial_at": row["issued_at"] if judicial else None,
                "appearance_at": None,
                "rights_at": None,
                "family_at": None,
                "family_delay_until": None,
                "consular_at": None,
                "examined_at": None,
                "injury_at": event.occurred_at if injured else None,
                "referred_at": None,
                "moved_at": None,
                "family_after_move_at": None,
                "died_at": None,
                "death_missing": None,
                # R3 runs until a judge's instrument: a judicial basis at admission leaves nothing to store
                "admin_deadline": None if judicial or policy is None else stored_deadline(policy, arrested),
                # R6: the admission's instrument is the episode's only one
                "basis_until": row["expires_at"],
                "basis_issued": row["issued_at"],
            }
        )
    # Straight to the driver, one statement per table for the whole batch (store.bulk).
    insert_dicts(conn, instruments, rows)
    insert_dicts(conn, duties, clocks)


def _set_first(conn: Connection, ledger: str, column: str, values: list[tuple[str, datetime]]) -> None:
    """Set a duty clock where it is still empty (the first time the duty was done counts)."""
    update_rows(
        conn,
        duties,
        (column,),
        ("ledger_id", "episode_id"),
        [{column: t, "ledger_id": ledger, "episode_id": e} for e, t in values],
        where_null=(column,),
    )


def _examined(conn: Connection, ledger: str, items: list[Item]) -> None:
    """MR 30, 34: the exam clock; and ``injury_at`` holds the first injury or indicator not yet referred."""
    _set_first(conn, ledger, "examined_at", [(p["episode_id"], e.occurred_at) for e, p in items])
    # In event order, each kind batched while the batch names each episode once (a mass intake's exams):
    # a referral clears injury_at and an injury sets it only where empty, so for one episode the order counts.
    episodes_named = [p["episode_id"] for _, p in items]
    if len(set(episodes_named)) != len(episodes_named):
        for item in items:
            _examined_findings(conn, ledger, [item])
        return
    _examined_findings(conn, ledger, items)


def _examined_findings(conn: Connection, ledger: str, items: list[Item]) -> None:
    referred = [
        {"injury_at": None, "referred_at": e.occurred_at, "ledger_id": ledger, "episode_id": p["episode_id"]}
        for e, p in items
        if p.get("referred_to")
    ]
    update_rows(conn, duties, ("injury_at", "referred_at"), ("ledger_id", "episode_id"), referred)
    injured = [
        (p["episode_id"], e.occurred_at)
        for e, p in items
        if not p.get("referred_to") and (p.get("injuries") or p.get("torture_indicators"))
    ]
    _set_first(conn, ledger, "injury_at", injured)


def _arrived(conn: Connection, ledger: str, items: list[Item]) -> None:
    conn.execute(
        update(duties)
        .where(duties.c.ledger_id == ledger, duties.c.episode_id == bindparam("eid"))
        .values(moved_at=bindparam("t"), family_after_move_at=None),
        [{"eid": p["episode_id"], "t": e.occurred_at} for e, p in items],
    )


def _died(conn: Connection, ledger: str, items: list[Item]) -> None:
    for e, p in items:
        conn.execute(
            update(duties)
            .where(duties.c.ledger_id == ledger, duties.c.episode_id == p["episode_id"])
            .values(
                died_at=e.occurred_at,
                death_missing=",".join(death_missing(p)) or None,
                death_record=orjson.dumps(p).decode(),
            )
        )


def _death_completed(conn: Connection, ledger: str, items: list[Item]) -> None:
    """Facts of a death learned later (an autopsy's cause, the family told): the record grows, R12 re-checks."""
    for _, p in items:
        row = conn.execute(
            select(duties.c.death_record).where(duties.c.ledger_id == ledger, duties.c.episode_id == p["episode_id"])
        ).first()
        known = orjson.loads(row.death_record) if row is not None and row.death_record else {}
        record = {**known, **{k: v for k, v in p.items() if v is not None}}
        conn.execute(
            update(duties)
            .where(duties.c.ledger_id == ledger, duties.c.episode_id == p["episode_id"])
            .values(death_missing=",".join(death_missing(record)) or None, death_record=orjson.dumps(record).decode())
        )


def death_missing(p: dict[str, Any]) -> list[str]:
    """R12 / MR 71–72: what a death record must have and this one lacks."""
    missing = []
    if not p.get("next_of_kin_notified_at"):
        missing.append("next-of-kin notice")
    if not p.get("independent_authority") or not p.get("independent_authority_notified_at"):
        missing.append("independent report")
    if not p.get("cause"):
        missing.append("cause")
    if not p.get("remains_destination"):
        missing.append("destination of remains")
    return missing


def _instrument(conn: Connection, ledger: str, items: list[Item]) -> None:
    rows = [_instrument_row(ledger, p, p["episode_id"], p["person_id"]) for _, p in items]
    orders_ = [(e, row) for (e, _), row in zip(items, rows, strict=True) if row["kind"] == PD_KIND]
    if orders_:
        held = _jurisdictions(conn, ledger, (row["episode_id"] for _, row in orders_))
        for e, row in orders_:
            if row["episode_id"] not in held:
                continue
            arrested, code = held[row["episode_id"]]
            row["detained_from"] = arrested
            policy = _policy(code)
            if policy is not None:
                row["limit_deadline"] = stored_limit(
                    policy, row["offence_class"], row["scope"], arrested, e.occurred_at
                )
    conn.execute(insert(instruments), rows)
    judged = [(p["episode_id"], parse_instant(p["issued_at"])) for _, p in items if p["kind"] in JUDICIAL_KINDS]
    _set_first(conn, ledger, "judicial_at", judged)
    if judged:  # a judge's instrument stops the administrative clock (R3): its stored deadline is done with
        conn.execute(
            update(duties)
            .where(duties.c.ledger_id == ledger, duties.c.episode_id.in_(sorted({e for e, _ in judged})))
            .values(admin_deadline=None)
        )
    _summarize_basis(conn, ledger, (p["episode_id"] for _, p in items))


def _instrument_ended(conn: Connection, ledger: str, items: list[Item]) -> None:
    conn.execute(
        update(instruments)
        .where(instruments.c.ledger_id == ledger, instruments.c.instrument_id == bindparam("iid"))
        .values(ended_at=bindparam("t")),
        [{"iid": p["instrument_id"], "t": e.occurred_at} for e, p in items],
    )
    ended = conn.execute(
        select(instruments.c.episode_id).where(
            instruments.c.ledger_id == ledger, instruments.c.instrument_id.in_([p["instrument_id"] for _, p in items])
        )
    ).scalars()
    _summarize_basis(conn, ledger, ended)


def _notified(conn: Connection, ledger: str, items: list[Item]) -> None:
    """The duty clocks a notification stops: a few statements for a whole batch, not two per row."""
    column = {
        "family": "family_at",
        "rights_informed": "rights_at",
        "consulate": "consular_at",
        "consular_rights": "consular_at",
    }
    done: dict[str, list[tuple[str, datetime]]] = {}
    family: list[tuple[str, datetime]] = []
    for e, p in items:
        kind = p["kind"]
        if kind == "family" and p.get("delayed_until"):
            conn.execute(
                update(duties)
                .where(duties.c.ledger_id == ledger, duties.c.episode_id == p["episode_id"])
                .values(family_delay_until=parse_instant(p["delayed_until"]))
            )
            continue
        if kind == "family":
            family.append((p["episode_id"], e.occurred_at))
        if kind in column:
            done.setdefault(column[kind], []).append((p["episode_id"], e.occurred_at))
    if family:
        moved = dict(
            conn.execute(
                select(duties.c.episode_id, duties.c.moved_at).where(
                    duties.c.ledger_id == ledger,
                    among(conn, duties.c.episode_id, sorted({episode for episode, _ in family})),
                    duties.c.moved_at.is_not(None),
                )
            ).all()
        )
        # told of the new place: that also fulfils the duty after admission, if still open
        told = [(episode, at) for episode, at in family if episode in moved and at >= moved[episode]]
        if told:
            _set_first(conn, ledger, "family_after_move_at", told)
    for name, values in done.items():  # in the order recorded: the first one counts (where still empty)
        _set_first(conn, ledger, name, values)


def _case(conn: Connection, ledger: str, items: list[Item]) -> None:
    conn.execute(
        insert(cases),
        [
            {
                "ledger_id": ledger,
                "case_id": p["case_id"],
                "court": p["court"],
                "reference": p["reference"],
                "group_case": p.get("group_case", False),
                "charges": orjson.dumps(p.get("charges", [])).decode(),
            }
            for _, p in items
        ],
    )


def _defendant(conn: Connection, ledger: str, items: list[Item]) -> None:
    conn.execute(
        insert(defendants),
        [
            {
                "ledger_id": ledger,
                "case_id": p["case_id"],
                "person_id": p["person_id"],
                "counsel": p.get("counsel"),
                "hearings": 0,
                "verdict": None,
            }
            for _, p in items
        ],
    )


def _hearing(conn: Connection, ledger: str, items: list[Item]) -> None:
    for e, p in items:
        values: dict[str, Any] = {"hearings": defendants.c.hearings + 1}
        if p.get("counsel"):
            values["counsel"] = p["counsel"]
        conn.execute(
            update(defendants)
            .where(
                defendants.c.ledger_id == ledger,
                defendants.c.case_id == p["case_id"],
                defendants.c.person_id == p["person_id"],
            )
            .values(values)
        )
        if p["kind"] == "initial_appearance":
            held = conn.execute(
                select(episodes.c.episode_id).where(
                    episodes.c.ledger_id == ledger,
                    episodes.c.person_id == p["person_id"],
                    episodes.c.closed_at.is_(None),
                )
            ).scalar()
            if held:
                _set_first(conn, ledger, "appearance_at", [(held, e.occurred_at)])


def _verdict(conn: Connection, ledger: str, items: list[Item]) -> None:
    conn.execute(
        update(defendants)
        .where(
            defendants.c.ledger_id == ledger,
            defendants.c.case_id == bindparam("cid"),
            defendants.c.person_id == bindparam("pid"),
        )
        .values(verdict=bindparam("v")),
        [{"cid": p["case_id"], "pid": p["person_id"], "v": p["verdict"]} for _, p in items],
    )


def _order(conn: Connection, ledger: str, items: list[Item]) -> None:
    conn.execute(
        insert(orders),
        [
            {
                "ledger_id": ledger,
                "order_id": p["order_id"],
                "person_id": p["person_id"],
                "kind": p["kind"],
                "court": p["court"],
                "court_state": p["court_state"],
                "reference": p["reference"],
                "issued_at": parse_instant(p["issued_at"]),
                "deadline": _t(p.get("deadline")),
                "place": p.get("place"),
                "status": "active",
                "closed_at": None,
            }
            for _, p in items
        ],
    )


def _order_closed(status: str) -> Handler:
    def handle(conn: Connection, ledger: str, items: list[Item]) -> None:
        conn.execute(
            update(orders)
            .where(orders.c.ledger_id == ledger, orders.c.order_id == bindparam("oid"))
            .values(status=status, closed_at=bindparam("t")),
            [{"oid": p["order_id"], "t": e.occurred_at} for e, p in items],
        )

    return handle


def _sentence(conn: Connection, ledger: str, items: list[Item]) -> None:
    for e, p in items:
        jurisdiction = (
            conn.execute(
                select(facilities.c.jurisdiction)
                .join(
                    episodes,
                    (episodes.c.ledger_id == facilities.c.ledger_id)
                    & (episodes.c.facility_id == facilities.c.facility_id),
                )
                .where(facilities.c.ledger_id == ledger, episodes.c.person_id == p["person_id"])
                .order_by(episodes.c.admitted_seq.desc())
                .limit(1)
            ).scalar()
            or "intl"
        )
        calc = calculate(p, str(jurisdiction))
        conn.execute(
            insert(sentences),
            [
                {
                    "ledger_id": ledger,
                    "sentence_id": p["sentence_id"],
                    "person_id": p["person_id"],
                    "case_id": p["case_id"],
                    "sentenced_on": date.fromisoformat(p["sentenced_on"]),
                    "aggregate": str(calc.aggregate),
                    "enforceable": str(calc.enforceable),
                    "release_on": calc.release_on,
                    "release_at": calc.release_at,
                    "explanation": orjson.dumps(list(calc.explanation)).decode(),
                    "warnings": orjson.dumps(list(calc.warnings)).decode(),
                    "recorded_seq": e.seq,
                }
            ],
        )


def _term(t: dict[str, int]) -> Term:
    return Term(t.get("years", 0), t.get("months", 0), t.get("days", 0))


def calculate(p: dict[str, Any], jurisdiction: str) -> Calculation:
    """The release calculation of a sentence payload under a jurisdiction's sentencing rules."""
    counts = [
        CountSentence(
            c["count_id"],
            c["offence"],
            c["article"],
            _term(c["term"]),
            c.get("runs", "consecutive"),
            c.get("concurrent_with"),
        )
        for c in p["counts"]
    ]
    credits = [
        CustodyCredit(date.fromisoformat(c["start"]), date.fromisoformat(c["end"]), c["reason"])
        for c in p.get("credits", [])
    ]
    announced = _term(p["announced_aggregate"]) if p.get("announced_aggregate") else None
    return compute(
        counts, date.fromisoformat(p["sentenced_on"]), credits, rules_from_policy(load_policy(jurisdiction)), announced
    )


def _held(conn: Connection, ledger: str, items: list[Item]) -> None:
    """Any status change: copy whether the episode is still held, and where, into duties.held_in.

    Runs after the register's handler for the same events (projections.fold), so it reads the episode
    as that left it.  Registered for every transition of the status machine (TRANSITIONS), so a new
    transition is followed without anyone remembering to tell the safeguards."""
    ids = sorted({p["episode_id"] for _, p in items})
    # Read each episode as the register's handler left it and write only the clocks whose copy changes:
    # a placement or a return keeps the person held in the same facility, so most batches write nothing.
    rows = conn.execute(
        select(duties.c.episode_id, duties.c.held_in, episodes.c.status, episodes.c.facility_id)
        .join(episodes, (episodes.c.ledger_id == duties.c.ledger_id) & (episodes.c.episode_id == duties.c.episode_id))
        .where(duties.c.ledger_id == ledger, among(conn, duties.c.episode_id, ids))
    )
    changed = []
    for r in rows:
        now = r.facility_id if r.status in HELD_VALUES else None
        if now != r.held_in:
            changed.append({"held_in": now, "ledger_id": ledger, "episode_id": r.episode_id})
    update_rows(conn, duties, ("held_in",), ("ledger_id", "episode_id"), changed)


def _then_held(handler: Handler | None) -> Handler:
    def handle(conn: Connection, ledger: str, items: list[Item]) -> None:
        if handler is not None:
            handler(conn, ledger, items)
        _held(conn, ledger, items)

    return handle


def _corrected(conn: Connection, ledger: str, items: list[Any]) -> None:
    """A corrected admission time moves the duty clocks that run from admission (R7–R11).

    The register's projection moves the episode and its stays; without this the sweep
    would keep measuring the 24-hour duties from the time first recorded.
    """
    for _event, p in items:
        fields = p["corrected_fields"]
        if "occurred_at" not in fields:
            continue
        (original,) = read_events_by_id(conn, ledger, [p["corrects_event_id"]])
        if original.type != "custody.admitted":
            continue
        new = parse_instant(str(fields["occurred_at"]))
        episode = original.payload["episode_id"]
        row = conn.execute(
            select(duties.c.admitted_at, duties.c.injury_at).where(
                duties.c.ledger_id == ledger, duties.c.episode_id == episode
            )
        ).first()
        if row is None:
            continue
        values: dict[str, Any] = {"admitted_at": new}
        if row.injury_at is not None and row.injury_at == row.admitted_at:  # injuries were seen at admission
            values["injury_at"] = new
        conn.execute(
            update(duties).where(duties.c.ledger_id == ledger, duties.c.episode_id == episode).values(**values)
        )


HANDLERS: dict[str, Handler] = {
    "custody.admitted": _admitted,
    "medical.examined": _examined,
    "custody.transit_arrived": _arrived,
    "custody.died": _died,
    "death.report_completed": _death_completed,
    "instrument.recorded": _instrument,
    "instrument.ended": _instrument_ended,
    "notification.recorded": _notified,
    "case.opened": _case,
    "case.defendant_added": _defendant,
    "case.hearing_recorded": _hearing,
    "case.verdict_recorded": _verdict,
    "order.issued": _order,
    "order.executed": _order_closed("executed"),
    "order.lifted": _order_closed("lifted"),
    "sentence.recorded": _sentence,
    "event.corrected": _corrected,
}
for _type, (_, _to) in TRANSITIONS.items():
    if _to is not None:  # a change of status (None: the event keeps it)
        HANDLERS[_type] = _then_held(HANDLERS.get(_type))

__all__ = [
    "HANDLERS",
    "PD_KIND",
    "calculate",
    "death_missing",
    "format_instant",
    "law_key",
    "limit_klass",
    "limit_scopes",
    "limit_window",
    "stored_deadline",
    "stored_limit",
]
