"""No sign-in: the family locator and aggregate statistics, both rate-limited per client."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from habeas.api.problems import responses
from habeas.api.security import app_state, public
from habeas.errors import InvalidInput
from habeas.reports import locator
from habeas.reports.statistics import statistics

router = APIRouter(prefix="/public", tags=["public"])


class LocatedOut(BaseModel):
    status: str = Field(description="held, released, transferred, died in custody, ... (never cell or detail)")
    facility: str
    facility_place: str
    responsible_authority: str
    since: date
    transferred_to: str | None


class LocatorOut(BaseModel):
    found: list[LocatedOut]
    note: str = (
        "Only exact matches are shown. If you cannot find someone who was detained, the authorities must tell you "
        "where they are (ICPPED Art. 18); this right cannot be suspended (Art. 20)."
    )


@router.get("/locator", response_model=LocatorOut, responses=responses(422, 429), dependencies=[public()])
def locate(
    request: Request,
    document_kind: Annotated[
        Literal["national_id", "passport", "foreign_registration"] | None, Query(description="with issuer and number")
    ] = None,
    issuer: Annotated[str | None, Query(max_length=16, description="ISO 3166 alpha-3, e.g. SLV")] = None,
    number: Annotated[str | None, Query(max_length=64)] = None,
    full_name: Annotated[
        str | None, Query(max_length=300, description="given and family names, with birth_date")
    ] = None,
    birth_date: date | None = None,
) -> LocatorOut:
    state = app_state(request)
    with state.config.engine.connect() as conn:
        if document_kind and issuer and number:
            found = locator.by_document(conn, state.config.ledger_id, document_kind, issuer, number)
        elif full_name and full_name.strip() and birth_date:
            found = locator.by_name(conn, state.config.ledger_id, full_name, birth_date)
        else:
            raise InvalidInput.one(
                "query", "give document_kind, issuer and number, or full_name and birth_date (exact matches only)"
            )
    return LocatorOut(found=[LocatedOut(**asdict(f)) for f in found])


class FigureOut(BaseModel):
    value: int | None
    suppressed: bool


class FacilityOut(BaseModel):
    facility_id: str
    name: str
    population: FigureOut
    declared_capacity: int
    icrc_capacity: int
    cpt_capacity: int
    floor_area_m2: Decimal
    m2_per_person: Decimal | None
    occupancy_rate_declared: Decimal | None
    occupancy_rate_icrc: Decimal | None


class FlowOut(BaseModel):
    month: str
    admissions: FigureOut
    releases: FigureOut
    transfers_out: FigureOut
    deaths_in_custody: FigureOut


class StatisticsOut(BaseModel):
    at: datetime
    small_number: int = Field(description="counts from 1 to small_number - 1 are suppressed")
    facilities: list[FacilityOut] = Field(description="stock: people held at `at`")
    flows: list[FlowOut] = Field(description="flow: events per calendar month (UTC)")


@router.get("/statistics", response_model=StatisticsOut, responses=responses(429), dependencies=[public()])
def public_statistics(request: Request) -> StatisticsOut:
    state = app_state(request)
    with state.config.engine.connect() as conn:
        stats = statistics(conn, state.config.ledger_id, state.config.clock(), state.config.small_number)
    return StatisticsOut.model_validate(asdict(stats))
