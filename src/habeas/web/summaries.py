"""What each role's dashboard shows, read from the projections (no page logic, no HTML).

The dashboard follows ``domain.access.POLICY``: facility figures need
``facility.read``; a court (no facility.read) sees the orders of its court, a
liaison its own transferees (standards §5), each with the alerts it may read.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, func, select

from habeas.services import liaison, queries
from habeas.store.law_tables import orders
from habeas.store.register_tables import alerts, episodes, facilities, people, units

SEVERITIES = (
    "critical",
    "high",
    "medium",
    "info",
)  # domain.alerts.Severity  # most urgent first; others are listed after


@dataclass(frozen=True)
class FacilitySummary:
    facility_id: str
    name: str
    population: int
    total: queries.Occupancy
    units: list[tuple[str, queries.Occupancy]]  # (unit name, its occupancy)
    admissions_today: int
    releases_today: int


@dataclass(frozen=True)
class OrderRow:
    order_id: str
    person_id: str
    person_name: str
    kind: str
    reference: str
    issued_at: datetime
    deadline: datetime | None
    status: str
    closed_at: datetime | None

    @property
    def in_time(self) -> bool | None:
        """Executed by its deadline?  None while open or without a deadline."""
        if self.status != "executed" or self.deadline is None or self.closed_at is None:
            return None
        return self.closed_at <= self.deadline


def facilities_now(conn: Connection, ledger: str, day_start: datetime, now: datetime) -> list[FacilitySummary]:
    names = {
        r.facility_id: r.name
        for r in conn.execute(
            select(facilities.c.facility_id, facilities.c.name).where(facilities.c.ledger_id == ledger)
        )
    }
    unit_names = _unit_names(conn, ledger)
    out = []
    for count in queries.headcount(conn, ledger):
        total, units = queries.occupancy(conn, ledger, count.facility_id)
        released = conn.execute(
            select(func.count()).where(
                episodes.c.ledger_id == ledger, episodes.c.facility_id == count.facility_id,
                episodes.c.status == "released", episodes.c.closed_at >= day_start, episodes.c.closed_at < now,
            )
        ).scalar_one()  # fmt: skip
        out.append(
            FacilitySummary(
                count.facility_id, names.get(count.facility_id, count.facility_id), count.total, total,
                [(unit_names.get(u.scope, u.scope), u) for u in units],
                queries.admissions_between(conn, ledger, count.facility_id, day_start, now), int(released),
            )
        )  # fmt: skip
    return out


def _unit_names(conn: Connection, ledger: str) -> dict[str, str]:
    return {
        r.unit_id: r.name
        for r in conn.execute(select(units.c.unit_id, units.c.name).where(units.c.ledger_id == ledger))
    }


def open_alerts_by_severity(conn: Connection, ledger: str) -> list[tuple[str, int]]:
    rows = conn.execute(
        select(alerts.c.severity, func.count())
        .where(alerts.c.ledger_id == ledger, alerts.c.resolved_at.is_(None))
        .group_by(alerts.c.severity)
    )
    return _by_severity(Counter({severity: int(n) for severity, n in rows}))


def _by_severity(counts: Counter[str]) -> list[tuple[str, int]]:
    ordered = [s for s in SEVERITIES if s in counts] + sorted(set(counts) - set(SEVERITIES))
    return [(s, counts[s]) for s in ordered]


def liaison_alerts_by_severity(conn: Connection, ledger: str, state: str) -> list[tuple[str, int]]:
    return _by_severity(Counter(a.severity for a in liaison.alerts_about(conn, ledger, state)))


def orders_of_court(conn: Connection, ledger: str, court: str) -> list[OrderRow]:
    """Orders issued by ``court``, newest first, with the name of the person each concerns."""
    rows = conn.execute(
        select(orders, people.c.given_names, people.c.family_names)
        .join(people, and_(people.c.ledger_id == orders.c.ledger_id, people.c.person_id == orders.c.person_id),
              isouter=True)
        .where(orders.c.ledger_id == ledger, orders.c.court == court)
        .order_by(orders.c.issued_at.desc(), orders.c.order_id)
    )  # fmt: skip
    return [
        OrderRow(
            r.order_id, r.person_id, f"{r.given_names or ''} {r.family_names or ''}".strip() or r.person_id, r.kind,
            r.reference, r.issued_at, r.deadline, r.status, r.closed_at,
        )
        for r in rows
    ]  # fmt: skip
