"""Legal bases, cases, court orders, sentences and notifications (F1, F5, F9; standards.md §4, §6).

Every custody episode rests on at least one instrument in force at every instant
(F1, R2, R6); orders from a court, domestic or foreign, are recorded and enforced
the same way (R26); a sentence keeps its counts, the announced aggregate and the
enforceable term apart (Penal Code 45, Cn. 27, R29).
"""

from __future__ import annotations

from typing import Literal

from habeas.domain.types import Code, Day, Identifier, Instant, Name, Payload, Seq, Sha256Hex, Text

InstrumentKind = Literal[
    "arrest_record", "judicial_order", "provisional_detention_order", "sentence", "transfer_instrument",
]  # fmt: skip
# A judicial decision is any instrument from a judge: once one exists the administrative clock (R3) stops.
JUDICIAL_KINDS = frozenset({"judicial_order", "provisional_detention_order", "sentence"})


class InstrumentRecorded(Payload):
    """A legal basis for holding a person: who issued it, under what article, until when."""

    instrument_id: Identifier
    episode_id: Identifier
    person_id: Identifier
    kind: InstrumentKind
    reference: Name
    issued_by: Name
    issued_at: Instant
    article: Name | None = None
    expires_at: Instant | None = None
    document_sha256: Sha256Hex | None = None
    offence_class: Literal["serious", "less_serious"] | None = None  # CPP 8: which provisional limit
    scope: Code | None = None  # e.g. "state_of_exception": which extension instruments reach it


class InstrumentEnded(Payload):
    instrument_id: Identifier
    episode_id: Identifier
    person_id: Identifier
    reason: Text


class Charge(Payload):
    charge_id: Identifier
    offence: Name
    article: Name
    counts: int = 1


class CaseOpened(Payload):
    case_id: Identifier
    court: Name
    reference: Name
    group_case: bool = False  # Decree 803: mass proceedings grouped by gang cell
    charges: Seq[Charge] = ()


class DefendantAdded(Payload):
    case_id: Identifier
    person_id: Identifier
    counsel: Name | None = None


class HearingRecorded(Payload):
    """An individual hearing record (R28): who appeared, with which counsel, what was decided."""

    case_id: Identifier
    hearing_id: Identifier
    person_id: Identifier
    kind: Literal["initial_appearance", "review", "trial", "sentencing", "other"]
    counsel: Name | None = None
    outcome: Text


class VerdictRecorded(Payload):
    case_id: Identifier
    person_id: Identifier
    verdict: Literal["convicted", "acquitted", "dismissed"]


OrderKind = Literal["release", "produce", "no_transfer", "facilitate_return", "return"]


class OrderIssued(Payload):
    """A court order concerning a person (R26).  Foreign courts' orders are recorded the same way."""

    order_id: Identifier
    person_id: Identifier
    kind: OrderKind
    court: Name
    court_state: Code  # ISO 3166 alpha-3 of the court's state
    reference: Name
    issued_at: Instant
    deadline: Instant | None = None  # by when it must be executed (release, produce, return)
    place: Name | None = None  # where to produce or return the person
    case_id: Identifier | None = None
    document_sha256: Sha256Hex | None = None


def transfer_destination(state: str, handed_over_to: str) -> str:
    """How a transfer to another state records its destination: ``"<state>: <who took the person>"``."""
    return f"{state}: {handed_over_to}"


def goes_where_ordered(destination: str | None, court_state: str, place: str | None) -> bool:
    """Whether a transfer to ``destination`` is the return an order asked for (R26).

    A return (or facilitate-return) order of a court of state X is carried out by a transfer to X
    (a destination written by :func:`transfer_destination`), or to the very place the order names.
    The reports' case is the other one: people a foreign court ordered returned were later flown to
    a third country, and the order was never carried out.
    """
    if not destination:
        return False
    state, separator, _ = destination.partition(":")
    if separator and state.strip().upper() == court_state.upper():
        return True
    return place is not None and " ".join(destination.split()).casefold() == " ".join(place.split()).casefold()


class OrderExecuted(Payload):
    order_id: Identifier
    person_id: Identifier
    note: Text
    execution_event_id: Identifier | None = None


class OrderLifted(Payload):
    order_id: Identifier
    person_id: Identifier
    authority: Name
    reason: Text


class TermPayload(Payload):
    years: int = 0
    months: int = 0
    days: int = 0


class CountPayload(Payload):
    count_id: Identifier
    offence: Name
    article: Name
    term: TermPayload
    runs: Literal["consecutive", "concurrent"] = "consecutive"
    concurrent_with: Identifier | None = None


class CreditPayload(Payload):
    start: Day
    end: Day
    reason: Text


class SentenceRecorded(Payload):
    sentence_id: Identifier
    case_id: Identifier
    person_id: Identifier
    court: Name
    sentenced_on: Day
    counts: Seq[CountPayload]
    credits: Seq[CreditPayload] = ()
    announced_aggregate: TermPayload | None = None


NotificationKind = Literal["family", "counsel", "consulate", "sending_state", "rights_informed", "consular_rights"]


class NotificationRecorded(Payload):
    """F5 / BoP 16 / MR 68: who was told, when, by whom; or why telling them is delayed."""

    notification_id: Identifier
    person_id: Identifier
    episode_id: Identifier
    kind: NotificationKind
    recipient: Name
    by: Name
    delayed_until: Instant | None = None  # a recorded, authorized, expiring delay (R8)
    delay_authority: Name | None = None
    delay_reason: Text | None = None


class AlertAcknowledged(Payload):
    alert_id: Identifier
    note: Text
