"""The law over HTTP: legal bases, cases and hearings, court orders, sentences, notifications.

Commands run through the legal service, so every refusal names the field and the rule
(a safeguard's refusal its rule id) and changes nothing.  Scopes: a court issues and
lifts orders only in its own name and on its own cases, and reads only its own cases
and orders; a liaison reads only the orders and legal files of its own transferees.
Reads of a person's legal file (and of the people a case or an order list names) are
logged like every other read of a personal record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from habeas.api.body import body_doc, json_body
from habeas.api.problems import responses
from habeas.api.security import (
    app_state,
    audited_read,
    command_engine,
    guard,
    log_read,
    log_reads,
    reason_header,
    request_connection,
)
from habeas.domain import law
from habeas.domain.access import Permission, Principal, Role
from habeas.domain.custody import HELD as HELD_STATUSES
from habeas.domain.policy import Deadline, Policy
from habeas.domain.types import Code, Identifier, Name, Sha256Hex, Text
from habeas.errors import Conflict, Forbidden, HabeasError, InvalidInput, NotFound
from habeas.policy.loader import load_policy
from habeas.projections.law import PD_KIND, limit_klass, limit_scopes
from habeas.services.legal import LegalService
from habeas.services.register import build_payload
from habeas.services.scopes import require_visible, visible_people
from habeas.store.law_tables import cases, defendants, duties, instruments, orders, sentences
from habeas.store.register_tables import episodes, facilities, people

router = APIRouter(tags=["law"])
P = Permission
HELD = frozenset(s.value for s in HELD_STATUSES)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _legal(request: Request, new_id: Callable[[], UUID] = uuid4) -> LegalService:
    state = app_state(request)
    return LegalService(command_engine(request), state.config.ledger_id, state.config.clock, new_id)


def _conn(request: Request) -> Any:
    return request_connection(request)


def _ledger(request: Request) -> str:
    return app_state(request).config.ledger_id


def _now(request: Request) -> datetime:
    return app_state(request).config.clock()


def _utc(value: datetime, field: str) -> datetime:
    """An aware time in any offset, as the UTC instant the ledger stores."""
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InvalidInput.one(field, "is outside the calendar once converted to UTC") from None


def _utc_or_none(value: datetime | None, field: str) -> datetime | None:
    return None if value is None else _utc(value, field)


class _Ids:
    """A ``new_id`` for the service that remembers what it handed out (the service returns no id)."""

    def __init__(self) -> None:
        self.given: list[UUID] = []

    def __call__(self) -> UUID:
        self.given.append(uuid4())
        return self.given[-1]


@contextmanager
def _recording(field: str) -> Iterator[None]:
    """A payload the service builds that breaks its schema, or an id already taken: a named refusal, never a 500."""
    try:
        yield
    except ValidationError as error:
        raise InvalidInput.one(field, str(error.errors()[0].get("msg", "invalid"))) from None
    except IntegrityError:
        raise Conflict(field, "already recorded: choose another id") from None


# --- clocks ----------------------------------------------------------------------------------------


class ClockOut(BaseModel):
    """A limit running against the detention: when it falls due and how long is left."""

    rule: str = Field(description="the safeguard that watches it: R3 (administrative), R5 (provisional), R6 (expiry)")
    what: str
    started_at: datetime | None
    due: datetime
    basis: str = Field(description="the law or instrument the limit comes from")
    refs: list[str] = Field(description="decrees or extensions the limit relies on")
    seconds_left: int = Field(description="negative once the limit has passed")
    passed: bool = Field(description="true strictly after due (at due itself it is not yet a breach)")


def _clock(rule: str, what: str, started: datetime | None, deadline: Deadline, now: datetime) -> ClockOut:
    return ClockOut(
        rule=rule, what=what, started_at=started, due=deadline.due, basis=deadline.basis,
        refs=list(deadline.instruments), seconds_left=int((deadline.due - now).total_seconds()),
        passed=now > deadline.due,
    )  # fmt: skip


def _policy(jurisdiction: str | None) -> Policy | None:
    if not jurisdiction:
        return None
    try:
        return load_policy(jurisdiction)
    except HabeasError:
        return None


# --- legal bases -----------------------------------------------------------------------------------


class InstrumentIn(Strict):
    """F1: a legal basis for the person's current detention (a judicial order, an extension, a sentence)."""

    at: AwareDatetime = Field(description="when the facility received it")
    instrument_id: Identifier | None = Field(default=None, description="default: a new id")
    kind: law.InstrumentKind
    reference: Name
    issued_by: Name
    issued_at: AwareDatetime
    article: Name | None = None
    expires_at: AwareDatetime | None = None
    offence_class: Literal["serious", "less_serious"] | None = Field(
        default=None, description="CPP 8: which provisional-detention limit applies"
    )
    scope: Code | None = Field(default=None, description="e.g. state_of_exception: which extensions reach it")
    document_sha256: Sha256Hex | None = None


class InstrumentOut(BaseModel):
    instrument_id: str
    episode_id: str
    person_id: str
    kind: str
    reference: str
    issued_by: str
    issued_at: datetime
    article: str | None
    expires_at: datetime | None
    offence_class: str | None
    scope: str | None
    ended_at: datetime | None
    in_force: bool = Field(description="issued, not ended and not expired now")
    clocks: list[ClockOut] = Field(description="the limits running on it while the person is held (R5, R6)")


def _instrument_out(row: Any, now: datetime, episode: _Episode) -> InstrumentOut:
    in_force = row.ended_at is None and row.issued_at <= now and (row.expires_at is None or row.expires_at > now)
    clocks: list[ClockOut] = []
    policy = episode.policy
    if episode.held and row.ended_at is None:
        if row.expires_at is not None:
            expiry = Deadline(row.issued_at, row.expires_at, f"{row.reference} expires")
            clocks.append(_clock("R6", "the instrument's expiry", row.issued_at, expiry, now))
        if row.kind == PD_KIND and episode.untried and row.detained_from is not None and policy is not None:
            try:
                limit = policy.provisional_detention_limit(
                    limit_klass(row.offence_class), row.detained_from, now, limit_scopes(row.scope)
                )
            except HabeasError:
                pass
            else:
                clocks.append(_clock("R5", "provisional detention (CPP 8)", row.detained_from, limit, now))
    return InstrumentOut(
        instrument_id=row.instrument_id, episode_id=row.episode_id, person_id=row.person_id, kind=row.kind,
        reference=row.reference, issued_by=row.issued_by, issued_at=row.issued_at, article=row.article,
        expires_at=row.expires_at, offence_class=row.offence_class, scope=row.scope, ended_at=row.ended_at,
        in_force=in_force, clocks=clocks,
    )  # fmt: skip


@dataclass(frozen=True)
class _Episode:
    held: bool = False
    untried: bool = False  # R5 counts provisional detention only while the person is untried
    policy: Policy | None = None  # the law of the facility holding them


def _episode_context(conn: Connection, ledger: str, episode_ids: Iterable[str]) -> dict[str, _Episode]:
    """Each episode: whether the person is held in it, untried, and under which law."""
    ids = sorted(set(episode_ids))
    if not ids:
        return {}
    rows = conn.execute(
        select(episodes.c.episode_id, episodes.c.status, episodes.c.legal_status, facilities.c.jurisdiction)
        .join(
            facilities,
            (facilities.c.ledger_id == episodes.c.ledger_id) & (facilities.c.facility_id == episodes.c.facility_id),
        )
        .where(episodes.c.ledger_id == ledger, episodes.c.episode_id.in_(ids))
    )
    return {
        r.episode_id: _Episode(r.status in HELD, r.legal_status == "untried", _policy(r.jurisdiction)) for r in rows
    }


def _instrument(conn: Connection, ledger: str, instrument_id: str, now: datetime) -> InstrumentOut:
    row = conn.execute(
        select(instruments).where(instruments.c.ledger_id == ledger, instruments.c.instrument_id == instrument_id)
    ).first()
    if row is None:
        raise NotFound("instrument", instrument_id)
    return _instrument_out(row, now, _episode_context(conn, ledger, [row.episode_id]).get(row.episode_id, _Episode()))


@router.post(
    "/people/{person_id}/instruments", status_code=201, response_model=InstrumentOut,
    responses=responses(400, 401, 403, 404, 409, 422), openapi_extra=body_doc(InstrumentIn),
)  # fmt: skip
def record_instrument(
    person_id: str, request: Request, who: Principal = guard(P.LAW_RECORD),
    body: InstrumentIn = json_body(InstrumentIn),
) -> InstrumentOut:  # fmt: skip
    """Record a legal basis for the person's current detention (R2, R6 watch that one is always in force)."""
    ledger = _ledger(request)
    details = body.model_dump(exclude={"at", "issued_at", "expires_at"}, exclude_none=True)
    details["issued_at"] = _utc(body.issued_at, "issued_at")
    if body.expires_at is not None:
        details["expires_at"] = _utc(body.expires_at, "expires_at")
        if details["expires_at"] <= details["issued_at"]:
            raise InvalidInput.one("expires_at", "must be after issued_at")
    with _recording("instrument_id"):
        instrument_id = _legal(request).record_instrument(who.actor, person_id, details, _utc(body.at, "at"))
    with _conn(request) as conn:
        return _instrument(conn, ledger, instrument_id, _now(request))


class EndIn(Strict):
    at: AwareDatetime
    reason: Text


@router.post(
    "/instruments/{instrument_id}/end", response_model=InstrumentOut,
    responses=responses(400, 401, 403, 404, 409, 422), openapi_extra=body_doc(EndIn),
)  # fmt: skip
def end_instrument(
    instrument_id: str, request: Request, who: Principal = guard(P.LAW_RECORD), body: EndIn = json_body(EndIn)
) -> InstrumentOut:
    """An instrument ceases to be a basis (revoked, replaced, served); R6 alerts if none is left."""
    ledger, at = _ledger(request), _utc(body.at, "at")
    _legal(request).end_instrument(who.actor, instrument_id, body.reason, at)
    with _conn(request) as conn:
        return _instrument(conn, ledger, instrument_id, _now(request))


# --- cases -----------------------------------------------------------------------------------------


class DefendantIn(Strict):
    person_id: Identifier
    counsel: Name | None = Field(default=None, description="defence counsel (R28: each defendant their own)")


class CaseIn(Strict):
    """A case and its defendants; a group case (Decree 803) keeps each defendant's own record (R28)."""

    at: AwareDatetime
    case_id: Identifier
    court: Name
    reference: Name
    group_case: bool = False
    charges: list[law.Charge] = Field(default=[], max_length=1000)
    defendants: list[DefendantIn] = Field(min_length=1, max_length=10_000)


class ChargeOut(BaseModel):
    charge_id: str
    offence: str
    article: str
    counts: int = 1


class DefendantOut(BaseModel):
    case_id: str
    person_id: str
    counsel: str | None
    hearings: int = Field(description="individual hearing records (R28)")
    verdict: str | None


class CaseOut(BaseModel):
    case_id: str
    court: str
    reference: str
    group_case: bool
    charges: list[ChargeOut]
    defendants: list[DefendantOut]


def _case(conn: Connection, ledger: str, case_id: str, who: Principal) -> CaseOut:
    """The case as ``who`` may see it: a court only its own, a liaison only its own people in it."""
    row = conn.execute(select(cases).where(cases.c.ledger_id == ledger, cases.c.case_id == case_id)).first()
    if row is None or (who.role is Role.COURT and row.court != who.scope):
        raise NotFound("case", case_id)  # another court's case looks exactly like an absent one
    query = select(defendants).where(defendants.c.ledger_id == ledger, defendants.c.case_id == case_id)
    scope = visible_people(ledger, who) if who.role is Role.LIAISON else None
    if scope is not None:
        query = query.where(defendants.c.person_id.in_(scope))
    accused = [
        DefendantOut(case_id=d.case_id, person_id=d.person_id, counsel=d.counsel, hearings=d.hearings,
                     verdict=d.verdict)
        for d in conn.execute(query.order_by(defendants.c.person_id))
    ]  # fmt: skip
    if scope is not None and not accused:
        raise NotFound("case", case_id)
    return CaseOut(
        case_id=row.case_id, court=row.court, reference=row.reference, group_case=row.group_case,
        charges=[ChargeOut.model_validate(c) for c in orjson.loads(row.charges)], defendants=accused,
    )  # fmt: skip


@router.post(
    "/cases", status_code=201, response_model=CaseOut, responses=responses(400, 401, 403, 404, 409, 422),
    openapi_extra=body_doc(CaseIn),
)  # fmt: skip
def open_case(request: Request, who: Principal = guard(P.LAW_RECORD), body: CaseIn = json_body(CaseIn)) -> CaseOut:
    """Open a case with its defendants, each with their own counsel."""
    case = build_payload(
        law.CaseOpened, case_id=body.case_id, court=body.court, reference=body.reference, group_case=body.group_case,
        charges=tuple(body.charges),
    )  # fmt: skip
    people_ids = [d.person_id for d in body.defendants]
    counsel = {d.person_id: d.counsel for d in body.defendants if d.counsel is not None}
    with _recording("case_id"):
        _legal(request).open_case(who.actor, case, people_ids, _utc(body.at, "at"), counsel)
    with _conn(request) as conn:
        return _case(conn, _ledger(request), body.case_id, who)


@router.get("/cases/{case_id}", response_model=CaseOut, responses=responses(401, 403, 404, 422))
def read_case(
    case_id: str, request: Request, reason: str | None = reason_header(), who: Principal = guard(P.REGISTER_READ)
) -> CaseOut:
    """A case, its charges and defendants (a court: its own cases only; others look absent)."""
    with audited_read(request) as conn:
        found = _case(conn, _ledger(request), case_id, who)
        log_reads(request, who, (d.person_id for d in found.defendants), reason, conn)
    return found


class HearingIn(Strict):
    """R28: one defendant's own hearing: who appeared, with which counsel, what was decided."""

    at: AwareDatetime
    person_id: Identifier
    kind: Literal["initial_appearance", "review", "trial", "sentencing", "other"]
    outcome: Text
    counsel: Name | None = None
    hearing_id: Identifier | None = Field(default=None, description="default: a new id")


def _defendant(conn: Connection, ledger: str, case_id: str, person_id: str) -> DefendantOut:
    d = conn.execute(
        select(defendants).where(
            defendants.c.ledger_id == ledger, defendants.c.case_id == case_id, defendants.c.person_id == person_id
        )
    ).one()
    return DefendantOut(
        case_id=d.case_id, person_id=d.person_id, counsel=d.counsel, hearings=d.hearings, verdict=d.verdict
    )


@router.post(
    "/cases/{case_id}/hearings", status_code=201, response_model=DefendantOut,
    responses=responses(400, 401, 403, 404, 409, 422), openapi_extra=body_doc(HearingIn),
)  # fmt: skip
def record_hearing(
    case_id: str, request: Request, who: Principal = guard(P.LAW_RECORD), body: HearingIn = json_body(HearingIn)
) -> DefendantOut:
    hearing = build_payload(
        law.HearingRecorded, case_id=case_id, hearing_id=body.hearing_id or str(uuid4()), person_id=body.person_id,
        kind=body.kind, counsel=body.counsel, outcome=body.outcome,
    )  # fmt: skip
    _legal(request).record_hearing(who.actor, hearing, _utc(body.at, "at"))
    with _conn(request) as conn:
        return _defendant(conn, _ledger(request), case_id, body.person_id)


class VerdictIn(Strict):
    at: AwareDatetime
    person_id: Identifier
    verdict: Literal["convicted", "acquitted", "dismissed"]


@router.post(
    "/cases/{case_id}/verdicts", status_code=201, response_model=DefendantOut,
    responses=responses(400, 401, 403, 404, 409, 422), openapi_extra=body_doc(VerdictIn),
)  # fmt: skip
def record_verdict(
    case_id: str, request: Request, who: Principal = guard(P.LAW_RECORD), body: VerdictIn = json_body(VerdictIn)
) -> DefendantOut:
    verdict = build_payload(law.VerdictRecorded, case_id=case_id, person_id=body.person_id, verdict=body.verdict)
    _legal(request).record_verdict(who.actor, verdict, _utc(body.at, "at"))
    with _conn(request) as conn:
        return _defendant(conn, _ledger(request), case_id, body.person_id)


# --- court orders ----------------------------------------------------------------------------------


class OrderIn(Strict):
    """R26: a court order, domestic or foreign; commands contrary to it are refused, its deadline watched.

    A court account issues orders in its own name only; a records officer records orders received on paper."""

    at: AwareDatetime = Field(description="when the facility received it")
    order_id: Identifier | None = Field(default=None, description="default: a new id")
    person_id: Identifier
    kind: law.OrderKind
    court: Name
    court_state: Code = Field(default="SLV", description="ISO 3166 alpha-3 of the court's state, e.g. SLV, USA")
    reference: Name
    issued_at: AwareDatetime
    deadline: AwareDatetime | None = Field(default=None, description="by when it must be executed")
    place: Name | None = Field(default=None, description="where to produce or return the person")
    case_id: Identifier | None = None
    document_sha256: Sha256Hex | None = None


class OrderOut(BaseModel):
    order_id: str
    person_id: str
    kind: str
    court: str
    court_state: str
    reference: str
    issued_at: datetime
    deadline: datetime | None
    place: str | None
    status: Literal["active", "executed", "lifted"]
    closed_at: datetime | None = Field(description="when it was executed or lifted")
    executed: bool
    in_time: bool | None = Field(
        description="executed or lifted by its deadline (an active order: still within it); null: no deadline"
    )
    overdue: bool = Field(description="still active after its deadline (R26)")


def order_out(row: Any, now: datetime) -> OrderOut:
    """An order as the API and the court-order pages show it (status, deadline, whether it was late)."""
    closed = row.closed_at or now
    return OrderOut(
        order_id=row.order_id, person_id=row.person_id, kind=row.kind, court=row.court, court_state=row.court_state,
        reference=row.reference, issued_at=row.issued_at, deadline=row.deadline, place=row.place, status=row.status,
        closed_at=row.closed_at, executed=row.status == "executed",
        in_time=None if row.deadline is None else closed <= row.deadline,
        overdue=row.status == "active" and row.deadline is not None and now > row.deadline,
    )  # fmt: skip


def order_row(conn: Connection, ledger: str, order_id: str, who: Principal) -> Any:
    """The order if ``who`` may see it; another court's order is NotFound (API and pages alike)."""
    row = conn.execute(select(orders).where(orders.c.ledger_id == ledger, orders.c.order_id == order_id)).first()
    if row is None or (who.role is Role.COURT and row.court != who.scope):
        raise NotFound("order", order_id)  # another court's order looks exactly like an absent one
    return row


@router.post(
    "/orders", status_code=201, response_model=OrderOut, responses=responses(400, 401, 403, 404, 409, 422),
    openapi_extra=body_doc(OrderIn),
)  # fmt: skip
def issue_order(
    request: Request, who: Principal = guard(P.ORDER_ISSUE), body: OrderIn = json_body(OrderIn)
) -> OrderOut:
    """Record a court order; a court account only in its own name and on its own cases (403 naming the rule)."""
    ledger = _ledger(request)
    with _conn(request) as conn:
        if who.role is Role.COURT:
            if body.court != who.scope:
                raise Forbidden(f"a court account issues orders only in its own name: court must be {who.scope!r}")
            if (
                body.case_id is not None
                and conn.execute(
                    select(cases.c.case_id).where(
                        cases.c.ledger_id == ledger, cases.c.case_id == body.case_id, cases.c.court == who.scope
                    )
                ).first()
                is None
            ):
                raise Forbidden(f"a court account issues orders only on its own cases: {body.case_id!r} is not one")
        if body.case_id is not None:
            if (
                conn.execute(
                    select(cases.c.case_id).where(cases.c.ledger_id == ledger, cases.c.case_id == body.case_id)
                ).first()
                is None
            ):
                raise NotFound("case", body.case_id)
            if conn.execute(
                select(defendants.c.person_id).where(
                    defendants.c.ledger_id == ledger, defendants.c.case_id == body.case_id,
                    defendants.c.person_id == body.person_id,
                )
            ).first() is None:  # fmt: skip
                raise InvalidInput.one("case_id", f"{body.person_id} is not a defendant in case {body.case_id}")
        order_id = body.order_id or str(uuid4())
    order = build_payload(
        law.OrderIssued, order_id=order_id, person_id=body.person_id, kind=body.kind, court=body.court,
        court_state=body.court_state, reference=body.reference, issued_at=_utc(body.issued_at, "issued_at"),
        deadline=_utc_or_none(body.deadline, "deadline"), place=body.place, case_id=body.case_id,
        document_sha256=body.document_sha256,
    )  # fmt: skip
    with _recording("order_id"):
        _legal(request).issue_order(who.actor, order, _utc(body.at, "at"))
    with _conn(request) as conn:
        return order_out(order_row(conn, ledger, order_id, who), _now(request))


class ExecutionIn(Strict):
    at: AwareDatetime = Field(description="when it was carried out")
    note: Text
    execution_event_id: Identifier | None = Field(
        default=None, description="the register event that carried it out (a release, a movement), if any"
    )


@router.post(
    "/orders/{order_id}/execution", response_model=OrderOut, responses=responses(400, 401, 403, 404, 409, 422),
    openapi_extra=body_doc(ExecutionIn),
)  # fmt: skip
def execute_order(
    order_id: str, request: Request, who: Principal = guard(P.ORDER_EXECUTE),
    body: ExecutionIn = json_body(ExecutionIn),
) -> OrderOut:  # fmt: skip
    ledger, at = _ledger(request), _utc(body.at, "at")
    with _conn(request) as conn:
        order_row(conn, ledger, order_id, who)  # 404 outside the account's scope, before anything is done
    _legal(request).execute_order(who.actor, order_id, body.note, at, body.execution_event_id)
    with _conn(request) as conn:
        return order_out(order_row(conn, ledger, order_id, who), _now(request))


class LiftIn(Strict):
    at: AwareDatetime
    authority: Name | None = Field(default=None, description="the court that lifted it (a court account: itself)")
    reason: Text


@router.post(
    "/orders/{order_id}/lift", response_model=OrderOut, responses=responses(400, 401, 403, 404, 409, 422),
    openapi_extra=body_doc(LiftIn),
)  # fmt: skip
def lift_order(
    order_id: str, request: Request, who: Principal = guard(P.ORDER_ISSUE), body: LiftIn = json_body(LiftIn)
) -> OrderOut:
    """A court lifts an order (a court account: only its own orders; others look absent)."""
    ledger, at = _ledger(request), _utc(body.at, "at")
    with _conn(request) as conn:
        order_row(conn, ledger, order_id, who)  # 404 outside the account's scope, before anything is done
    authority = body.authority
    if who.role is Role.COURT:
        if authority is not None and authority != who.scope:
            raise Forbidden(f"a court account lifts orders only in its own name: authority must be {who.scope!r}")
        authority = who.scope
    if authority is None:
        raise InvalidInput.one("authority", "name the court that lifted the order")
    _legal(request).lift_order(who.actor, order_id, authority, body.reason, at)
    with _conn(request) as conn:
        return order_out(order_row(conn, ledger, order_id, who), _now(request))


@router.get("/orders", response_model=list[OrderOut], responses=responses(401, 403, 422))
def list_orders(
    request: Request,
    person_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Literal["active", "executed", "lifted"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    reason: str | None = reason_header(),
    who: Principal = guard(P.REGISTER_READ),
) -> list[OrderOut]:
    """Orders, oldest first, and whether each was executed in time (a court: its own; a liaison: its people's)."""
    ledger = _ledger(request)
    query = select(orders).where(orders.c.ledger_id == ledger)
    if person_id is not None:
        query = query.where(orders.c.person_id == person_id)
    if status is not None:
        query = query.where(orders.c.status == status)
    if who.role is Role.COURT:
        query = query.where(orders.c.court == who.scope)
    elif (scope := visible_people(ledger, who)) is not None:
        query = query.where(orders.c.person_id.in_(scope))
    now = _now(request)
    with audited_read(request) as conn:
        found = [
            order_out(r, now) for r in conn.execute(query.order_by(orders.c.issued_at, orders.c.order_id).limit(limit))
        ]
        log_reads(request, who, (o.person_id for o in found), reason, conn)
    return found


# --- sentences -------------------------------------------------------------------------------------


class SentenceIn(Strict):
    """A sentence per count (Penal Code 45); the release date is computed and explained (R29, R30)."""

    at: AwareDatetime
    sentence_id: Identifier | None = Field(default=None, description="default: a new id")
    case_id: Identifier
    person_id: Identifier
    court: Name
    sentenced_on: date
    counts: list[law.CountPayload] = Field(min_length=1, max_length=10_000)
    credits: list[law.CreditPayload] = Field(default=[], max_length=1000)
    announced_aggregate: law.TermPayload | None = Field(
        default=None, description="the total the court announced, kept apart from the enforceable term"
    )


class SentenceOut(BaseModel):
    sentence_id: str
    person_id: str
    case_id: str
    sentenced_on: date
    aggregate: str = Field(description="the sum of every count, as announced")
    enforceable: str = Field(description="what is served after concurrency and any cap")
    release_on: date = Field(description="the local calendar date of release")
    release_at: datetime
    explanation: list[str] = Field(description="why this date: the calculation step by step")
    warnings: list[str]


def _sentence_out(row: Any) -> SentenceOut:
    return SentenceOut(
        sentence_id=row.sentence_id, person_id=row.person_id, case_id=row.case_id, sentenced_on=row.sentenced_on,
        aggregate=row.aggregate, enforceable=row.enforceable, release_on=row.release_on, release_at=row.release_at,
        explanation=orjson.loads(row.explanation), warnings=orjson.loads(row.warnings),
    )  # fmt: skip


@router.post(
    "/sentences", status_code=201, response_model=SentenceOut, responses=responses(400, 401, 403, 404, 409, 422),
    openapi_extra=body_doc(SentenceIn),
)  # fmt: skip
def record_sentence(
    request: Request, who: Principal = guard(P.LAW_RECORD), body: SentenceIn = json_body(SentenceIn)
) -> SentenceOut:
    """Record a sentence; the answer is its release date and why."""
    ledger = _ledger(request)
    sentence_id = body.sentence_id or str(uuid4())
    sentence = build_payload(
        law.SentenceRecorded, sentence_id=sentence_id, case_id=body.case_id, person_id=body.person_id,
        court=body.court, sentenced_on=body.sentenced_on, counts=tuple(body.counts), credits=tuple(body.credits),
        announced_aggregate=body.announced_aggregate,
    )  # fmt: skip
    with _recording("sentence_id"):
        _legal(request).record_sentence(who.actor, sentence, _utc(body.at, "at"))
    with _conn(request) as conn:
        row = conn.execute(
            select(sentences).where(sentences.c.ledger_id == ledger, sentences.c.sentence_id == sentence_id)
        ).one()
    return _sentence_out(row)


# --- a person's legal file -------------------------------------------------------------------------


class LegalOut(BaseModel):
    person_id: str
    at: datetime = Field(description="the instant the clocks are read at (now)")
    held: bool
    episode_id: str | None = Field(description="the current (or last) custody episode")
    clocks: list[ClockOut] = Field(description="the episode's own limits: R3 while no judge has ruled")
    instruments: list[InstrumentOut]
    cases: list[DefendantOut]
    orders: list[OrderOut]
    sentences: list[SentenceOut]


@router.get("/people/{person_id}/legal", response_model=LegalOut, responses=responses(401, 403, 404, 422))
def legal_file(
    person_id: str, request: Request, reason: str | None = reason_header(),
    who: Principal = guard(P.REGISTER_READ),
) -> LegalOut:  # fmt: skip
    """Legal bases with their clocks, cases, orders and their execution, sentences with release date and why.

    A court sees its own cases, orders and sentences in the file (and every legal basis of the detention)."""
    with audited_read(request) as conn:
        require_visible(conn, _ledger(request), who, person_id)
        found = legal_file_of(conn, _ledger(request), person_id, who, _now(request))
        log_read(request, who, person_id, reason, conn)
    return found


def legal_file_of(conn: Connection, ledger: str, person_id: str, who: Principal, now: datetime) -> LegalOut:
    """The legal file as ``who`` may see it, clocks read at ``now`` (the API route and the person page).

    The caller checks the person is visible to ``who`` and logs the read."""
    if (
        conn.execute(
            select(people.c.person_id).where(people.c.ledger_id == ledger, people.c.person_id == person_id)
        ).first()
        is None
    ):
        raise NotFound("person", person_id)
    episode = conn.execute(
        select(episodes.c.episode_id, episodes.c.status)
        .where(episodes.c.ledger_id == ledger, episodes.c.person_id == person_id)
        .order_by(episodes.c.admitted_seq.desc())
        .limit(1)
    ).first()
    rows = list(
        conn.execute(
            select(instruments)
            .where(instruments.c.ledger_id == ledger, instruments.c.person_id == person_id)
            .order_by(instruments.c.issued_at, instruments.c.instrument_id)
        )
    )
    context = _episode_context(
        conn, ledger, [*(r.episode_id for r in rows), *([episode.episode_id] if episode else [])]
    )
    listed = [_instrument_out(r, now, context.get(r.episode_id, _Episode())) for r in rows]
    clocks = _episode_clocks(conn, ledger, episode, context, now)
    own_cases = select(cases.c.case_id).where(cases.c.ledger_id == ledger, cases.c.court == who.scope)
    case_query = select(defendants).where(defendants.c.ledger_id == ledger, defendants.c.person_id == person_id)
    order_query = select(orders).where(orders.c.ledger_id == ledger, orders.c.person_id == person_id)
    sentence_query = select(sentences).where(sentences.c.ledger_id == ledger, sentences.c.person_id == person_id)
    if who.role is Role.COURT:
        case_query = case_query.where(defendants.c.case_id.in_(own_cases))
        order_query = order_query.where(orders.c.court == who.scope)
        sentence_query = sentence_query.where(sentences.c.case_id.in_(own_cases))
    accused = [
        DefendantOut(case_id=d.case_id, person_id=d.person_id, counsel=d.counsel, hearings=d.hearings,
                     verdict=d.verdict)
        for d in conn.execute(case_query.order_by(defendants.c.case_id))
    ]  # fmt: skip
    ordered = [order_out(r, now) for r in conn.execute(order_query.order_by(orders.c.issued_at))]
    sentenced = [_sentence_out(r) for r in conn.execute(sentence_query.order_by(sentences.c.recorded_seq))]
    return LegalOut(
        person_id=person_id, at=now, held=bool(episode and episode.status in HELD),
        episode_id=episode.episode_id if episode else None, clocks=clocks, instruments=listed, cases=accused,
        orders=ordered, sentences=sentenced,
    )  # fmt: skip


def _episode_clocks(
    conn: Connection, ledger: str, episode: Any, context: dict[str, _Episode], now: datetime
) -> list[ClockOut]:
    """R3: while no judge's instrument and no appearance, the administrative limit runs from the arrest."""
    if episode is None or episode.status not in HELD:
        return []
    policy = context.get(episode.episode_id, _Episode()).policy
    row = conn.execute(
        select(duties.c.arrested_at, duties.c.judicial_at, duties.c.appearance_at).where(
            duties.c.ledger_id == ledger, duties.c.episode_id == episode.episode_id
        )
    ).first()
    if policy is None or row is None or row.judicial_at is not None or row.appearance_at is not None:
        return []
    try:
        deadline = policy.administrative_deadline(row.arrested_at)
    except HabeasError:
        return []
    return [_clock("R3", "administrative detention before a judge", row.arrested_at, deadline, now)]


# --- notifications ---------------------------------------------------------------------------------


class NotificationIn(Strict):
    """F5 / BoP 16 / MR 68: who was told, when; or a delay of telling them, authorized and expiring (R8)."""

    at: AwareDatetime
    kind: law.NotificationKind
    recipient: Name
    delayed_until: AwareDatetime | None = Field(default=None, description="an authorized delay, until when")
    delay_authority: Name | None = None
    delay_reason: Text | None = None


class NotificationOut(BaseModel):
    notification_id: str
    person_id: str
    kind: str
    recipient: str
    at: datetime
    delayed_until: datetime | None
    delay_authority: str | None
    delay_reason: str | None


@router.post(
    "/people/{person_id}/notifications", status_code=201, response_model=NotificationOut,
    responses=responses(400, 401, 403, 404, 409, 422), openapi_extra=body_doc(NotificationIn),
)  # fmt: skip
def notify(
    person_id: str, request: Request, who: Principal = guard(P.LAW_RECORD),
    body: NotificationIn = json_body(NotificationIn),
) -> NotificationOut:  # fmt: skip
    at = _utc(body.at, "at")
    until = _utc_or_none(body.delayed_until, "delayed_until")
    if until is None and (body.delay_authority or body.delay_reason):
        raise InvalidInput.one("delayed_until", "a delay's authority and reason need the time it lasts until")
    if until is not None and until <= at:
        raise InvalidInput.one("delayed_until", "must be after at")
    ids = _Ids()
    _legal(request, ids).notify(
        who.actor, person_id, body.kind, body.recipient, at, until, body.delay_authority, body.delay_reason
    )
    return NotificationOut(
        notification_id=str(ids.given[-1]), person_id=person_id, kind=body.kind, recipient=body.recipient, at=at,
        delayed_until=until, delay_authority=body.delay_authority, delay_reason=body.delay_reason,
    )  # fmt: skip
