"""The catalogue of event types habeas records, with their payload schemas.

Each type is registered with a version; a changed shape is a new version and the
old one stays readable (events are never rewritten, see architecture §Storage).
"""

from __future__ import annotations

from habeas.domain import accounts, alerts, custody, facility, inspection, law, person, rollcall, transfer
from habeas.domain.types import Identifier, Name, Payload, Seq, Text
from habeas.ledger.registry import EventRegistry


class LedgerOpened(Payload):
    """The first event of every ledger: what it is the register of, and who keeps it."""

    origin: Name
    description: Text
    custodian: Name


class NoteRecorded(Payload):
    """A free-text entry in the register's log book, about a subject (a person, a cell, ...)."""

    subject: Name
    text: Text
    references: Seq[Name] = ()


class EventCorrected(Payload):
    """Architecture invariant 2: a mistake is fixed by an event naming the one it corrects."""

    corrects_event_id: Identifier
    reason: Text
    corrected_fields: dict[str, Text | int | bool | None]


CATALOGUE: dict[str, type[Payload]] = {
    "ledger.opened": LedgerOpened,
    "note.recorded": NoteRecorded,
    "event.corrected": EventCorrected,
    "facility.registered": facility.FacilityRegistered,
    "unit.registered": facility.UnitRegistered,
    "cell.registered": facility.CellRegistered,
    "cell.closed": facility.CellClosed,
    "cell.reopened": facility.CellReopened,
    "person.registered": person.PersonRegistered,
    "person.classified": person.PersonClassified,
    "custody.admitted": custody.CustodyAdmitted,
    "medical.examined": custody.MedicalExamined,
    "custody.placed": custody.CustodyPlaced,
    "custody.departed": custody.CustodyDeparted,
    "custody.returned": custody.CustodyReturned,
    "custody.transit_started": custody.TransitStarted,
    "custody.transit_arrived": custody.TransitArrived,
    "custody.released": custody.CustodyReleased,
    "custody.transferred": custody.CustodyTransferred,
    "custody.died": custody.CustodyDied,
    "death.report_completed": custody.DeathReportCompleted,
    "count.recorded": rollcall.CountRecorded,
    "alert.raised": alerts.AlertRaised,
    "alert.resolved": alerts.AlertResolved,
    "alert.acknowledged": law.AlertAcknowledged,
    "instrument.recorded": law.InstrumentRecorded,
    "instrument.ended": law.InstrumentEnded,
    "case.opened": law.CaseOpened,
    "case.defendant_added": law.DefendantAdded,
    "case.hearing_recorded": law.HearingRecorded,
    "case.verdict_recorded": law.VerdictRecorded,
    "order.issued": law.OrderIssued,
    "order.executed": law.OrderExecuted,
    "order.lifted": law.OrderLifted,
    "sentence.recorded": law.SentenceRecorded,
    "notification.recorded": law.NotificationRecorded,
    "account.created": accounts.AccountCreated,
    "account.disabled": accounts.AccountDisabled,
    "account.enabled": accounts.AccountEnabled,
    "account.password_changed": accounts.PasswordChanged,
    "account.token_issued": accounts.TokenIssued,
    "account.token_revoked": accounts.TokenRevoked,
    "account.locked": accounts.AccountLocked,
    "inspection.recorded": inspection.InspectionRecorded,  # MR 83–85: oversight's visits
    **transfer.CATALOGUE,  # transfers between states, invoices (issue #5)
}


def build_registry() -> EventRegistry:
    registry = EventRegistry()
    for type_name, model in CATALOGUE.items():
        registry.register(type_name, 1, model)
    return registry


REGISTRY = build_registry()
