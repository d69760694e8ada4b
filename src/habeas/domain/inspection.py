"""An inspection visit recorded by oversight (MR 83–85; OPCAT Art. 19–20): who came, where they went, what they found.

The smallest honest record of a visit: its date, the inspectors, the places visited and the
findings, appended to the ledger like every other fact, so a facility cannot quietly drop it.
"""

from __future__ import annotations

from pydantic import Field

from habeas.domain.types import Day, Identifier, Name, Payload, Seq, Text


class InspectionRecorded(Payload):
    inspection_id: Identifier
    visited_on: Day
    inspectors: Seq[Name] = Field(min_length=1, max_length=50)
    places: Seq[Name] = Field(min_length=1, max_length=200)
    findings: Text
