"""The dashboard: each role sees the summary its permissions allow (domain.access.POLICY)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from habeas.api.security import app_state
from habeas.domain.access import Permission, Principal, Role, allowed
from habeas.services import liaison
from habeas.web import summaries
from habeas.web.access_log import log_page_reads
from habeas.web.render import render
from habeas.web.session import signed_in, web_config

router = APIRouter(include_in_schema=False)


def _day_start(now: datetime, timezone: str) -> datetime:
    """Midnight of today in the facility's time zone: "today" is the facility's day, not UTC's."""
    local = now.astimezone(ZoneInfo(timezone))
    return datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)


@router.get("/dashboard")
def dashboard(request: Request, who: Annotated[Principal, signed_in()]) -> Response:
    state = app_state(request)
    ledger, now = state.config.ledger_id, state.config.clock()
    context: dict[str, object] = {"now": now}
    with state.config.engine.begin() as conn:  # begin: the access-log rows commit with the read
        if allowed(who.role, Permission.FACILITY_READ):
            context["facilities"] = summaries.facilities_now(
                conn, ledger, _day_start(now, web_config(request).timezone), now
            )
        if who.role is Role.LIAISON and who.scope:
            people = liaison.transferees_of(conn, ledger, who.scope)
            context["transferees"] = people
            context["alerts"] = summaries.liaison_alerts_by_severity(conn, ledger, who.scope)
            log_page_reads(request, who, [p.person_id for p in people], conn=conn)
        elif who.role is Role.COURT and who.scope:
            court_orders = summaries.orders_of_court(conn, ledger, who.scope)
            context["orders"] = court_orders
            log_page_reads(request, who, [o.person_id for o in court_orders], conn=conn)
        elif allowed(who.role, Permission.ALERTS_READ):
            context["alerts"] = summaries.open_alerts_by_severity(conn, ledger)
    return render(request, "dashboard.html", context, who=who)
