"""Aggregate statistics for the public: stock, flow, space and deaths, small numbers suppressed.

MR 10: the system produces population data, including occupancy rates.  Standards
§2: stock (people held now) is kept apart from flow (admissions over a period),
and occupancy is shown against declared AND standards-based capacity.  Any count
from 1 to ``small_number - 1`` is published as suppressed: a count of one or two
in a facility and month can identify a person.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from habeas.services import queries
from habeas.store.register_tables import episodes, facilities


@dataclass(frozen=True)
class Figure:
    value: int | None  # None: suppressed
    suppressed: bool


def suppress(count: int, small_number: int) -> Figure:
    """Publish ``count`` unless it is a small non-zero number."""
    if 0 < count < small_number:
        return Figure(None, True)
    return Figure(count, False)


@dataclass(frozen=True)
class FacilityStatistics:
    facility_id: str
    name: str
    population: Figure
    declared_capacity: int
    icrc_capacity: int
    cpt_capacity: int
    floor_area_m2: Decimal
    m2_per_person: Decimal | None  # None when the population is suppressed or zero
    occupancy_rate_declared: Decimal | None
    occupancy_rate_icrc: Decimal | None


@dataclass(frozen=True)
class MonthlyFlow:
    month: str  # YYYY-MM
    admissions: Figure
    releases: Figure
    transfers_out: Figure
    deaths_in_custody: Figure


@dataclass(frozen=True)
class Statistics:
    at: datetime
    facilities: list[FacilityStatistics]
    flows: list[MonthlyFlow]
    small_number: int


def statistics(conn: Connection, ledger: str, at: datetime, small_number: int) -> Statistics:
    names = {r.facility_id: r.name for r in conn.execute(
        select(facilities.c.facility_id, facilities.c.name).where(facilities.c.ledger_id == ledger)
    )}  # fmt: skip
    rows = []
    for count in queries.headcount(conn, ledger):
        total, _units = queries.occupancy(conn, ledger, count.facility_id)
        population = suppress(count.total, small_number)
        shown = population.value
        rows.append(
            FacilityStatistics(
                count.facility_id, names.get(count.facility_id, count.facility_id), population,
                total.declared_capacity or 0, total.icrc_capacity, total.cpt_capacity, total.floor_area_m2,
                (total.floor_area_m2 / shown).quantize(Decimal("0.01")) if shown else None,
                _rate(shown, total.declared_capacity), _rate(shown, total.icrc_capacity),
            )
        )  # fmt: skip
    return Statistics(at, rows, _flows(conn, ledger, small_number), small_number)


def _rate(population: int | None, capacity: int | None) -> Decimal | None:
    if not population or not capacity:
        return None
    return (Decimal(population) / capacity * 100).quantize(Decimal("0.1"))


def _month(conn: Connection, column: Any) -> Any:
    """The UTC calendar month of an instant column, as 'YYYY-MM', computed by the database."""
    if conn.dialect.name == "sqlite":
        return func.substr(column, 1, 7)  # stored as fixed-width ISO 8601 UTC text
    return func.to_char(func.timezone("UTC", column), "YYYY-MM")


def _flows(conn: Connection, ledger: str, small_number: int) -> list[MonthlyFlow]:
    """Counted by the database (GROUP BY month): a public request never reads the episodes one by one."""
    admissions: Counter[str] = Counter()
    closed: Counter[tuple[str, str]] = Counter()
    admitted_month = _month(conn, episodes.c.admitted_at).label("m")
    for month, n in conn.execute(
        select(admitted_month, func.count()).where(episodes.c.ledger_id == ledger).group_by(admitted_month)
    ):
        admissions[month] += n
    closed_month = _month(conn, episodes.c.closed_at).label("m")
    for month, status, n in conn.execute(
        select(closed_month, episodes.c.status, func.count())
        .where(episodes.c.ledger_id == ledger, episodes.c.closed_at.is_not(None))
        .group_by(closed_month, episodes.c.status)
    ):
        closed[(month, status)] += n
    months = sorted(set(admissions) | {m for m, _ in closed})
    return [
        MonthlyFlow(
            m, suppress(admissions[m], small_number), suppress(closed[(m, "released")], small_number),
            suppress(closed[(m, "transferred")], small_number), suppress(closed[(m, "deceased")], small_number),
        )
        for m in months
    ]  # fmt: skip
