"""The questions staff, courts, families and inspectors ask, answered from the projections.

Standards.md §2 (keep declared and standards-based capacity apart; keep stock apart
from flow) and architecture invariant 4 (one status and place per person per instant).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, and_, func, or_, select

from habeas.domain.custody import CLOSED, Status
from habeas.domain.identity import normalize_name
from habeas.errors import NotFound
from habeas.ledger.envelope import StoredEvent
from habeas.ledger.log import read_events_by_seq
from habeas.store.register_tables import (
    cells,
    episodes,
    facilities,
    people,
    person_documents,
    person_events,
    population,
    stays,
    units,
)

# Space standards, m² per person (standards.md §2): ICRC (2012) and CPT/Inf (2015) 44.
STANDARDS = {
    "ICRC": {"shared": Decimal("3.4"), "single": Decimal("5.4")},
    "CPT": {"shared": Decimal("4"), "single": Decimal("6")},
}


def standards_capacity(area: Decimal, single: bool, standard: str) -> int:
    if single:
        return 1 if area >= STANDARDS[standard]["single"] else 0
    return math.floor(area / STANDARDS[standard]["shared"])


@dataclass(frozen=True)
class Headcount:
    """Stock: how many people are held at one instant, by where they are."""

    facility_id: str
    total: int
    by_status: dict[str, int]


def headcount(conn: Connection, ledger: str, facility_id: str | None = None) -> list[Headcount]:
    """Every facility (or the one named), with the people held in it now by status."""
    names = select(facilities.c.facility_id).where(facilities.c.ledger_id == ledger)
    query = select(population.c.facility_id, population.c.status, population.c.count.label("n")).where(
        population.c.ledger_id == ledger, population.c.count != 0
    )
    if facility_id is not None:
        names = names.where(facilities.c.facility_id == facility_id)
        query = query.where(population.c.facility_id == facility_id)
    found: dict[str, dict[str, int]] = {f: {} for f in conn.execute(names).scalars()}
    if facility_id is not None and not found:
        raise NotFound("facility", facility_id)
    for r in conn.execute(query):
        found.setdefault(r.facility_id, {})[r.status] = int(r.n)
    held = {s.value for s in Status} - {s.value for s in CLOSED}
    return [
        Headcount(f, sum(v for s, v in by.items() if s in held), {s: v for s, v in sorted(by.items()) if s in held})
        for f, by in sorted(found.items())
    ]


@dataclass(frozen=True)
class Occupancy:
    """One unit (or facility) measured against every capacity figure at once."""

    scope: str
    population: int
    beds: int
    floor_area_m2: Decimal
    declared_capacity: int | None
    icrc_capacity: int
    cpt_capacity: int

    @property
    def m2_per_person(self) -> Decimal | None:
        return (self.floor_area_m2 / self.population).quantize(Decimal("0.01")) if self.population else None

    def rate(self, capacity: int | None) -> Decimal | None:
        if not capacity:
            return None
        return (Decimal(self.population) / capacity * 100).quantize(Decimal("0.1"))


def occupancy(conn: Connection, ledger: str, facility_id: str) -> tuple[Occupancy, list[Occupancy]]:
    """The facility and each unit: population in cells vs beds, declared and standards-based capacity."""
    fac = conn.execute(
        select(facilities.c.declared_capacity).where(
            facilities.c.ledger_id == ledger, facilities.c.facility_id == facility_id
        )
    ).first()
    if fac is None:
        raise NotFound("facility", facility_id)
    unit_capacity = {
        r.unit_id: r.declared_capacity
        for r in conn.execute(
            select(units.c.unit_id, units.c.declared_capacity).where(
                units.c.ledger_id == ledger, units.c.facility_id == facility_id
            )
        )
    }
    rows = conn.execute(
        select(
            cells.c.unit_id, cells.c.single, cells.c.in_service, cells.c.beds, cells.c.floor_area_m2, cells.c.occupants
        ).where(cells.c.ledger_id == ledger, cells.c.facility_id == facility_id)
    ).all()
    per_unit: dict[str, list[Any]] = {}
    for r in rows:
        per_unit.setdefault(r.unit_id, []).append(r)

    def measure(scope: str, group: list[Any], declared: int | None) -> Occupancy:
        in_service = [r for r in group if r.in_service]
        area = sum((Decimal(str(r.floor_area_m2)) for r in in_service), Decimal(0))
        return Occupancy(
            scope,
            sum(r.occupants for r in group),
            sum(r.beds for r in in_service),
            area,
            declared,
            sum(standards_capacity(Decimal(str(r.floor_area_m2)), r.single, "ICRC") for r in in_service),
            sum(standards_capacity(Decimal(str(r.floor_area_m2)), r.single, "CPT") for r in in_service),
        )

    facility_total = measure(facility_id, list(rows), fac.declared_capacity)
    return facility_total, [measure(u, per_unit[u], unit_capacity.get(u)) for u in sorted(per_unit)]


def cell_occupancy(conn: Connection, ledger: str, cell_id: str) -> dict[str, Any]:
    row = conn.execute(select(cells).where(cells.c.ledger_id == ledger, cells.c.cell_id == cell_id)).first()
    if row is None:
        raise NotFound("cell", cell_id)
    r = row._mapping
    area = Decimal(str(r["floor_area_m2"]))
    return {
        **r,
        "floor_area_m2": area,
        "icrc_capacity": standards_capacity(area, r["single"], "ICRC"),
        "cpt_capacity": standards_capacity(area, r["single"], "CPT"),
        "m2_per_person": (area / r["occupants"]).quantize(Decimal("0.01")) if r["occupants"] else None,
    }


def admissions_between(conn: Connection, ledger: str, facility_id: str, start: datetime, end: datetime) -> int:
    """Flow: admissions in [start, end).  Not a headcount (standards.md §2: stock vs flow)."""
    return int(
        conn.execute(
            select(func.count()).where(
                episodes.c.ledger_id == ledger,
                episodes.c.facility_id == facility_id,
                episodes.c.admitted_at >= start,
                episodes.c.admitted_at < end,
            )
        ).scalar_one()
    )


@dataclass(frozen=True)
class Whereabouts:
    person_id: str
    at: datetime
    status: str
    facility_id: str
    unit_id: str | None
    cell_id: str | None
    place: str | None
    since: datetime
    until: datetime | None
    expected_by: datetime | None


def where_at(conn: Connection, ledger: str, person_id: str, at: datetime) -> Whereabouts | None:
    """Where the register says the person was at ``at`` (None: not yet in custody then)."""
    row = conn.execute(
        select(stays)
        .where(stays.c.ledger_id == ledger, stays.c.person_id == person_id, stays.c.valid_from <= at)
        .order_by(stays.c.valid_from.desc(), stays.c.seq.desc())
        .limit(1)
    ).first()
    if row is None:
        if (
            conn.execute(
                select(people.c.person_id).where(people.c.ledger_id == ledger, people.c.person_id == person_id)
            ).first()
            is None
        ):
            raise NotFound("person", person_id)
        return None
    return Whereabouts(
        person_id,
        at,
        row.status,
        row.facility_id,
        row.unit_id,
        row.cell_id,
        row.place,
        row.valid_from,
        row.valid_to,
        row.expected_by,
    )


def who_in_cell(conn: Connection, ledger: str, cell_id: str, at: datetime) -> list[str]:
    return sorted(
        conn.execute(
            select(stays.c.person_id).where(
                stays.c.ledger_id == ledger,
                stays.c.cell_id == cell_id,
                stays.c.valid_from <= at,
                or_(stays.c.valid_to.is_(None), stays.c.valid_to > at),
            )
        ).scalars()
    )


def unit_of(conn: Connection, ledger: str, unit_id: str) -> str:
    facility = conn.execute(
        select(units.c.facility_id).where(units.c.ledger_id == ledger, units.c.unit_id == unit_id)
    ).scalar()
    if facility is None:
        raise NotFound("unit", unit_id)
    return str(facility)


def who_in_unit(conn: Connection, ledger: str, unit_id: str, at: datetime) -> list[str]:
    return sorted(
        conn.execute(
            select(stays.c.person_id).where(
                stays.c.ledger_id == ledger,
                stays.c.unit_id == unit_id,
                stays.c.valid_from <= at,
                or_(stays.c.valid_to.is_(None), stays.c.valid_to > at),
            )
        ).scalars()
    )


def person_record(conn: Connection, ledger: str, person_id: str) -> dict[str, Any]:
    row = conn.execute(select(people).where(people.c.ledger_id == ledger, people.c.person_id == person_id)).first()
    if row is None:
        raise NotFound("person", person_id)
    record = dict(row._mapping)
    record["aliases"] = orjson.loads(record["aliases"])
    record["nationalities"] = orjson.loads(record["nationalities"])
    record["documents"] = list(
        conn.execute(
            select(person_documents.c.doc_key).where(
                person_documents.c.ledger_id == ledger, person_documents.c.person_id == person_id
            )
        ).scalars()
    )
    record["episodes"] = [
        {**e._mapping, "legal_basis": orjson.loads(e.legal_basis)}
        for e in conn.execute(
            select(episodes)
            .where(episodes.c.ledger_id == ledger, episodes.c.person_id == person_id)
            .order_by(episodes.c.admitted_seq)
        )
    ]
    return record


def timeline(conn: Connection, ledger: str, person_id: str) -> list[StoredEvent]:
    """Every event about the person, in the order recorded (corrections appear beside what they correct)."""
    seqs = list(
        conn.execute(
            select(person_events.c.seq)
            .where(person_events.c.ledger_id == ledger, person_events.c.person_id == person_id)
            .order_by(person_events.c.seq)
        ).scalars()
    )
    if not seqs:
        raise NotFound("person", person_id)
    return read_events_by_seq(conn, ledger, seqs)


def find_people(
    conn: Connection,
    ledger: str,
    *,
    document: str | None = None,
    name: str | None = None,
    birth_date: Any = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Search by a document key (exact) or by name (accent-insensitive prefix/contains) and birth date."""
    query = select(people.c.person_id, people.c.given_names, people.c.family_names, people.c.birth_date).where(
        people.c.ledger_id == ledger
    )
    if document:
        query = query.join(
            person_documents,
            and_(
                person_documents.c.ledger_id == people.c.ledger_id, person_documents.c.person_id == people.c.person_id
            ),
        ).where(person_documents.c.doc_key == document)
    if name:
        query = query.where(people.c.name_key.contains(normalize_name(name), autoescape=True))
    if birth_date is not None:
        query = query.where(people.c.birth_date == birth_date)
    return [dict(r._mapping) for r in conn.execute(query.order_by(people.c.family_names).limit(limit))]
