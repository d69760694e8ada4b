"""Facilities, units and cells: where people can be, and how much room there is.

Standards.md §2: keep declared (design) capacity apart from standards-based capacity
(usable floor area ÷ the per-person minimum); a prison can be at 40% of declared
capacity and far above what its floor area allows.
"""

from __future__ import annotations

from typing import Literal

from habeas.domain.types import Code, Count, DecimalText, Name, Payload, Text


class FacilityRegistered(Payload):
    facility_id: Code
    name: Name
    responsible_authority: Name  # ICPPED 17(3)(e): the authority responsible for the place
    declared_capacity: Count
    jurisdiction: Code  # which policy file applies (time limits, space standards)
    place: Name
    country: Code | None = None  # ISO 3166 alpha-3; who is a foreign national here (R9); default from jurisdiction


class UnitRegistered(Payload):
    facility_id: Code
    unit_id: Code
    name: Name
    kind: Literal["pavilion", "module", "wing", "intake", "medical", "other"] = "pavilion"
    declared_capacity: Count | None = None


class CellRegistered(Payload):
    facility_id: Code
    unit_id: Code
    cell_id: Code
    beds: Count
    floor_area_m2: DecimalText  # usable area, excluding a partitioned toilet (CPT/Inf (2015) 44)
    single: bool = False
    toilets: Count = 0


class CellClosed(Payload):
    cell_id: Code
    reason: Text


class CellReopened(Payload):
    cell_id: Code
    reason: Text
