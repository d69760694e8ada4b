"""Reading the current state a command needs, inside its transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import orjson
from sqlalchemy import Connection, func, select

from habeas.domain.custody import HELD, Episode, Status
from habeas.domain.housing import Cell, Occupant
from habeas.domain.identity import IdentityDocument, KnownPerson
from habeas.errors import Conflict, NotFound
from habeas.store.register_tables import cells, episodes, facilities, people, person_documents, person_keys, units


def facility(conn: Connection, ledger: str, facility_id: str) -> dict[str, object]:
    row = conn.execute(
        select(facilities).where(facilities.c.ledger_id == ledger, facilities.c.facility_id == facility_id)
    ).first()
    if row is None:
        raise NotFound("facility", facility_id)
    return dict(row._mapping)


def open_episode(conn: Connection, ledger: str, person_id: str) -> Episode | None:
    row = conn.execute(
        select(episodes).where(
            episodes.c.ledger_id == ledger,
            episodes.c.person_id == person_id,
            episodes.c.status.in_([s.value for s in HELD]),
        )
    ).first()
    return _episode(row) if row is not None else None


def open_episodes(conn: Connection, ledger: str, person_ids: Iterable[str]) -> dict[str, Episode]:
    ids = list(set(person_ids))
    found: dict[str, Episode] = {}
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            select(episodes).where(
                episodes.c.ledger_id == ledger,
                episodes.c.person_id.in_(ids[start : start + 500]),
                episodes.c.status.in_([s.value for s in HELD]),
            )
        )
        found.update((row.person_id, _episode(row)) for row in rows)
    return found


def require_open_episode(conn: Connection, ledger: str, person_id: str) -> Episode:
    episode = open_episode(conn, ledger, person_id)
    if episode is None:
        if (
            conn.execute(
                select(people.c.person_id).where(people.c.ledger_id == ledger, people.c.person_id == person_id)
            ).first()
            is None
        ):
            raise NotFound("person", person_id)
        last = conn.execute(
            select(episodes.c.status)
            .where(episodes.c.ledger_id == ledger, episodes.c.person_id == person_id)
            .order_by(episodes.c.admitted_seq.desc())
            .limit(1)
        ).scalar()
        raise Conflict("person_id", f"{person_id} is not held here (last status: {last or 'never admitted'})")
    return episode


def _episode(row: object) -> Episode:
    r = row._mapping  # type: ignore[attr-defined]
    return Episode(
        r["episode_id"],
        r["person_id"],
        r["facility_id"],
        r["booking_number"],
        Status(r["status"]),
        r["legal_status"],
        r["cell_id"],
        r["unit_id"],
        r["since"],
        r["last_event_at"],
    )


def cell_rows(
    conn: Connection, ledger: str, facility_id: str | None = None, cell_ids: Iterable[str] | None = None
) -> list[dict[str, object]]:
    query = select(cells).where(cells.c.ledger_id == ledger)
    if facility_id is not None:
        query = query.where(cells.c.facility_id == facility_id)
    if cell_ids is not None:
        query = query.where(cells.c.cell_id.in_(list(cell_ids)))
    return [dict(r._mapping) for r in conn.execute(query.order_by(cells.c.cell_id))]


def is_minor(birth: date | None, today: date) -> bool:
    """MR 11(d): under 18 on ``today`` (unknown birth dates are treated as adults, and flagged elsewhere)."""
    if birth is None:
        return False
    return (today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))) < 18


def housing_cells(
    conn: Connection,
    ledger: str,
    facility_id: str | None = None,
    cell_ids: Iterable[str] | None = None,
    *,
    today: date,
) -> dict[str, Cell]:
    """Cells with the separation profile of everyone in them on ``today``, as the assigner needs them."""
    rows = cell_rows(conn, ledger, facility_id, cell_ids)
    ids = [str(r["cell_id"]) for r in rows]
    occupants: dict[str, list[Occupant]] = {i: [] for i in ids}
    query = (
        select(
            episodes.c.cell_id,
            episodes.c.person_id,
            episodes.c.legal_status,
            people.c.sex,
            people.c.birth_date,
            people.c.group_affiliation,
        )
        .join(people, (people.c.ledger_id == episodes.c.ledger_id) & (people.c.person_id == episodes.c.person_id))
        .where(episodes.c.ledger_id == ledger, episodes.c.status == Status.IN_CELL.value)
    )
    if facility_id is not None:
        query = query.where(episodes.c.facility_id == facility_id)
    if cell_ids is not None:
        query = query.where(episodes.c.cell_id.in_(ids))
    for r in conn.execute(query):
        if r.cell_id in occupants:
            occupants[r.cell_id].append(
                Occupant(r.person_id, r.sex, r.legal_status, is_minor(r.birth_date, today), r.group_affiliation)
            )
    return {
        str(r["cell_id"]): Cell(
            str(r["cell_id"]),
            str(r["unit_id"]),
            int(str(r["beds"])),
            Decimal(str(r["floor_area_m2"])),
            bool(r["single"]),
            bool(r["in_service"]),
            tuple(occupants[str(r["cell_id"])]),
        )
        for r in rows
    }


def people_by_document(conn: Connection, ledger: str, keys: Iterable[str]) -> dict[str, str]:
    wanted = list(set(keys))
    if not wanted:
        return {}
    rows = conn.execute(
        select(person_documents.c.doc_key, person_documents.c.person_id).where(
            person_documents.c.ledger_id == ledger, person_documents.c.doc_key.in_(wanted)
        )
    )
    return {r.doc_key: r.person_id for r in rows}


def known_people(conn: Connection, ledger: str, probe: Iterable[str]) -> list[KnownPerson]:
    """People sharing a blocking key with the probe, with what the matcher compares."""
    keys = list(probe)
    if not keys:
        return []
    ids = select(person_keys.c.person_id).where(person_keys.c.ledger_id == ledger, person_keys.c.key.in_(keys))
    rows = conn.execute(select(people).where(people.c.ledger_id == ledger, people.c.person_id.in_(ids))).all()
    docs: dict[str, list[IdentityDocument]] = {}
    for r in conn.execute(
        select(person_documents).where(
            person_documents.c.ledger_id == ledger, person_documents.c.person_id.in_([r.person_id for r in rows])
        )
    ):
        kind, issuer, number = r.doc_key.split(":", 2)
        docs.setdefault(r.person_id, []).append(IdentityDocument(kind.lower(), number, issuer))
    return [
        KnownPerson(
            r.person_id,
            r.given_names,
            r.family_names,
            tuple(orjson.loads(r.aliases)),
            r.birth_date,
            tuple(docs.get(r.person_id, ())),
        )
        for r in rows
    ]


def bookings_this_year(conn: Connection, ledger: str, facility_id: str, prefix: str) -> int:
    return int(
        conn.execute(
            # every booking ever issued with this prefix, wherever that person is now (a transit
            # moves the episode to another facility but its booking number stays taken)
            select(func.count()).where(
                episodes.c.ledger_id == ledger,
                episodes.c.booking_number.like(f"{prefix}%"),
            )
        ).scalar_one()
    )


def person_sex_and_birth(conn: Connection, ledger: str, person_id: str) -> tuple[str, date | None, str | None]:
    row = conn.execute(
        select(people.c.sex, people.c.birth_date, people.c.group_affiliation).where(
            people.c.ledger_id == ledger, people.c.person_id == person_id
        )
    ).first()
    if row is None:
        raise NotFound("person", person_id)
    return row.sex, row.birth_date, row.group_affiliation


def unit_ids(conn: Connection, ledger: str) -> dict[str, str]:
    """Every unit id with its facility."""
    rows = conn.execute(select(units.c.unit_id, units.c.facility_id).where(units.c.ledger_id == ledger))
    return {r.unit_id: r.facility_id for r in rows}
