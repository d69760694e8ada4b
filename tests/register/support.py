"""Builders for register tests: a small facility, synthetic admissions, a fixed clock."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from habeas.domain.admission import Admission, Identity
from habeas.domain.custody import Contact, Injury, LegalBasis, PropertyItem
from habeas.domain.facility import CellRegistered, FacilityRegistered, UnitRegistered
from habeas.domain.housing import HousingPolicy
from habeas.services.register import RegisterService
from tests.conftest import at
from tests.ledger.support import new_ledger

FACILITY = "fac1"


class Clock:
    """A settable clock: tests decide what 'now' is."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def service(
    engine: Engine, ledger_id: str, now: datetime | None = None, policy: HousingPolicy | None = None
) -> tuple[RegisterService, Clock]:
    new_ledger(engine, ledger_id, at(-10_000))
    clock = Clock(now or at(600))
    # Predictable ids, distinct per ledger (tests share one PostgreSQL database).
    ids = (uuid.uuid5(uuid.NAMESPACE_URL, f"{ledger_id}/{i}") for i in itertools.count(1))
    return RegisterService(engine, ledger_id, clock, policy, new_id=lambda: next(ids)), clock


def small_facility(
    svc: RegisterService,
    *,
    units: int = 2,
    cells_per_unit: int = 3,
    beds: int = 4,
    area: str = "12",
    facility_id: str = FACILITY,
) -> list[str]:
    """Units U1.. with cells U1-C1..; returns the cell ids."""
    facility = FacilityRegistered(
        facility_id=facility_id,
        name="Test Facility",
        responsible_authority="Prison Directorate",
        declared_capacity=units * cells_per_unit * beds,
        jurisdiction="intl",
        place="Test Town",
    )
    unit_list = [
        UnitRegistered(facility_id=facility_id, unit_id=f"{facility_id}-U{u}", name=f"Unit {u}")
        for u in range(1, units + 1)
    ]
    cells = [
        CellRegistered(
            facility_id=facility_id,
            unit_id=f"{facility_id}-U{u}",
            cell_id=f"{facility_id}-U{u}-C{c}",
            beds=beds,
            floor_area_m2=Decimal(area),
        )
        for u in range(1, units + 1)
        for c in range(1, cells_per_unit + 1)
    ]
    svc.register_facility("user:director", facility, unit_list, cells, at(-9_000))
    return [c.cell_id for c in cells]


_names = itertools.count(1)


def identity(**overrides: Any) -> Identity:
    n = next(_names)
    fields: dict[str, Any] = {
        "given_names": f"Persona{n}",
        "family_names": f"Sintetica{n} Prueba",
        "sex": "M",
        "birth_date": datetime(1990, 1, 1 + n % 28).date(),
        "nationalities": ("SLV",),
        "documents": ({"kind": "national_id", "number": f"{n:08d}-0", "issuer": "SLV"},),
    }
    fields.update(overrides)
    return Identity(**fields)


def admission(admitted_minutes: float = 0, **overrides: Any) -> Admission:
    fields: dict[str, Any] = {
        "facility_id": FACILITY,
        "identity": identity(),
        "legal_status": "untried",
        "legal_basis": LegalBasis(
            instrument_id=str(uuid.uuid4()),
            kind="arrest_record",
            reference="AR-2025-001",
            issued_by="Policía Nacional Civil",
            issued_at=at(admitted_minutes - 60),
        ),
        "detaining_authority": "Policía Nacional Civil",
        "ordering_authority": "Fiscalía General",
        "arrested_at": at(admitted_minutes - 120),
        "arrest_place": "Colonia Ejemplo, San Salvador",
        "admitted_at": at(admitted_minutes),
        "injuries_observed": (Injury(body_part="left wrist", description="bruising"),),
        "property": (PropertyItem(description="wallet"),),
        "family_contacts": (Contact(name="Madre Sintetica", relationship="mother", phone="+503 0000 0000"),),
    }
    fields.update(overrides)
    return Admission(**fields)
