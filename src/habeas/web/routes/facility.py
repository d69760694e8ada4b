"""The facility map: every unit and cell coloured by m² per person, with the figures against ICRC and CPT."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from habeas.api.security import app_state
from habeas.domain.access import Permission, Principal
from habeas.errors import NotFound
from habeas.web import facility as fmap
from habeas.web.render import render
from habeas.web.session import page_guard

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, page_guard(Permission.FACILITY_READ)]


@router.get("/facility-map")
def choose_facility(request: Request, who: Reader) -> Response:
    """One facility (the usual case): straight to its map; several: a list to choose from."""
    state = app_state(request)
    with state.config.engine.connect() as conn:
        found = fmap.facility_ids(conn, state.config.ledger_id)
    if len(found) == 1:
        return RedirectResponse(f"/facilities/{found[0][0]}/map", 303)
    return render(request, "facility_map.html", {"choose": found, "map": None}, who=who)


@router.get("/facilities/{facility_id}/map")
def facility_map(facility_id: str, request: Request, who: Reader) -> Response:
    state = app_state(request)
    with state.config.engine.connect() as conn:
        try:
            found = fmap.facility_map(conn, state.config.ledger_id, facility_id)
        except NotFound:
            return render(request, "facility_map.html", {"choose": [], "map": None}, status=404, who=who)
    # No names are shown, only counts per cell: nothing to record in the access log.
    return render(request, "facility_map.html", {"choose": None, "map": found, "bands": fmap.BANDS}, who=who)
