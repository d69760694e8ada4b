"""Transfers' read models, folded from events in the append's transaction (and by ``habeas rebuild``).

Besides the agreements, transferees, foreign orders, refusals and invoices, this fold fills
the sending state's **outbox**: one row per event that concerns one of its agreements or
its transferees, keyed by the event's sequence number, so a liaison polls "what happened
after N" and gets it in ledger order.  The outbox carries a summary with no cell or unit
(the liaison sees location at facility level only).  It runs after the register's and the
law's handlers (projections.fold), so it reads the rows they just wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, delete, insert, select, update

from habeas.domain.events import CATALOGUE
from habeas.domain.transfer import DocumentRef, doc_key_of, facility_level
from habeas.ledger.log import read_events_by_id
from habeas.ledger.timefmt import parse_instant
from habeas.projections.register import Item
from habeas.store.bulk import among
from habeas.store.register_tables import alerts, episodes
from habeas.store.transfer_tables import (
    agreements,
    claims,
    foreign_order_documents,
    foreign_orders,
    invoices,
    outbox,
    refusals,
    transferees,
)

Handler = Callable[[Connection, str, list[Item]], None]
HIDDEN = frozenset({"cell_id", "from_cell_id", "unit_id"})  # never shown to a sending state


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _summary(payload: dict[str, Any]) -> str:
    shown = {k: v for k, v in payload.items() if k not in HIDDEN}
    if isinstance(shown.get("message"), str):  # an alert's text may name a unit (a roll call)
        shown["message"] = facility_level(shown["message"])
    return _json(shown)


def _states_of_agreements(conn: Connection, ledger: str, ids: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(
        select(agreements.c.agreement_id, agreements.c.sending_state).where(
            agreements.c.ledger_id == ledger, agreements.c.agreement_id.in_(wanted)
        )
    )
    return {r.agreement_id: r.sending_state for r in rows}


def _post(conn: Connection, ledger: str, rows: list[dict[str, Any]]) -> None:
    seen: set[tuple[str, int]] = set()
    unique = []
    for row in rows:
        key = (row["state"], row["seq"])
        if key not in seen:
            seen.add(key)
            unique.append({"ledger_id": ledger, **row})
    if unique:
        conn.execute(insert(outbox), unique)


def _entry(
    state: str, event: Any, payload: dict[str, Any], person: str | None, agreement: str | None
) -> dict[str, Any]:
    return {
        "state": state,
        "seq": event.seq,
        "type": event.type,
        "person_id": person,
        "agreement_id": agreement,
        "occurred_at": event.occurred_at,
        "summary": _summary(payload),
    }


# --- agreements ------------------------------------------------------------------------------------


def _concluded(conn: Connection, ledger: str, items: list[Item]) -> None:
    rows = []
    for event, p in items:
        rows.append(
            {
                "ledger_id": ledger,
                "agreement_id": p["agreement_id"],
                "name": p["name"],
                "sending_state": p["sending_state"],
                "receiving_state": p["receiving_state"],
                "facility_id": p["facility_id"],
                "custodian_of_record": p["custodian_of_record"],
                "custodian_state": p["custodian_state"],
                "effective_from": parse_instant(p["effective_from"]),
                "effective_to": parse_instant(p["effective_to"]) if p.get("effective_to") else None,
                "order_policy": p["order_policy"],
                "terms": _json(p),
                "renewals": "[]",
                "concluded_seq": event.seq,
            }
        )
    conn.execute(insert(agreements), rows)
    _post(conn, ledger, [_entry(p["sending_state"], e, p, None, p["agreement_id"]) for e, p in items])


def _renewed(conn: Connection, ledger: str, items: list[Item]) -> None:
    for _, p in items:
        row = conn.execute(
            select(agreements.c.renewals).where(
                agreements.c.ledger_id == ledger, agreements.c.agreement_id == p["agreement_id"]
            )
        ).one()
        conn.execute(
            update(agreements)
            .where(agreements.c.ledger_id == ledger, agreements.c.agreement_id == p["agreement_id"])
            .values(
                effective_to=parse_instant(p["effective_to"]),
                renewals=_json([*orjson.loads(row.renewals), p]),
            )
        )
    _agreement_events(conn, ledger, items)


def _agreement_events(conn: Connection, ledger: str, items: list[Item]) -> None:
    states = _states_of_agreements(conn, ledger, (p["agreement_id"] for _, p in items if p.get("agreement_id")))
    _post(
        conn,
        ledger,
        [
            _entry(states[p["agreement_id"]], e, p, p.get("person_id") or p.get("about_person"), p["agreement_id"])
            for e, p in items
            if p.get("agreement_id") in states
        ],
    )


def _claimed(conn: Connection, ledger: str, items: list[Item]) -> None:
    for event, p in items:
        key = {"agreement_id": p["agreement_id"], "state": p["state"], "person_id": p.get("about_person") or ""}
        conn.execute(delete(claims).where(claims.c.ledger_id == ledger, *(claims.c[k] == v for k, v in key.items())))
        conn.execute(
            insert(claims),
            [{"ledger_id": ledger, **key, "claim": p["claim"], "source": p["source"], "claimed_at": event.occurred_at}],
        )
    _agreement_events(conn, ledger, items)


# --- orders recorded before arrival ----------------------------------------------------------------


def _order_recorded(conn: Connection, ledger: str, items: list[Item]) -> None:
    rows: list[dict[str, Any]] = []
    docs: list[dict[str, Any]] = []
    for _, p in items:
        rows.append(
            {
                "ledger_id": ledger,
                "order_id": p["order_id"],
                "kind": p["kind"],
                "court": p["court"],
                "court_state": p["court_state"],
                "reference": p["reference"],
                "issued_at": parse_instant(p["issued_at"]),
                "flight": p.get("flight"),
                "agreement_id": p.get("agreement_id"),
                "country": p.get("country"),
                "deadline": parse_instant(p["deadline"]) if p.get("deadline") else None,
                "status": "active",
            }
        )
        keys = {doc_key_of(DocumentRef.model_validate(d)) for d in p.get("documents", ())}
        docs.extend({"ledger_id": ledger, "doc_key": k, "order_id": p["order_id"]} for k in sorted(keys))
    conn.execute(insert(foreign_orders), rows)
    if docs:
        conn.execute(insert(foreign_order_documents), docs)
    _agreement_events(conn, ledger, items)


def _order_closed(conn: Connection, ledger: str, items: list[Item]) -> None:
    conn.execute(
        update(foreign_orders)
        .where(foreign_orders.c.ledger_id == ledger, foreign_orders.c.order_id == bindparam("oid"))
        .values(status=bindparam("st")),
        [{"oid": p["order_id"], "st": p["status"]} for _, p in items],
    )


# --- transferees and refusals ------------------------------------------------------------------------


def _transferee(conn: Connection, ledger: str, items: list[Item]) -> None:
    rows = []
    for event, p in items:
        rows.append(
            {
                "ledger_id": ledger,
                "episode_id": p["episode_id"],
                "person_id": p["person_id"],
                "agreement_id": p["agreement_id"],
                "sending_state": p["sending_state"],
                "flight": p["flight"],
                "sending_doc_key": doc_key_of(DocumentRef.model_validate(p["sending_identifier"])),
                "sending_basis": _json(p["sending_basis"]),
                "receiving_instrument_id": p["receiving_instrument_id"],
                "custodian_of_record": p["custodian_of_record"],
                "exit_kind": None,
                "exit_state": None,
                "admitted_seq": event.seq,
            }
        )
    conn.execute(insert(transferees), rows)
    # The admission itself was folded before the link existed: post it now, from the episode row
    # (the same in an incremental fold and in a rebuild).
    wanted = [p["episode_id"] for _, p in items]
    found = {
        r.episode_id: r
        for r in conn.execute(
            select(
                episodes.c.episode_id, episodes.c.facility_id, episodes.c.booking_number,
                episodes.c.admitted_at, episodes.c.admitted_seq,
            ).where(episodes.c.ledger_id == ledger, episodes.c.episode_id.in_(wanted))
        )
    }  # fmt: skip
    posts = []
    for event, p in items:
        ep = found.get(p["episode_id"])
        if ep is not None:
            posts.append(
                {
                    "state": p["sending_state"],
                    "seq": ep.admitted_seq,
                    "type": "custody.admitted",
                    "person_id": p["person_id"],
                    "agreement_id": p["agreement_id"],
                    "occurred_at": ep.admitted_at,
                    "summary": _json(
                        {
                            "person_id": p["person_id"],
                            "facility_id": ep.facility_id,
                            "booking_number": ep.booking_number,
                        }
                    ),
                }
            )
        posts.append(_entry(p["sending_state"], event, p, p["person_id"], p["agreement_id"]))
    _post(conn, ledger, posts)


def _refused(conn: Connection, ledger: str, items: list[Item]) -> None:
    states = _states_of_agreements(conn, ledger, (p["agreement_id"] for _, p in items))
    conn.execute(
        insert(refusals),
        [
            {
                "ledger_id": ledger,
                "refusal_id": p["refusal_id"],
                "agreement_id": p["agreement_id"],
                "sending_state": states[p["agreement_id"]],
                "flight": p["flight"],
                "line": p["line"],
                "name": f"{p['given_names']} {p['family_names']}",
                "sending_doc_key": (
                    doc_key_of(DocumentRef.model_validate(p["sending_identifier"]))
                    if p.get("sending_identifier")
                    else None
                ),
                "rule": p["rule"],
                "reason": p["reason"],
                "order_ids": _json(p.get("order_ids", [])),
                "refused_at": event.occurred_at,
                "handed_back_at": None,
                "handed_over_to": None,
            }
            for event, p in items
        ],
    )
    _agreement_events(conn, ledger, items)


def _handed_back(conn: Connection, ledger: str, items: list[Item]) -> None:
    for event, p in items:
        conn.execute(
            update(refusals)
            .where(refusals.c.ledger_id == ledger, refusals.c.refusal_id == p["refusal_id"])
            .values(handed_back_at=event.occurred_at, handed_over_to=p["handed_over_to"])
        )
    rows = conn.execute(
        select(refusals.c.refusal_id, refusals.c.sending_state, refusals.c.agreement_id).where(
            refusals.c.ledger_id == ledger, refusals.c.refusal_id.in_([p["refusal_id"] for _, p in items])
        )
    )
    by_id = {r.refusal_id: r for r in rows}
    _post(
        conn,
        ledger,
        [
            _entry(by_id[p["refusal_id"]].sending_state, e, p, None, by_id[p["refusal_id"]].agreement_id)
            for e, p in items
            if p["refusal_id"] in by_id
        ],
    )


def _handover(conn: Connection, ledger: str, items: list[Item]) -> None:
    conn.execute(
        update(transferees)
        .where(transferees.c.ledger_id == ledger, transferees.c.episode_id == bindparam("eid"))
        .values(exit_kind=bindparam("kind"), exit_state=bindparam("dest")),
        [{"eid": p["episode_id"], "kind": p["kind"], "dest": p["destination_state"]} for _, p in items],
    )
    _agreement_events(conn, ledger, items)


def _invoice(conn: Connection, ledger: str, items: list[Item]) -> None:
    conn.execute(
        insert(invoices),
        [
            {
                "ledger_id": ledger,
                "invoice_id": p["invoice_id"],
                "agreement_id": p["agreement_id"],
                "month": p["month"],
                "currency": p["currency"],
                "total": p["total"],
                "lines": _json(p["lines"]),
                "issued_at": event.occurred_at,
                "seq": event.seq,
            }
            for event, p in items
        ],
    )
    states = _states_of_agreements(conn, ledger, (p["agreement_id"] for _, p in items))
    _post(
        conn,
        ledger,
        [
            _entry(
                states[p["agreement_id"]], e,
                {k: v for k, v in p.items() if k != "lines"} | {"lines": len(p["lines"])}, None, p["agreement_id"],
            )
            for e, p in items
            if p["agreement_id"] in states
        ],
    )  # fmt: skip


# --- every other event: does it concern a transferee? ------------------------------------------------


def _concerned(conn: Connection, ledger: str, items: list[Item]) -> None:
    # Most ledgers hold no transferee at all (a national prison): then no event concerns one, and one
    # indexed probe saves reading alerts, corrections and every person of the batch.
    if conn.execute(select(transferees.c.person_id).where(transferees.c.ledger_id == ledger).limit(1)).first() is None:
        return
    wanted: dict[int, set[str]] = {}
    alert_ids = [p["alert_id"] for _, p in items if "alert_id" in p and "subject" not in p]
    alert_rows = {}
    if alert_ids:
        alert_rows = {
            r.alert_id: r
            for r in conn.execute(
                select(alerts.c.alert_id, alerts.c.subject, alerts.c.refs).where(
                    alerts.c.ledger_id == ledger, alerts.c.alert_id.in_(alert_ids)
                )
            )
        }
    corrected = [p["corrects_event_id"] for _, p in items if "corrects_event_id" in p]
    originals = {e.event_id: e.payload for e in read_events_by_id(conn, ledger, corrected)} if corrected else {}
    for event, p in items:
        ids: set[str] = set()
        if isinstance(p.get("person_id"), str):
            ids.add(p["person_id"])
        if "subject" in p:
            ids.add(str(p["subject"]))
            ids.update(str(r) for r in p.get("refs", ()))
        if p.get("alert_id") in alert_rows:
            row = alert_rows[p["alert_id"]]
            ids.add(row.subject)
            ids.update(orjson.loads(row.refs))
        if p.get("corrects_event_id") in originals:
            person = originals[p["corrects_event_id"]].get("person_id")
            if isinstance(person, str):
                ids.add(person)
        if ids:
            wanted[event.seq] = ids
    if not wanted:
        return
    everyone = sorted(set().union(*wanted.values()))
    states: dict[str, set[tuple[str, str]]] = {}
    for r in conn.execute(
        select(transferees.c.person_id, transferees.c.sending_state, transferees.c.agreement_id).where(
            transferees.c.ledger_id == ledger, among(conn, transferees.c.person_id, everyone)
        )
    ):
        states.setdefault(r.person_id, set()).add((r.sending_state, r.agreement_id))
    if not states:
        return
    posts = []
    for event, p in items:
        for person in sorted(wanted.get(event.seq, ())):
            for state, agreement in sorted(states.get(person, ())):
                posts.append(_entry(state, event, p, person, agreement))
    _post(conn, ledger, posts)


SPECIFIC: dict[str, Handler] = {
    "transfer.agreement_concluded": _concluded,
    "transfer.agreement_renewed": _renewed,
    "transfer.jurisdiction_claimed": _claimed,
    "transfer.order_recorded": _order_recorded,
    "transfer.order_closed": _order_closed,
    "transfer.transferee_admitted": _transferee,
    "transfer.admission_refused": _refused,
    "transfer.handed_back": _handed_back,
    "transfer.handover_recorded": _handover,
    "invoice.issued": _invoice,
}

HANDLERS: dict[str, Handler] = {
    **{t: _concerned for t in CATALOGUE if t not in SPECIFIC and t not in ("ledger.opened",)},
    **SPECIFIC,
}
