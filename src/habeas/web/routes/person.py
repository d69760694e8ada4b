"""The person page: identity, whereabouts, the legal file with its clocks, the timeline, open alerts.

Every opening is recorded in the access log (who read whose record), in the same
transaction as the read.  Scoped roles see only the people their scope names
(``services.scopes``): anyone else looks absent (404), as in the API.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from babel import dates
from fastapi import APIRouter, Request
from fastapi.responses import Response

from habeas.api.person_view import person_view
from habeas.api.routes.law import legal_file_of
from habeas.api.security import app_state
from habeas.domain.access import Permission, Principal, allowed
from habeas.domain.custody import CLOSED
from habeas.errors import NotFound
from habeas.services import queries
from habeas.services.scopes import person_visible
from habeas.web import i18n
from habeas.web import person as view
from habeas.web.access_log import log_page_reads
from habeas.web.i18n import N_
from habeas.web.render import render
from habeas.web.session import page_guard

router = APIRouter(include_in_schema=False)

SEX_NAMES = {"F": N_("female"), "M": N_("male"), "X": N_("other / not stated")}
LEGAL_STATUS_NAMES = {"untried": N_("untried (pre-trial)"), "convicted": N_("convicted"), "civil": N_("civil"),
                      "immigration": N_("immigration")}  # fmt: skip
CLOSED_STATUSES = frozenset(s.value for s in CLOSED)


def _left(seconds: int, lang: str) -> str:
    """Time left before a limit ("in 3 days") or since it passed ("2 hours ago"), as the reader says it."""
    return dates.format_timedelta(timedelta(seconds=seconds), add_direction=True, locale=lang)


@router.get("/people/{person_id}")
def person_page(
    person_id: str, request: Request, who: Annotated[Principal, page_guard(Permission.REGISTER_READ)]
) -> Response:
    state = app_state(request)
    ledger, now = state.config.ledger_id, state.config.clock()
    lang = i18n.negotiate(request)
    may = {p.name.lower(): allowed(who.role, p) for p in Permission}
    with state.config.engine.begin() as conn:  # begin: the access-log row commits with the read
        try:
            if not person_visible(conn, ledger, who, person_id):
                raise NotFound("person", person_id)  # outside a scope looks exactly like absent
            record = person_view(conn, ledger, person_id)
        except NotFound:
            return render(request, "person.html", {"missing": True}, status=404, who=who)
        legal = legal_file_of(conn, ledger, person_id, who, now)
        events = queries.timeline(conn, ledger, person_id) if may["history_read"] else []
        where = view.where_now(conn, ledger, person_id, now)
        alerts = view.open_alerts(conn, ledger, person_id) if may["alerts_read"] else []
        names = view.place_names(conn, ledger)
        log_page_reads(request, who, [person_id], conn=conn)
    episode = record["episodes"][-1] if record["episodes"] else None
    admission = view.admission_event(events, episode["episode_id"]) if episode and may["facility_read"] else None
    clocks = [*legal.clocks, *(c for i in legal.instruments for c in i.clocks)]
    held = episode is not None and episode["status"] not in CLOSED_STATUSES
    context = {
        "missing": False, "person": record, "episode": episode, "where": where, "legal": legal,
        "clocks": sorted(clocks, key=lambda c: c.due), "left": lambda c: _left(c.seconds_left, lang),
        "timeline": view.timeline(events, who) if may["history_read"] else None, "alerts": alerts,
        "admission": admission, "names": names, "may": may, "now": now, "held": held, "sex_names": SEX_NAMES,
        "legal_status_names": LEGAL_STATUS_NAMES, "basis_kinds": view.BASIS_KIND_NAMES,
        "event_names": view.EVENT_NAMES, "field_names": view.FIELD_NAMES, "as_text": view.as_text,
    }  # fmt: skip
    return render(request, "person.html", context, who=who)
