"""The register behind the orders, sending-state, oversight and alert page tests.

On top of ``tests.web.support.build_site`` (CECOT's layout, six synthetic people, one
account per role, the court's release order HC-77-2025 for Bruno), written through the
services as staff would: agreements with two sending states and a flight from each, a
second court's order, a release order due later, an invoice that the register later
contradicts (R27), and the safeguards' sweep, on a clock moved to 2 April 2025.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from habeas.domain import law
from habeas.domain.access import Role
from habeas.ledger.log import read_head
from habeas.safeguards.sweep import sweep
from habeas.services.legal import LegalService
from habeas.services.register import RegisterService
from habeas.services.transfers import TransferService
from habeas.store.account_tables import access_log
from habeas.store.law_tables import orders
from habeas.store.register_tables import people
from tests.api.support import SCOPES
from tests.conftest import at
from tests.transfer import support as transfer
from tests.web.support import BACKENDS, GENEROUS_LIMITS, RELEASE, Site, build_site, module_engine, sign_in

COURT = SCOPES[Role.COURT]
OTHER_COURT = "Juzgado Segundo de Paz (sintético)"
CAN_AGREEMENT = "AGR-CAN-SLV-2025"
LATER = datetime(2025, 4, 2, 12, 0, tzinfo=UTC)  # the clock after the scenario: March is over


@dataclass(frozen=True)
class Scenario:
    site: Site
    usa: list[str]  # person ids of the USA flight (the first released on 25 March, after the invoice)
    can: list[str]
    bruno_order: str  # the court's release order for Bruno, overdue since 16 March 22:04 UTC
    diego_order: str  # the court's release order for Diego, due 10 April
    other_order: str  # another court's order for Ana Lucía
    diego: str
    invoice_id: str


def person_id_of(site: Site, given: str) -> str:
    with site.engine.connect() as conn:
        return str(conn.execute(select(people.c.person_id).where(
            people.c.ledger_id == site.ledger_id, people.c.given_names == given)).scalar_one())  # fmt: skip


def add_scenario(site: Site) -> Scenario:
    engine, ledger, clock = site.engine, site.ledger_id, site.clock
    transfers = TransferService(engine, ledger, clock)
    legal = LegalService(engine, ledger, clock)
    clock.now = at(620)
    start = datetime(2025, 3, 1, tzinfo=UTC)
    transfers.conclude("user:director", transfer.agreement(facility_id="cecot"), clock.now)
    transfers.conclude("user:director", transfer.agreement(agreement_id=CAN_AGREEMENT, sending_state="CAN",
                                                           facility_id="cecot"), clock.now)  # fmt: skip
    assert start < clock.now
    usa = transfers.import_flight("user:intake", transfer.AGREEMENT, "F-USA-1", transfer.flight(1, 3, at(615)))
    can = transfers.import_flight("user:intake", CAN_AGREEMENT, "F-CAN-1", transfer.flight(50, 1, at(615)))
    assert usa.committed and can.committed, (usa.errors, can.errors)
    bruno_order = _order_of(site, "Bruno")
    ana, diego = person_id_of(site, "Ana Lucía"), person_id_of(site, "Diego")
    other_order, diego_order = str(uuid.uuid4()), str(uuid.uuid4())
    legal.issue_order(
        "user:court2",
        law.OrderIssued(
            order_id=other_order,
            person_id=ana,
            kind="produce",
            court=OTHER_COURT,
            court_state="SLV",
            reference="PROD-5-2025",
            issued_at=at(610),
            deadline=at(610 + 3 * 24 * 60),
            place="Juzgado Segundo",
        ),
        clock.now,
    )
    legal.issue_order("user:court", law.OrderIssued(
        order_id=diego_order, person_id=diego, kind="release", court=COURT, court_state="SLV",
        reference="HC-91-2025", issued_at=at(612), deadline=datetime(2025, 4, 10, tzinfo=UTC)), clock.now)  # fmt: skip
    clock.now = LATER
    invoice_id, _ = transfers.issue_invoice("user:director", transfer.AGREEMENT, "2025-03", clock.now)
    # Recorded after the invoice: the register now holds 7 fewer March days than were billed (R27).
    RegisterService(engine, ledger, clock).release("user:records", usa.admitted[0].person_id,
                                                   datetime(2025, 3, 25, 15, tzinfo=UTC), **RELEASE)  # fmt: skip
    sweep(engine, ledger, clock.now, clock.now)
    return Scenario(site, [a.person_id for a in usa.admitted], [a.person_id for a in can.admitted], bruno_order,
                    diego_order, other_order, diego, invoice_id)  # fmt: skip


def _order_of(site: Site, given: str) -> str:
    person = person_id_of(site, given)
    with site.engine.connect() as conn:
        return str(conn.execute(select(orders.c.order_id).where(
            orders.c.ledger_id == site.ledger_id, orders.c.person_id == person)).scalar_one())  # fmt: skip


@pytest.fixture(scope="module", params=BACKENDS)
def scenario(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """Built once per module and backend: for tests that only read (and sign in)."""
    with module_engine(request, tmp_path_factory, "roles") as engine:
        yield add_scenario(build_site(engine, f"t-{uuid.uuid4().hex[:12]}", **GENEROUS_LIMITS))


@pytest.fixture(params=BACKENDS)
def fresh(request: pytest.FixtureRequest, ledger_id: str) -> Scenario:
    """Fresh for each test: for tests that record something."""
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    return add_scenario(build_site(engine, ledger_id, **GENEROUS_LIMITS))


def client(s: Scenario, role: Role, lang: str = "es") -> TestClient:
    signed = TestClient(s.site.app, headers={"Accept-Language": lang})
    sign_in(signed, s.site.usernames[role])
    return signed


def head(s: Scenario) -> int:
    with s.site.engine.connect() as conn:
        return read_head(conn, s.site.ledger_id).size


def reads_logged(s: Scenario, username: str) -> set[str]:
    with s.site.engine.connect() as conn:
        return set(conn.execute(select(access_log.c.person_id).where(
            access_log.c.ledger_id == s.site.ledger_id, access_log.c.username == username)).scalars())  # fmt: skip


def count_logged(s: Scenario) -> int:
    with s.site.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(access_log).where(
            access_log.c.ledger_id == s.site.ledger_id)).scalar_one())  # fmt: skip


def main_of(html: str) -> str:
    """The page's <main>: what the page itself shows, without the menu."""
    start, end = html.index("<main"), html.index("</main>")
    return html[start:end]
