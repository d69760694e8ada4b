"""Custody episodes: admission, where the person is, and how the episode ends.

Architecture invariant 4 (nobody disappears): every person ever admitted has
exactly one current status and location.  The status machine below is the only
way a status changes; each transition is an event with its authority.
Standards: MR 7 and ICPPED 17(3) (what admission records), BoP 12, MR 68–71
(death), ICPPED 21 (release must be verifiable).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from habeas.domain.types import Code, Day, Identifier, Instant, Name, Payload, Seq, Sha256Hex, Text
from habeas.errors import Conflict
from habeas.ledger.timefmt import format_instant


class Status(StrEnum):
    ADMITTED = "admitted"  # in the facility, not yet housed (intake)
    IN_CELL = "in_cell"
    OUT = "out"  # external movement (court, hospital) with an expected return
    IN_TRANSIT = "in_transit"  # between facilities, with a destination and a deadline
    RELEASED = "released"
    TRANSFERRED = "transferred"  # out of this system, to another authority
    DECEASED = "deceased"


CLOSED = frozenset({Status.RELEASED, Status.TRANSFERRED, Status.DECEASED})
HELD = frozenset(Status) - CLOSED

LegalStatus = Literal["untried", "convicted", "civil", "immigration"]


class LegalBasis(Payload):
    """F1: the instrument a detention rests on (issue #4 grows these into a ledger of their own)."""

    instrument_id: Identifier
    kind: Literal["arrest_record", "judicial_order", "provisional_detention_order", "sentence", "transfer_instrument"]
    reference: Name  # the document's number
    issued_by: Name
    issued_at: Instant
    article: Name | None = None  # the law it applies, e.g. "CPP art. 329"
    expires_at: Instant | None = None
    document_sha256: Sha256Hex | None = None
    # A provisional detention order's CPP 8 class and the extensions that reach it (as on
    # instrument.recorded): without them an order admitted with is read as "serious", unscoped.
    offence_class: Literal["serious", "less_serious"] | None = None
    scope: Code | None = None


class Injury(Payload):
    body_part: Name
    description: Text


class PropertyItem(Payload):
    description: Name
    quantity: int = 1


class Contact(Payload):
    name: Name
    relationship: Name
    phone: Name | None = None
    address: Text | None = None
    is_minor_child: bool = False  # MR 7(f): children's ages, location and custody
    child_age: int | None = None


class CustodyAdmitted(Payload):
    """MR 7 / ICPPED 17(3)(a)–(e) / BoP 12: nobody is admitted without all of this."""

    episode_id: Identifier
    person_id: Identifier
    facility_id: Code
    booking_number: Name
    legal_status: LegalStatus
    legal_basis: LegalBasis
    detaining_authority: Name
    ordering_authority: Name
    custodian_of_record: Name  # never empty: who answers for this person (standards §5)
    arrested_at: Instant
    arrest_place: Name
    injuries_observed: Seq[Injury] = ()
    ill_treatment_complaint: Text | None = None
    property: Seq[PropertyItem] = ()
    family_contacts: Seq[Contact] = ()
    no_contact_reason: Text | None = None  # when family_contacts is empty, why


class MedicalExamined(Payload):
    """MR 30, 34: examination on admission; signs of ill-treatment documented and reported."""

    episode_id: Identifier
    person_id: Identifier
    examiner: Name
    findings: Text
    injuries: Seq[Injury] = ()
    torture_indicators: bool = False
    referred_to: Name | None = None


class CustodyPlaced(Payload):
    """Housed in a cell: from intake, on return, or moved from another cell."""

    episode_id: Identifier
    person_id: Identifier
    cell_id: Code
    unit_id: Code
    from_cell_id: Code | None = None
    reason: Text | None = None
    override_reason: Text | None = None  # an officer placed against the assigner's advice


class CustodyDeparted(Payload):
    """F8: out of the facility for a while, with a destination, authority, escort and return."""

    episode_id: Identifier
    person_id: Identifier
    purpose: Literal["court", "hospital", "other"]
    destination: Name
    authority: Name
    escort: Name
    expected_return: Instant


class CustodyReturned(Payload):
    episode_id: Identifier
    person_id: Identifier
    received_by: Name


class TransitStarted(Payload):
    episode_id: Identifier
    person_id: Identifier
    destination_facility_id: Code
    authority: Name
    escort: Name
    deadline: Instant


class TransitArrived(Payload):
    episode_id: Identifier
    person_id: Identifier
    facility_id: Code
    received_by: Name


class CustodyReleased(Payload):
    """F10 / ICPPED 21: a release is verifiable: who ordered, who verified, to whom."""

    episode_id: Identifier
    person_id: Identifier
    authority: Name
    order_reference: Name
    verified_by: Name
    handed_over_to: Name
    health_check: Text


class CustodyTransferred(Payload):
    """ICPPED 17(3)(h): transfer out, destination and the authority responsible."""

    episode_id: Identifier
    person_id: Identifier
    destination: Name
    receiving_authority: Name
    authority: Name
    order_reference: Name


class DeathReportCompleted(Payload):
    """What a death record lacked, recorded when learned (MR 71-72): R12 stays open until all is there."""

    episode_id: Identifier
    person_id: Identifier
    cause: Text | None = None
    next_of_kin_notified_at: Instant | None = None
    independent_authority: Name | None = None
    independent_authority_notified_at: Instant | None = None
    remains_destination: Text | None = None


class CustodyDied(Payload):
    """MR 71–72, ICPPED 17(3)(g).  Missing notices are allowed here and raise alerts (R12)."""

    episode_id: Identifier
    person_id: Identifier
    place: Name
    circumstances: Text
    cause: Text | None = None
    next_of_kin_notified_at: Instant | None = None
    independent_authority: Name | None = None
    independent_authority_notified_at: Instant | None = None
    remains_destination: Text | None = None
    date_of_death: Day | None = None


# --- the status machine ----------------------------------------------------------------------

TRANSITIONS: dict[str, tuple[frozenset[Status], Status | None]] = {
    # event type: (statuses it may follow, status it leads to; None = same as before)
    "custody.placed": (frozenset({Status.ADMITTED, Status.IN_CELL}), Status.IN_CELL),
    "custody.departed": (frozenset({Status.ADMITTED, Status.IN_CELL}), Status.OUT),
    "custody.returned": (frozenset({Status.OUT}), Status.ADMITTED),
    "custody.transit_started": (frozenset({Status.ADMITTED, Status.IN_CELL}), Status.IN_TRANSIT),
    "custody.transit_arrived": (frozenset({Status.IN_TRANSIT}), Status.ADMITTED),
    "custody.released": (frozenset(HELD), Status.RELEASED),
    "custody.transferred": (frozenset({Status.ADMITTED, Status.IN_CELL, Status.IN_TRANSIT}), Status.TRANSFERRED),
    "custody.died": (frozenset(HELD), Status.DECEASED),
    "medical.examined": (frozenset(HELD), None),
    "person.classified": (frozenset(HELD), None),
}

VERBS = {
    "custody.placed": "place", "custody.departed": "send out", "custody.returned": "receive back",
    "custody.transit_started": "start a transfer for", "custody.transit_arrived": "receive",
    "custody.released": "release", "custody.transferred": "transfer out",
    "custody.died": "record the death of", "medical.examined": "record an examination of",
    "person.classified": "classify",
}  # fmt: skip


@dataclass(frozen=True)
class Episode:
    """A custody episode as it stands now (read from the projection)."""

    episode_id: str
    person_id: str
    facility_id: str
    booking_number: str
    status: Status
    legal_status: str
    cell_id: str | None
    unit_id: str | None
    since: datetime  # when the current status began
    last_event_at: datetime  # the latest occurred_at of anything recorded for this episode


def check_transition(episode: Episode, event_type: str, occurred_at: datetime) -> Status:
    """The status ``event_type`` leads to, or Conflict naming why it cannot happen now."""
    allowed, to = TRANSITIONS[event_type]
    verb = VERBS[event_type]
    if episode.status not in allowed:
        raise Conflict(
            "person_id",
            f"cannot {verb} {episode.person_id} (booking {episode.booking_number}): status is "
            f"{episode.status.value}, and this needs one of {', '.join(sorted(s.value for s in allowed))}",
        )
    if occurred_at < episode.last_event_at:
        raise Conflict(
            "occurred_at",
            f"is before the last recorded change for {episode.person_id} ({format_instant(episode.last_event_at)}); "
            "an earlier fact that was missed is recorded as a correction",
        )
    return to or episode.status
