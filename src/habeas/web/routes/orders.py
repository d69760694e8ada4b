"""Court orders: each with its deadline and whether it was carried out in time (R26), and their execution.

Scopes as the API applies them (``api.routes.law``): a court sees only its own orders, a
liaison only its own transferees' orders; records officers, the director and oversight see all.
The records officer's main task is here: a release order is carried out by releasing the person
through the register with the verifier, handover recipient and health check R15 asks for
(``RegisterService.release``), which marks the order executed in the same transaction.  Other
orders are marked executed with a note (``LegalService.execute_order``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection, and_, select

from habeas.api.routes.law import OrderOut, order_out, order_row
from habeas.api.security import app_state
from habeas.domain.access import Permission, Principal, Role, allowed
from habeas.errors import HabeasError, NotFound
from habeas.ledger.log import read_events_by_seq
from habeas.services import state as register_state
from habeas.services.legal import LegalService
from habeas.services.register import RegisterService
from habeas.services.scopes import person_visible, visible_people
from habeas.store.law_tables import orders
from habeas.store.register_tables import people, person_events
from habeas.web.access_log import log_page_reads
from habeas.web.form_input import local_value, refusal_fields, when
from habeas.web.i18n import N_
from habeas.web.render import render
from habeas.web.session import csrf_protected, page_guard, web_config

router = APIRouter(include_in_schema=False)
P = Permission
LIMIT = 500
STATUSES = ("active", "executed", "lifted")
REQUIRED_FOR_RELEASE = {  # R15 / ICPPED 21: a release names who verified it, to whom, in what health
    "verified_by": N_("R15: name the officer who verified the release."),
    "handed_over_to": N_("R15: name the person the released person was handed over to."),
    "health_check": N_("R15: record the health check on release."),
}


@dataclass(frozen=True)
class OrderLine:
    order: OrderOut
    person_name: str

    @property
    def standing(self) -> Literal["done", "late", "overdue", "pending", "lifted"]:
        """R26 at a glance: carried out in time, carried out late, overdue, still within its deadline, or lifted."""
        o = self.order
        if o.status == "lifted":
            return "lifted"
        if o.status == "executed":
            return "late" if o.in_time is False else "done"
        return "overdue" if o.overdue else "pending"


def _name(row: Any) -> str:
    return f"{row.given_names or ''} {row.family_names or ''}".strip() or row.person_id


def _with_names(ledger: str) -> Any:
    return select(orders, people.c.given_names, people.c.family_names).join(
        people, and_(people.c.ledger_id == orders.c.ledger_id, people.c.person_id == orders.c.person_id), isouter=True
    )


def order_lines(conn: Connection, ledger: str, who: Principal, now: datetime, status: str | None) -> list[OrderLine]:
    """The orders ``who`` may see, newest first (the API's scope: a court its own, a liaison its people's)."""
    query = _with_names(ledger).where(orders.c.ledger_id == ledger)
    if status in STATUSES:
        query = query.where(orders.c.status == status)
    if who.role is Role.COURT:
        query = query.where(orders.c.court == who.scope)
    elif (scope := visible_people(ledger, who)) is not None:
        query = query.where(orders.c.person_id.in_(scope))
    rows = conn.execute(query.order_by(orders.c.issued_at.desc(), orders.c.order_id).limit(LIMIT))
    return [OrderLine(order_out(r, now), _name(r)) for r in rows]


def _one(conn: Connection, ledger: str, who: Principal, order_id: str, now: datetime) -> OrderLine:
    row = order_row(conn, ledger, order_id, who)  # another court's order: NotFound, as in the API
    if not person_visible(conn, ledger, who, row.person_id):
        raise NotFound("order", order_id)
    named = conn.execute(_with_names(ledger).where(orders.c.ledger_id == ledger, orders.c.order_id == order_id)).one()
    return OrderLine(order_out(named, now), _name(named))


def _closing(conn: Connection, ledger: str, person_id: str, order_id: str) -> dict[str, Any] | None:
    """The event that executed or lifted the order (from the person's timeline): its note, authority, actor."""
    seqs = list(conn.execute(select(person_events.c.seq).where(
        person_events.c.ledger_id == ledger, person_events.c.person_id == person_id)).scalars())  # fmt: skip
    for event in read_events_by_seq(conn, ledger, seqs):
        if event.type in ("order.executed", "order.lifted") and event.payload.get("order_id") == order_id:
            return {**event.payload, "actor": event.actor, "type": event.type, "seq": event.seq}
    return None


@router.get("/orders")
def orders_page(
    request: Request, who: Annotated[Principal, page_guard(P.REGISTER_READ)], status: str | None = None
) -> Response:
    config = app_state(request).config
    now = config.clock()
    chosen = status if status in STATUSES else None
    with config.engine.begin() as conn:
        lines = order_lines(conn, config.ledger_id, who, now, chosen)
        log_page_reads(request, who, [line.order.person_id for line in lines], conn=conn)
    context = {"lines": lines, "now": now, "status": chosen or "", "limit": LIMIT, "court": who.scope
               if who.role is Role.COURT else None}  # fmt: skip
    return render(request, "orders.html", context, who=who)


def _order_page(
    request: Request, who: Principal, order_id: str, form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    config = app_state(request).config
    now = config.clock()
    with config.engine.begin() as conn:
        try:
            line = _one(conn, config.ledger_id, who, order_id, now)
        except NotFound:
            return render(request, "missing.html", {"what": "order"}, status=404, who=who)
        held = bool(register_state.open_episodes(conn, config.ledger_id, [line.order.person_id]))
        closing = _closing(conn, config.ledger_id, line.order.person_id, order_id) if line.order.status != "active" \
            else None  # fmt: skip
        log_page_reads(request, who, [line.order.person_id], conn=conn)
    may_execute = allowed(who.role, P.ORDER_EXECUTE) and line.order.status == "active"
    releases = may_execute and line.order.kind == "release" and held and allowed(who.role, P.RELEASE)
    defaults = {"at": local_value(now, web_config(request).timezone)}
    context = {
        "line": line, "now": now, "held": held, "closing": closing, "may_execute": may_execute,
        "release_form": releases, "form": {**defaults, **(form or {})}, "errors": errors or {},
        "done": request.query_params.get("done"),
    }  # fmt: skip
    return render(request, "order.html", context, status=status, who=who)


@router.get("/orders/{order_id}")
def order_page(order_id: str, request: Request, who: Annotated[Principal, page_guard(P.REGISTER_READ)]) -> Response:
    return _order_page(request, who, order_id)


@router.post("/orders/{order_id}/release", dependencies=[csrf_protected()])
def release_by_order(
    order_id: str, request: Request, who: Annotated[Principal, page_guard(P.RELEASE)],
    at: Annotated[str, Form(max_length=32)] = "", verified_by: Annotated[str, Form(max_length=200)] = "",
    handed_over_to: Annotated[str, Form(max_length=200)] = "", health_check: Annotated[str, Form(max_length=4000)] = "",
) -> Response:  # fmt: skip
    """Carry out a release order: the register's release (R15 facts), which executes the order with it (R26)."""
    config = app_state(request).config
    form = {"at": at, "verified_by": verified_by, "handed_over_to": handed_over_to, "health_check": health_check}
    errors = {name: rule for name, rule in REQUIRED_FOR_RELEASE.items() if not form[name].strip()}
    now = config.clock()
    when_ = when(at, web_config(request).timezone, now, errors)
    with config.engine.connect() as conn:
        try:
            line = _one(conn, config.ledger_id, who, order_id, now)
        except NotFound:
            return render(request, "missing.html", {"what": "order"}, status=404, who=who)
    if not allowed(who.role, P.ORDER_EXECUTE) or line.order.kind != "release":
        errors["request"] = N_("Only a release order is carried out by a release.")
    elif when_ is not None and "at" not in errors and when_ < line.order.issued_at:
        errors["at"] = N_("Is before the order was issued.")
    if not errors:
        assert when_ is not None
        try:
            RegisterService(config.engine, config.ledger_id, config.clock).release(
                who.actor, line.order.person_id, when_, authority=line.order.court,
                order_reference=line.order.reference, verified_by=verified_by.strip(),
                handed_over_to=handed_over_to.strip(), health_check=health_check.strip(),
            )  # fmt: skip
        except HabeasError as refused:
            errors = refusal_fields(refused)
    if errors:
        return _order_page(request, who, order_id, form, errors, status=422)
    return RedirectResponse(f"/orders/{order_id}?done=released", 303)


@router.post("/orders/{order_id}/execution", dependencies=[csrf_protected()])
def record_execution(
    order_id: str, request: Request, who: Annotated[Principal, page_guard(P.ORDER_EXECUTE)],
    at: Annotated[str, Form(max_length=32)] = "", note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:  # fmt: skip
    """Mark an order carried out (a production, a return ...) with a note saying how (R26)."""
    config = app_state(request).config
    form = {"at": at, "note": note}
    errors: dict[str, str] = {}
    if not note.strip():
        errors["note"] = N_("Say how the order was carried out.")
    now = config.clock()
    when_ = when(at, web_config(request).timezone, now, errors)
    if not errors:
        assert when_ is not None
        try:
            LegalService(config.engine, config.ledger_id, config.clock).execute_order(
                who.actor, order_id, note.strip(), when_
            )
        except HabeasError as refused:
            errors = refusal_fields(refused)
    if errors:
        return _order_page(request, who, order_id, form, errors, status=422)
    return RedirectResponse(f"/orders/{order_id}?done=executed", 303)
