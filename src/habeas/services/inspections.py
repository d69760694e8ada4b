"""Inspections by oversight (MR 83–85, OPCAT Art. 19–20): record a visit, list the visits recorded.

A visit is one ``inspection.recorded`` event: date, inspectors, places visited, findings.
There is no read model for it: visits are few, and the ledger's index on event type
answers "every visit" with one indexed range read (architecture: no raw-ledger scans on a
hot path; this is an oversight page, not one).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID, uuid4

from sqlalchemy import Connection, Engine

from habeas.domain.inspection import InspectionRecorded
from habeas.errors import InvalidInput
from habeas.ledger.log import read_events
from habeas.services.register import build_payload
from habeas.services.unit_of_work import unit_of_work

EVENT = "inspection.recorded"


@dataclass(frozen=True)
class Inspection:
    inspection_id: str
    visited_on: date
    inspectors: tuple[str, ...]
    places: tuple[str, ...]
    findings: str
    recorded_by: str
    recorded_at: datetime
    seq: int  # the event's place in the ledger: an inclusion proof names it


class InspectionService:
    def __init__(
        self, engine: Engine, ledger_id: str, clock: Callable[[], datetime], new_id: Callable[[], UUID] = uuid4
    ) -> None:
        self.engine = engine
        self.ledger_id = ledger_id
        self.clock = clock
        self.new_id = new_id

    def record(
        self, actor: str, visited_on: date, inspectors: Sequence[str], places: Sequence[str], findings: str,
        at: datetime,
    ) -> str:  # fmt: skip
        """Record a visit that took place on ``visited_on``; refuses a visit dated after ``at`` (R23: no fiction)."""
        if visited_on > at.date():
            raise InvalidInput.one("visited_on", "is after the day the visit is recorded")
        payload = build_payload(
            InspectionRecorded, inspection_id=str(self.new_id()), visited_on=visited_on,
            inspectors=tuple(i.strip() for i in inspectors if i.strip()),
            places=tuple(p.strip() for p in places if p.strip()), findings=findings.strip(),
        )  # fmt: skip
        with unit_of_work(self.engine, self.ledger_id, actor, self.clock()) as work:
            work.add(EVENT, payload, at)
        return payload.inspection_id


def inspections(conn: Connection, ledger_id: str) -> list[Inspection]:
    """Every recorded visit, the latest visit first."""
    found = []
    for event in read_events(conn, ledger_id, types=[EVENT]):
        p = event.payload
        found.append(
            Inspection(
                p["inspection_id"], date.fromisoformat(p["visited_on"]), tuple(p["inspectors"]), tuple(p["places"]),
                p["findings"], event.actor, event.recorded_at, event.seq,
            )
        )  # fmt: skip
    return sorted(found, key=lambda i: (i.visited_on, i.seq), reverse=True)
