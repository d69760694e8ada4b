"""Billing through the service: spans from the register's custody history, invoices as events (F16),
and R27 (invoiced person-days differ from register person-days).

Counting rule (the agreement's default): local days in America/El_Salvador (UTC-6), the day of
admission counts, the day of departure does not.  Rate 54.79 USD per person-day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from habeas.domain import transfer as t
from habeas.errors import Conflict, InvalidInput
from habeas.safeguards.sweep import sweep
from habeas.store.register_tables import alerts
from habeas.store.tables import events
from tests.transfer import support as s


def setup(engine: Engine, ledger_id: str, now: datetime, **terms: object) -> s.World:
    w = s.world(engine, ledger_id, now)
    w.transfers.conclude("user:director", s.agreement(**terms), datetime(2025, 3, 1, tzinfo=UTC))
    return w


def admit(w: s.World, n: int, at: datetime, flight: str = "SYN-FLT-1") -> str:
    result = w.transfers.import_flight("user:intake", s.AGREEMENT, flight, s.flight(n, 1, at))
    assert result.errors == (), result.errors
    return str(result.admitted[0].person_id)


def release(w: s.World, person: str, at: datetime) -> None:
    w.register.release(
        "user:records", person, at, authority="Synthetic Court", order_reference="REL-1",
        verified_by="Officer Sintetico", handed_over_to="Sending State escort", health_check="fit",
    )  # fmt: skip


def amounts(invoice: object) -> list[tuple[str, str | None, int, str]]:
    return [(x.kind, x.person_id, x.days, str(x.amount)) for x in invoice.lines]  # type: ignore[attr-defined]


def test_mid_month_admission_counts_local_days_from_the_admission_day(engine: Engine, ledger_id: str) -> None:
    w = setup(engine, ledger_id, datetime(2025, 4, 2, tzinfo=UTC))
    # 2025-03-16 03:00 UTC is 2025-03-15 21:00 in El Salvador: 15 to 31 March, 17 days.
    person = admit(w, 1, datetime(2025, 3, 16, 3, tzinfo=UTC))
    invoice_id, invoice = w.transfers.issue_invoice(
        "user:finance", s.AGREEMENT, "2025-03", datetime(2025, 4, 2, tzinfo=UTC)
    )
    assert amounts(invoice) == [("person_days", person, 17, "931.43")]
    assert invoice.total == Decimal("931.43")
    with w.engine.connect() as conn:
        body = conn.execute(
            select(events.c.body).where(events.c.ledger_id == ledger_id, events.c.type == "invoice.issued")
        ).scalar_one()
    assert b'"total":"931.43"' in body and b'"amount":"931.43"' in body  # decimal text, never a float
    assert invoice_id.encode() in body


def test_release_on_the_last_day_of_a_month(engine: Engine, ledger_id: str) -> None:
    w = setup(engine, ledger_id, datetime(2025, 6, 2, tzinfo=UTC))
    person = admit(w, 1, datetime(2025, 4, 10, 12, tzinfo=UTC))
    # 2025-05-01 05:30 UTC is 23:30 on 30 April in El Salvador: the departure day (30 April) does not count.
    release(w, person, datetime(2025, 5, 1, 5, 30, tzinfo=UTC))
    _, april = w.transfers.issue_invoice("user:finance", s.AGREEMENT, "2025-04", datetime(2025, 5, 2, tzinfo=UTC))
    assert amounts(april) == [("person_days", person, 20, "1095.80")]  # 10 to 29 April
    _, may = w.transfers.issue_invoice("user:finance", s.AGREEMENT, "2025-05", datetime(2025, 6, 2, tzinfo=UTC))
    assert may.lines == () and may.total == Decimal("0.00")


def test_leap_day(engine: Engine, ledger_id: str) -> None:
    w = setup(engine, ledger_id, datetime(2028, 3, 5, tzinfo=UTC), effective_to=datetime(2029, 1, 1, tzinfo=UTC))
    person = admit(w, 1, datetime(2028, 2, 28, 18, tzinfo=UTC))
    release(w, person, datetime(2028, 3, 1, 18, tzinfo=UTC))
    _, february = w.transfers.issue_invoice("user:finance", s.AGREEMENT, "2028-02", datetime(2028, 3, 2, tzinfo=UTC))
    assert amounts(february) == [("person_days", person, 2, "109.58")]  # 28 and 29 February
    assert february.lines[0].billed_days == (date(2028, 2, 28), date(2028, 2, 29))


def test_a_correction_after_invoicing_gives_an_adjustment_line_and_r27_until_then(
    engine: Engine, ledger_id: str
) -> None:
    w = setup(engine, ledger_id, datetime(2025, 5, 2, tzinfo=UTC))
    person = admit(w, 1, datetime(2025, 4, 10, 12, tzinfo=UTC))
    release(w, person, datetime(2025, 4, 20, 12, tzinfo=UTC))
    _, april = w.transfers.issue_invoice("user:finance", s.AGREEMENT, "2025-04", datetime(2025, 5, 2, tzinfo=UTC))
    assert amounts(april) == [("person_days", person, 10, "547.90")]  # 10 to 19 April
    sweep(w.engine, ledger_id, datetime(2025, 5, 2, 1, tzinfo=UTC), datetime(2025, 5, 2, 1, tzinfo=UTC))
    assert open_r27(w) == []
    # The release really happened on 25 April: corrected after the invoice was issued.
    with w.engine.connect() as conn:
        released = conn.execute(
            select(events.c.event_id).where(events.c.ledger_id == ledger_id, events.c.type == "custody.released")
        ).scalar_one()
    w.clock.now = datetime(2025, 5, 3, tzinfo=UTC)
    w.register.correct("user:records", released, {"occurred_at": "2025-04-25T12:00:00.000000Z"},
                       "release order executed on the 25th", datetime(2025, 5, 3, tzinfo=UTC))  # fmt: skip
    sweep(w.engine, ledger_id, datetime(2025, 5, 3, 1, tzinfo=UTC), datetime(2025, 5, 3, 1, tzinfo=UTC))
    [alert] = open_r27(w)
    assert alert.severity == "high" and "5 registered day(s) not billed" in alert.message
    w.clock.now = datetime(2025, 6, 2, tzinfo=UTC)
    _, may = w.transfers.issue_invoice("user:finance", s.AGREEMENT, "2025-05", datetime(2025, 6, 2, tzinfo=UTC))
    assert amounts(may) == [("adjustment", person, 5, "273.95")]  # 20 to 24 April
    assert may.lines[0].month == date(2025, 4, 1) and "2025-04-20 to 2025-04-24" in may.lines[0].note
    sweep(w.engine, ledger_id, datetime(2025, 6, 2, 1, tzinfo=UTC), datetime(2025, 6, 2, 1, tzinfo=UTC))
    assert open_r27(w) == []


def open_r27(w: s.World) -> list[object]:
    with w.engine.connect() as conn:
        return list(
            conn.execute(
                select(alerts).where(
                    alerts.c.ledger_id == w.ledger, alerts.c.rule == "R27", alerts.c.resolved_at.is_(None)
                )
            ).all()
        )


def test_a_lump_sum_is_prorated_over_a_partial_period(engine: Engine, ledger_id: str) -> None:
    """Standards §5: US$6 million for a year.  March 2025 holds 16 of the period's 365 days."""
    fee = t.FeeTerms(kind="lump_sum", currency="USD", amount=Decimal("6000000.00"),
                     period_start=date(2025, 3, 16), period_end=date(2026, 3, 15))  # fmt: skip
    w = setup(engine, ledger_id, datetime(2025, 4, 2, tzinfo=UTC), fee=fee)
    person = admit(w, 1, datetime(2025, 3, 16, 15, tzinfo=UTC))
    _, march = w.transfers.issue_invoice("user:finance", s.AGREEMENT, "2025-03", datetime(2025, 4, 2, tzinfo=UTC))
    # 6,000,000 × 16 / 365 = 263,013.6986… → 263,013.70; the person-days are listed at zero, for R27.
    assert amounts(march) == [("lump_sum", None, 16, "263013.70"), ("person_days", person, 16, "0.00")]
    assert march.total == Decimal("263013.70")


def test_invoice_refusals_change_nothing(engine: Engine, ledger_id: str) -> None:
    w = setup(engine, ledger_id, datetime(2025, 4, 2, tzinfo=UTC))
    admit(w, 1, datetime(2025, 3, 16, 3, tzinfo=UTC))
    head = w.head()
    with pytest.raises(InvalidInput, match="has not ended"):
        w.transfers.issue_invoice("user:finance", s.AGREEMENT, "2025-04", datetime(2025, 4, 2, tzinfo=UTC))
    with pytest.raises(InvalidInput, match="YYYY-MM"):
        w.transfers.issue_invoice("user:finance", s.AGREEMENT, "March", datetime(2025, 4, 2, tzinfo=UTC))
    assert w.head() == head
    w.transfers.issue_invoice("user:finance", s.AGREEMENT, "2025-03", datetime(2025, 4, 2, tzinfo=UTC))
    head = w.head()
    with pytest.raises(Conflict, match="adjustment line"):
        w.transfers.issue_invoice("user:finance", s.AGREEMENT, "2025-03", datetime(2025, 4, 2, tzinfo=UTC))
    assert w.head() == head


def test_an_invoice_payload_refuses_floats() -> None:
    with pytest.raises(ValueError, match="not a float"):
        t.InvoiceIssued.model_validate(
            {"invoice_id": "i", "agreement_id": "A", "month": "2025-03", "currency": "USD", "lines": [], "total": 1.5}
        )
