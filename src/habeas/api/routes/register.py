"""The custody register over HTTP: facilities, people, admissions, movements, releases, deaths, counts.

Reads of a person's record are logged (who, whom, when, why) and narrowed by scope:
a liaison sees its own transferees at facility level only (never the cell), a
court the defendants of its cases.  Commands run through the register service, so
every refusal names the field and the rule and changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from habeas.api.body import body_doc, json_body
from habeas.api.person_view import person_view
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
from habeas.domain.access import Permission, Principal, Role
from habeas.domain.admission import Admission
from habeas.domain.custody import Injury
from habeas.domain.identity import IdentityDocument, document_key
from habeas.domain.person import Evidence
from habeas.errors import Conflict, InvalidInput
from habeas.services import queries
from habeas.services.register import PossibleDuplicates, RegisterService
from habeas.services.scopes import require_visible, visible_people
from habeas.store.register_tables import facilities

router = APIRouter(tags=["register"])
P = Permission


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def service(request: Request) -> RegisterService:
    state = app_state(request)
    return RegisterService(command_engine(request), state.config.ledger_id, state.config.clock)


def _conn(request: Request) -> Any:
    return request_connection(request)


def _ledger(request: Request) -> str:
    return app_state(request).config.ledger_id


# --- facilities ------------------------------------------------------------------------------------


class FacilityOut(BaseModel):
    facility_id: str
    name: str
    responsible_authority: str
    declared_capacity: int
    jurisdiction: str
    place: str
    country: str | None


class HeadcountOut(BaseModel):
    facility_id: str
    total: int = Field(description="stock: people held now (in a cell, admitted, out, in transit)")
    by_status: dict[str, int]


class OccupancyOut(BaseModel):
    scope: str
    population: int
    beds: int
    floor_area_m2: Decimal
    m2_per_person: Decimal | None
    declared_capacity: int | None
    icrc_capacity: int = Field(description="floor area / 3.4 m² (shared) or 5.4 m² (single), ICRC 2012")
    cpt_capacity: int = Field(description="floor area / 4 m² (shared) or 6 m² (single), CPT/Inf (2015) 44")
    occupancy_rate_declared: Decimal | None
    occupancy_rate_icrc: Decimal | None


class FacilityOccupancyOut(BaseModel):
    facility: OccupancyOut
    units: list[OccupancyOut]


def _occupancy(o: queries.Occupancy) -> OccupancyOut:
    return OccupancyOut(
        scope=o.scope, population=o.population, beds=o.beds, floor_area_m2=o.floor_area_m2,
        m2_per_person=o.m2_per_person, declared_capacity=o.declared_capacity, icrc_capacity=o.icrc_capacity,
        cpt_capacity=o.cpt_capacity, occupancy_rate_declared=o.rate(o.declared_capacity),
        occupancy_rate_icrc=o.rate(o.icrc_capacity),
    )  # fmt: skip


@router.get("/facilities", response_model=list[FacilityOut], responses=responses(401, 403))
def list_facilities(request: Request, who: Principal = guard(P.FACILITY_READ)) -> list[dict[str, Any]]:
    with _conn(request) as conn:
        rows = conn.execute(facilities.select().where(facilities.c.ledger_id == _ledger(request)))
        return [dict(r._mapping) for r in rows]


@router.get("/facilities/{facility_id}/headcount", response_model=HeadcountOut, responses=responses(401, 403, 404))
def headcount(facility_id: str, request: Request, who: Principal = guard(P.FACILITY_READ)) -> HeadcountOut:
    with _conn(request) as conn:
        count = queries.headcount(conn, _ledger(request), facility_id)[0]
    return HeadcountOut(facility_id=count.facility_id, total=count.total, by_status=count.by_status)


@router.get(
    "/facilities/{facility_id}/occupancy", response_model=FacilityOccupancyOut, responses=responses(401, 403, 404)
)
def occupancy(facility_id: str, request: Request, who: Principal = guard(P.FACILITY_READ)) -> FacilityOccupancyOut:
    with _conn(request) as conn:
        total, units = queries.occupancy(conn, _ledger(request), facility_id)
    return FacilityOccupancyOut(facility=_occupancy(total), units=[_occupancy(u) for u in units])


class CellOccupantsOut(BaseModel):
    cell_id: str
    at: datetime
    person_ids: list[str]


@router.get("/cells/{cell_id}/occupants", response_model=CellOccupantsOut, responses=responses(401, 403, 404, 422))
def cell_occupants(
    cell_id: str, request: Request, at: AwareDatetime | None = None, who: Principal = guard(P.FACILITY_READ)
) -> CellOccupantsOut:
    when = at or app_state(request).config.clock()
    with _conn(request) as conn:
        queries.cell_occupancy(conn, _ledger(request), cell_id)  # 404 for an unknown cell
        people = queries.who_in_cell(conn, _ledger(request), cell_id, when)
    return CellOccupantsOut(cell_id=cell_id, at=when, person_ids=people)


# --- people ----------------------------------------------------------------------------------------


class PersonSummary(BaseModel):
    person_id: str
    given_names: str
    family_names: str
    birth_date: date | None


class EpisodeOut(BaseModel):
    episode_id: str
    facility_id: str
    booking_number: str
    status: str
    legal_status: str
    cell_id: str | None = Field(description="never shown to a liaison (facility level only)")
    unit_id: str | None
    place: str | None
    since: datetime
    admitted_at: datetime
    arrested_at: datetime
    detaining_authority: str
    ordering_authority: str
    custodian_of_record: str
    legal_basis: dict[str, Any]
    closed_at: datetime | None


class PersonOut(BaseModel):
    person_id: str
    given_names: str
    family_names: str
    aliases: list[str]
    birth_date: date | None
    sex: str
    gender_identity: str | None
    nationalities: list[str]
    documents: list[str]
    group_affiliation: str | None
    group_substantiated: bool | None
    risk_level: str | None
    episodes: list[EpisodeOut]


@router.get("/people", response_model=list[PersonSummary], responses=responses(401, 403, 422))
def find_people(
    request: Request,
    document_kind: Annotated[str | None, Query(max_length=40)] = None,
    issuer: Annotated[str | None, Query(max_length=16)] = None,
    number: Annotated[str | None, Query(max_length=64)] = None,
    name: Annotated[str | None, Query(min_length=2, max_length=300)] = None,
    birth_date: date | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    reason: str | None = reason_header(),
    who: Principal = guard(P.REGISTER_READ),
) -> list[dict[str, Any]]:
    document = None
    if document_kind or issuer or number:
        if not (document_kind and issuer and number):
            raise InvalidInput.one("document_kind", "give document_kind, issuer and number together")
        document = document_key(IdentityDocument(document_kind, number, issuer))
    if document is None and not name and birth_date is None:
        raise InvalidInput.one("query", "give a document, a name or a birth date")
    ledger = _ledger(request)
    with audited_read(request) as conn:
        found = queries.find_people(conn, ledger, document=document, name=name, birth_date=birth_date, limit=limit)
        scope = visible_people(ledger, who)
        if scope is not None:
            allowed = set(conn.execute(scope).scalars())
            found = [f for f in found if f["person_id"] in allowed]
        log_reads(request, who, (f["person_id"] for f in found), reason, conn)
    return found


@router.get("/people/{person_id}", response_model=PersonOut, responses=responses(401, 403, 404))
def person(
    person_id: str, request: Request, reason: str | None = reason_header(),
    who: Principal = guard(P.REGISTER_READ),
) -> dict[str, Any]:  # fmt: skip
    # One connection (the token was checked on it), the record in one statement, its log entry committed with it.
    with audited_read(request) as conn:
        require_visible(conn, _ledger(request), who, person_id)
        record = person_view(conn, _ledger(request), person_id)
        log_read(request, who, person_id, reason, conn)
    if who.role is Role.LIAISON:  # standards §5 / architecture: the sending state sees facility level only
        for e in record["episodes"]:
            e["cell_id"] = e["unit_id"] = None
    return record


class TimelineEntry(BaseModel):
    seq: int
    event_id: str
    type: str
    occurred_at: datetime = Field(description="when it happened")
    recorded_at: datetime = Field(description="when the register learned it")
    actor: str
    payload: dict[str, Any]


@router.get("/people/{person_id}/timeline", response_model=list[TimelineEntry], responses=responses(401, 403, 404))
def person_timeline(
    person_id: str, request: Request, reason: str | None = reason_header(),
    who: Principal = guard(P.HISTORY_READ),
) -> list[TimelineEntry]:  # fmt: skip
    with audited_read(request) as conn:
        require_visible(conn, _ledger(request), who, person_id)
        events = queries.timeline(conn, _ledger(request), person_id)
        log_read(request, who, person_id, reason, conn)
    return [
        TimelineEntry(
            seq=e.seq, event_id=e.event_id, type=e.type, occurred_at=e.occurred_at, recorded_at=e.recorded_at,
            actor=e.actor, payload=orjson.loads(e.body)["payload"],
        )
        for e in events
    ]  # fmt: skip


class WhereOut(BaseModel):
    person_id: str
    at: datetime
    known: bool = Field(description="false: not in custody at that instant")
    status: str | None = None
    facility_id: str | None = None
    unit_id: str | None = None
    cell_id: str | None = None
    place: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    expected_by: datetime | None = None


@router.get("/people/{person_id}/where", response_model=WhereOut, responses=responses(401, 403, 404, 422))
def where(
    person_id: str, request: Request, at: AwareDatetime | None = None,
    reason: str | None = reason_header(),
    who: Principal = guard(P.REGISTER_READ),
) -> WhereOut:  # fmt: skip
    when = at or app_state(request).config.clock()
    with audited_read(request) as conn:
        require_visible(conn, _ledger(request), who, person_id)
        found = queries.where_at(conn, _ledger(request), person_id, when)
        log_read(request, who, person_id, reason, conn)
    if found is None:
        return WhereOut(person_id=person_id, at=when, known=False)
    out = WhereOut(
        person_id=person_id, at=when, known=True, status=found.status, facility_id=found.facility_id,
        unit_id=found.unit_id, cell_id=found.cell_id, place=found.place, since=found.since, until=found.until,
        expected_by=found.expected_by,
    )  # fmt: skip
    if who.role is Role.LIAISON:
        out.unit_id = out.cell_id = None
    return out


# --- commands --------------------------------------------------------------------------------------


class AdmittedOut(BaseModel):
    person_id: str
    episode_id: str
    booking_number: str
    new_person: bool


class Candidate(BaseModel):
    person_id: str
    score: float
    reasons: list[str]


@router.post(
    "/admissions", status_code=201, response_model=AdmittedOut, responses=responses(400, 401, 403, 404, 409, 422),
    openapi_extra=body_doc(Admission, "MR 7 / ICPPED 17(3): every field an admission must state"),
)  # fmt: skip
def admit(request: Request, who: Principal = guard(P.ADMIT), body: Admission = json_body(Admission)) -> AdmittedOut:
    try:
        done = service(request).admit(who.actor, body)
    except PossibleDuplicates as dup:
        ids = ", ".join(c.person_id for c in dup.candidates[:5])
        raise Conflict(dup.field, f"{dup.rule} (candidates: {ids})") from None
    return AdmittedOut(
        person_id=done.person_id, episode_id=done.episode_id, booking_number=done.booking_number,
        new_person=done.new_person,
    )  # fmt: skip


class Done(BaseModel):
    ok: bool = True


class ExamIn(Strict):
    """MR 30, 34: the examination on admission; signs of ill-treatment documented."""

    at: AwareDatetime
    examiner: str = Field(min_length=1, max_length=200)
    findings: str = Field(min_length=1, max_length=4000)
    injuries: list[Injury] = []
    torture_indicators: bool = False
    referred_to: str | None = Field(default=None, max_length=200)


@router.post(
    "/people/{person_id}/examinations", response_model=Done, responses=responses(400, 401, 403, 404, 409, 422),
    openapi_extra=body_doc(ExamIn),
)  # fmt: skip
def examine(
    person_id: str, request: Request, who: Principal = guard(P.EXAMINE), body: ExamIn = json_body(ExamIn)
) -> Done:
    exam = body.model_dump(exclude={"at"})
    exam["injuries"] = tuple(body.injuries)
    service(request).examine(who.actor, person_id, exam, body.at)
    return Done()


class ClassifyIn(Strict):
    """Group affiliation and risk, each with the evidence it rests on (or recorded as unsubstantiated)."""

    at: AwareDatetime
    risk_level: Literal["low", "medium", "high"]
    group_affiliation: str | None = Field(default=None, max_length=200)
    group_evidence: Evidence | None = None
    risk_evidence: Evidence | None = None


@router.post(
    "/people/{person_id}/classification", response_model=Done, responses=responses(400, 401, 403, 404, 409, 422),
    openapi_extra=body_doc(ClassifyIn),
)  # fmt: skip
def classify(
    person_id: str, request: Request, who: Principal = guard(P.CLASSIFY), body: ClassifyIn = json_body(ClassifyIn)
) -> Done:
    details = {k: getattr(body, k) for k in ("risk_level", "group_affiliation", "group_evidence", "risk_evidence")}
    service(request).classify(who.actor, person_id, details, body.at)
    return Done()


class PlaceIn(Strict):
    at: AwareDatetime
    cell_id: str = Field(min_length=1, max_length=64)
    reason: str | None = Field(default=None, max_length=4000)
    override_reason: str | None = Field(
        default=None, max_length=4000, description="house against a separation rule, saying why (R21 watches)"
    )


@router.post(
    "/people/{person_id}/placement", response_model=Done, responses=responses(400, 401, 403, 404, 409, 422),
    openapi_extra=body_doc(PlaceIn),
)  # fmt: skip
def place(
    person_id: str, request: Request, who: Principal = guard(P.HOUSING_ASSIGN), body: PlaceIn = json_body(PlaceIn)
) -> Done:
    service(request).place(
        who.actor, person_id, body.cell_id, body.at, reason=body.reason, override_reason=body.override_reason
    )
    return Done()


class DepartIn(Strict):
    """F8: out to court or hospital, with a destination, authority, escort and expected return (R13)."""

    at: AwareDatetime
    purpose: Literal["court", "hospital", "other"]
    destination: str = Field(min_length=1, max_length=200)
    authority: str = Field(min_length=1, max_length=200)
    escort: str = Field(min_length=1, max_length=200)
    expected_return: AwareDatetime


@router.post(
    "/people/{person_id}/departures", response_model=Done, responses=responses(400, 401, 403, 404, 409, 422),
    openapi_extra=body_doc(DepartIn),
)  # fmt: skip
def depart(
    person_id: str, request: Request, who: Principal = guard(P.MOVE), body: DepartIn = json_body(DepartIn)
) -> Done:
    service(request).depart(who.actor, person_id, body.at, **body.model_dump(exclude={"at"}))
    return Done()


class ReturnIn(Strict):
    at: AwareDatetime
    received_by: str = Field(min_length=1, max_length=200)
    cell_id: str | None = Field(default=None, max_length=64, description="default: the cell they left")


@router.post(
    "/people/{person_id}/returns", response_model=Done, responses=responses(400, 401, 403, 404, 409, 422),
    openapi_extra=body_doc(ReturnIn),
)  # fmt: skip
def return_to_cell(
    person_id: str, request: Request, who: Principal = guard(P.MOVE), body: ReturnIn = json_body(ReturnIn)
) -> Done:
    service(request).return_to_cell(who.actor, person_id, body.at, body.received_by, body.cell_id)
    return Done()


class ReleaseIn(Strict):
    """ICPPED 21: a release is verifiable — who ordered it, who verified it, to whom, in what health."""

    at: AwareDatetime
    authority: str = Field(min_length=1, max_length=200)
    order_reference: str = Field(min_length=1, max_length=200)
    verified_by: str = Field(min_length=1, max_length=200)
    handed_over_to: str = Field(min_length=1, max_length=200)
    health_check: str = Field(min_length=1, max_length=4000)


@router.post(
    "/people/{person_id}/release", response_model=Done, responses=responses(400, 401, 403, 404, 409, 422),
    openapi_extra=body_doc(ReleaseIn),
)  # fmt: skip
def release(
    person_id: str, request: Request, who: Principal = guard(P.RELEASE), body: ReleaseIn = json_body(ReleaseIn)
) -> Done:
    service(request).release(who.actor, person_id, body.at, **body.model_dump(exclude={"at"}))
    return Done()


class TransferOutIn(Strict):
    """ICPPED 17(3)(h): destination and the authority responsible."""

    at: AwareDatetime
    destination: str = Field(min_length=1, max_length=200)
    receiving_authority: str = Field(min_length=1, max_length=200)
    authority: str = Field(min_length=1, max_length=200)
    order_reference: str = Field(min_length=1, max_length=200)


@router.post(
    "/people/{person_id}/transfer-out", response_model=Done, responses=responses(400, 401, 403, 404, 409, 422),
    openapi_extra=body_doc(TransferOutIn),
)  # fmt: skip
def transfer_out(
    person_id: str, request: Request, who: Principal = guard(P.TRANSFER_OUT),
    body: TransferOutIn = json_body(TransferOutIn),
) -> Done:  # fmt: skip
    service(request).transfer_out(who.actor, person_id, body.at, **body.model_dump(exclude={"at"}))
    return Done()


class CountIn(Strict):
    """A physical roll call of one unit; any difference from the register raises an alert (R13)."""

    at: AwareDatetime
    present: list[str] = Field(max_length=100_000)


class CountOut(BaseModel):
    count_id: str
    expected: int
    present: int
    missing: list[str]
    extra: list[str]


@router.post(
    "/units/{unit_id}/counts", response_model=CountOut, responses=responses(400, 401, 403, 404, 409, 422),
    openapi_extra=body_doc(CountIn),
)  # fmt: skip
def count(
    unit_id: str, request: Request, who: Principal = guard(P.COUNT), body: CountIn = json_body(CountIn)
) -> CountOut:
    recorded = service(request).record_count(who.actor, unit_id, body.present, body.at)
    return CountOut(
        count_id=recorded.count_id, expected=recorded.expected, present=len(recorded.present),
        missing=list(recorded.missing), extra=list(recorded.extra),
    )  # fmt: skip


class CorrectionIn(Strict):
    """Architecture invariant 2: a mistake is fixed by an event naming the one it corrects, and why."""

    at: AwareDatetime
    event_id: str = Field(min_length=1, max_length=64)
    fields: dict[str, str | int | bool | None]
    reason: str = Field(min_length=1, max_length=4000)


@router.post(
    "/corrections", response_model=Done, responses=responses(400, 401, 403, 404, 409, 422),
    openapi_extra=body_doc(CorrectionIn),
)  # fmt: skip
def correct(request: Request, who: Principal = guard(P.CORRECT), body: CorrectionIn = json_body(CorrectionIn)) -> Done:
    service(request).correct(who.actor, body.event_id, dict(body.fields), body.reason, body.at)
    return Done()


class DeathIn(Strict):
    """MR 71–72, ICPPED 17(3)(g).  What is not yet known may be left out: R12 stays open until it is."""

    at: AwareDatetime
    place: str = Field(min_length=1, max_length=200)
    circumstances: str = Field(min_length=1, max_length=4000)
    cause: str | None = Field(default=None, max_length=4000)
    next_of_kin_notified_at: AwareDatetime | None = None
    independent_authority: str | None = Field(default=None, max_length=200)
    independent_authority_notified_at: AwareDatetime | None = None
    remains_destination: str | None = Field(default=None, max_length=4000)
    date_of_death: date | None = None


@router.post(
    "/people/{person_id}/death", response_model=Done, responses=responses(400, 401, 403, 404, 409, 422),
    openapi_extra=body_doc(DeathIn),
)  # fmt: skip
def death(
    person_id: str, request: Request, who: Principal = guard(P.DEATH), body: DeathIn = json_body(DeathIn)
) -> Done:
    details = {k: v for k, v in body.model_dump(exclude={"at"}).items() if v is not None}
    service(request).record_death(who.actor, person_id, body.at, **details)
    return Done()
