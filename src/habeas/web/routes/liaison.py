"""The sending state's page: its transferees and their status, its agreements and its invoices (standards §5).

A liaison sees only its own state (``services.liaison``: facility level, never a cell);
records officers, the director and oversight may look at any sending state by naming it,
as the API's ``/states/{state}`` lets them.  Each invoice is proved against the register
(R27, ``domain.billing.reconcile``): the person-days billed beside the person-days registered.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Connection, select

from habeas.api.security import app_state
from habeas.domain import billing
from habeas.domain.access import Permission, Principal, Role
from habeas.services import liaison
from habeas.services.transfer_state import Agreement, custody_spans, issued_invoices, load_agreement
from habeas.store.transfer_tables import agreements
from habeas.web.access_log import log_page_reads
from habeas.web.render import render
from habeas.web.session import page_guard

router = APIRouter(include_in_schema=False)
P = Permission


@dataclass(frozen=True)
class InvoiceCheck:
    """One issued invoice beside the register (R27)."""

    invoice_id: str
    agreement_id: str
    month: date
    currency: str
    total: Decimal
    billed_days: int  # person-days billed for the month (net of adjustments on later invoices)
    registered_days: int  # person-days the register holds for the month
    billed_not_registered: int
    registered_not_billed: int

    @property
    def matches(self) -> bool:
        return not (self.billed_not_registered or self.registered_not_billed)


def _month_end(first: date) -> date:
    return date(first.year, first.month, calendar.monthrange(first.year, first.month)[1])


def invoice_checks(conn: Connection, ledger: str, agreement: Agreement) -> list[InvoiceCheck]:
    """Each invoice of the agreement, its month reconciled against the register as the R27 sweep does."""
    issued = issued_invoices(conn, ledger, agreement.agreement_id)
    if not issued:
        return []
    spans = custody_spans(conn, ledger, agreement.agreement_id)
    rule = agreement.counting_rule()
    everything = [invoice for _, invoice in issued]
    out = []
    for invoice_id, invoice in issued:
        first, last = invoice.month, _month_end(invoice.month)
        registered = billing.person_days(spans, rule, first, last)
        result = billing.reconcile(everything, spans, rule, first, last)
        registered_days = sum(len(days) for days in registered.values())
        billed = registered_days + len(result.billed_not_registered) - len(result.registered_not_billed)
        out.append(
            InvoiceCheck(
                invoice_id, invoice.agreement_id, invoice.month, invoice.currency, invoice.total, billed,
                registered_days, len(result.billed_not_registered), len(result.registered_not_billed),
            )
        )  # fmt: skip
    return out


def _states(conn: Connection, ledger: str) -> list[str]:
    return sorted(set(conn.execute(select(agreements.c.sending_state).where(agreements.c.ledger_id == ledger))
                      .scalars()))  # fmt: skip


@router.get("/sending-state")
def sending_state_page(
    request: Request, who: Annotated[Principal, page_guard(P.AGREEMENT_READ)], state: str | None = None
) -> Response:
    config = app_state(request).config
    ledger = config.ledger_id
    with config.engine.begin() as conn:
        states = [who.scope] if who.role is Role.LIAISON and who.scope else _states(conn, ledger)
        # A liaison's state is its scope, whatever the address asks for (architecture: "see anyone else: no").
        chosen = states[0] if who.role is Role.LIAISON or state not in states else state
        context: dict[str, object] = {"states": states, "chosen": chosen, "now": config.clock(),
                                      "choose": who.role is not Role.LIAISON}  # fmt: skip
        if chosen:
            view = liaison.view(conn, ledger, chosen)
            terms = [load_agreement(conn, ledger, agreement_id) for agreement_id in view.agreements]
            context.update(
                view=view, agreements=terms,
                invoices=[check for agreement in terms for check in invoice_checks(conn, ledger, agreement)],
            )  # fmt: skip
            log_page_reads(request, who, [t.person_id for t in view.transferees], conn=conn)
    return render(request, "sending_state.html", context, who=who)
