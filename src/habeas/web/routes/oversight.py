"""Oversight: the ledger's verification, checkpoints and proofs to download, the read-access log, inspections.

Oversight reads everything (MR 83–85) and changes no operational record; it records its own
inspections.  Verifying the ledger reads every event, so a page load never does it: an
inspector asks for it (a POST; one run at a time per server process), and the result is
recorded (``services.ledger_checks``) with when, by whom and the size it covered, so every
worker shows it; the last failure stays on the page however many checks follow.  Proofs are
the API's (RFC 9162, ``ledger.proofs``), downloaded as the JSON files ``habeas verify-proof``
checks offline.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection, select

from habeas.api.security import app_state
from habeas.domain.access import Permission, Principal, allowed
from habeas.errors import HabeasError
from habeas.ledger.heads import StoredCheckpoint, checkpoint_at, list_checkpoints
from habeas.ledger.log import read_head
from habeas.ledger.proofs import consistency_proof, inclusion_proof
from habeas.ledger.verify import verify_in_snapshot
from habeas.services.inspections import InspectionService, inspections
from habeas.services.ledger_checks import RecordedCheck, as_recorded, recent_checks, record_or_note
from habeas.store.account_tables import access_log
from habeas.web.form_input import refusal_fields
from habeas.web.i18n import N_
from habeas.web.render import render
from habeas.web.session import csrf_protected, page_guard

router = APIRouter(include_in_schema=False)
P = Permission
ACCESS_LOG_LIMIT = 200
ProofBuilder = Callable[[Connection, str, int, int], dict[str, Any]]  # ledger.proofs' two proofs
_verifying = threading.Lock()  # one verification at a time: each reads the whole ledger
CHECKS_SHOWN = 10  # the last check, and the nine before it


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _oversight_page(request: Request, who: Principal, proof_errors: dict[str, str] | None = None,
                    form: dict[str, str] | None = None, status: int = 200,
                    unrecorded: RecordedCheck | None = None) -> Response:  # fmt: skip
    config = app_state(request).config
    with config.engine.connect() as conn:
        head = read_head(conn, config.ledger_id)
        stored = list_checkpoints(conn, config.ledger_id)
        checks = recent_checks(conn, config.ledger_id, CHECKS_SHOWN)
        failures = recent_checks(conn, config.ledger_id, 1, ok=False)
    if unrecorded is not None:
        checks = [unrecorded, *checks]
    # The last failure stays on the page however many passing checks were run after it.
    last_failure = failures[0] if failures and failures[0] not in checks else None
    latest = stored[-1] if stored else None
    defaults = {"tree_size": str(latest.size if latest else head.size), "size2": str(head.size),
                "size1": str(stored[0].size if stored else 1), "seq": "1"}  # fmt: skip
    context = {
        "head": head, "root": _b64(head.root), "check": checks[0] if checks else None, "earlier_checks": checks[1:],
        "last_failure": last_failure,
        "checkpoints": stored[::-1],
        "latest": latest, "b64": _b64, "errors": proof_errors or {}, "form": {**defaults, **(form or {})},
        "may_read_access_log": allowed(who.role, P.ACCESS_LOG_READ),
        "may_inspect": allowed(who.role, P.INSPECTION_RECORD), "now": config.clock(),
    }  # fmt: skip
    return render(request, "oversight.html", context, status=status, who=who)


@router.get("/oversight")
def oversight_page(request: Request, who: Annotated[Principal, page_guard(P.LEDGER_READ)]) -> Response:
    return _oversight_page(request, who)


@router.post("/oversight/verify", dependencies=[csrf_protected()])
def verify(request: Request, who: Annotated[Principal, page_guard(P.LEDGER_READ)]) -> Response:
    """Recheck the chain, the Merkle tree and every stored checkpoint now (``habeas verify``).

    The result is recorded (``services.ledger_checks``, append-only) with when and by whom it ran, so every
    server worker shows it, and the answer is the page showing it."""
    config = app_state(request).config
    with _verifying:
        report = verify_in_snapshot(config.engine, config.ledger_id)
    checked_at = config.clock()
    if record_or_note(config.engine, report, checked_at, who.username, "web") is None:  # shown once, with its note
        return _oversight_page(request, who, unrecorded=as_recorded(report, checked_at, who.username, "web"))
    return _oversight_page(request, who)


def _download(body: str | bytes, name: str, media_type: str) -> Response:
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _checkpoint_file(checkpoint: StoredCheckpoint | None) -> Response:
    if checkpoint is None:
        return Response("no checkpoint is stored\n", status_code=404, media_type="text/plain; charset=utf-8")
    return _download(checkpoint.note, f"checkpoint-{checkpoint.ledger_id}-{checkpoint.size}.txt",
                     "text/plain; charset=utf-8")  # fmt: skip


@router.get("/oversight/checkpoints/latest.txt")
def latest_checkpoint(request: Request, who: Annotated[Principal, page_guard(P.LEDGER_READ)]) -> Response:
    """The latest signed checkpoint (C2SP signed note): a copy to keep outside the system."""
    config = app_state(request).config
    with config.engine.connect() as conn:
        stored = list_checkpoints(conn, config.ledger_id)
    return _checkpoint_file(stored[-1] if stored else None)


@router.get("/oversight/checkpoints/{size}.txt")
def one_checkpoint(size: int, request: Request, who: Annotated[Principal, page_guard(P.LEDGER_READ)]) -> Response:
    config = app_state(request).config
    with config.engine.connect() as conn:
        return _checkpoint_file(checkpoint_at(conn, config.ledger_id, size))


def _whole(text: str, field: str, errors: dict[str, str]) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        value = 0
    if value < 1:
        errors[field] = N_("Give a whole number, 1 or more.")
    return value


def _proof(request: Request, who: Principal, form: dict[str, str], build: ProofBuilder, name: str) -> Response:
    errors: dict[str, str] = {}
    numbers = [_whole(value, field, errors) for field, value in form.items()]
    if not errors:
        config = app_state(request).config
        try:
            with config.engine.connect() as conn:
                proof = build(conn, config.ledger_id, *numbers)
        except HabeasError as refused:
            errors = refusal_fields(refused)
        else:
            return _download(orjson.dumps(proof, option=orjson.OPT_INDENT_2), name, "application/json")
    return _oversight_page(request, who, errors, form, status=422)


@router.get("/oversight/proofs/inclusion")
def inclusion(
    request: Request, who: Annotated[Principal, page_guard(P.LEDGER_READ)], seq: str = "", tree_size: str = ""
) -> Response:
    """RFC 9162 inclusion proof: event ``seq`` is in the log of ``tree_size`` events."""
    return _proof(request, who, {"seq": seq, "tree_size": tree_size}, inclusion_proof,
                  f"inclusion-{seq.strip()}-in-{tree_size.strip()}.json")  # fmt: skip


@router.get("/oversight/proofs/consistency")
def consistency(
    request: Request, who: Annotated[Principal, page_guard(P.LEDGER_READ)], size1: str = "", size2: str = ""
) -> Response:
    """RFC 9162 consistency proof: the log of ``size1`` events is a prefix of the log of ``size2``."""
    return _proof(request, who, {"size1": size1, "size2": size2}, consistency_proof,
                  f"consistency-{size1.strip()}-{size2.strip()}.json")  # fmt: skip


@router.get("/oversight/access-log")
def access_log_page(
    request: Request, who: Annotated[Principal, page_guard(P.ACCESS_LOG_READ)], username: str = "",
    person_id: str = "",
) -> Response:  # fmt: skip
    """Who read whose record, when and why: the newest first.

    Records are shown by person id, not by name: listing names here would itself be a read of
    every record listed, and the log would log itself without end.
    """
    config = app_state(request).config
    query = select(access_log).where(access_log.c.ledger_id == config.ledger_id)
    if username.strip():
        query = query.where(access_log.c.username == username.strip()[:80])
    if person_id.strip():
        query = query.where(access_log.c.person_id == person_id.strip()[:64])
    with config.engine.connect() as conn:
        rows = list(conn.execute(query.order_by(access_log.c.entry_id.desc()).limit(ACCESS_LOG_LIMIT)))
    context = {"rows": rows, "username": username.strip(), "person_id": person_id.strip(), "limit": ACCESS_LOG_LIMIT}
    return render(request, "access_log.html", context, who=who)


INSPECTION_FIELDS = {
    "visited_on": N_("Give the date of the visit as year-month-day."),
    "inspectors": N_("Name at least one inspector, one per line."),
    "places": N_("Name at least one place visited, one per line."),
    "findings": N_("Write what the inspectors found."),
}


def _inspections_page(request: Request, who: Principal, form: dict[str, str] | None = None,
                      errors: dict[str, str] | None = None, status: int = 200) -> Response:  # fmt: skip
    config = app_state(request).config
    with config.engine.connect() as conn:
        visits = inspections(conn, config.ledger_id)
    context = {"visits": visits, "form": form or {"visited_on": config.clock().date().isoformat()},
               "errors": errors or {}, "done": request.query_params.get("done")}  # fmt: skip
    return render(request, "inspections.html", context, status=status, who=who)


@router.get("/oversight/inspections")
def inspections_page(request: Request, who: Annotated[Principal, page_guard(P.INSPECTION_RECORD)]) -> Response:
    return _inspections_page(request, who)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@router.post("/oversight/inspections", dependencies=[csrf_protected()])
def record_inspection(
    request: Request, who: Annotated[Principal, page_guard(P.INSPECTION_RECORD)],
    visited_on: Annotated[str, Form(max_length=10)] = "", inspectors: Annotated[str, Form(max_length=4000)] = "",
    places: Annotated[str, Form(max_length=8000)] = "", findings: Annotated[str, Form(max_length=4000)] = "",
) -> Response:  # fmt: skip
    """MR 83–85: oversight records its visit (date, inspectors, places, findings) in the ledger."""
    config = app_state(request).config
    form = {"visited_on": visited_on, "inspectors": inspectors, "places": places, "findings": findings}
    errors: dict[str, str] = {}
    day: date | None = None
    try:
        day = date.fromisoformat(visited_on.strip())
    except ValueError:
        errors["visited_on"] = INSPECTION_FIELDS["visited_on"]
    for name, text in (("inspectors", inspectors), ("places", places), ("findings", findings)):
        if not _lines(text):
            errors[name] = INSPECTION_FIELDS[name]
    if not errors:
        assert day is not None
        try:
            InspectionService(config.engine, config.ledger_id, config.clock).record(
                who.actor, day, _lines(inspectors), _lines(places), findings, config.clock()
            )
        except HabeasError as refused:
            errors = refusal_fields(refused)
    if errors:
        return _inspections_page(request, who, form, errors, status=422)
    return RedirectResponse("/oversight/inspections?done=1", 303)
