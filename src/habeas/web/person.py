"""What the person page shows, read from the projections and the ledger (no HTML here).

The page is one person's file (MR 6–9, ICPPED 17(3)): identity, where they are now,
the legal file with its clocks (the API's ``legal_file_of``, so page and API read the
same limits), the bitemporal timeline and the open alerts.  What a role may see
follows ``domain.access.POLICY``: cells and admission details need ``facility.read``
(never a liaison or a court), medical details ``medical.read``, the timeline
``history.read``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, or_, select

from habeas.domain.access import Permission, Principal, allowed
from habeas.ledger.envelope import StoredEvent
from habeas.services import queries
from habeas.store.law_tables import orders
from habeas.store.register_tables import alerts, facilities, units
from habeas.web.i18n import N_

# Payload fields that carry health information (MR 24–35: medical confidentiality).
MEDICAL_FIELDS = frozenset({"injuries_observed", "ill_treatment_complaint", "findings", "injuries",
                            "torture_indicators", "referred_to", "cause", "health_check"})  # fmt: skip
# Payload fields that place a person inside the facility: not for a liaison or a court (facility level only).
CELL_FIELDS = frozenset({"cell_id", "unit_id", "from_cell_id"})
# Internal identifiers the reader has no use for.
HIDDEN_FIELDS = frozenset({"episode_id", "person_id", "instrument_id", "order_id", "sentence_id", "hearing_id",
                           "case_id", "corrects_event_id", "corrected_fields"})  # fmt: skip
MEDICAL_EVENTS = frozenset({"medical.examined"})

EVENT_NAMES = {
    "person.registered": N_("Person registered"), "person.classified": N_("Classified"),
    "custody.admitted": N_("Admitted"), "medical.examined": N_("Medical examination"),
    "custody.placed": N_("Placed in a cell"), "custody.departed": N_("Left the facility (court or hospital)"),
    "custody.returned": N_("Returned"), "custody.transit_started": N_("Transfer between facilities started"),
    "custody.transit_arrived": N_("Arrived at the facility"), "custody.released": N_("Released"),
    "custody.transferred": N_("Transferred to another authority"), "custody.died": N_("Died in custody"),
    "death.report_completed": N_("Death report completed"), "event.corrected": N_("Correction"),
    "instrument.recorded": N_("Legal basis recorded"), "instrument.ended": N_("Legal basis ended"),
    "case.defendant_added": N_("Named in a case"), "case.hearing_recorded": N_("Hearing"),
    "case.verdict_recorded": N_("Verdict"), "order.issued": N_("Court order issued"),
    "order.executed": N_("Court order executed"), "order.lifted": N_("Court order lifted"),
    "sentence.recorded": N_("Sentence recorded"), "notification.recorded": N_("Notification"),
    "alert.raised": N_("Alert raised"), "alert.resolved": N_("Alert resolved"),
}  # fmt: skip

FIELD_NAMES = {
    "given_names": N_("Given names"), "family_names": N_("Family names"), "birth_date": N_("Date of birth"),
    "sex": N_("Sex"), "gender_identity": N_("Gender identity (self-perceived)"), "nationalities": N_("Nationalities"),
    "aliases": N_("Aliases"), "documents": N_("Identity documents"), "facility_id": N_("Facility"),
    "booking_number": N_("Booking number"), "legal_status": N_("Legal status"), "legal_basis": N_("Legal basis"),
    "detaining_authority": N_("Detaining authority"), "ordering_authority": N_("Ordering authority"),
    "custodian_of_record": N_("Custodian of record"), "arrested_at": N_("Time of arrest"),
    "arrest_place": N_("Place of arrest"), "injuries_observed": N_("Injuries observed"),
    "ill_treatment_complaint": N_("Complaint of prior ill-treatment"), "property": N_("Property"),
    "family_contacts": N_("Family contacts"), "no_contact_reason": N_("Why no contact is recorded"),
    "cell_id": N_("Cell"), "unit_id": N_("Unit"), "from_cell_id": N_("From cell"), "reason": N_("Reason"),
    "examiner": N_("Examiner"), "findings": N_("Findings"), "injuries": N_("Injuries"),
    "torture_indicators": N_("Signs of torture or ill-treatment"), "referred_to": N_("Referred to"),
    "destination": N_("Destination"), "authority": N_("Authority"), "escort": N_("Escort"),
    "expected_return": N_("Expected back"), "received_by": N_("Received by"), "purpose": N_("Purpose"),
    "order_reference": N_("Order"), "verified_by": N_("Verified by"), "handed_over_to": N_("Handed over to"),
    "health_check": N_("Health check"), "receiving_authority": N_("Receiving authority"), "place": N_("Place"),
    "circumstances": N_("Circumstances"), "cause": N_("Cause"), "kind": N_("Kind"), "reference": N_("Reference"),
    "issued_by": N_("Issued by"), "issued_at": N_("Issued"), "expires_at": N_("Expires"), "court": N_("Court"),
    "deadline": N_("Deadline"), "recipient": N_("Recipient"), "rule": N_("Rule"), "message": N_("Message"),
    "risk_level": N_("Risk level"), "group_affiliation": N_("Group affiliation"), "outcome": N_("Outcome"),
    "verdict": N_("Verdict"), "occurred_at": N_("When it happened"), "counsel": N_("Counsel"),
}  # fmt: skip


BASIS_KIND_NAMES = {  # domain.custody.LegalBasis.kind and domain.law.InstrumentKind
    "arrest_record": N_("arrest record"), "judicial_order": N_("judicial order"),
    "provisional_detention_order": N_("provisional detention order"), "sentence": N_("sentence"),
    "transfer_instrument": N_("transfer instrument"),
}  # fmt: skip
# What the legal file's clocks (api.routes.law) call each limit, marked so the catalogs translate them.
CLOCK_NAMES = (N_("administrative detention before a judge"), N_("provisional detention (CPP 8)"),
               N_("the instrument's expiry"))  # fmt: skip


@dataclass(frozen=True)
class Correction:
    field: str  # a FIELD_NAMES key (or the raw name)
    before: str  # the fact first recorded
    after: str  # the fact as corrected


@dataclass
class TimelineRow:
    seq: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    details: list[tuple[str, str | datetime]]  # (field name, value as text, or an instant to format)
    withheld: bool = False  # details the reader's role may not see (medical)
    corrects: int | None = None  # the seq of the entry this correction corrects
    corrections: list[Correction] = field(default_factory=list)  # what this correction changed (both facts)
    reason: str | None = None
    corrected_by: list[int] = field(default_factory=list)  # later corrections of this entry


@dataclass(frozen=True)
class AlertRow:
    rule: str
    severity: str
    message: str
    raised_at: datetime


def as_text(value: Any) -> str:
    """A payload value as one line of text: lists joined with "; ", objects as their values (times left out)."""
    if isinstance(value, list | tuple):
        return "; ".join(as_text(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(
            as_text(v) for k, v in value.items()
            if v not in (None, "", False) and k != "instrument_id" and not k.endswith("_at")
        )  # fmt: skip
    if value is True:
        return "✓"
    return "" if value is None else str(value)


def _instant(value: Any) -> datetime | None:
    """A payload's UTC instant ("2025-03-15T19:04:00.000000Z") as a datetime, so the page formats it."""
    if isinstance(value, str) and len(value) >= 20 and value.endswith("Z") and value[10:11] == "T":
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def timeline(events: list[StoredEvent], who: Principal) -> list[TimelineRow]:
    """The person's events in the order recorded; each correction beside both facts (invariant 2)."""
    medical = allowed(who.role, Permission.MEDICAL_READ)
    cells = allowed(who.role, Permission.FACILITY_READ)
    by_id = {e.event_id: e for e in events}
    rows: dict[int, TimelineRow] = {}
    for e in events:
        payload = e.payload
        withheld = not medical and (e.type in MEDICAL_EVENTS or bool(MEDICAL_FIELDS & payload.keys()))
        details: list[tuple[str, str | datetime]] = [
            (name, _instant(value) or as_text(value))
            for name, value in payload.items()
            if name not in HIDDEN_FIELDS and value not in (None, "", [], {}) and value is not False
            and (medical or name not in MEDICAL_FIELDS) and (cells or name not in CELL_FIELDS)
            and not (e.type in MEDICAL_EVENTS and not medical)
        ]  # fmt: skip
        row = TimelineRow(e.seq, e.type, e.occurred_at, e.recorded_at, e.actor, details, withheld)
        if e.type == "event.corrected":
            row.details = []  # shown as the two facts and the reason instead
            original = by_id.get(payload["corrects_event_id"])
            row.reason = payload.get("reason")
            if original is not None:
                row.corrects = original.seq
                rows[original.seq].corrected_by.append(e.seq)
                before = original.payload
                for name, after in payload.get("corrected_fields", {}).items():
                    old = original.occurred_at.isoformat() if name == "occurred_at" else as_text(before.get(name))
                    row.corrections.append(Correction(name, old, as_text(after)))
        rows[e.seq] = row
    return list(rows.values())


def open_alerts(conn: Connection, ledger: str, person_id: str) -> list[AlertRow]:
    """Open alerts about the person or one of their court orders, gravest first."""
    order_ids = select(orders.c.order_id).where(orders.c.ledger_id == ledger, orders.c.person_id == person_id)
    rank = {"critical": 0, "high": 1, "medium": 2, "info": 3}
    found = [
        AlertRow(r.rule, r.severity, r.message, r.raised_at)
        for r in conn.execute(
            select(alerts.c.rule, alerts.c.severity, alerts.c.message, alerts.c.raised_at).where(
                alerts.c.ledger_id == ledger, alerts.c.resolved_at.is_(None),
                or_(alerts.c.subject == person_id, alerts.c.subject.in_(order_ids)),
            )
        )
    ]  # fmt: skip
    return sorted(found, key=lambda a: (rank.get(a.severity, 9), a.raised_at))


def place_names(conn: Connection, ledger: str) -> dict[str, str]:
    """Facility and unit ids to their names (a page shows names, not codes)."""
    names = {r.facility_id: r.name for r in conn.execute(
        select(facilities.c.facility_id, facilities.c.name).where(facilities.c.ledger_id == ledger))}  # fmt: skip
    names.update({r.unit_id: r.name for r in conn.execute(
        select(units.c.unit_id, units.c.name).where(units.c.ledger_id == ledger))})  # fmt: skip
    return names


def admission_event(events: list[StoredEvent], episode_id: str) -> dict[str, Any] | None:
    """The custody.admitted payload of ``episode_id``: the MR 7 record of that admission."""
    for e in events:
        if e.type == "custody.admitted" and e.payload.get("episode_id") == episode_id:
            return e.payload
    return None


def where_now(conn: Connection, ledger: str, person_id: str, now: datetime) -> queries.Whereabouts | None:
    return queries.where_at(conn, ledger, person_id, now)


def decode(value: str | bytes | None) -> Any:
    return orjson.loads(value) if value else None
