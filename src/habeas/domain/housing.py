"""Housing: who may share a cell, how many a cell holds by standards, and a plan for an intake (F7).

Pure: no I/O, no clock.  The same input gives the same output, and because people and
cells are ordered by their ids the order in which they are given does not matter either.

Rules
=====
Hard rules — :func:`propose` never breaks them; :func:`check_placement` names each one a
manual placement or override would break:

* nobody is placed in a cell that is out of service;
* never more occupants than beds (MR 21: a separate bed for every prisoner; R19).  A
  person who cannot get a bed is reported in ``Proposal.unplaced`` with the reason —
  the plan never "squeezes one more in";
* separation, against the cell's current occupants *and* everyone the same plan puts
  there: MR 11(a) men and women apart (someone recorded as ``"X"`` shares only with
  others recorded as ``"X"``); MR 11(b) untried apart from convicted; MR 11(c) civil
  (and immigration) detainees apart from those held for a criminal offence — with
  ``HousingPolicy.separate_legal_status`` every legal status is held apart from every
  other, without it legal status is not used; MR 11(d) minors apart from adults; and
  people recorded in groups the policy lists as rivals never share a cell.  The rival
  rule is a safety separation: it applies even to an unsubstantiated affiliation and
  says nothing about whether the affiliation is true.

Soft rule — preferred, and never hidden: the standards-based capacity of a cell
(standards §2) is ``floor(usable area / m² per person)``, 3.4 m² shared and 5.4 m² single
by default (ICRC 2012), and a single cell holds at most one person by standards however
large it is.  The plan stays within it wherever it can; where it cannot, it spreads the
excess and the :class:`Proposal` says by how much each cell and the plan exceed it (R16,
R20).  People already in a cell stay where they are: the plan only adds.

Method
======
People are partitioned into *separation classes*: same sex, same legal status (when the
policy separates them), same minor/adult status and same recorded group.  Members of one
class may always share a cell.  Every person takes the cheapest *slot* available to their
class, where the ``j``-th place in a cell (``j`` counting the people already there) costs,
compared in this order:

1. ``0`` if ``j`` is within the cell's standards-based capacity, else ``1``;
2. within the standard only: ``0`` for a cell the class already uses, ``1`` for claiming an
   empty cell — so a class fills its cells to the standard before taking a new one and
   keeps empty cells free for later, possibly incompatible, admissions;
3. the resulting persons per m², ``j / area`` — the water level, kept in a heap per class;
4. the cell id (ties).

A place beyond the cell's beds does not exist.  Cells available to a class are: cells
occupied before the plan whose every occupant (including those the plan adds) is
compatible with the class, the empty cells the class has claimed, and the pool of empty
in-service cells.  An empty cell, once claimed, takes only its claiming class.  Classes
take turns in proportion to their size (member ``i`` of a class of ``n`` goes at time
``(2i+1)/2n``), so when empty cells run out they have been divided roughly in proportion to
need.

Bound (what is guaranteed, and where it is a heuristic)
-------------------------------------------------------
Always: the hard rules above, and every person is either assigned or unplaced with a reason.

An intake of one class: let ``F`` be the free beds and ``W`` the free places within
the standard (``Σ max(0, min(beds, capacity) − occupants)``) over the in-service cells
compatible with the class.  The plan places ``min(n, F)`` people, of whom exactly
``max(0, min(n, F) − W)`` are above the standard — the fewest possible.  When that is
positive, the highest persons per m² of any cell is the lowest possible among plans placing
as many people with as few above the standard: each cell's slot costs increase, so taking
the cheapest slot each time takes the ``n`` cheapest slots overall (the classic exchange
argument for unit jobs on related machines).  Cells of equal area, beds and kind (single
or shared) that the plan fills then differ by at most one person.  Within the standard the plan packs (by rule 2)
rather than minimising density.

Several classes: dividing empty cells between classes is a bin-packing-type problem and
the turn-taking above is a heuristic.  What it guarantees: if no cell is occupied before
the plan, everyone is placed and nobody above the standard whenever
``W ≥ n + (K − 1)·max(0, R − 1)``, where ``W`` is the within-standard room
(``min(beds, capacity)``) of the empty in-service cells, ``K`` the number of classes and ``R``
the largest within-standard room of one cell: a class claims a new cell only when its
others are full to the standard, so each class leaves at most one claimed cell short, by at
most ``R − 1``.  With ``K = 1`` this is exactly ``W ≥ n``.  A person is unplaced only if,
at their turn, every in-service cell with a free bed holds someone they must be kept apart
from or was claimed by another class; a different division of empty cells could sometimes
have placed them.  Beyond the standard each class's excess is spread over its own cells
optimally, as for one class; across classes the crowding is evened only as far as the
proportional turn-taking does (for the 15,000-person CECOT case it reaches the best peak
any division of the cells gives, 59 per 100 m² cell — tested, not proven in general).

Complexity: ``O(n log n)`` to order people, then ``O(log c)`` heap work per placement, plus
``O(K·c)`` to set up and re-key cells occupied before the plan that several classes can use:
``O(n log n + (n + c) log c)`` for one class, ``O(n log n + K·(n + c) log c)`` at worst.
Densities are compared as binary floats (deterministic; capacities and excesses are exact
integers from ``Decimal`` arithmetic).  2,000 people into the 256 cells of standards §3 take
under 10 ms; 15,000 about 50 ms.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Context, Decimal
from typing import Final, Literal

from habeas.errors import InvalidInput, Problem

Sex = Literal["F", "M", "X"]  # same vocabulary as habeas.domain.person (domain code may not import it here)
LegalStatus = Literal["untried", "convicted", "civil", "immigration"]  # as habeas.domain.custody

SEXES: Final[frozenset[str]] = frozenset({"F", "M", "X"})
LEGAL_STATUSES: Final[frozenset[str]] = frozenset({"untried", "convicted", "civil", "immigration"})
_CRIMINAL: Final[frozenset[str]] = frozenset({"untried", "convicted"})
# a fixed decimal context, so results never depend on the caller's decimal settings
_EXACT: Final = Context(prec=28, rounding=ROUND_FLOOR)
_ECHR_MINIMUM_M2: Final = Decimal(3)  # below this in shared accommodation: presumption of degrading treatment (R18)

METHOD: Final = (
    "separation classes (sex, legal status, minor, group) take turns in proportion to size; each person takes "
    "the cheapest free bed open to their class, cost = (beyond standards-based capacity?, claims an empty cell?, "
    "resulting persons per m²); optimal for one class (fewest above the standard, then lowest peak density), "
    "a heuristic for dividing empty cells between classes; O(n log n + (n + c) log c) for one class"
)


def _floor_cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_FLOOR, context=_EXACT)


def _problem_if(problems: list[Problem], failed: bool, field_name: str, rule: str) -> None:
    if failed:
        problems.append(Problem(field_name, rule))


@dataclass(frozen=True)
class Occupant:
    """The separation profile of someone housed, or to be housed (MR 11)."""

    person_id: str
    sex: Sex  # MR 11(a)
    legal_status: LegalStatus  # MR 11(b), (c)
    minor: bool  # MR 11(d)
    group: str | None = None  # recorded affiliation, perhaps unsubstantiated; used only for safety separation

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        _problem_if(
            problems, not isinstance(self.person_id, str) or not self.person_id, "person_id", "a non-empty string"
        )
        _problem_if(problems, self.sex not in SEXES, "sex", "one of 'F', 'M', 'X'")
        _problem_if(
            problems,
            self.legal_status not in LEGAL_STATUSES,
            "legal_status",
            "one of 'untried', 'convicted', 'civil', 'immigration'",
        )
        _problem_if(problems, not isinstance(self.minor, bool), "minor", "a bool")
        _problem_if(
            problems,
            self.group is not None and (not isinstance(self.group, str) or not self.group),
            "group",
            "None or a non-empty string",
        )
        if problems:
            raise InvalidInput(problems)


Person = Occupant  # someone to be housed has the same separation profile as someone housed


@dataclass(frozen=True)
class Cell:
    """A cell as it is now: geometry, beds, whether it is in service, and who is in it."""

    cell_id: str
    unit_id: str
    beds: int
    floor_area_m2: Decimal  # usable floor area, a fully partitioned toilet excluded
    single: bool = False  # a single cell (its own, stricter standard) rather than shared accommodation
    in_service: bool = True
    occupants: tuple[Occupant, ...] = ()

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        _problem_if(problems, not isinstance(self.cell_id, str) or not self.cell_id, "cell_id", "a non-empty string")
        _problem_if(problems, not isinstance(self.unit_id, str) or not self.unit_id, "unit_id", "a non-empty string")
        _problem_if(
            problems,
            isinstance(self.beds, bool) or not isinstance(self.beds, int) or self.beds < 0,
            "beds",
            "an int ≥ 0",
        )
        area = self.floor_area_m2
        _problem_if(
            problems,
            not isinstance(area, Decimal) or not area.is_finite() or area <= 0,
            "floor_area_m2",
            "a finite Decimal > 0 (never a float)",
        )
        _problem_if(
            problems,
            not isinstance(self.occupants, tuple) or not all(isinstance(o, Occupant) for o in self.occupants),
            "occupants",
            "a tuple of Occupant",
        )
        if not problems:
            ids = [o.person_id for o in self.occupants]
            _problem_if(problems, len(set(ids)) != len(ids), "occupants", "each person at most once")
        if problems:
            raise InvalidInput(problems)


@dataclass(frozen=True)
class HousingPolicy:
    """Space standards and separation choices.  Defaults: ICRC (2012) minimum space per person."""

    shared_m2_per_person: Decimal = Decimal("3.4")  # ICRC shared accommodation (CPT: 4)
    single_m2_per_person: Decimal = Decimal("5.4")  # ICRC single cell (CPT: 6)
    rival_groups: frozenset[frozenset[str]] = frozenset()  # pairs of groups that must never share a cell
    separate_legal_status: bool = True  # MR 11(b), (c): every legal status apart from every other

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        for name in ("shared_m2_per_person", "single_m2_per_person"):
            value = getattr(self, name)
            _problem_if(
                problems,
                not isinstance(value, Decimal) or not value.is_finite() or value <= 0,
                name,
                "a finite Decimal > 0 (never a float)",
            )
        pairs_ok = isinstance(self.rival_groups, frozenset) and all(
            isinstance(pair, frozenset) and len(pair) == 2 and all(isinstance(g, str) and g for g in pair)
            for pair in self.rival_groups
        )
        _problem_if(problems, not pairs_ok, "rival_groups", "a frozenset of pairs of two different group names")
        _problem_if(problems, not isinstance(self.separate_legal_status, bool), "separate_legal_status", "a bool")
        if problems:
            raise InvalidInput(problems)

    def rivals(self, group_a: str | None, group_b: str | None) -> bool:
        """Whether people recorded in these two groups must never share a cell."""
        if group_a is None or group_b is None or group_a == group_b:
            return False
        return frozenset((group_a, group_b)) in self.rival_groups


@dataclass(frozen=True)
class Proposal:
    """A housing plan for an intake, and what it does to crowding.  Nothing here is hidden."""

    assignments: dict[str, str]  # person_id -> cell_id
    unplaced: dict[str, str]  # person_id -> why no cell could take them
    cells_over_standard: dict[str, int]  # cell_id -> persons above its standards-based capacity after the plan
    persons_above_standard: int  # persons this plan adds beyond standards-based capacity
    total_above_standard: int  # persons beyond standards-based capacity after the plan, incl. those already there
    standards_capacity: int  # standards-based capacity of the in-service cells given
    population_after: int  # people in the cells given, after the plan
    min_m2_per_person: Decimal | None  # the most crowded cell after the plan, rounded down to 0.01 m²
    method: str = METHOD

    def summary(self) -> str:
        """One paragraph for the report: placed, unplaced, and crowding against the standard."""
        crowded = (
            "no occupied cell"
            if self.min_m2_per_person is None
            else (f"{self.min_m2_per_person} m² per person in the most crowded cell")
        )
        return (
            f"{len(self.assignments)} placed, {len(self.unplaced)} unplaced (no bed that separation allows). "
            f"Standards-based capacity {self.standards_capacity}; population after the plan "
            f"{self.population_after}; this plan places {self.persons_above_standard} above it, "
            f"{self.total_above_standard} are above it in all, in {len(self.cells_over_standard)} cell(s); "
            f"{crowded}. Method: {self.method}."
        )


def standards_capacity(cell: Cell, policy: HousingPolicy) -> int:
    """How many people the cell holds by the space standard: floor(area ÷ m² per person); at most 1 if single.

    This is not the declared, operational or emergency capacity (standards §2), and it
    ignores beds: a cell can have 80 beds and a standards-based capacity of 29.
    """
    if cell.single:
        return min(1, int(cell.floor_area_m2 // policy.single_m2_per_person))
    return int(cell.floor_area_m2 // policy.shared_m2_per_person)


# --- separation ---------------------------------------------------------------------------------------------

_Profile = tuple[str, str, bool, str | None]  # (sex, legal status, minor, group)
_RULE_ORDER: Final = {"sex": 0, "status": 1, "minor": 2, "rival": 3}  # MR 11(a), (b)-(c), (d), then rival groups


def _profile(person: Occupant) -> _Profile:
    return (person.sex, person.legal_status, person.minor, person.group)


def _breaches(a: _Profile, b: _Profile, policy: HousingPolicy) -> list[str]:
    """The separation rules (as codes) two profiles sharing a cell would break."""
    codes: list[str] = []
    if a[0] != b[0]:
        codes.append("sex")
    if policy.separate_legal_status and a[1] != b[1]:
        codes.append("status")
    if a[2] != b[2]:
        codes.append("minor")
    if policy.rivals(a[3], b[3]):
        codes.append("rival")
    return codes


def compatible(a: Occupant, b: Occupant, policy: HousingPolicy) -> bool:
    """Whether ``a`` and ``b`` may share a cell under MR 11 and the policy's rival groups."""
    return not _breaches(_profile(a), _profile(b), policy)


def _status_rule(a: str, b: str) -> str:
    if {a, b} == _CRIMINAL:
        return "MR 11(b) (untried apart from convicted)"
    if (a in _CRIMINAL) != (b in _CRIMINAL):
        return "MR 11(c) (civil and immigration detainees apart from those held for a criminal offence)"
    return "housing policy, separate legal status (civil and immigration detainees apart, MR 11(c))"


def _names(ids: list[str]) -> str:
    ids = sorted(ids)
    shown = ", ".join(ids[:5])
    return shown if len(ids) <= 5 else f"{shown} and {len(ids) - 5} more"


def check_placement(person: Occupant, cell: Cell, policy: HousingPolicy) -> list[str]:
    """Every hard rule placing ``person`` in ``cell`` (as it is now) would break, one sentence per rule.

    An empty list means the placement is allowed.  Use it for an officer's manual
    placement or an override; crowding beyond the space standard is not a hard rule
    here — see :func:`crowding_warnings`.
    """
    messages: list[str] = []
    pid, cid = person.person_id, cell.cell_id
    if not cell.in_service:
        messages.append(f"Cell {cid} is out of service: nobody may be placed in a cell out of service.")
    others = [o for o in cell.occupants if o.person_id != pid]
    if len(others) != len(cell.occupants):
        messages.append(f"{pid} is already an occupant of cell {cid}.")
    if len(others) >= cell.beds:
        messages.append(
            f"MR 21 (a separate bed for every prisoner; R19 more occupants than beds): cell {cid} has "
            f"{len(others)} occupant(s) for {cell.beds} bed(s), so there is no free bed for {pid}."
        )
    clashes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for other in others:
        for code in _breaches(_profile(person), _profile(other), policy):
            detail = {
                "sex": other.sex,
                "status": other.legal_status,
                "minor": str(other.minor),
                "rival": other.group or "",
            }[code]
            clashes[(code, detail)].append(other.person_id)
    for (code, detail), ids in sorted(clashes.items(), key=lambda item: (_RULE_ORDER[item[0][0]], item[0][1])):
        who = f"{len(ids)} person(s)"
        if code == "sex":
            note = (
                " (someone recorded as 'X' shares only with others recorded as 'X')"
                if "X" in (person.sex, detail)
                else ""
            )
            messages.append(
                f"MR 11(a) (men and women held apart): {pid} is recorded as sex {person.sex}; cell {cid} holds "
                f"{who} recorded as sex {detail}: {_names(ids)}{note}."
            )
        elif code == "status":
            messages.append(
                f"{_status_rule(person.legal_status, detail)}: {pid} is {person.legal_status}; cell {cid} holds "
                f"{who} who are {detail}: {_names(ids)}."
            )
        elif code == "minor":
            mine, theirs = ("a minor", "adult(s)") if person.minor else ("an adult", "minor(s)")
            messages.append(
                f"MR 11(d) (the young apart from adults): {pid} is {mine}; cell {cid} holds "
                f"{len(ids)} {theirs}: {_names(ids)}."
            )
        else:
            messages.append(
                f"Rival-group separation (housing policy): {pid} is recorded in group {person.group}; cell {cid} "
                f"holds {who} recorded in rival group {detail}: {_names(ids)}. This safety separation applies "
                f"even when an affiliation is unsubstantiated."
            )
    return messages


def crowding_warnings(cell: Cell, policy: HousingPolicy, adding: int = 1) -> list[str]:
    """What adding ``adding`` people to ``cell`` would do to its space per person (R16, R18); not a refusal."""
    after = len(cell.occupants) + adding
    if after <= 0:
        return []
    capacity = standards_capacity(cell, policy)
    per_person = _floor_cents(_EXACT.divide(cell.floor_area_m2, Decimal(after)))
    warnings: list[str] = []
    if after > capacity:
        kind, m2 = ("single", policy.single_m2_per_person) if cell.single else ("shared", policy.shared_m2_per_person)
        warnings.append(
            f"R16 (space standard): cell {cell.cell_id} would hold {after} for a standards-based capacity of "
            f"{capacity} ({cell.floor_area_m2} m² at {m2} m² per person, {kind}), {after - capacity} above it, "
            f"{per_person} m² per person."
        )
    if not cell.single and after > 1 and cell.floor_area_m2 < _ECHR_MINIMUM_M2 * after:
        warnings.append(
            f"R18: cell {cell.cell_id} would give {per_person} m² per person, below 3 m², where the European Court "
            f"of Human Rights presumes degrading treatment (Muršić v. Croatia, 2016)."
        )
    return warnings


# --- the plan ----------------------------------------------------------------------------------------------

# (beyond the standard?, claims an empty cell?, persons per m², cell index, occupants when keyed)
_Slot = tuple[int, int, float, int, int]


def _validate(people: Sequence[Occupant], cells: Sequence[Cell]) -> None:
    problems: list[Problem] = []
    seen_cells: set[str] = set()
    housed: dict[str, str] = {}
    for i, cell in enumerate(cells):
        if cell.cell_id in seen_cells:
            problems.append(Problem(f"cells[{i}].cell_id", f"unique; {cell.cell_id!r} is given twice"))
        seen_cells.add(cell.cell_id)
        for occupant in cell.occupants:
            if occupant.person_id in housed and housed[occupant.person_id] != cell.cell_id:
                problems.append(
                    Problem(
                        f"cells[{i}].occupants",
                        f"{occupant.person_id!r} is recorded in cells "
                        f"{housed[occupant.person_id]!r} and {cell.cell_id!r} at once",
                    )
                )
            housed[occupant.person_id] = cell.cell_id
    seen_people: set[str] = set()
    for i, person in enumerate(people):
        if person.person_id in seen_people:
            problems.append(Problem(f"people[{i}].person_id", f"unique; {person.person_id!r} is given twice"))
        seen_people.add(person.person_id)
        if person.person_id in housed:
            problems.append(
                Problem(
                    f"people[{i}].person_id",
                    f"{person.person_id!r} is already housed in cell "
                    f"{housed[person.person_id]!r}; a move is a release from it first",
                )
            )
    if problems:
        raise InvalidInput(problems)


def _class_order(key: _Profile) -> tuple[str, str, bool, bool, str]:
    return (key[0], key[1], key[2], key[3] is not None, key[3] or "")


def propose(people: Sequence[Occupant], cells: Sequence[Cell], policy: HousingPolicy) -> Proposal:
    """Plan where to house ``people`` in ``cells`` (see the module docstring for the method and its bound).

    Raises :class:`~habeas.errors.InvalidInput` for duplicate ids, or a person to be
    housed who is already an occupant of a cell.
    """
    _validate(people, cells)
    ordered = sorted(cells, key=lambda c: c.cell_id)
    beds = [c.beds for c in ordered]
    caps = [standards_capacity(c, policy) for c in ordered]
    areas = [float(c.floor_area_m2) for c in ordered]
    occupants = [len(c.occupants) for c in ordered]
    # the distinct separation profiles present in each cell, with counts
    present: list[dict[_Profile, int]] = [defaultdict(int) for _ in ordered]
    for idx, cell in enumerate(ordered):
        for occupant in cell.occupants:
            present[idx][_profile(occupant)] += 1
    claimed_by: list[int | None] = [None] * len(ordered)
    preoccupied = [bool(c.occupants) for c in ordered]
    free_beds = sum(max(0, c.beds - len(c.occupants)) for c in ordered if c.in_service)

    # separation classes; legal status is part of the class only when the policy separates it
    def class_key(person: Occupant) -> _Profile:
        status = person.legal_status if policy.separate_legal_status else "*"
        return (person.sex, status, person.minor, person.group)

    members: dict[_Profile, list[Occupant]] = defaultdict(list)
    for person in people:
        members[class_key(person)].append(person)
    keys = sorted(members, key=_class_order)
    turns: list[tuple[float, int, int, Occupant]] = []
    for k, key in enumerate(keys):
        roster = sorted(members[key], key=lambda p: p.person_id)
        n = len(roster)
        turns.extend(((2 * i + 1) / (2 * n), k, i, person) for i, person in enumerate(roster))
    turns.sort(key=lambda t: (t[0], t[1], t[2]))

    pair_ok: dict[tuple[_Profile, _Profile], bool] = {}

    def fits(k: int, idx: int) -> bool:
        """Whether class ``k`` may share cell ``idx`` with everyone in it now."""
        if claimed_by[idx] is not None:
            return claimed_by[idx] == k
        key = keys[k]
        for other in present[idx]:
            ok = pair_ok.get((key, other))
            if ok is None:
                ok = pair_ok[(key, other)] = not _breaches(key, other, policy)
            if not ok:
                return False
        return True

    def slot(idx: int, claiming: bool) -> _Slot:
        nth = occupants[idx] + 1
        beyond = 0 if nth <= caps[idx] else 1
        return (beyond, 1 if claiming and not beyond else 0, nth / areas[idx], idx, occupants[idx])

    heaps: list[list[_Slot]] = []
    for k in range(len(keys)):
        heap = [
            slot(idx, False)
            for idx, c in enumerate(ordered)
            if c.in_service and preoccupied[idx] and occupants[idx] < beds[idx] and fits(k, idx)
        ]
        heapq.heapify(heap)
        heaps.append(heap)
    empty = [slot(idx, True) for idx, c in enumerate(ordered) if c.in_service and not c.occupants and c.beds > 0]
    heapq.heapify(empty)

    assignments: dict[str, str] = {}
    unplaced: dict[str, str] = {}
    for _, k, _, person in turns:
        heap = heaps[k]
        own: _Slot | None = None
        while heap:
            top = heap[0]
            idx = top[3]
            if occupants[idx] >= beds[idx] or not fits(k, idx):
                heapq.heappop(heap)  # full, or now holds someone this class must be kept apart from: for good
            elif top[4] != occupants[idx]:
                heapq.heapreplace(heap, slot(idx, False))  # another class placed someone here: re-key
            else:
                own = top
                break
        while empty and occupants[empty[0][3]] != 0:
            heapq.heappop(empty)  # claimed since
        new = empty[0] if empty else None
        if own is None and new is None:
            unplaced[person.person_id] = (
                "no free bed in any in-service cell: placing them would put more people than beds in a cell "
                "(MR 21; R19)"
                if free_beds == 0
                else f"no in-service cell with a free bed may take them: the {free_beds} free bed(s) are in cells "
                "holding people they must be kept apart from (MR 11 separation or rival groups) or claimed in "
                "this plan by another separation class"
            )
            continue
        if own is not None and (new is None or own[:4] < new[:4]):
            idx = heapq.heappop(heap)[3]
        else:
            idx = heapq.heappop(empty)[3]
            claimed_by[idx] = k
        occupants[idx] += 1
        present[idx][keys[k]] += 1
        free_beds -= 1
        if occupants[idx] < beds[idx]:
            heapq.heappush(heap, slot(idx, False))
        assignments[person.person_id] = ordered[idx].cell_id

    cells_over: dict[str, int] = {}
    added_above = total_above = 0
    most_crowded: Decimal | None = None
    for idx, cell in enumerate(ordered):
        before, after, cap = len(cell.occupants), occupants[idx], caps[idx]
        if after > cap:
            cells_over[cell.cell_id] = after - cap
        total_above += max(0, after - cap)
        added_above += max(0, after - cap) - max(0, before - cap)
        if after:
            per_person = _EXACT.divide(cell.floor_area_m2, Decimal(after))
            most_crowded = per_person if most_crowded is None else min(most_crowded, per_person)
    return Proposal(
        assignments=dict(sorted(assignments.items())),
        unplaced=dict(sorted(unplaced.items())),
        cells_over_standard=cells_over,
        persons_above_standard=added_above,
        total_above_standard=total_above,
        standards_capacity=sum(cap for cap, c in zip(caps, ordered, strict=True) if c.in_service),
        population_after=sum(occupants),
        min_m2_per_person=None if most_crowded is None else _floor_cents(most_crowded),
    )


__all__ = [
    "LEGAL_STATUSES",
    "METHOD",
    "SEXES",
    "Cell",
    "HousingPolicy",
    "LegalStatus",
    "Occupant",
    "Person",
    "Proposal",
    "Sex",
    "check_placement",
    "compatible",
    "crowding_warnings",
    "propose",
    "standards_capacity",
]
