"""Alerts, the raw ledger with its proofs and checkpoints, and the read-access log.

Oversight reads all of it (MR 83–85: inspectors have access to all records); a
liaison or a court sees only the alerts about people in its scope.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select

from habeas.api.body import body_doc, json_body
from habeas.api.problems import responses
from habeas.api.security import app_state, command_engine, guard, request_connection
from habeas.domain.access import Permission, Principal
from habeas.ledger.heads import list_checkpoints
from habeas.ledger.log import read_events, read_head
from habeas.ledger.proofs import consistency_proof, inclusion_proof
from habeas.ledger.verify import verify_in_snapshot
from habeas.services.ledger_checks import Via, recent_checks, record_or_note
from habeas.services.legal import LegalService
from habeas.services.scopes import visible_alerts
from habeas.store.account_tables import access_log
from habeas.store.register_tables import alerts

router = APIRouter(tags=["oversight"])
P = Permission


class AlertOut(BaseModel):
    alert_id: str
    rule: str = Field(description="the safeguard's id, e.g. R26 (habeas safeguards rules)")
    severity: str
    subject: str
    message: str
    refs: list[str] = Field(description="the orders, limits and events behind it")
    raised_at: datetime
    resolved_at: datetime | None
    resolution: str | None


@router.get("/alerts", response_model=list[AlertOut], responses=responses(401, 403, 422))
def list_alerts(
    request: Request,
    status: Literal["open", "resolved", "all"] = "open",
    severity: Annotated[str | None, Query(max_length=10)] = None,
    rule: Annotated[str | None, Query(max_length=16)] = None,
    subject: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    who: Principal = guard(P.ALERTS_READ),
) -> list[dict[str, Any]]:
    state = app_state(request)
    ledger = state.config.ledger_id
    query = select(alerts).where(alerts.c.ledger_id == ledger)
    if status != "all":
        query = query.where(alerts.c.resolved_at.is_(None) if status == "open" else alerts.c.resolved_at.is_not(None))
    for column, value in ((alerts.c.severity, severity), (alerts.c.rule, rule), (alerts.c.subject, subject)):
        if value is not None:
            query = query.where(column == value)
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    with request_connection(request) as conn:
        if (scope := visible_alerts(ledger, who)) is not None:
            query = query.where(scope)
        rows = [dict(r._mapping) for r in conn.execute(query.order_by(alerts.c.raised_at).limit(limit))]
    for r in rows:
        r["refs"] = orjson.loads(r["refs"])
    return sorted(rows, key=lambda r: (order.get(r["severity"], 9), r["raised_at"]))


class AlertNote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: AwareDatetime
    note: str = Field(min_length=1, max_length=4000)


class Done(BaseModel):
    ok: bool = True


def _legal(request: Request) -> LegalService:
    state = app_state(request)
    return LegalService(command_engine(request), state.config.ledger_id, state.config.clock)


@router.post(
    "/alerts/{alert_id}/acknowledge", response_model=Done, responses=responses(400, 401, 403, 404, 409, 422),
    openapi_extra=body_doc(AlertNote),
)  # fmt: skip
def acknowledge(
    alert_id: str, request: Request, who: Principal = guard(P.ALERT_HANDLE), body: AlertNote = json_body(AlertNote)
) -> Done:
    _legal(request).acknowledge_alert(who.actor, alert_id, body.note, body.at)
    return Done()


@router.post(
    "/alerts/{alert_id}/resolve", response_model=Done, responses=responses(400, 401, 403, 404, 409, 422),
    openapi_extra=body_doc(AlertNote),
)  # fmt: skip
def resolve(
    alert_id: str, request: Request, who: Principal = guard(P.ALERT_HANDLE), body: AlertNote = json_body(AlertNote)
) -> Done:
    _legal(request).resolve_alert(who.actor, alert_id, body.note, body.at)
    return Done()


# --- the ledger ------------------------------------------------------------------------------------


class HeadOut(BaseModel):
    ledger_id: str
    origin: str
    size: int
    root: str = Field(description="RFC 9162 Merkle tree root, base64")


@router.get("/ledger", response_model=HeadOut, responses=responses(401, 403))
def ledger_head(request: Request, who: Principal = guard(P.LEDGER_READ)) -> HeadOut:
    state = app_state(request)
    with request_connection(request) as conn:
        head = read_head(conn, state.config.ledger_id)
    return HeadOut(ledger_id=head.ledger_id, origin=head.origin, size=head.size, root=_b64(head.root))


class EventOut(BaseModel):
    seq: int
    event_id: str
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    body: str = Field(description="the canonical envelope (RFC 8785) the hash covers, as text")
    prev_hash: str = Field(description="hex")
    hash: str = Field(description="hex: SHA-256(prev_hash || body)")


@router.get("/ledger/events", response_model=list[EventOut], responses=responses(401, 403, 422))
def ledger_events(
    request: Request,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    type: Annotated[str | None, Query(max_length=80)] = None,
    who: Principal = guard(P.LEDGER_READ),
) -> list[EventOut]:
    state = app_state(request)
    with request_connection(request) as conn:
        events = list(
            read_events(conn, state.config.ledger_id, after_seq=after, types=[type] if type else (), limit=limit)
        )
    return [
        EventOut(
            seq=e.seq, event_id=e.event_id, type=e.type, occurred_at=e.occurred_at, recorded_at=e.recorded_at,
            actor=e.actor, body=e.body.decode(), prev_hash=e.prev_hash.hex(), hash=e.hash.hex(),
        )
        for e in events
    ]  # fmt: skip


class VerifyOut(BaseModel):
    ok: bool
    size: int
    root: str
    checkpoints_checked: int
    bad_seq: int | None
    problem: str | None
    notes: list[str]


@router.get("/ledger/verify", response_model=VerifyOut, responses=responses(401, 403))
def ledger_verify(request: Request, who: Principal = guard(P.LEDGER_READ)) -> VerifyOut:
    """Recheck the whole chain, Merkle tree and stored checkpoints now (reads every event, in one snapshot).

    The result is recorded with who ran it (``GET /ledger/checks``), whether it passed or not; if it cannot
    be recorded (the database busy or read-only), it is still answered, with a note saying so."""
    state = app_state(request)
    engine = command_engine(request)  # the check reads on a connection of its own: the request's goes back first
    report = verify_in_snapshot(engine, state.config.ledger_id)
    record_or_note(engine, report, state.config.clock(), who.username, "api")
    return VerifyOut(
        ok=report.ok, size=report.size, root=_b64(report.root), checkpoints_checked=report.checkpoints_checked,
        bad_seq=report.bad_seq, problem=report.problem, notes=report.notes,
    )  # fmt: skip


class CheckOut(VerifyOut):
    check_id: int = Field(description="the order checks were recorded in; pass it as `before` for older ones")
    checked_at: datetime
    checked_by: str = Field(description="the account that ran it, or the actor of habeas verify")
    via: Via


@router.get("/ledger/checks", response_model=list[CheckOut], responses=responses(401, 403, 422))
def ledger_checks(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ok: Annotated[
        bool | None, Query(description="false: only the checks that failed; true: only those that passed")
    ] = None,
    before: Annotated[int | None, Query(ge=1, description="only checks recorded before this check_id")] = None,
    who: Principal = guard(P.LEDGER_READ),
) -> list[CheckOut]:
    """The ledger's recorded verifications, latest first (from the oversight pages, the API and the CLI).

    Page back with ``before``; ``ok=false`` lists the failures alone, so none is lost among later checks."""
    state = app_state(request)
    with request_connection(request) as conn:
        checks = recent_checks(conn, state.config.ledger_id, limit, ok=ok, before=before)
    return [CheckOut.model_validate(c, from_attributes=True) for c in checks]


class CheckpointOut(BaseModel):
    size: int
    root: str
    signed_at: datetime
    note: str = Field(description="the signed note (C2SP tlog-checkpoint), to keep outside the system")


@router.get("/ledger/checkpoints", response_model=list[CheckpointOut], responses=responses(401, 403))
def ledger_checkpoints(request: Request, who: Principal = guard(P.LEDGER_READ)) -> list[CheckpointOut]:
    state = app_state(request)
    with request_connection(request) as conn:
        stored = list_checkpoints(conn, state.config.ledger_id)
    return [CheckpointOut(size=c.size, root=_b64(c.root), signed_at=c.signed_at, note=c.note) for c in stored]


@router.get("/ledger/proofs/inclusion", response_model=dict[str, Any], responses=responses(401, 403, 422))
def proof_inclusion(
    request: Request, seq: Annotated[int, Query(ge=1)], tree_size: Annotated[int, Query(ge=1)],
    who: Principal = guard(P.LEDGER_READ),
) -> dict[str, Any]:  # fmt: skip
    """RFC 9162 inclusion proof of event ``seq`` in the tree of ``tree_size`` (check it with habeas verify-proof)."""
    state = app_state(request)
    with request_connection(request) as conn:
        return inclusion_proof(conn, state.config.ledger_id, seq, tree_size)


@router.get("/ledger/proofs/consistency", response_model=dict[str, Any], responses=responses(401, 403, 422))
def proof_consistency(
    request: Request, old_size: Annotated[int, Query(ge=1)], new_size: Annotated[int, Query(ge=1)],
    who: Principal = guard(P.LEDGER_READ),
) -> dict[str, Any]:  # fmt: skip
    """RFC 9162 consistency proof: the tree of ``old_size`` is a prefix of the tree of ``new_size``."""
    state = app_state(request)
    with request_connection(request) as conn:
        return consistency_proof(conn, state.config.ledger_id, old_size, new_size)


# --- who read whose record -------------------------------------------------------------------------


class AccessOut(BaseModel):
    entry_id: int
    at: datetime
    username: str
    role: str
    person_id: str
    action: str
    reason: str | None


@router.get("/access-log", response_model=list[AccessOut], responses=responses(401, 403, 422))
def read_access_log(
    request: Request,
    person_id: Annotated[str | None, Query(max_length=64)] = None,
    username: Annotated[str | None, Query(max_length=80)] = None,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    who: Principal = guard(P.ACCESS_LOG_READ),
) -> list[dict[str, Any]]:
    state = app_state(request)
    query = select(access_log).where(access_log.c.ledger_id == state.config.ledger_id, access_log.c.entry_id > after)
    if person_id:
        query = query.where(access_log.c.person_id == person_id)
    if username:
        query = query.where(access_log.c.username == username)
    with request_connection(request) as conn:
        return [dict(r._mapping) for r in conn.execute(query.order_by(access_log.c.entry_id).limit(limit))]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
