"""The law's read models, folded from events: instruments, duty clocks, orders, cases, sentences."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, insert, select, update

from habeas.domain.law import JUDICIAL_KINDS
from habeas.domain.sentencing import Calculation, CountSentence, CustodyCredit, Term, compute, rules_from_policy
from habeas.ledger.envelope import StoredEvent
from habeas.ledger.timefmt import format_instant, parse_instant
from habeas.policy.loader import load_policy
from habeas.store.law_tables import cases, defendants, duties, instruments, orders, sentences
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
    }


def _admitted(conn: Connection, ledger: str, items: list[Item]) -> None:
    """Each admission brings its first instrument and opens the episode's duty clocks."""
    countries = {  # R9: the country whose nationals are not foreign here (None: unknown, nobody flagged)
        r.facility_id: r.country or (r.jurisdiction.upper() if len(r.jurisdiction) == 3 else None)
        for r in conn.execute(
            select(facilities.c.facility_id, facilities.c.jurisdiction, facilities.c.country).where(
                facilities.c.ledger_id == ledger
            )
        )
    }
    nationalities = {
        r.person_id: orjson.loads(r.nationalities)
        for r in conn.execute(
            select(people.c.person_id, people.c.nationalities).where(
                people.c.ledger_id == ledger, people.c.person_id.in_({p["person_id"] for _, p in items})
            )
        )
    }
    rows, clocks = [], []
    for event, p in items:
        basis = p["legal_basis"]
        rows.append(_instrument_row(ledger, basis, p["episode_id"], p["person_id"]))
        country = countries.get(p["facility_id"])
        injured = bool(p.get("injuries_observed")) or bool(p.get("ill_treatment_complaint"))
        clocks.append(
            {
                "ledger_id": ledger,
                "episode_id": p["episode_id"],
                "person_id": p["person_id"],
                "admitted_at": event.occurred_at,
                "arrested_at": parse_instant(p["arrested_at"]),
                "foreign_national": country is not None
                and country not in {n.upper() for n in nationalities.get(p["person_id"], [])},
                "judicial_at": parse_instant(basis["issued_at"]) if basis["kind"] in JUDICIAL_KINDS else None,
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
            }
        )
    conn.execute(insert(instruments), rows)
    conn.execute(insert(duties), clocks)


def _set_first(conn: Connection, ledger: str, column: str, values: list[tuple[str, datetime]]) -> None:
    """Set a duty clock where it is still empty (the first time the duty was done counts)."""
    if values:
        conn.execute(
            update(duties)
            .where(duties.c.ledger_id == ledger, duties.c.episode_id == bindparam("eid"), duties.c[column].is_(None))
            .values({column: bindparam("t")}),
            [{"eid": e, "t": t} for e, t in values],
        )


def _examined(conn: Connection, ledger: str, items: list[Item]) -> None:
    """MR 30, 34: the exam clock; and ``injury_at`` holds the first injury or indicator not yet referred."""
    _set_first(conn, ledger, "examined_at", [(p["episode_id"], e.occurred_at) for e, p in items])
    for e, p in items:
        if p.get("referred_to"):
            conn.execute(
                update(duties)
                .where(duties.c.ledger_id == ledger, duties.c.episode_id == p["episode_id"])
                .values(injury_at=None, referred_at=e.occurred_at)
            )
        elif p.get("injuries") or p.get("torture_indicators"):
            _set_first(conn, ledger, "injury_at", [(p["episode_id"], e.occurred_at)])


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
    conn.execute(insert(instruments), [_instrument_row(ledger, p, p["episode_id"], p["person_id"]) for _, p in items])
    _set_first(
        conn,
        ledger,
        "judicial_at",
        [(p["episode_id"], parse_instant(p["issued_at"])) for _, p in items if p["kind"] in JUDICIAL_KINDS],
    )


def _instrument_ended(conn: Connection, ledger: str, items: list[Item]) -> None:
    conn.execute(
        update(instruments)
        .where(instruments.c.ledger_id == ledger, instruments.c.instrument_id == bindparam("iid"))
        .values(ended_at=bindparam("t")),
        [{"iid": p["instrument_id"], "t": e.occurred_at} for e, p in items],
    )


def _notified(conn: Connection, ledger: str, items: list[Item]) -> None:
    column = {
        "family": "family_at",
        "rights_informed": "rights_at",
        "consulate": "consular_at",
        "consular_rights": "consular_at",
    }
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
            row = conn.execute(
                select(duties.c.moved_at).where(duties.c.ledger_id == ledger, duties.c.episode_id == p["episode_id"])
            ).first()
            if row is not None and row.moved_at is not None and e.occurred_at >= row.moved_at:
                # told of the new place: that also fulfils the duty after admission, if still open
                _set_first(conn, ledger, "family_after_move_at", [(p["episode_id"], e.occurred_at)])
        if kind in column:
            _set_first(conn, ledger, column[kind], [(p["episode_id"], e.occurred_at)])


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
}

__all__ = ["HANDLERS", "calculate", "death_missing", "format_instant"]
