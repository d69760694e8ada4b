"""Builders for transfer tests: a receiving facility, an agreement, synthetic flight manifests.

Everything is synthetic: the names are "Persona N Sintetica", the identifiers made up.
"""

from __future__ import annotations

import csv
import io
import itertools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from habeas.domain import transfer as t
from habeas.ledger.log import read_head
from habeas.ledger.timefmt import format_instant
from habeas.services.register import RegisterService
from habeas.services.transfers import TransferService
from tests.register.support import Clock, service, small_facility

FACILITY = "fac1"
AGREEMENT = "AGR-USA-SLV-2025"


@dataclass
class World:
    engine: Engine
    ledger: str
    clock: Clock
    register: RegisterService
    transfers: TransferService

    def head(self) -> int:
        with self.engine.connect() as conn:
            return read_head(conn, self.ledger).size


def world(engine: Engine, ledger_id: str, now: datetime, *, beds: int = 8) -> World:
    svc, clock = service(engine, ledger_id, now=now)
    small_facility(svc, units=4, cells_per_unit=8, beds=beds)
    ids = (uuid.uuid5(uuid.NAMESPACE_URL, f"{ledger_id}/transfer/{i}") for i in itertools.count(1))
    return World(engine, ledger_id, clock, svc, TransferService(engine, ledger_id, clock, new_id=lambda: next(ids)))


def instrument(reference: str, issued_by: str, issued_at: datetime) -> t.Instrument:
    return t.Instrument(reference=reference, title=f"Instrument {reference}", issued_by=issued_by, issued_at=issued_at)


def agreement(**overrides: Any) -> t.AgreementConcluded:
    fields: dict[str, Any] = {
        "agreement_id": AGREEMENT,
        "name": "Synthetic custody agreement",
        "sending_state": "USA",
        "receiving_state": "SLV",
        "sending_instrument": instrument("SYN-PROC-1", "Sending State Executive", datetime(2025, 3, 1, tzinfo=UTC)),
        "receiving_instrument": instrument("SYN-MOU-1", "Receiving State Ministry", datetime(2025, 3, 1, tzinfo=UTC)),
        "effective_from": datetime(2025, 3, 1, tzinfo=UTC),
        "effective_to": datetime(2026, 3, 1, tzinfo=UTC),
        "facility_id": FACILITY,
        "custodian_of_record": "Dirección General de Centros Penales (synthetic)",
        "custodian_state": "SLV",
        "fee": t.FeeTerms(kind="per_person_day", currency="USD", rate=Decimal("54.79")),
    }
    fields.update(overrides)
    return t.AgreementConcluded(**fields)


HEADER = (
    "given_names", "family_names", "birth_date", "sex", "nationalities", "sending_state_id", "sending_basis",
    "detaining_authority", "arrested_at", "arrest_place", "admitted_at", "no_contact_reason",
)  # fmt: skip


def person_row(n: int, admitted_at: datetime, **overrides: str) -> dict[str, str]:
    row = {
        "given_names": f"Persona{n}",
        "family_names": f"Sintetica{n} Vuelo",
        "birth_date": date(1980 + n % 20, 1 + n % 12, 1 + n % 28).isoformat(),
        "sex": "M",
        "nationalities": "VEN",
        "sending_state_id": f"A{200000000 + n}",
        "sending_basis": "SYN-STATUTE-A" if n % 2 else "SYN-STATUTE-B",
        "detaining_authority": "Sending State Immigration (synthetic)",
        "arrested_at": format_instant(admitted_at.replace(hour=0, minute=0, second=0, microsecond=0)),
        "arrest_place": "Synthetic detention centre",
        "admitted_at": format_instant(admitted_at),
        "no_contact_reason": "family not yet identified (synthetic)",
    }
    row.update(overrides)
    return row


def manifest(rows: Iterable[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def flight(first: int, count: int, admitted_at: datetime, **overrides: str) -> str:
    return manifest(person_row(n, admitted_at, **overrides) for n in range(first, first + count))


def foreign_order(
    order_id: str, *, numbers: Iterable[str] = (), flight_code: str | None = None, **overrides: Any
) -> t.ForeignOrderRecorded:
    fields: dict[str, Any] = {
        "order_id": order_id,
        "kind": "return",
        "court": "Synthetic District Court",
        "court_state": "USA",
        "reference": f"SYN-{order_id}",
        "issued_at": datetime(2025, 3, 15, 18, 0, tzinfo=UTC),
        "documents": tuple(
            t.DocumentRef(kind="foreign_registration", number=number, issuer="USA") for number in numbers
        ),
        "flight": flight_code,
        "place": "Sending State",
    }
    fields.update(overrides)
    return t.ForeignOrderRecorded(**fields)
