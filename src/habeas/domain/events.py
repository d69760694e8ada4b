"""The catalogue of event types habeas records, with their payload schemas.

Each type is registered with a version; a changed shape is a new version and the
old one stays readable (events are never rewritten, see architecture §Storage).
"""

from __future__ import annotations

from habeas.domain.types import Name, Payload, Text
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
    references: tuple[Name, ...] = ()


class EventCorrected(Payload):
    """Architecture invariant 2: a mistake is fixed by an event naming the one it corrects."""

    corrects_event_id: Name
    reason: Text
    corrected_fields: dict[str, Text | int | bool | None]


def build_registry() -> EventRegistry:
    registry = EventRegistry()
    registry.register("ledger.opened", 1, LedgerOpened)
    registry.register("note.recorded", 1, NoteRecorded)
    registry.register("event.corrected", 1, EventCorrected)
    return registry


REGISTRY = build_registry()
