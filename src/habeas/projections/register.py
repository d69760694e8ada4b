"""The register's current state, folded from events (architecture: projections).

``apply`` is called with the events just appended, inside the append's transaction,
and by ``habeas rebuild`` with the whole ledger; both paths run the same handlers,
which is why the rebuilt tables equal the incremental ones.  Consecutive events of
one type are handled together so a mass intake costs a few executemany calls.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, delete, insert, select, update

from habeas.domain.custody import TRANSITIONS, Status
from habeas.domain.identity import IdentityDocument, blocking_keys, document_key, normalize_name
from habeas.ledger.envelope import StoredEvent
from habeas.ledger.log import read_events_by_id
from habeas.ledger.timefmt import parse_instant
from habeas.store.bulk import among, insert_dicts, update_rows
from habeas.store.register_tables import (
    alert_acknowledgements,
    alert_refs,
    alerts,
    cells,
    episodes,
    facilities,
    people,
    person_documents,
    person_events,
    person_keys,
    population,
    roll_calls,
    stays,
    units,
)

Item = tuple[StoredEvent, dict[str, Any]]
Handler = Callable[[Connection, str, list[Item]], None]


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


# --- facilities ------------------------------------------------------------------------------


def _facility(conn: Connection, ledger: str, items: list[Item]) -> None:
    conn.execute(insert(facilities), [{"ledger_id": ledger, "country": None, **p} for _, p in items])


def _unit(conn: Connection, ledger: str, items: list[Item]) -> None:
    conn.execute(insert(units), [{"ledger_id": ledger, **p} for _, p in items])


def _cell(conn: Connection, ledger: str, items: list[Item]) -> None:
    conn.execute(
        insert(cells),
        [{"ledger_id": ledger, **p, "in_service": True, "occupants": 0} for _, p in items],
    )


def _cell_service(in_service: bool) -> Handler:
    def handle(conn: Connection, ledger: str, items: list[Item]) -> None:
        conn.execute(
            update(cells)
            .where(cells.c.ledger_id == ledger, cells.c.cell_id == bindparam("cid"))
            .values(in_service=in_service),
            [{"cid": p["cell_id"]} for _, p in items],
        )

    return handle


# --- people ----------------------------------------------------------------------------------


def _person(conn: Connection, ledger: str, items: list[Item]) -> None:
    rows: list[dict[str, Any]] = []
    docs: list[dict[str, Any]] = []
    keys: list[dict[str, str]] = []
    for event, p in items:
        rows.append(
            {
                "ledger_id": ledger,
                "person_id": p["person_id"],
                "given_names": p["given_names"],
                "family_names": p["family_names"],
                "name_key": normalize_name(f"{p['given_names']} {p['family_names']}"),
                "aliases": _json(p.get("aliases", [])),
                "birth_date": _date(p.get("birth_date")),
                "sex": p["sex"],
                "gender_identity": p.get("gender_identity"),
                "nationalities": _json(p.get("nationalities", [])),
                "group_affiliation": None,
                "group_substantiated": None,
                "risk_level": None,
                "registered_seq": event.seq,
            }
        )
        documents = [IdentityDocument(d["kind"], d["number"], d["issuer"]) for d in p.get("documents", ())]
        docs.extend({"ledger_id": ledger, "doc_key": document_key(d), "person_id": p["person_id"]} for d in documents)
        keys.extend(_index_keys(ledger, p, documents))
    insert_dicts(conn, people, rows)
    insert_dicts(conn, person_documents, docs)
    insert_dicts(conn, person_keys, keys)


DOCUMENT_KEY_PREFIX = "doc:"  # domain.identity.blocking_keys: f"doc:{document_key(d)}"


def _index_keys(ledger: str, p: dict[str, Any], documents: list[IdentityDocument]) -> list[dict[str, str]]:
    index = blocking_keys(
        p["given_names"],
        p["family_names"],
        _date(p.get("birth_date")),
        aliases=p.get("aliases", ()),
        documents=documents,
    ).index
    # A document's key ("doc:<document_key>") is not stored here: person_documents holds the same
    # (document_key, person) pair, and the duplicate check looks document keys up there.
    return [
        {"ledger_id": ledger, "key": key, "person_id": p["person_id"]}
        for key in sorted(index)
        if not key.startswith(DOCUMENT_KEY_PREFIX)
    ]


def _classified(conn: Connection, ledger: str, items: list[Item]) -> None:
    conn.execute(
        update(people)
        .where(people.c.ledger_id == ledger, people.c.person_id == bindparam("pid"))
        .values(group_affiliation=bindparam("g"), group_substantiated=bindparam("gs"), risk_level=bindparam("r")),
        [
            {
                "pid": p["person_id"],
                "g": p.get("group_affiliation"),
                "r": p["risk_level"],
                "gs": None
                if not p.get("group_affiliation")
                else bool((p.get("group_evidence") or {}).get("document_reference")),
            }
            for _, p in items
        ],
    )
    _touch(conn, ledger, items)


# --- custody ---------------------------------------------------------------------------------


def _admitted(conn: Connection, ledger: str, items: list[Item]) -> None:
    rows, opened = [], []
    for event, p in items:
        rows.append(
            {
                "ledger_id": ledger,
                "episode_id": p["episode_id"],
                "person_id": p["person_id"],
                "facility_id": p["facility_id"],
                "booking_number": p["booking_number"],
                "status": Status.ADMITTED.value,
                "legal_status": p["legal_status"],
                "cell_id": None,
                "unit_id": None,
                "place": None,
                "placement_override": None,
                "expected_by": None,
                "since": event.occurred_at,
                "last_event_at": event.occurred_at,
                "admitted_at": event.occurred_at,
                "arrested_at": parse_instant(p["arrested_at"]),
                "detaining_authority": p["detaining_authority"],
                "ordering_authority": p["ordering_authority"],
                "custodian_of_record": p["custodian_of_record"],
                "legal_basis": _json(p["legal_basis"]),
                "closed_at": None,
                "admitted_seq": event.seq,
            }
        )
        opened.append(_stay(ledger, event, p, Status.ADMITTED, p["facility_id"]))
    # A readmission ends the stay "released" (or "transferred") the person was left in; most
    # of a mass intake are new people with no stay, so find the others first.
    person_ids = [r["person_id"] for r in rows]
    left_open: set[str] = set()
    for start in range(0, len(person_ids), 2000):
        left_open.update(
            conn.execute(
                select(stays.c.person_id).where(
                    stays.c.ledger_id == ledger,
                    among(conn, stays.c.person_id, person_ids[start : start + 2000]),
                    stays.c.valid_to.is_(None),
                )
            ).scalars()
        )
    insert_dicts(conn, episodes, rows)
    update_rows(
        conn,
        stays,
        ("valid_to",),
        ("ledger_id", "person_id"),
        [
            {"valid_to": r["admitted_at"], "ledger_id": ledger, "person_id": r["person_id"]}
            for r in rows
            if r["person_id"] in left_open
        ],
        where_null=("valid_to",),
    )
    insert_dicts(conn, stays, opened)
    _count(conn, ledger, Counter((p["facility_id"], Status.ADMITTED.value) for _, p in items))


def _stay(
    ledger: str,
    event: StoredEvent,
    p: dict[str, Any],
    status: Status,
    facility_id: str,
    unit_id: str | None = None,
    cell_id: str | None = None,
    place: str | None = None,
    expected_by: str | None = None,
) -> dict[str, Any]:
    return {
        "ledger_id": ledger,
        "person_id": p["person_id"],
        "valid_from": event.occurred_at,
        "seq": event.seq,
        "episode_id": p["episode_id"],
        "status": status.value,
        "facility_id": facility_id,
        "unit_id": unit_id,
        "cell_id": cell_id,
        "place": place,
        "expected_by": parse_instant(expected_by) if expected_by else None,
        "valid_to": None,
    }


def _count(conn: Connection, ledger: str, changes: Counter[tuple[str, str]]) -> None:
    """Move the population counters by ``changes`` ((facility, status) → delta)."""
    changes = Counter({k: v for k, v in changes.items() if v})
    if not changes:
        return
    keys = list(changes)
    existing = {
        (r.facility_id, r.status)
        for r in conn.execute(
            select(population.c.facility_id, population.c.status).where(
                population.c.ledger_id == ledger, population.c.facility_id.in_({f for f, _ in keys})
            )
        )
    }
    new = [k for k in keys if k not in existing]
    if new:
        conn.execute(
            insert(population), [{"ledger_id": ledger, "facility_id": f, "status": s, "count": 0} for f, s in new]
        )
    conn.execute(
        update(population)
        .where(
            population.c.ledger_id == ledger,
            population.c.facility_id == bindparam("f"),
            population.c.status == bindparam("s"),
        )
        .values(count=population.c.count + bindparam("d")),
        [{"f": f, "s": s, "d": d} for (f, s), d in changes.items()],
    )


EPISODE_MOVES = (
    "status", "facility_id", "cell_id", "unit_id", "place", "expected_by", "since", "last_event_at", "closed_at",
    "placement_override",
)  # fmt: skip


@dataclass
class _Now:
    facility_id: str
    status: str
    cell_id: str | None


def _transition(conn: Connection, ledger: str, items: list[Item]) -> None:
    """Any status change: close the open stay, open the next, move counters and cell occupancy."""
    event_type = items[0][0].type
    to_status = TRANSITIONS[event_type][1]
    assert to_status is not None
    current = {
        r.episode_id: _Now(r.facility_id, r.status, r.cell_id)
        for r in conn.execute(
            select(episodes.c.episode_id, episodes.c.facility_id, episodes.c.status, episodes.c.cell_id).where(
                episodes.c.ledger_id == ledger, among(conn, episodes.c.episode_id, {p["episode_id"] for _, p in items})
            )
        )
    }
    counters: Counter[tuple[str, str]] = Counter()
    occupancy: Counter[str] = Counter()
    episode_updates, closes, opens = [], [], []
    for event, p in items:
        before = current[p["episode_id"]]
        facility_id, cell_id, unit_id, place, expected = before.facility_id, None, None, None, None
        if event_type == "custody.placed":
            cell_id, unit_id = p["cell_id"], p["unit_id"]
        elif event_type == "custody.departed":
            place, expected = p["destination"], p["expected_return"]
        elif event_type == "custody.transit_started":
            place, expected = p["destination_facility_id"], p["deadline"]
        elif event_type == "custody.transit_arrived":
            facility_id = p["facility_id"]
        elif event_type == "custody.transferred":
            place = p["destination"]
        elif event_type == "custody.died":
            place = p["place"]
        if before.cell_id:
            occupancy[before.cell_id] -= 1
        if cell_id:
            occupancy[cell_id] += 1
        counters[(before.facility_id, before.status)] -= 1
        counters[(facility_id, to_status.value)] += 1
        closed = to_status in (Status.RELEASED, Status.TRANSFERRED, Status.DECEASED)
        episode_updates.append(
            {
                "ledger_id": ledger,
                "episode_id": p["episode_id"],
                "status": to_status.value,
                "facility_id": facility_id,
                "cell_id": cell_id,
                "unit_id": unit_id,
                "place": place,
                "expected_by": parse_instant(expected) if expected else None,
                "since": event.occurred_at,
                "last_event_at": event.occurred_at,
                "closed_at": event.occurred_at if closed else None,
                "placement_override": p.get("override_reason") if event_type == "custody.placed" else None,
            }
        )
        closes.append({"valid_to": event.occurred_at, "ledger_id": ledger, "person_id": p["person_id"]})
        opens.append(_stay(ledger, event, p, to_status, facility_id, unit_id, cell_id, place, expected))
        current[p["episode_id"]] = _Now(facility_id, to_status.value, cell_id)
    update_rows(conn, episodes, EPISODE_MOVES, ("ledger_id", "episode_id"), episode_updates)
    # One open stay per person at a time: close it, then open the next.  When the batch
    # names each person once (a mass intake) that is two executemany calls.
    if len({c["person_id"] for c in closes}) == len(closes):
        update_rows(conn, stays, ("valid_to",), ("ledger_id", "person_id"), closes, where_null=("valid_to",))
        insert_dicts(conn, stays, opens)
    else:
        for close, open_ in zip(closes, opens, strict=True):
            update_rows(conn, stays, ("valid_to",), ("ledger_id", "person_id"), [close], where_null=("valid_to",))
            insert_dicts(conn, stays, [open_])
    _occupy(conn, ledger, occupancy)
    _count(conn, ledger, counters)


def _occupy(conn: Connection, ledger: str, occupancy: Counter[str]) -> None:
    deltas = [{"cid": c, "d": d} for c, d in occupancy.items() if d]
    if deltas:
        conn.execute(
            update(cells)
            .where(cells.c.ledger_id == ledger, cells.c.cell_id == bindparam("cid"))
            .values(occupants=cells.c.occupants + bindparam("d")),
            deltas,
        )


def _touch(conn: Connection, ledger: str, items: list[Item]) -> None:
    """An event about an episode that changes no status still moves its last_event_at."""
    rows = [
        {"last_event_at": e.occurred_at, "ledger_id": ledger, "episode_id": p["episode_id"]}
        for e, p in items
        if "episode_id" in p
    ]
    update_rows(conn, episodes, ("last_event_at",), ("ledger_id", "episode_id"), rows)


# --- counts and alerts -----------------------------------------------------------------------


def _roll_call(conn: Connection, ledger: str, items: list[Item]) -> None:
    conn.execute(
        insert(roll_calls),
        [
            {
                "ledger_id": ledger,
                "count_id": p["count_id"],
                "facility_id": p["facility_id"],
                "unit_id": p["unit_id"],
                "counted_at": e.occurred_at,
                "counted_by": p["counted_by"],
                "expected": p["expected"],
                "present": len(p["present"]),
                "missing": _json(p["missing"]),
                "extra": _json(p["extra"]),
            }
            for e, p in items
        ],
    )


def _alert_raised(conn: Connection, ledger: str, items: list[Item]) -> None:
    conn.execute(
        insert(alerts),
        [
            {
                "ledger_id": ledger,
                "alert_id": p["alert_id"],
                "rule": p["rule"],
                "severity": p["severity"],
                "subject": p["subject"],
                "message": p["message"],
                "refs": _json(p.get("refs", [])),
                "raised_at": e.occurred_at,
                "raised_seq": e.seq,
                "resolved_at": None,
                "resolution": None,
            }
            for e, p in items
        ],
    )
    refs = [
        {"ledger_id": ledger, "ref": ref, "alert_id": p["alert_id"]}
        for _, p in items
        for ref in sorted(set(p.get("refs", [])))
    ]
    if refs:
        insert_dicts(conn, alert_refs, refs)


def _alert_resolved(conn: Connection, ledger: str, items: list[Item]) -> None:
    conn.execute(
        update(alerts)
        .where(alerts.c.ledger_id == ledger, alerts.c.alert_id == bindparam("aid"))
        .values(resolved_at=bindparam("t"), resolution=bindparam("r")),
        [{"aid": p["alert_id"], "t": e.occurred_at, "r": p["resolution"]} for e, p in items],
    )


def _alert_acknowledged(conn: Connection, ledger: str, items: list[Item]) -> None:
    conn.execute(
        insert(alert_acknowledgements),
        [
            {"ledger_id": ledger, "alert_id": p["alert_id"], "seq": e.seq, "actor": e.actor,
             "acknowledged_at": e.occurred_at, "note": p["note"]}
            for e, p in items
        ],
    )  # fmt: skip


# --- corrections -----------------------------------------------------------------------------

CORRECTABLE_PERSON_FIELDS = ("given_names", "family_names", "birth_date", "sex", "gender_identity")


def _corrected(conn: Connection, ledger: str, items: list[Item]) -> None:
    for event, p in items:
        original = read_events_by_id(conn, ledger, [p["corrects_event_id"]])[0]
        fields = p["corrected_fields"]
        payload = original.payload
        if original.type == "person.registered":
            values = {k: v for k, v in fields.items() if k in CORRECTABLE_PERSON_FIELDS}
            if "birth_date" in values:
                values["birth_date"] = _date(values["birth_date"])
            person = payload["person_id"]
            # Merge into the record as it stands now: an earlier correction is not undone by this one.
            now = conn.execute(
                select(people.c.given_names, people.c.family_names, people.c.birth_date, people.c.aliases).where(
                    people.c.ledger_id == ledger, people.c.person_id == person
                )
            ).one()
            current = {
                "given_names": now.given_names,
                "family_names": now.family_names,
                "birth_date": now.birth_date.isoformat() if now.birth_date else None,
                "aliases": orjson.loads(now.aliases),
            }
            merged = {**payload, **current, **fields}
            values["name_key"] = normalize_name(f"{merged['given_names']} {merged['family_names']}")
            conn.execute(
                update(people).where(people.c.ledger_id == ledger, people.c.person_id == person).values(values)
            )
            documents = [IdentityDocument(d["kind"], d["number"], d["issuer"]) for d in merged.get("documents", ())]
            conn.execute(
                delete(person_keys).where(person_keys.c.ledger_id == ledger, person_keys.c.person_id == person)
            )
            conn.execute(insert(person_keys), _index_keys(ledger, merged, documents))
        if "occurred_at" in fields:
            _move_in_time(conn, ledger, original, payload, parse_instant(str(fields["occurred_at"])))
        if "person_id" in payload:
            conn.execute(
                insert(person_events), [{"ledger_id": ledger, "person_id": payload["person_id"], "seq": event.seq}]
            )


def _move_in_time(conn: Connection, ledger: str, original: StoredEvent, payload: dict[str, Any], new: Any) -> None:
    """A custody event happened at another time than recorded: move the boundaries it made.

    Only the stay the event opened starts at the new time, and only the stay just before it
    (in the person's order: time, then sequence) ends there.  Another event at the same
    instant (a return and the placement that follows it) keeps its own boundaries.
    """
    person = payload["person_id"]
    history = conn.execute(
        select(stays.c.valid_from, stays.c.seq, stays.c.valid_to, stays.c.episode_id)
        .where(stays.c.ledger_id == ledger, stays.c.person_id == person)
        .order_by(stays.c.valid_from, stays.c.seq)
    ).all()
    at = next((k for k, r in enumerate(history) if r.seq == original.seq), None)
    # Where the event stands now (an earlier correction may have moved it already).
    old = history[at].valid_from if at is not None else original.occurred_at
    if at is not None and at > 0 and history[at - 1].valid_to == old:
        before = history[at - 1]
        conn.execute(
            update(stays)
            .where(
                stays.c.ledger_id == ledger,
                stays.c.person_id == person,
                stays.c.valid_from == before.valid_from,
                stays.c.seq == before.seq,
            )
            .values(valid_to=new)
        )
    conn.execute(
        update(stays)
        .where(stays.c.ledger_id == ledger, stays.c.person_id == person, stays.c.seq == original.seq)
        .values(valid_from=new)
    )
    episode_id = payload.get("episode_id")
    values: dict[str, Any] = {}
    if original.type == "custody.admitted":
        values["admitted_at"] = new
    # The current status began with the episode's latest stay (which may be this one).
    latest = conn.execute(
        select(stays.c.valid_from)
        .where(stays.c.ledger_id == ledger, stays.c.person_id == person, stays.c.episode_id == episode_id)
        .order_by(stays.c.valid_from.desc(), stays.c.seq.desc())
        .limit(1)
    ).scalar()
    if latest is not None:
        values["since"] = latest
    if values:
        conn.execute(
            update(episodes).where(episodes.c.ledger_id == ledger, episodes.c.episode_id == episode_id).values(values)
        )
    # The latest change of the episode, when it was this event (kept as it was otherwise).
    conn.execute(
        update(episodes)
        .where(
            episodes.c.ledger_id == ledger,
            episodes.c.episode_id == episode_id,
            episodes.c.last_event_at == old,
        )
        .values(last_event_at=new)
    )


HANDLERS: dict[str, Handler] = {
    "facility.registered": _facility,
    "unit.registered": _unit,
    "cell.registered": _cell,
    "cell.closed": _cell_service(False),
    "cell.reopened": _cell_service(True),
    "person.registered": _person,
    "person.classified": _classified,
    "custody.admitted": _admitted,
    "medical.examined": _touch,
    "count.recorded": _roll_call,
    "alert.raised": _alert_raised,
    "alert.acknowledged": _alert_acknowledged,
    "alert.resolved": _alert_resolved,
    "event.corrected": _corrected,
    **{t: _transition for t, (_, to) in TRANSITIONS.items() if to is not None},
}
