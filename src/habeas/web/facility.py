"""The facility map's read model: every cell's m² per person against ICRC and CPT (no HTML here).

Standards §2: ICRC 3.4 m² shared / 5.4 m² single (R16), CPT 4 m² / 6 m² (R17), below
3 m² a presumption of degrading treatment (Muršić v. Croatia; R18).  The figures come
from the facility's jurisdiction policy (``SpaceStandards``, the thresholds the
safeguard sweep uses), and each cell lists the open space alerts the safeguards
raised on it (R16-R19), so the map and the alerts say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, select

from habeas.domain.policy import SpaceStandards
from habeas.errors import HabeasError, NotFound
from habeas.policy.loader import load_policy
from habeas.services import queries
from habeas.store.register_tables import alerts, cells, facilities, units
from habeas.web.i18n import N_

SPACE_RULES = ("R16", "R17", "R18", "R19")
# Bands from the gravest; each has a text label shown in the cell (colour is never the only signal).
BANDS = {
    "r18": N_("below 3 m² (R18)"), "r16": N_("below ICRC (R16)"), "r17": N_("below CPT (R17)"),
    "ok": N_("meets ICRC and CPT"), "empty": N_("empty"), "closed": N_("out of service"),
}  # fmt: skip


@dataclass(frozen=True)
class CellView:
    cell_id: str
    occupants: int
    beds: int
    area_m2: Decimal
    single: bool
    in_service: bool
    per_person: Decimal | None
    band: str  # a BANDS key
    alerts: tuple[str, ...]  # open space alerts on the cell (rule ids)


@dataclass(frozen=True)
class UnitView:
    unit_id: str
    name: str
    occupancy: queries.Occupancy
    cells: list[CellView]

    def count(self, band: str) -> int:
        return sum(1 for c in self.cells if c.band == band)

    @property
    def flagged(self) -> bool:
        return any(c.band in ("r18", "r16", "r17") for c in self.cells)


@dataclass(frozen=True)
class FacilityMap:
    facility_id: str
    name: str
    space: SpaceStandards
    total: queries.Occupancy
    units: list[UnitView]


def band(per_person: Decimal | None, single: bool, in_service: bool, space: SpaceStandards) -> str:
    """The gravest standard a cell falls below, in the order the safeguard sweep applies them."""
    if not in_service:
        return "closed"
    if per_person is None:
        return "empty"
    if per_person < space.critical_shared_m2:
        return "r18"
    if per_person < (space.icrc_single_m2 if single else space.icrc_shared_m2):
        return "r16"
    if per_person < (space.cpt_single_m2 if single else space.cpt_shared_m2):
        return "r17"
    return "ok"


def facility_ids(conn: Connection, ledger: str) -> list[tuple[str, str]]:
    rows = conn.execute(
        select(facilities.c.facility_id, facilities.c.name)
        .where(facilities.c.ledger_id == ledger)
        .order_by(facilities.c.name)
    )
    return [(r.facility_id, r.name) for r in rows]


def facility_map(conn: Connection, ledger: str, facility_id: str) -> FacilityMap:
    fac = conn.execute(
        select(facilities.c.name, facilities.c.jurisdiction).where(
            facilities.c.ledger_id == ledger, facilities.c.facility_id == facility_id
        )
    ).first()
    if fac is None:
        raise NotFound("facility", facility_id)
    try:
        space = load_policy(fac.jurisdiction).space
    except HabeasError:
        space = SpaceStandards()  # no policy file: the international minimum (standards §2)
    total, unit_occupancy = queries.occupancy(conn, ledger, facility_id)
    rows = conn.execute(
        select(cells.c.cell_id, cells.c.unit_id, cells.c.occupants, cells.c.beds, cells.c.floor_area_m2,
               cells.c.single, cells.c.in_service)
        .where(cells.c.ledger_id == ledger, cells.c.facility_id == facility_id)
        .order_by(cells.c.unit_id, cells.c.cell_id)
    ).all()  # fmt: skip
    open_alerts: dict[str, list[str]] = {}
    ids = [r.cell_id for r in rows]
    for start in range(0, len(ids), 500):
        for a in conn.execute(
            select(alerts.c.subject, alerts.c.rule).where(
                alerts.c.ledger_id == ledger, alerts.c.resolved_at.is_(None),
                alerts.c.subject.in_(ids[start : start + 500]), alerts.c.rule.in_(SPACE_RULES),
            )
        ):  # fmt: skip
            open_alerts.setdefault(a.subject, []).append(a.rule)
    names = {
        r.unit_id: r.name
        for r in conn.execute(
            select(units.c.unit_id, units.c.name).where(units.c.ledger_id == ledger, units.c.facility_id == facility_id)
        )
    }
    by_unit: dict[str, list[CellView]] = {}
    for r in rows:
        area = Decimal(str(r.floor_area_m2))
        per = (area / r.occupants).quantize(Decimal("0.01")) if r.occupants else None
        by_unit.setdefault(r.unit_id, []).append(
            CellView(r.cell_id, int(r.occupants), int(r.beds), area.normalize(), bool(r.single), bool(r.in_service),
                     per, band(per, bool(r.single), bool(r.in_service), space),
                     tuple(sorted(open_alerts.get(r.cell_id, ()))))
        )  # fmt: skip
    return FacilityMap(
        facility_id, fac.name, space, total,
        [UnitView(u.scope, names.get(u.scope, u.scope), u, by_unit.get(u.scope, [])) for u in unit_occupancy],
    )  # fmt: skip
