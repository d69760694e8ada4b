"""Alerts: the open ones by severity, each with its rule, the person and the order or limit behind it.

Scopes as the API applies them (``api.routes.oversight.list_alerts``): a court or a liaison
sees only alerts about people in its scope.  Staff holding ``alert.handle`` acknowledge an
alert or resolve it with a reason (``LegalService``); oversight reads only (MR 83–85: it
inspects, it does not operate the facility).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection, Select, case, func, select

from habeas.api.security import app_state
from habeas.domain.access import Permission, Principal, allowed
from habeas.errors import HabeasError
from habeas.safeguards.catalogue import BY_ID, RULES, SEVERITY_ORDER
from habeas.services.legal import LegalService
from habeas.services.scopes import visible_alerts
from habeas.store.law_tables import orders
from habeas.store.register_tables import alert_acknowledgements, alerts, people
from habeas.web.access_log import log_page_reads
from habeas.web.form_input import refusal_fields
from habeas.web.i18n import N_
from habeas.web.render import render
from habeas.web.session import csrf_protected, page_guard

router = APIRouter(include_in_schema=False)
P = Permission
LIMIT = 500
STATUSES = ("open", "resolved", "all")
SEVERITIES = tuple(SEVERITY_ORDER)
RULE_IDS = tuple(r.id for r in RULES)


@dataclass(frozen=True)
class AlertLine:
    row: Any
    person_id: str | None  # the person it is about: the subject, or the person an order concerns
    person_name: str | None
    order: Any = None  # the order row when the subject is a court order (R26)

    @property
    def refs(self) -> list[str]:
        refs: list[str] = orjson.loads(self.row.refs)
        return refs


def _scoped(query: Select[Any], ledger: str, who: Principal) -> Select[Any]:
    scope = visible_alerts(ledger, who)
    return query if scope is None else query.where(scope)


def _names(conn: Connection, ledger: str, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = conn.execute(select(people.c.person_id, people.c.given_names, people.c.family_names).where(
        people.c.ledger_id == ledger, people.c.person_id.in_(sorted(ids))))  # fmt: skip
    return {r.person_id: f"{r.given_names} {r.family_names}".strip() for r in rows}


def alert_lines(
    conn: Connection, ledger: str, who: Principal, status: str, severity: str | None, rule: str | None
) -> tuple[list[AlertLine], list[tuple[str, int]]]:
    """The alerts ``who`` may read, most severe first then longest open; and the count by severity."""
    query = _scoped(select(alerts).where(alerts.c.ledger_id == ledger), ledger, who)
    if status != "all":
        query = query.where(alerts.c.resolved_at.is_(None) if status == "open" else alerts.c.resolved_at.is_not(None))
    if rule:
        query = query.where(alerts.c.rule == rule)
    counted = query.with_only_columns(alerts.c.severity, func.count()).group_by(alerts.c.severity)
    counts = {r[0]: r[1] for r in conn.execute(counted)}
    if severity:
        query = query.where(alerts.c.severity == severity)
    rank = case(SEVERITY_ORDER, value=alerts.c.severity, else_=9)
    rows = list(conn.execute(query.order_by(rank, alerts.c.raised_at, alerts.c.alert_id).limit(LIMIT)))
    by_severity = [(s, int(counts[s])) for s in SEVERITIES if s in counts]
    return _lines(conn, ledger, rows), by_severity


def _lines(conn: Connection, ledger: str, rows: list[Any]) -> list[AlertLine]:
    """Each alert with whom it is about: a person named, or an order and the person it concerns."""
    subjects = sorted({r.subject for r in rows})
    ordered = {
        o.order_id: o for o in conn.execute(select(orders).where(orders.c.ledger_id == ledger,
                                                                 orders.c.order_id.in_(subjects)))
    } if subjects else {}  # fmt: skip
    names = _names(conn, ledger, set(subjects) | {o.person_id for o in ordered.values()})
    out = []
    for r in rows:
        order = ordered.get(r.subject)
        person = order.person_id if order is not None else r.subject
        out.append(AlertLine(r, person if person in names else None, names.get(person), order))
    return out


@router.get("/alerts")
def alerts_page(
    request: Request, who: Annotated[Principal, page_guard(P.ALERTS_READ)], status: str = "open",
    severity: str | None = None, rule: str | None = None,
) -> Response:  # fmt: skip
    config = app_state(request).config
    status = status if status in STATUSES else "open"
    severity = severity if severity in SEVERITIES else None
    rule = rule if rule in RULE_IDS else None
    with config.engine.begin() as conn:
        lines, counts = alert_lines(conn, config.ledger_id, who, status, severity, rule)
        log_page_reads(request, who, [line.person_id for line in lines if line.person_id], conn=conn)
    context = {"lines": lines, "counts": counts, "status": status, "severity": severity or "", "rule": rule or "",
               "rules": RULE_IDS, "severities": SEVERITIES, "limit": LIMIT, "now": config.clock()}  # fmt: skip
    return render(request, "alerts.html", context, who=who)


def _acknowledgements(conn: Connection, ledger: str, alert_id: str) -> list[dict[str, Any]]:
    """The alert's acknowledgements, oldest first (their own projection: 0011)."""
    rows = conn.execute(
        select(alert_acknowledgements.c.note, alert_acknowledgements.c.actor, alert_acknowledgements.c.acknowledged_at)
        .where(alert_acknowledgements.c.ledger_id == ledger, alert_acknowledgements.c.alert_id == alert_id)
        .order_by(alert_acknowledgements.c.seq)
    )
    return [{"note": note, "actor": actor, "at": at} for note, actor, at in rows]


def _alert_page(
    request: Request, who: Principal, alert_id: str, form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    config = app_state(request).config
    ledger = config.ledger_id
    with config.engine.begin() as conn:
        one = select(alerts).where(alerts.c.ledger_id == ledger, alerts.c.alert_id == alert_id)
        row = conn.execute(_scoped(one, ledger, who)).first()
        if row is None:  # outside the scope looks exactly like absent
            return render(request, "missing.html", {"what": "alert"}, status=404, who=who)
        line = _lines(conn, ledger, [row])[0]
        refs = line.refs
        ordered = {
            r.order_id: r for r in conn.execute(select(orders).where(orders.c.ledger_id == ledger,
                                                                     orders.c.order_id.in_(refs)))
        } if refs else {}  # fmt: skip
        named = _names(conn, ledger, set(refs))
        acknowledged = _acknowledgements(conn, ledger, alert_id)
        log_page_reads(request, who, ([line.person_id] if line.person_id else []) + list(named), conn=conn)
    context = {
        "line": line, "rule": BY_ID.get(row.rule), "orders": ordered, "named": named, "acknowledged": acknowledged,
        "may_handle": allowed(who.role, P.ALERT_HANDLE) and row.resolved_at is None, "form": form or {},
        "errors": errors or {}, "done": request.query_params.get("done"),
    }  # fmt: skip
    return render(request, "alert.html", context, status=status, who=who)


@router.get("/alerts/{alert_id}")
def alert_page(alert_id: str, request: Request, who: Annotated[Principal, page_guard(P.ALERTS_READ)]) -> Response:
    return _alert_page(request, who, alert_id)


def _handle(request: Request, who: Principal, alert_id: str, action: str, note: str) -> Response:
    config = app_state(request).config
    errors: dict[str, str] = {}
    if not note.strip():
        errors[action] = N_("Give the reason: what was done, or why the alert is resolved.")
    else:
        service = LegalService(config.engine, config.ledger_id, config.clock)
        handle = service.acknowledge_alert if action == "acknowledge" else service.resolve_alert
        try:
            handle(who.actor, alert_id, note.strip(), config.clock())
        except HabeasError as refused:
            errors = {action: "; ".join(refusal_fields(refused).values())}
    if errors:
        return _alert_page(request, who, alert_id, {action: note}, errors, status=422)
    return RedirectResponse(f"/alerts/{alert_id}?done={action}", 303)


@router.post("/alerts/{alert_id}/acknowledge", dependencies=[csrf_protected()])
def acknowledge(
    alert_id: str, request: Request, who: Annotated[Principal, page_guard(P.ALERT_HANDLE)],
    acknowledge: Annotated[str, Form(max_length=4000)] = "",
) -> Response:  # fmt: skip
    return _handle(request, who, alert_id, "acknowledge", acknowledge)


@router.post("/alerts/{alert_id}/resolve", dependencies=[csrf_protected()])
def resolve(
    alert_id: str, request: Request, who: Annotated[Principal, page_guard(P.ALERT_HANDLE)],
    resolve: Annotated[str, Form(max_length=4000)] = "",
) -> Response:  # fmt: skip
    return _handle(request, who, alert_id, "resolve", resolve)
