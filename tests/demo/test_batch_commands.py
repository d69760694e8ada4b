"""The service additions the demo loads through: batches of notifications, classifications and
orders (all or nothing, a refusal naming the row), and a provisional detention order admitted
with its CPP 8 class and scope (so Decree 803's extension reaches it, R5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from habeas.domain import law
from habeas.domain.facility import CellRegistered, FacilityRegistered, UnitRegistered
from habeas.errors import HabeasError, InvalidInput
from habeas.ledger.log import read_head
from habeas.safeguards.sweep import find
from habeas.services.legal import LegalService
from habeas.services.register import RegisterService
from habeas.store.law_tables import orders
from habeas.store.register_tables import episodes, people
from tests.conftest import at
from tests.register import support as s


def _two_held(engine: Engine, ledger_id: str) -> tuple[RegisterService, LegalService, list[str]]:
    svc, clock = s.service(engine, ledger_id)
    s.small_facility(svc)
    admitted = svc.admit_many("user:intake", [s.admission(), s.admission()])
    return svc, LegalService(engine, ledger_id, clock), [a.person_id for a in admitted]


def _head(engine: Engine, ledger_id: str) -> int:
    with engine.connect() as conn:
        return read_head(conn, ledger_id).size


def test_notify_many_is_all_or_nothing_and_stops_the_family_clock(engine: Engine, ledger_id: str) -> None:
    _, legal, (one, two) = _two_held(engine, ledger_id)
    head = _head(engine, ledger_id)
    with pytest.raises(HabeasError, match="nobody"):
        legal.notify_many("user:records", [(one, "family", "Madre", at(10)), ("nobody", "family", "Madre", at(10))])
    assert _head(engine, ledger_id) == head
    legal.notify_many("user:records", [(one, "family", "Madre", at(10)), (one, "rights_informed", "él", at(11))])
    with engine.connect() as conn:
        late = {f.subject for f in find(conn, ledger_id, at(60 * 30)) if f.rule == "R8"}
    assert late == {two}  # R8: only the one whose family was never told


def test_classify_many_keeps_a_label_without_a_document_as_unsubstantiated(engine: Engine, ledger_id: str) -> None:
    svc, _, (one, two) = _two_held(engine, ledger_id)
    svc.classify_many(
        "user:housing",
        [
            (one, {"group_affiliation": "MS-13", "risk_level": "high",
                   "group_evidence": {"document_reference": "SYN-INF-1"}}, at(20)),
            (two, {"group_affiliation": "MS-13", "risk_level": "high",
                   "group_evidence": {"description": "tatuajes"}}, at(20)),
        ],
    )  # fmt: skip
    with engine.connect() as conn:
        got = dict(
            conn.execute(
                select(people.c.person_id, people.c.group_substantiated).where(people.c.ledger_id == ledger_id)
            ).all()
        )
    assert got == {one: True, two: False}
    with pytest.raises(InvalidInput, match=r"items\[0\]\.risk_level"):
        svc.classify_many("user:housing", [(one, {"risk_level": "extreme"}, at(30)), (two, {"risk_level": "low"},
                                                                                      at(30))])  # fmt: skip


def test_issue_orders_refuses_the_whole_batch_naming_the_bad_order(engine: Engine, ledger_id: str) -> None:
    _, legal, (one, two) = _two_held(engine, ledger_id)

    def order(person: str, n: int, deadline: datetime) -> law.OrderIssued:
        return law.OrderIssued(order_id=f"{ledger_id}-o{n}", person_id=person, kind="return", court="Synthetic Court",
                               court_state="USA", reference=f"SYN-{n}", issued_at=at(5), deadline=deadline,
                               place="Sending State")  # fmt: skip

    head = _head(engine, ledger_id)
    with pytest.raises(InvalidInput, match=r"orders\[1\]\.deadline"):
        legal.issue_orders("user:records", [order(one, 1, at(60)), order(two, 2, at(1))], at(10))
    assert _head(engine, ledger_id) == head
    legal.issue_orders("user:records", [order(one, 1, at(60)), order(two, 2, at(60))], at(10))
    with engine.connect() as conn:
        late = {f.subject for f in find(conn, ledger_id, at(120)) if f.rule == "R26"}
        stored = conn.execute(select(orders.c.order_id).where(orders.c.ledger_id == ledger_id)).scalars().all()
    assert late == set(stored) == {f"{ledger_id}-o1", f"{ledger_id}-o2"}


def test_an_order_admitted_with_its_class_and_scope_is_extended_by_decree_803(engine: Engine, ledger_id: str) -> None:
    arrested = datetime(2023, 1, 10, 12, 0, tzinfo=UTC)
    svc, clock = s.service(engine, ledger_id, now=arrested + timedelta(days=30))
    facility = FacilityRegistered(facility_id="slv1", name="Synthetic prison", responsible_authority="DGCP",
                                  declared_capacity=10, jurisdiction="slv", place="Synthetic town")  # fmt: skip
    svc.register_facility(
        "user:director", facility, [UnitRegistered(facility_id="slv1", unit_id="slv1-U1", name="U1")],
        [CellRegistered(facility_id="slv1", unit_id="slv1-U1", cell_id="slv1-C1", beds=10, floor_area_m2=Decimal(40))],
        arrested,
    )  # fmt: skip

    def admitted(**basis: str | None) -> str:
        order = {"instrument_id": f"{ledger_id}-{basis.get('offence_class')}", "kind": "provisional_detention_order",
                 "reference": "SYN-DP-1", "issued_by": "Synthetic judge", "issued_at": arrested + timedelta(days=2),
                 **basis}  # fmt: skip
        request = s.admission(facility_id="slv1", legal_basis=order, arrested_at=arrested,
                              admitted_at=arrested + timedelta(days=3))  # fmt: skip
        return svc.admit("user:intake", request).person_id

    extended = admitted(offence_class="serious", scope="state_of_exception")
    ordinary = admitted(offence_class="less_serious", scope=None)
    clock.now = datetime(2025, 6, 1, tzinfo=UTC)
    with engine.connect() as conn:
        late = {f.subject for f in find(conn, ledger_id, clock.now) if f.rule == "R5"}
    assert ordinary in late and extended not in late  # 12 months (CPP 8) vs Decree 803 to Aug 2025


def test_leave_many_takes_a_flight_out_all_or_none(engine: Engine, ledger_id: str) -> None:
    from tests.transfer import support as ts

    landed = datetime(2025, 3, 16, 4, 0, tzinfo=UTC)
    w = ts.world(engine, ledger_id, landed + timedelta(hours=1))
    w.transfers.conclude("user:director", ts.agreement(), datetime(2025, 3, 1, tzinfo=UTC))
    rows = [ts.person_row(1, landed), ts.person_row(2, landed), ts.person_row(3, landed, nationalities="COL")]
    flight = w.transfers.import_flight("user:intake", ts.AGREEMENT, "SYN-1", ts.manifest(rows))
    people_ = [a.person_id for a in flight.admitted]
    w.clock.now = datetime(2025, 7, 18, 15, 0, tzinfo=UTC)
    facts = {"destination_state": "VEN", "authority": "Synthetic ministry", "order_reference": "SYN-REP-1",
             "handed_over_to": "Synthetic authorities"}  # fmt: skip
    head = w.head()
    with pytest.raises(HabeasError, match=r"person_ids\[2\]\.destination_state"):  # not Venezuelan
        w.transfers.leave_many("user:records", people_, "repatriation", w.clock.now, **facts)
    assert w.head() == head
    w.transfers.leave_many("user:records", people_[:2], "repatriation", w.clock.now, **facts)
    with engine.connect() as conn:
        statuses: dict[str, str] = dict(
            conn.execute(select(episodes.c.person_id, episodes.c.status).where(episodes.c.ledger_id == ledger_id)).all()
        )
    assert statuses == {people_[0]: "transferred", people_[1]: "transferred", people_[2]: "admitted"}
    assert w.head() == head + 4  # two transfers out, two handovers
