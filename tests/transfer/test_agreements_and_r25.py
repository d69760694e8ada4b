"""Agreements, the custodian of record, and R25 (ICPPED 17(3)(d); standards.md §5).

Each state told courts the other held jurisdiction: the register names a custodian of record
for every transferee, never empty, and a sweep raises a critical alert when the claims contradict
each other or the agreement has ended while the person is held.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from habeas.domain import transfer as t
from habeas.errors import Conflict, InvalidInput, NotFound
from habeas.safeguards.sweep import sweep
from habeas.services.register import parse_request
from habeas.store.register_tables import alerts
from tests.transfer import support as s

NOW = datetime(2025, 4, 2, tzinfo=UTC)
ARRIVAL = datetime(2025, 3, 16, 3, tzinfo=UTC)


def data(**overrides: object) -> dict[str, object]:
    return {**s.agreement().model_dump(mode="json"), **overrides}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"custodian_of_record": "   "}, "custodian_of_record"),  # never empty (R25)
        ({"custodian_of_record": None}, "custodian_of_record"),
        ({"sending_state": "usa"}, "sending_state"),  # ISO 3166 alpha-3
        ({"fee": {"kind": "per_person_day", "currency": "USD", "rate": 54.79}}, "fee.rate"),  # a float
    ],
)
def test_an_agreement_of_bad_form_is_refused_naming_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_request(t.AgreementConcluded, data(**overrides))
    assert field in {p.field for p in error.value.problems}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"receiving_state": "USA"}, "receiving_state"),
        ({"custodian_state": "VEN"}, "custodian_state"),  # the custodian answers for one of the parties
        ({"effective_to": datetime(2025, 2, 1, tzinfo=UTC)}, "effective_to"),
        ({"fee": t.FeeTerms(kind="per_person_day", currency="USD")}, "fee.rate"),
        ({"fee": t.FeeTerms(kind="lump_sum", currency="USD", amount=Decimal("6000000"))}, "fee.period_start"),
        ({"eligibility": t.Eligibility(excluded_nationalities=("USA",))}, "eligibility.excluded_nationalities[0]"),
    ],
)
def test_agreement_rules(engine: Engine, ledger_id: str, overrides: dict[str, object], field: str) -> None:
    w = s.world(engine, ledger_id, NOW)
    head = w.head()
    with pytest.raises(InvalidInput) as error:
        w.transfers.conclude("user:director", s.agreement(**overrides), NOW)
    assert field in {p.field for p in error.value.problems}
    assert w.head() == head


def test_conclude_renew_and_refusals(engine: Engine, ledger_id: str) -> None:
    w = s.world(engine, ledger_id, NOW)
    with pytest.raises(NotFound):
        w.transfers.conclude("user:director", s.agreement(facility_id="nowhere"), NOW)
    w.transfers.conclude("user:director", s.agreement(), NOW)
    head = w.head()
    with pytest.raises(Conflict):
        w.transfers.conclude("user:director", s.agreement(), NOW)
    with pytest.raises(InvalidInput, match="a renewal extends"):
        w.transfers.renew("user:director", s.AGREEMENT, datetime(2025, 12, 1, tzinfo=UTC), "SYN-RENEW-0", NOW)
    with pytest.raises(InvalidInput, match="party"):
        w.transfers.claim("user:records", s.AGREEMENT, "VEN", "holds", "a letter", NOW)
    assert w.head() == head
    w.transfers.renew("user:director", s.AGREEMENT, datetime(2027, 3, 1, tzinfo=UTC), "SYN-RENEW-1", NOW)
    # A flight after the original end is now in force.
    w.clock.now = datetime(2026, 6, 2, tzinfo=UTC)
    result = w.transfers.import_flight(
        "user:intake", s.AGREEMENT, "F-1", s.flight(1, 1, datetime(2026, 6, 1, tzinfo=UTC))
    )
    assert len(result.admitted) == 1


def r25(w: s.World, at: datetime) -> list[object]:
    sweep(w.engine, w.ledger, at, at)
    with w.engine.connect() as conn:
        return list(
            conn.execute(
                select(alerts).where(
                    alerts.c.ledger_id == w.ledger, alerts.c.rule == "R25", alerts.c.resolved_at.is_(None)
                )
            ).all()
        )


def test_r25_both_states_disclaiming_jurisdiction_is_critical(engine: Engine, ledger_id: str) -> None:
    w = s.world(engine, ledger_id, NOW)
    w.transfers.conclude("user:director", s.agreement(), datetime(2025, 3, 1, tzinfo=UTC))
    [person] = w.transfers.import_flight("user:intake", s.AGREEMENT, "F-1", s.flight(1, 1, ARRIVAL)).admitted
    assert r25(w, NOW) == []
    w.transfers.claim("user:records", s.AGREEMENT, "USA", "disclaims", "filing in a synthetic court", NOW)
    assert r25(w, NOW) == []  # the custodian's own state (SLV) has not disclaimed
    w.transfers.claim("user:records", s.AGREEMENT, "SLV", "disclaims", "letter to a synthetic UN body", NOW)
    [alert] = r25(w, NOW)
    assert alert.severity == "critical" and alert.subject == person.person_id  # type: ignore[attr-defined]
    assert "both USA and SLV disclaim jurisdiction" in alert.message  # type: ignore[attr-defined]
    w.transfers.claim("user:records", s.AGREEMENT, "SLV", "holds", "corrected statement", NOW)
    assert r25(w, NOW) == []


def test_r25_the_custodians_state_disclaiming_for_one_person(engine: Engine, ledger_id: str) -> None:
    w = s.world(engine, ledger_id, NOW)
    w.transfers.conclude("user:director", s.agreement(), datetime(2025, 3, 1, tzinfo=UTC))
    _, second = w.transfers.import_flight("user:intake", s.AGREEMENT, "F-1", s.flight(1, 2, ARRIVAL)).admitted
    w.transfers.claim("user:records", s.AGREEMENT, "SLV", "disclaims", "a statement", NOW, person_id=second.person_id)
    [alert] = r25(w, NOW)
    assert alert.subject == second.person_id and "which disclaims jurisdiction" in alert.message  # type: ignore[attr-defined]
    with pytest.raises(NotFound):
        w.transfers.claim("user:records", s.AGREEMENT, "SLV", "disclaims", "x", NOW, person_id="someone-else")


def test_r25_the_agreement_ended_while_the_person_is_held(engine: Engine, ledger_id: str) -> None:
    w = s.world(engine, ledger_id, NOW)
    w.transfers.conclude("user:director", s.agreement(effective_to=datetime(2025, 4, 1, tzinfo=UTC)),
                         datetime(2025, 3, 1, tzinfo=UTC))  # fmt: skip
    [person] = w.transfers.import_flight("user:intake", s.AGREEMENT, "F-1", s.flight(1, 1, ARRIVAL)).admitted
    assert r25(w, datetime(2025, 3, 31, tzinfo=UTC)) == []
    [alert] = r25(w, NOW)
    assert "ended 2025-04-01" in alert.message  # type: ignore[attr-defined]
    w.transfers.renew("user:director", s.AGREEMENT, datetime(2026, 4, 1, tzinfo=UTC), "SYN-RENEW-1", NOW)
    assert r25(w, NOW) == []
    # Once the person has left, an ended agreement concerns nobody.
    w.transfers.leave(
        "user:director", person.person_id, "return_to_sending_state", NOW, destination_state="USA",
        authority="Ministry", order_reference="RET-1", handed_over_to="USA escort (synthetic)",
    )  # fmt: skip
    assert r25(w, datetime(2026, 5, 1, tzinfo=UTC)) == []
