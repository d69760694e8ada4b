"""Reading what transfers need from the projections: agreements, custody spans, issued invoices.

Shared by the transfer commands, the liaison's view and the safeguards (R25–R27); it imports
no service or safeguard module, so the sweep's checks can use it without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, and_, select

from habeas.domain import billing
from habeas.domain import transfer as t
from habeas.domain.custody import CLOSED
from habeas.errors import InvalidInput, NotFound
from habeas.store.register_tables import stays
from habeas.store.transfer_tables import agreements, invoices, transferees

CLOSED_VALUES = tuple(s.value for s in CLOSED)


@dataclass(frozen=True)
class Agreement:
    """An agreement as it stands now (renewals applied)."""

    terms: t.AgreementConcluded
    effective_to: datetime | None
    renewals: tuple[dict[str, Any], ...]

    @property
    def agreement_id(self) -> str:
        return self.terms.agreement_id

    def as_terms(self) -> t.Terms:
        a = self.terms
        return t.Terms(
            a.agreement_id, a.sending_state, a.receiving_state, a.effective_from, self.effective_to,
            a.eligibility, a.order_policy,
        )  # fmt: skip

    def fee_model(self) -> billing.FeeModel:
        f = self.terms.fee
        return billing.FeeModel(f.kind, f.currency, f.rate, f.amount, f.period_start, f.period_end)

    def counting_rule(self) -> billing.CountingRule:
        c = self.terms.counting
        return billing.CountingRule(c.time_zone, c.admission_day_counts, c.departure_day_counts)


def load_agreement(conn: Connection, ledger: str, agreement_id: str) -> Agreement:
    row = conn.execute(
        select(agreements).where(agreements.c.ledger_id == ledger, agreements.c.agreement_id == agreement_id)
    ).first()
    if row is None:
        raise NotFound("agreement", agreement_id)
    return Agreement(
        t.AgreementConcluded.model_validate_json(row.terms), row.effective_to, tuple(orjson.loads(row.renewals))
    )


def invoice_from_row(agreement_id: str, month: str, currency: str, lines_json: str) -> billing.Invoice:
    lines = tuple(
        billing.InvoiceLine(
            line["kind"], line.get("person_id"), parse_month(line["month"]), int(line["days"]),
            Decimal(line["unit_price"]), Decimal(line["amount"]), line.get("note") or "",
            tuple(date.fromisoformat(d) for d in line.get("billed_days", ())),
        )
        for line in orjson.loads(lines_json)
    )  # fmt: skip
    return billing.Invoice(agreement_id, parse_month(month), currency, lines)


def issued_invoices(conn: Connection, ledger: str, agreement_id: str) -> list[tuple[str, billing.Invoice]]:
    rows = conn.execute(
        select(invoices).where(invoices.c.ledger_id == ledger, invoices.c.agreement_id == agreement_id)
        .order_by(invoices.c.month)
    )  # fmt: skip
    return [(r.invoice_id, invoice_from_row(r.agreement_id, r.month, r.currency, r.lines)) for r in rows]


def custody_spans(conn: Connection, ledger: str, agreement_id: str) -> list[billing.CustodySpan]:
    """Each transferee episode's custody, from the register's stays (corrections included): from the first
    stay to the first stay in a closed status (released, transferred, deceased)."""
    rows = conn.execute(
        select(stays.c.episode_id, stays.c.person_id, stays.c.valid_from, stays.c.status)
        .join(
            transferees,
            and_(transferees.c.ledger_id == stays.c.ledger_id, transferees.c.episode_id == stays.c.episode_id),
        )
        .where(stays.c.ledger_id == ledger, transferees.c.agreement_id == agreement_id)
        .order_by(stays.c.episode_id, stays.c.valid_from, stays.c.seq)
    )
    starts: dict[str, tuple[str, datetime]] = {}
    ends: dict[str, datetime] = {}
    for r in rows:
        starts.setdefault(r.episode_id, (r.person_id, r.valid_from))
        if r.status in CLOSED_VALUES and r.episode_id not in ends:
            ends[r.episode_id] = r.valid_from
    return [billing.CustodySpan(person, start, ends.get(ep)) for ep, (person, start) in sorted(starts.items())]


def parse_month(text: str) -> date:
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise InvalidInput.one("month", "must be YYYY-MM, e.g. 2025-03") from None
