"""Transfers between states over HTTP: agreements, flights, the sending state's view, invoices, its feed.

A liaison sees only its own state (standards §5; architecture: "see anyone else: no"):
its agreements, its transferees at facility level (never a cell), the alerts about
them, the people refused from its flights, its invoices and its event feed.  Staff
and oversight may look at any state's view by naming it.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from habeas.api.body import body_doc, json_body
from habeas.api.problems import responses
from habeas.api.security import app_state, command_engine, guard, request_connection
from habeas.domain import billing
from habeas.domain.access import Permission, Principal, Role
from habeas.domain.transfer import AgreementConcluded
from habeas.errors import Forbidden, InvalidInput, NotFound
from habeas.services import liaison
from habeas.services.transfer_state import invoice_from_row, load_agreement
from habeas.services.transfers import TransferService
from habeas.store.transfer_tables import agreements, invoices

router = APIRouter(tags=["transfers"])
P = Permission


def _service(request: Request) -> TransferService:
    state = app_state(request)
    return TransferService(command_engine(request), state.config.ledger_id, state.config.clock)


def _own_state(who: Principal, state: str) -> None:
    """A liaison asks about its own state only."""
    if who.role is Role.LIAISON and state != who.scope:
        raise Forbidden(f"a liaison for {who.scope} sees only its own state's transferees, not {state}'s")


def _agreement_row(request: Request, who: Principal, agreement_id: str) -> Any:
    state = app_state(request)
    with request_connection(request) as conn:
        row = conn.execute(
            select(agreements).where(
                agreements.c.ledger_id == state.config.ledger_id, agreements.c.agreement_id == agreement_id
            )
        ).first()
    if row is None or (who.role is Role.LIAISON and row.sending_state != who.scope):
        raise NotFound("agreement", agreement_id)  # another state's agreement looks absent to a liaison
    return row


# --- agreements --------------------------------------------------------------------------------------


class AgreementOut(BaseModel):
    agreement_id: str
    name: str
    sending_state: str
    receiving_state: str
    facility_id: str
    custodian_of_record: str = Field(description="never empty (standards §5, R25)")
    custodian_state: str
    effective_from: datetime
    effective_to: datetime | None
    order_policy: str
    terms: dict[str, Any] = Field(description="the agreement as concluded")
    renewals: list[Any]


def _agreement_out(row: Any) -> AgreementOut:
    values = dict(row._mapping)
    values["terms"] = orjson.loads(values["terms"])
    values["renewals"] = orjson.loads(values["renewals"])
    return AgreementOut.model_validate(values)


@router.get("/agreements", response_model=list[AgreementOut], responses=responses(401, 403))
def list_agreements(request: Request, who: Principal = guard(P.AGREEMENT_READ)) -> list[AgreementOut]:
    state = app_state(request)
    query = select(agreements).where(agreements.c.ledger_id == state.config.ledger_id)
    if who.role is Role.LIAISON:
        query = query.where(agreements.c.sending_state == who.scope)
    with request_connection(request) as conn:
        return [_agreement_out(r) for r in conn.execute(query.order_by(agreements.c.agreement_id))]


@router.get("/agreements/{agreement_id}", response_model=AgreementOut, responses=responses(401, 403, 404))
def get_agreement(agreement_id: str, request: Request, who: Principal = guard(P.AGREEMENT_READ)) -> AgreementOut:
    return _agreement_out(_agreement_row(request, who, agreement_id))


class ConcludeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: AwareDatetime
    agreement: AgreementConcluded


class Done(BaseModel):
    ok: bool = True


@router.post(
    "/agreements", status_code=201, response_model=Done, responses=responses(400, 401, 403, 409, 422),
    openapi_extra=body_doc(ConcludeIn, "An agreement between states: parties, instruments, eligibility, fee, duties"),
)  # fmt: skip
def conclude(
    request: Request, who: Principal = guard(P.AGREEMENT_MANAGE), body: ConcludeIn = json_body(ConcludeIn)
) -> Done:
    _service(request).conclude(who.actor, body.agreement, body.at)
    return Done()


class FlightOut(BaseModel):
    agreement_id: str
    flight: str
    committed: bool = Field(description="whether the admissions were recorded")
    admitted: list[str] = Field(description="person ids admitted")
    errors: list[dict[str, Any]] = Field(
        description="each bad row: line, field, rule (nothing admitted unless all good)"
    )
    refused: list[dict[str, Any]] = Field(description="people refused by a court order or by the agreement (recorded)")
    alerts: list[str]


@router.post(
    "/agreements/{agreement_id}/flights/{flight}", response_model=FlightOut,
    responses=responses(400, 401, 403, 404, 409, 422),
    openapi_extra={"requestBody": {"required": True, "description": "The flight manifest (CSV, UTF-8)",
                                   "content": {"text/csv": {"schema": {"type": "string"}}}}},
)  # fmt: skip
async def import_flight(
    agreement_id: str, flight: str, request: Request, accept_valid: bool = False, who: Principal = guard(P.ADMIT)
) -> FlightOut:
    """A flight under an agreement: eligibility and court orders checked per person (R26), the rest admitted."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput.one("manifest", "must be UTF-8 text (CSV)") from None
    service = await run_in_threadpool(_service, request)  # hands the request's connection back: I/O, off the loop
    result = await run_in_threadpool(
        service.import_flight, who.actor, agreement_id, flight, text, accept_valid=accept_valid
    )
    return FlightOut(
        agreement_id=result.agreement_id, flight=result.flight, committed=result.committed,
        admitted=[a.person_id for a in result.admitted],
        errors=[{"line": e.line, "field": e.field, "rule": e.rule} for e in result.errors],
        refused=[asdict(r) for r in result.refused], alerts=list(result.alerts),
    )  # fmt: skip


# --- invoices ----------------------------------------------------------------------------------------


class InvoiceLineOut(BaseModel):
    kind: str
    person_id: str | None
    month: str
    days: int
    unit_price: Decimal
    amount: Decimal
    note: str


class InvoiceOut(BaseModel):
    invoice_id: str
    agreement_id: str
    month: str
    currency: str
    total: Decimal
    issued_at: datetime | None
    lines: list[InvoiceLineOut]


def _invoice_out(invoice_id: str, invoice: billing.Invoice, issued_at: datetime | None) -> InvoiceOut:
    return InvoiceOut(
        invoice_id=invoice_id, agreement_id=invoice.agreement_id, month=f"{invoice.month:%Y-%m}",
        currency=invoice.currency, total=invoice.total, issued_at=issued_at,
        lines=[InvoiceLineOut(kind=x.kind, person_id=x.person_id, month=f"{x.month:%Y-%m}", days=x.days,
                              unit_price=x.unit_price, amount=x.amount, note=x.note) for x in invoice.lines],
    )  # fmt: skip


class InvoiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: AwareDatetime
    month: str = Field(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM, a month that is over")


@router.post(
    "/agreements/{agreement_id}/invoices", status_code=201, response_model=InvoiceOut,
    responses=responses(400, 401, 403, 404, 409, 422), openapi_extra=body_doc(InvoiceIn),
)  # fmt: skip
def issue_invoice(
    agreement_id: str, request: Request, who: Principal = guard(P.AGREEMENT_MANAGE),
    body: InvoiceIn = json_body(InvoiceIn),
) -> InvoiceOut:  # fmt: skip
    """F16: the month's invoice from the custody history, with adjustment lines for corrected months (R27)."""
    invoice_id, invoice = _service(request).issue_invoice(who.actor, agreement_id, body.month, body.at)
    return _invoice_out(invoice_id, invoice, body.at)


def _invoice(request: Request, who: Principal, invoice_id: str) -> tuple[Any, billing.Invoice]:
    state = app_state(request)
    with request_connection(request) as conn:
        row = conn.execute(
            select(invoices).where(invoices.c.ledger_id == state.config.ledger_id, invoices.c.invoice_id == invoice_id)
        ).first()
        if row is None:
            raise NotFound("invoice", invoice_id)
        agreement = load_agreement(conn, state.config.ledger_id, row.agreement_id)
    if who.role is Role.LIAISON and agreement.terms.sending_state != who.scope:
        raise NotFound("invoice", invoice_id)
    return agreement, invoice_from_row(row.agreement_id, row.month, row.currency, row.lines)


@router.get("/invoices/{invoice_id}", response_model=InvoiceOut, responses=responses(401, 403, 404))
def get_invoice(invoice_id: str, request: Request, who: Principal = guard(P.INVOICE_READ)) -> InvoiceOut:
    _, invoice = _invoice(request, who, invoice_id)
    return _invoice_out(invoice_id, invoice, None)


@router.get(
    "/invoices/{invoice_id}/csv", response_class=Response, responses={
        **responses(401, 403, 404), 200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
    },
)  # fmt: skip
def invoice_csv(invoice_id: str, request: Request, who: Principal = guard(P.INVOICE_READ)) -> Response:
    _, invoice = _invoice(request, who, invoice_id)
    return Response(billing.invoice_csv(invoice), media_type="text/csv; charset=utf-8")


@router.get(
    "/invoices/{invoice_id}/printable", response_class=Response, responses={
        **responses(401, 403, 404), 200: {"content": {"text/html": {"schema": {"type": "string"}}}},
    },
)  # fmt: skip
def invoice_printable(invoice_id: str, request: Request, who: Principal = guard(P.INVOICE_READ)) -> Response:
    agreement, invoice = _invoice(request, who, invoice_id)
    html = billing.invoice_html(
        invoice, agreement_name=agreement.terms.name, sending_state=agreement.terms.sending_state,
        receiving_state=agreement.terms.receiving_state,
    )  # fmt: skip
    return Response(html, media_type="text/html; charset=utf-8")


# --- the sending state's view ------------------------------------------------------------------------


StateCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


# The liaison's read models are dataclasses (services.liaison): FastAPI documents and checks them as they are.
@router.get("/states/{state}", response_model=liaison.LiaisonView, responses=responses(401, 403, 422))
def state_view(state: StateCode, request: Request, who: Principal = guard(P.AGREEMENT_READ)) -> liaison.LiaisonView:
    """The sending state's transferees (facility level), the alerts about them, refusals and invoices."""
    _own_state(who, state)
    config = app_state(request).config
    with request_connection(request) as conn:
        return liaison.view(conn, config.ledger_id, state)


@router.get("/states/{state}/feed", response_model=list[liaison.FeedEntry], responses=responses(401, 403, 422))
def state_feed(
    state: StateCode, request: Request, after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500, who: Principal = guard(P.AGREEMENT_READ),
) -> list[liaison.FeedEntry]:  # fmt: skip
    """Every event that concerns the state's agreements or people, after the cursor, oldest first (poll it)."""
    _own_state(who, state)
    config = app_state(request).config
    with request_connection(request) as conn:
        return liaison.feed(conn, config.ledger_id, state, after, limit)
