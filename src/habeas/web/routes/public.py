"""No sign-in: the family locator (the home page) and the public statistics with their open data."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from habeas.api.routes.public import StatisticsOut
from habeas.api.security import app_state
from habeas.reports import locator
from habeas.reports.statistics import Statistics, statistics
from habeas.web import i18n
from habeas.web.charts import Bar, Group, bar_chart
from habeas.web.i18n import N_
from habeas.web.rate_limits import within_rate
from habeas.web.render import render
from habeas.web.session import csrf_protected, optional_principal

router = APIRouter(include_in_schema=False)

DOCUMENT_KINDS = {"national_id": N_("National identity document"), "passport": N_("Passport"),
                  "foreign_registration": N_("Foreign registration number")}  # fmt: skip
# reports.locator.PUBLIC_STATUS's words, marked here so the catalogs translate them (a test checks).
STATUS_WORDS = (
    N_("held"), N_("held, temporarily outside the facility (court or hospital)"), N_("being transferred"),
    N_("released"), N_("transferred to another authority"), N_("died in custody"),
)  # fmt: skip


def _within_public_rate(request: Request) -> bool:
    """The API's public limit, per client (a separate window: pages and API are counted apart)."""
    return within_rate(request, app_state(request).config.public_rate, "web-public")


def _too_many(request: Request) -> Response:
    response = render(request, "error.html", {"kind": "too_many"}, status=429)
    response.headers["Retry-After"] = "60"
    return response


@router.get("/")
def locator_form(request: Request) -> Response:
    if optional_principal(request) is not None:
        return RedirectResponse("/dashboard", 303)
    return render(request, "locator.html", {"kinds": DOCUMENT_KINDS, "searched": False, "form": {}, "errors": {}})


@router.post("/", dependencies=[csrf_protected()])
def locate(
    request: Request,
    by: Annotated[str, Form(max_length=10)] = "",
    document_kind: Annotated[str, Form(max_length=32)] = "",
    issuer: Annotated[str, Form(max_length=16)] = "",
    number: Annotated[str, Form(max_length=64)] = "",
    full_name: Annotated[str, Form(max_length=300)] = "",
    birth_date: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """POST, not GET: a search for a detained relative must not stay in URLs, logs or browser history."""
    if not _within_public_rate(request):
        return _too_many(request)
    form = {"by": by, "document_kind": document_kind, "issuer": issuer.strip().upper(), "number": number.strip(),
            "full_name": full_name.strip(), "birth_date": birth_date.strip()}  # fmt: skip
    errors: dict[str, str] = {}
    born: date | None = None
    if by == "document":
        if document_kind not in DOCUMENT_KINDS:
            errors["document_kind"] = N_("Choose the kind of document.")
        if not form["issuer"]:
            errors["issuer"] = N_("Give the country that issued it, e.g. SLV.")
        if not form["number"]:
            errors["number"] = N_("Give the document number.")
    else:
        if not form["full_name"]:
            errors["full_name"] = N_("Give the full name: given names and family names.")
        try:
            born = date.fromisoformat(form["birth_date"])
        except ValueError:
            errors["birth_date"] = N_("Give the date of birth as year-month-day, e.g. 1990-01-31.")
    context = {"kinds": DOCUMENT_KINDS, "form": form, "errors": errors, "searched": not errors, "found": []}
    if errors:
        return render(request, "locator.html", context, status=422)
    state = app_state(request)
    with state.config.engine.connect() as conn:
        if by == "document":
            found = locator.by_document(conn, state.config.ledger_id, document_kind, form["issuer"], form["number"])
        else:
            assert born is not None
            found = locator.by_name(conn, state.config.ledger_id, form["full_name"], born)
    context["found"] = found  # facility and status only: locator.Located has no cell, medical or legal field
    return render(request, "locator.html", context)


def _stats(request: Request) -> Statistics:
    state = app_state(request)
    with state.config.engine.connect() as conn:
        return statistics(conn, state.config.ledger_id, state.config.clock(), state.config.small_number)


@router.get("/statistics")
def statistics_page(request: Request) -> Response:
    if not _within_public_rate(request):
        return _too_many(request)
    stats = _stats(request)
    _ = i18n.gettext_for(i18n.negotiate(request))
    fmt = i18n.Formatter(i18n.negotiate(request), request.app.state.habeas_web.timezone)
    people, declared, icrc, cpt = (
        _("People held"),
        _("Declared capacity"),
        _("ICRC capacity (3.4 m²)"),
        _("CPT capacity (4 m²)"),
    )
    capacity_chart = bar_chart(
        _("People held and capacity, by facility"),
        _("For each facility: people held now, and its declared and standards-based capacity."),
        [Group(f.name, [Bar(people, f.population.value), Bar(declared, f.declared_capacity), Bar(icrc, f.icrc_capacity),
                        Bar(cpt, f.cpt_capacity)]) for f in stats.facilities],
        [people, declared, icrc, cpt], fmt.number, _("suppressed"),
    )  # fmt: skip
    admitted, released = _("Admissions"), _("Releases")
    recent = stats.flows[-12:]
    flow_chart = bar_chart(
        _("Admissions and releases by month"),
        _("For each of the last twelve months with records: admissions and releases."),
        [Group(fmt.month(m.month), [Bar(admitted, m.admissions.value), Bar(released, m.releases.value)])
         for m in recent],
        [admitted, released], fmt.number, _("suppressed"),
    )  # fmt: skip
    context = {"stats": stats, "recent": recent, "capacity_chart": capacity_chart, "flow_chart": flow_chart}
    return render(request, "statistics.html", context)


@router.get("/statistics.json")
def statistics_json(request: Request) -> Response:
    if not _within_public_rate(request):
        return Response(status_code=429, headers={"Retry-After": "60"})
    body = StatisticsOut.model_validate(asdict(_stats(request))).model_dump_json(indent=2)
    return Response(body, media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="habeas-statistics.json"'})  # fmt: skip


@router.get("/statistics.csv")
def statistics_csv(request: Request) -> Response:
    """Open data in long form, one figure a row; a suppressed figure has an empty value and suppressed=true."""
    if not _within_public_rate(request):
        return Response(status_code=429, headers={"Retry-After": "60"})
    stats = _stats(request)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["at", "section", "subject", "measure", "value", "suppressed"])
    at = stats.at.isoformat()
    for f in stats.facilities:
        for measure, value, hidden in (
            ("population", f.population.value, f.population.suppressed),
            ("declared_capacity", f.declared_capacity, False), ("icrc_capacity", f.icrc_capacity, False),
            ("cpt_capacity", f.cpt_capacity, False), ("floor_area_m2", f.floor_area_m2, False),
            ("m2_per_person", f.m2_per_person, False),
        ):  # fmt: skip
            writer.writerow([at, "facility", f.facility_id, measure, "" if value is None else value, hidden])
    for m in stats.flows:
        figures = (("admissions", m.admissions), ("releases", m.releases), ("transfers_out", m.transfers_out),
                   ("deaths_in_custody", m.deaths_in_custody))  # fmt: skip
        for measure, figure in figures:
            writer.writerow([at, "month", m.month, measure, "" if figure.value is None else figure.value,
                             figure.suppressed])  # fmt: skip
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="habeas-statistics.csv"'})  # fmt: skip
