"""Roll call: a physical count per unit compared with the register (R1, R13)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from habeas.domain.types import Code, Identifier, Name, Payload, Seq


class CountRecorded(Payload):
    count_id: Identifier
    facility_id: Code
    unit_id: Code
    counted_by: Name
    present: Seq[Identifier]  # person ids seen at the count
    expected: int  # how many the register had in the unit at that instant
    missing: Seq[Identifier]  # on the register, not seen (R13)
    extra: Seq[Identifier]  # seen, not on the register for this unit (R1)


@dataclass(frozen=True)
class CountResult:
    expected: int
    missing: Seq[str]
    extra: Seq[str]

    @property
    def matches(self) -> bool:
        return not self.missing and not self.extra


def compare_count(on_register: Iterable[str], present: Iterable[str]) -> CountResult:
    """Who the register says is in the unit versus who was seen.  Sorted, so it is deterministic."""
    expected, seen = set(on_register), set(present)
    return CountResult(len(expected), tuple(sorted(expected - seen)), tuple(sorted(seen - expected)))
