"""Intake: the single-admission form and the manifest upload (MR 7, ICPPED 17(3), BoP 12).

The form's fields are the columns of ``habeas import``'s manifest (``domain.manifest``),
so one admission is checked by exactly the rules a manifest row is: the form is read
as a one-row manifest, then admitted through ``RegisterService`` like any row.  A
refusal is shown next to the field it names, with every value kept.  Times are
entered in the facility's local time and stored in UTC.

A manifest is checked and admitted in a background thread (``web.intake_jobs``); its
status page refreshes itself until the work is done, so no script is needed.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from habeas.api.security import app_state
from habeas.domain.access import Permission, Principal
from habeas.domain.manifest import (
    BASIS_KINDS,
    DOCUMENT_KINDS,
    LEGAL_STATUSES,
    MANIFEST_COLUMNS,
    RULE_NO_CONTACT,
    RULE_REQUIRED,
    column_for,
    parse_manifest,
)
from habeas.errors import Conflict, InvalidInput, NotFound
from habeas.services.register import PossibleDuplicates, RegisterService
from habeas.web import i18n
from habeas.web.facility import facility_ids
from habeas.web.i18n import N_
from habeas.web.intake_jobs import MAX_BYTES, load_job, load_rejected, start_import
from habeas.web.person import BASIS_KIND_NAMES
from habeas.web.render import render
from habeas.web.session import csrf_protected, page_guard, web_config

router = APIRouter(include_in_schema=False)
Officer = Annotated[Principal, page_guard(Permission.ADMIT)]

REFRESH_SECONDS = 2
TIMES = ("basis_issued_at", "basis_expires_at", "arrested_at", "admitted_at")
LISTS = ("aliases", "nationalities", "injuries", "property")  # one item per line in the form, ";" in a manifest
DOCUMENT_NAMES = {"national_id": N_("National identity document"), "passport": N_("Passport"),
                  "foreign_registration": N_("Foreign registration number"),
                  "birth_certificate": N_("Birth certificate"), "other": N_("Other document")}  # fmt: skip
LEGAL_STATUS_CHOICES = {"untried": N_("untried (pre-trial)"), "convicted": N_("convicted"), "civil": N_("civil"),
                        "immigration": N_("immigration")}  # fmt: skip
SEX_CHOICES = {"F": N_("female"), "M": N_("male"), "X": N_("other / not stated")}
# The manifest's most frequent rules, in the reader's language; any other rule is shown as the service states it.
RULES = {
    RULE_REQUIRED: N_("This field is required."),
    RULE_NO_CONTACT: N_("MR 7(f): give a contact (name and relationship), or the reason there is none."),
}
assert set(DOCUMENT_NAMES) == set(DOCUMENT_KINDS) and set(LEGAL_STATUS_CHOICES) == set(LEGAL_STATUSES)
assert set(BASIS_KIND_NAMES) == set(BASIS_KINDS)


def _facilities(request: Request) -> list[tuple[str, str]]:
    state = app_state(request)
    with state.config.engine.connect() as conn:
        return facility_ids(conn, state.config.ledger_id)


def _form_page(
    request: Request, who: Principal, form: dict[str, str], errors: dict[str, str], status: int = 200,
    candidates: list[Any] | None = None,
) -> Response:  # fmt: skip
    context = {
        "form": form, "errors": errors, "facilities": _facilities(request), "document_kinds": DOCUMENT_NAMES,
        "legal_statuses": LEGAL_STATUS_CHOICES, "basis_kinds": BASIS_KIND_NAMES, "sexes": SEX_CHOICES,
        "timezone": web_config(request).timezone, "candidates": candidates or [],
    }  # fmt: skip
    return render(request, "intake.html", context, status=status, who=who)


@router.get("/intake")
def intake_form(request: Request, who: Officer) -> Response:
    now = app_state(request).config.clock().astimezone(ZoneInfo(web_config(request).timezone))
    facilities = _facilities(request)
    form = {"admitted_at": now.strftime("%Y-%m-%dT%H:%M"), "facility_id": facilities[0][0] if facilities else ""}
    return _form_page(request, who, form, {})


def _local_to_utc(value: str, timezone: str) -> str:
    """A ``datetime-local`` value in the facility's time zone, as the UTC time a manifest takes."""
    local = datetime.fromisoformat(value)
    if local.tzinfo is not None:
        raise ValueError("a local time takes no offset")
    return local.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@router.post("/intake", dependencies=[csrf_protected()])
async def admit(request: Request, who: Officer) -> Response:
    """Read the form as a one-row manifest; admit it, or show each refusal beside its field."""
    posted = await request.form()
    form = {name: str(posted.get(name, ""))[:4000].strip() for name in (*MANIFEST_COLUMNS, "facility_id")}
    form["confirm_new_person"] = "yes" if posted.get("confirm_new_person") == "yes" else ""
    return await run_in_threadpool(_admit, request, who, form)  # database work off the event loop


def _admit(request: Request, who: Principal, form: dict[str, str]) -> Response:
    _ = i18n.gettext_for(i18n.negotiate(request))
    errors: dict[str, str] = {}
    row = {name: form[name] for name in MANIFEST_COLUMNS}
    for name in LISTS:
        row[name] = ";".join(line.strip() for line in form[name].splitlines() if line.strip())
    timezone = web_config(request).timezone
    for name in TIMES:
        if row[name]:
            try:
                row[name] = _local_to_utc(row[name], timezone)
            except ValueError:
                errors[name] = _("Give the date and time as day, month, year and hour.")
    facilities = dict(_facilities(request))
    if form["facility_id"] not in facilities:
        errors["facility_id"] = _("Choose the facility.")
    if errors:
        return _form_page(request, who, form, errors, 422)
    state = app_state(request)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    parsed = parse_manifest(out.getvalue(), facility_id=form["facility_id"], now=state.config.clock())
    for e in parsed.errors:
        errors.setdefault(e.field, _(RULES[e.rule]) if e.rule in RULES else e.rule)
    if errors:
        return _form_page(request, who, form, errors, 422)
    admission = parsed.rows[0].admission
    if form["confirm_new_person"]:
        admission = admission.model_copy(update={"confirm_new_person": True})
    service = RegisterService(state.config.engine, state.config.ledger_id, state.config.clock)
    try:
        done = service.admit(who.actor, admission)
    except PossibleDuplicates as dup:
        errors["given_names"] = dup.rule
        return _form_page(request, who, form, errors, 409, candidates=list(dup.candidates))
    except InvalidInput as refused:
        for p in refused.problems:
            errors.setdefault(column_for(p.field), p.rule)
        return _form_page(request, who, form, errors, 422)
    except (Conflict, NotFound) as refused:
        field = column_for(refused.field) if isinstance(refused, Conflict) else "facility_id"
        errors[field] = str(refused.rule if isinstance(refused, Conflict) else refused)
        return _form_page(request, who, form, errors, 409)
    return RedirectResponse(f"/people/{done.person_id}?admitted={done.booking_number}", 303)


# --- manifests -------------------------------------------------------------------------------------


@router.get("/intake/manifest")
def manifest_form(request: Request, who: Officer) -> Response:
    facilities = _facilities(request)
    context = {"facilities": facilities, "form": {"facility_id": facilities[0][0] if facilities else ""}, "errors": {},
               "max_mb": MAX_BYTES // 1_000_000}  # fmt: skip
    return render(request, "intake_manifest.html", context, who=who)


@router.post("/intake/manifest", dependencies=[csrf_protected()])
def upload_manifest(
    request: Request, who: Officer, manifest: UploadFile,
    facility_id: Annotated[str, Form(max_length=64)] = "", accept_valid: Annotated[str, Form(max_length=8)] = "",
) -> Response:  # fmt: skip
    _ = i18n.gettext_for(i18n.negotiate(request))
    facilities = _facilities(request)
    errors: dict[str, str] = {}
    data = manifest.file.read(MAX_BYTES + 1)
    text = ""
    if facility_id not in dict(facilities):
        errors["facility_id"] = _("Choose the facility.")
    if not data:
        errors["manifest"] = _("Choose a manifest file (CSV).")
    elif len(data) > MAX_BYTES:
        errors["manifest"] = _("The file is larger than %(mb)s MB: split it into several manifests.") % {
            "mb": MAX_BYTES // 1_000_000
        }
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            errors["manifest"] = _("The file is not UTF-8 text: save it as CSV UTF-8 and upload it again.")
    if errors:
        context = {"facilities": facilities, "form": {"facility_id": facility_id, "accept_valid": accept_valid},
                   "errors": errors, "max_mb": MAX_BYTES // 1_000_000}  # fmt: skip
        return render(request, "intake_manifest.html", context, status=422, who=who)
    job_id = start_import(request, who, text, facility_id, manifest.filename or "manifest.csv", accept_valid == "yes")
    return RedirectResponse(f"/intake/manifest/{job_id}", 303)


@router.get("/intake/manifest/{job_id}")
def manifest_status(job_id: str, request: Request, who: Officer) -> Response:
    job = load_job(request, job_id, who)
    if job is None:
        return render(request, "intake_job.html", {"job": None}, status=404, who=who)
    response = render(request, "intake_job.html", {"job": job}, who=who)
    if job.running:
        # Progress without script: the browser reloads the page (the Refresh header every browser honours;
        # a <meta refresh> would need the layout's <head>, and axe counts it as a timing barrier).
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


@router.get("/intake/manifest/{job_id}/rejected.csv")
def rejected_rows(job_id: str, request: Request, who: Officer) -> Response:
    """The rows that were not admitted, with an ``errors`` column: fix them and upload the file again."""
    config = app_state(request).config
    found = load_rejected(config.engine, config.ledger_id, job_id, who)
    if found is None:
        return Response(status_code=404)
    filename, rows = found
    name = f"rejected-{filename.removesuffix('.csv')}.csv".replace('"', "")
    return Response(rows, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip
