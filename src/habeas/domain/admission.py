"""An admission request: what a person's admission must state (MR 7, ICPPED 17(3), BoP 12).

Used by the register service (one admission) and by the manifest parser (thousands);
``admission_rules`` holds the cross-field rules no single field's type can state.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from habeas.domain import custody as c
from habeas.errors import Problem


class Identity(BaseModel):
    """Who is being admitted (MR 7(a)); a new person record is created from it when needed."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    given_names: str = Field(min_length=1, max_length=200)
    family_names: str = Field(min_length=1, max_length=200)
    aliases: tuple[str, ...] = ()
    birth_date: date | None = None
    birth_date_estimated: bool = False
    sex: str = Field(pattern="^[FMX]$")
    gender_identity: str | None = None
    nationalities: tuple[str, ...] = ()
    documents: tuple[dict[str, str], ...] = ()


class Admission(BaseModel):
    """An admission request: every field MR 7 and ICPPED 17(3) require, nothing optional by accident."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    facility_id: str
    identity: Identity | None = None
    person_id: str | None = None  # an existing record (a returning person, or a confirmed duplicate)
    confirm_new_person: bool = False  # the officer reviewed the possible duplicates and this is someone else
    legal_status: c.LegalStatus
    legal_basis: c.LegalBasis
    detaining_authority: str
    ordering_authority: str
    custodian_of_record: str | None = None  # default: the facility's responsible authority
    arrested_at: datetime
    arrest_place: str
    admitted_at: datetime
    injuries_observed: tuple[c.Injury, ...] = ()
    ill_treatment_complaint: str | None = None
    property: tuple[c.PropertyItem, ...] = ()
    family_contacts: tuple[c.Contact, ...] = ()
    no_contact_reason: str | None = None


def admission_rules(r: Admission, now: datetime) -> list[Problem]:
    """Form rules of an admission that no schema can state alone."""
    out = []
    if (r.identity is None) == (r.person_id is None):
        out.append(Problem("identity", "give either identity (a new person) or person_id (a known one), not both"))
    for name in ("arrested_at", "admitted_at"):
        value: datetime = getattr(r, name)
        if value.utcoffset() is None:
            out.append(Problem(name, "must carry a time zone (UTC)"))
        elif value > now:
            out.append(Problem(name, "is in the future"))
    if not out and r.arrested_at > r.admitted_at:
        out.append(Problem("arrested_at", "is after admitted_at"))
    if not r.family_contacts and not r.no_contact_reason:
        out.append(Problem("family_contacts", "MR 7(f): give at least one contact, or no_contact_reason"))
    for name in ("detaining_authority", "ordering_authority", "arrest_place"):
        if not getattr(r, name).strip():
            out.append(Problem(name, "must not be empty (ICPPED 17(3)(b)-(c))"))
    if r.custodian_of_record is not None and not r.custodian_of_record.strip():
        out.append(Problem("custodian_of_record", "must never be empty (standards §5)"))
    if r.legal_basis.expires_at is not None and r.legal_basis.expires_at <= r.admitted_at:
        out.append(Problem("legal_basis.expires_at", "R2: the legal basis has expired before admission"))
    if r.legal_basis.issued_at > r.admitted_at:
        out.append(Problem("legal_basis.issued_at", "R2: the legal basis was issued after the admission"))
    return out
