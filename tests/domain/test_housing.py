"""The housing assigner: hard rules as properties, the standards preference, evenness, and the CECOT case.

The oracles here (`may_share`, `icrc_capacity`, the slot count) are written independently
of habeas.domain.housing, so a mistake there cannot hide by being repeated.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from habeas.domain.housing import (
    LEGAL_STATUSES,
    Cell,
    HousingPolicy,
    Occupant,
    Proposal,
    check_placement,
    compatible,
    crowding_warnings,
    propose,
    standards_capacity,
)
from habeas.errors import InvalidInput

ICRC = HousingPolicy()
Profile = tuple[str, str, bool, str | None]

# --- independent oracles ------------------------------------------------------------------------------------


def may_share(a: Occupant, b: Occupant, policy: HousingPolicy) -> bool:
    """MR 11 (a)-(d) and rival groups, written out plainly."""
    if a.sex != b.sex:  # (a)
        return False
    if policy.separate_legal_status and a.legal_status != b.legal_status:  # (b), (c)
        return False
    if a.minor != b.minor:  # (d)
        return False
    return not (a.group and b.group and frozenset({a.group, b.group}) in policy.rival_groups)


def icrc_capacity(cell: Cell, policy: HousingPolicy = ICRC) -> int:
    per_person = policy.single_m2_per_person if cell.single else policy.shared_m2_per_person
    by_area = math.floor(Fraction(cell.floor_area_m2) / Fraction(per_person))
    return min(by_area, 1) if cell.single else by_area


def final_occupancy(plan: Proposal, cells: list[Cell]) -> dict[str, int]:
    added = Counter(plan.assignments.values())
    return {c.cell_id: len(c.occupants) + added[c.cell_id] for c in cells}


# --- strategies ---------------------------------------------------------------------------------------------

GROUPS = (None, "A", "B", "C")
profiles = st.tuples(
    st.sampled_from(["F", "M", "X"]), st.sampled_from(sorted(LEGAL_STATUSES)), st.booleans(), st.sampled_from(GROUPS)
)
policies = st.builds(
    HousingPolicy,
    rival_groups=st.frozensets(st.sampled_from([frozenset("AB"), frozenset("AC"), frozenset("BC")])),
    separate_legal_status=st.booleans(),
)
# 2.0 m² .. 120.0 m², often one of a few sizes so that cells tie
areas = st.one_of(
    st.sampled_from([Decimal(10), Decimal("37.5"), Decimal(100)]),
    st.integers(20, 1200).map(lambda tenths: Decimal(tenths) / 10),
)


def person(pid: str, p: Profile) -> Occupant:
    return Occupant(pid, p[0], p[1], p[2], p[3])  # type: ignore[arg-type]


@st.composite
def facilities(
    draw: st.DrawFn, max_cells: int = 10, occupied: bool = True, profile: Profile | None = None, max_beds: int = 8
) -> list[Cell]:
    cells = []
    for i in range(draw(st.integers(0, max_cells))):
        if occupied:
            inside = draw(st.lists(st.just(profile) if profile and draw(st.booleans()) else profiles, max_size=4))
        else:
            inside = []
        cells.append(
            Cell(
                cell_id=f"c{i:02d}",
                unit_id=f"u{i % 3}",
                beds=draw(st.integers(0, max_beds)),
                floor_area_m2=draw(areas),
                single=draw(st.booleans()),
                in_service=draw(st.sampled_from([True, True, True, False])),
                occupants=tuple(person(f"o{i}-{j}", p) for j, p in enumerate(inside)),
            )
        )
    return cells


# any mix of profiles, or a few large separation classes (as in a real intake)
intakes = st.one_of(
    st.lists(profiles, max_size=40),
    st.lists(profiles, min_size=1, max_size=3).flatmap(lambda few: st.lists(st.sampled_from(few), max_size=40)),
).map(lambda ps: [person(f"p{i:03d}", p) for i, p in enumerate(ps)])


# --- hard rules ---------------------------------------------------------------------------------------------


@given(people=intakes, cells=facilities(), policy=policies)
def test_hard_rules_hold_for_any_intake_and_facility(
    people: list[Occupant], cells: list[Cell], policy: HousingPolicy
) -> None:
    plan = propose(people, cells, policy)
    ids = {p.person_id for p in people}
    # everyone is accounted for: assigned, or unplaced with a reason — never both, never neither
    assert set(plan.assignments) | set(plan.unplaced) == ids
    assert not set(plan.assignments) & set(plan.unplaced)
    assert all(len(reason) > 20 for reason in plan.unplaced.values())
    by_cell = {c.cell_id: c for c in cells}
    by_person = {p.person_id: p for p in people}
    newcomers: dict[str, list[Occupant]] = defaultdict(list)
    for pid, cid in plan.assignments.items():
        newcomers[cid].append(by_person[pid])
    for cid, arriving in newcomers.items():
        cell = by_cell[cid]
        assert cell.in_service, f"{cid} is out of service"
        assert len(cell.occupants) + len(arriving) <= cell.beds, f"{cid}: more occupants than beds"
        everyone = [*cell.occupants, *arriving]
        for a in arriving:  # with the people already there and with each other
            for b in everyone:
                assert a is b or may_share(a, b, policy), f"{a} and {b} share {cid}"


@given(people=intakes, cells=facilities(), policy=policies)
def test_report_matches_the_plan(people: list[Occupant], cells: list[Cell], policy: HousingPolicy) -> None:
    plan = propose(people, cells, policy)
    after = final_occupancy(plan, cells)
    over = {c.cell_id: after[c.cell_id] - icrc_capacity(c, policy) for c in cells}
    assert plan.cells_over_standard == {cid: n for cid, n in over.items() if n > 0}
    assert plan.total_above_standard == sum(n for n in over.values() if n > 0)
    added = sum(
        max(0, n) - max(0, len(c.occupants) - icrc_capacity(c, policy))
        for c, n in zip(cells, over.values(), strict=True)
    )
    assert plan.persons_above_standard == added
    assert plan.standards_capacity == sum(icrc_capacity(c, policy) for c in cells if c.in_service)
    assert plan.population_after == sum(after.values())
    densest = [Fraction(c.floor_area_m2) / after[c.cell_id] for c in cells if after[c.cell_id]]
    if densest:
        assert plan.min_m2_per_person == Decimal(math.floor(min(densest) * 100)) / 100
    else:
        assert plan.min_m2_per_person is None
    assert str(plan.persons_above_standard) in plan.summary()


@given(people=intakes, cells=facilities(), policy=policies, data=st.data())
def test_deterministic_and_independent_of_input_order(
    people: list[Occupant], cells: list[Cell], policy: HousingPolicy, data: st.DataObject
) -> None:
    plan = propose(people, cells, policy)
    assert propose(people, cells, policy) == plan
    assert propose(people[::-1], cells[::-1], policy) == plan
    assert propose(data.draw(st.permutations(people)), data.draw(st.permutations(cells)), policy) == plan


@given(people=intakes, cells=facilities(), policy=policies)
def test_each_placement_passes_check_placement(
    people: list[Occupant], cells: list[Cell], policy: HousingPolicy
) -> None:
    plan = propose(people, cells, policy)
    by_person = {p.person_id: p for p in people}
    final = {c.cell_id: list(c.occupants) for c in cells}
    for pid, cid in plan.assignments.items():
        final[cid].append(by_person[pid])
    by_cell = {c.cell_id: c for c in cells}
    for pid, cid in plan.assignments.items():
        cell = by_cell[cid]
        others = tuple(o for o in final[cid] if o.person_id != pid)
        as_if_last = Cell(cid, cell.unit_id, cell.beds, cell.floor_area_m2, cell.single, cell.in_service, others)
        assert check_placement(by_person[pid], as_if_last, policy) == []


@given(p=profiles, cell=facilities(max_cells=1).filter(bool).map(lambda cs: cs[0]), policy=policies)
def test_check_placement_refuses_exactly_what_the_rules_forbid(p: Profile, cell: Cell, policy: HousingPolicy) -> None:
    newcomer = person("p-new", p)
    forbidden = (
        not cell.in_service
        or len(cell.occupants) >= cell.beds
        or any(not may_share(newcomer, o, policy) for o in cell.occupants)
    )
    assert bool(check_placement(newcomer, cell, policy)) == forbidden
    for o in cell.occupants:
        assert compatible(newcomer, o, policy) == may_share(newcomer, o, policy)


# --- the standards preference, and its bound ----------------------------------------------------------------


@given(
    p=st.shared(profiles, key="class"),
    n=st.integers(0, 60),
    cells=st.shared(profiles, key="class").flatmap(lambda q: facilities(profile=q)),
    policy=policies,
)
def test_one_class_places_all_it_can_and_the_fewest_above_standard(
    p: Profile, n: int, cells: list[Cell], policy: HousingPolicy
) -> None:
    # the bound for one class: min(n, F) placed, exactly max(0, min(n, F) - W) of them above the standard
    people = [person(f"p{i:03d}", p) for i in range(n)]
    probe = person("probe", p)
    open_to_them = [c for c in cells if c.in_service and all(may_share(probe, o, policy) for o in c.occupants)]
    free = sum(max(0, c.beds - len(c.occupants)) for c in open_to_them)
    room = sum(max(0, min(c.beds, icrc_capacity(c, policy)) - len(c.occupants)) for c in open_to_them)
    plan = propose(people, cells, policy)
    assert len(plan.assignments) == min(n, free)
    assert plan.persons_above_standard == max(0, min(n, free) - room)
    if n <= room:  # the total standards capacity of compatible cells suffices
        assert plan.persons_above_standard == 0


def test_within_standards_when_compatible_room_suffices_even_if_beds_allow_more() -> None:
    cells = [Cell(f"c{i}", "u", 80, Decimal(100)) for i in range(4)]  # 4 x 29 = 116 within standards, 320 beds
    people = [person(f"p{i:03d}", ("M", "untried", False, None)) for i in range(116)]
    plan = propose(people, cells, ICRC)
    assert plan.persons_above_standard == 0
    assert set(final_occupancy(plan, cells).values()) == {29}
    plan = propose([*people, person("p999", ("M", "untried", False, None))], cells, ICRC)
    assert plan.persons_above_standard == 1


@given(cells=facilities(max_cells=12, occupied=False, max_beds=40), policy=policies, data=st.data())
def test_several_classes_stay_within_standards_under_the_stated_bound(
    cells: list[Cell], policy: HousingPolicy, data: st.DataObject
) -> None:
    # module bound: no cell occupied before, W >= n + (K - 1) max(0, R - 1)  =>  all placed, none above the standard
    rooms = [min(c.beds, icrc_capacity(c, policy)) for c in cells if c.in_service] or [0]
    kinds = data.draw(st.lists(profiles, min_size=1, max_size=3, unique=True))
    classes = len({(p[0], p[1] if policy.separate_legal_status else "*", p[2], p[3]) for p in kinds})
    budget = sum(rooms) - (classes - 1) * max(0, max(rooms) - 1)  # the most people the bound covers
    if budget < 0:
        kinds, budget = kinds[:1], sum(rooms)
    people: list[Occupant] = []
    for k, p in enumerate(kinds):
        size = data.draw(st.integers(0, budget - len(people)))
        people += [person(f"k{k}-{i:03d}", p) for i in range(size)]
    plan = propose(people, cells, policy)
    assert plan.unplaced == {}
    assert plan.persons_above_standard == 0


# --- evenness beyond the standard ---------------------------------------------------------------------------


@given(
    p=profiles,
    shapes=st.lists(
        st.tuples(
            st.sampled_from([Decimal(20), Decimal("37.5"), Decimal(100)]), st.sampled_from([12, 40, 80]), st.booleans()
        ),
        min_size=1,
        max_size=12,
    ),
    extra=st.integers(1, 400),
)
def test_beyond_standard_the_excess_is_spread_evenly_and_the_peak_is_lowest(
    p: Profile, shapes: list[tuple[Decimal, int, bool]], extra: int
) -> None:
    cells = [Cell(f"c{i:02d}", "u", beds, area, single) for i, (area, beds, single) in enumerate(shapes)]
    room = sum(min(c.beds, icrc_capacity(c)) for c in cells)
    people = [person(f"p{i:04d}", p) for i in range(room + extra)]  # more than the standard allows: all go over
    plan = propose(people, cells, ICRC)
    after = final_occupancy(plan, cells)
    beyond = min(len(people), sum(c.beds for c in cells)) - room
    assert plan.persons_above_standard == beyond
    # same area, beds and kind: occupancy differs by at most one
    alike: dict[tuple[Decimal, int, bool], list[int]] = defaultdict(list)
    for c in cells:
        alike[(c.floor_area_m2, c.beds, c.single)].append(after[c.cell_id])
    for counts in alike.values():
        assert max(counts) - min(counts) <= 1, counts
    # the peak persons per m² is the beyond-th cheapest place beyond the standard (computed from scratch)
    places = sorted(
        Fraction(j) / Fraction(c.floor_area_m2) for c in cells for j in range(icrc_capacity(c) + 1, c.beds + 1)
    )
    if beyond > 0:
        peak = max(
            Fraction(after[c.cell_id]) / Fraction(c.floor_area_m2) for c in cells if after[c.cell_id] > icrc_capacity(c)
        )
        assert peak == places[beyond - 1]


# --- single cells -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("area", "single", "policy", "expected"),
    [
        (Decimal(100), False, ICRC, 29),  # 100 / 3.4 = 29.4
        (Decimal("3.39"), False, ICRC, 0),
        (Decimal("6.8"), False, ICRC, 2),  # exactly 2 x 3.4
        (Decimal(12), True, ICRC, 1),  # 12 / 5.4 = 2.2, but a single cell holds one by standards
        (Decimal("5.4"), True, ICRC, 1),
        (Decimal(5), True, ICRC, 0),  # too small even for one
        (
            Decimal(100),
            False,
            HousingPolicy(shared_m2_per_person=Decimal(4), single_m2_per_person=Decimal(6)),
            25,
        ),  # CPT
    ],
)
def test_standards_capacity(area: Decimal, single: bool, policy: HousingPolicy, expected: int) -> None:
    assert standards_capacity(Cell("c", "u", 80, area, single), policy) == expected


def test_single_cells_take_one_each_before_anyone_doubles_up() -> None:
    cells = [Cell("s1", "u", 2, Decimal(8), single=True), Cell("s2", "u", 2, Decimal(8), single=True)]
    two = [person("p1", ("F", "convicted", False, None)), person("p2", ("F", "convicted", False, None))]
    plan = propose(two, cells, ICRC)
    assert sorted(plan.assignments.values()) == ["s1", "s2"]
    assert plan.persons_above_standard == 0
    plan = propose([*two, person("p3", ("F", "convicted", False, None))], cells, ICRC)
    assert len(plan.assignments) == 3
    assert plan.persons_above_standard == 1
    assert list(plan.cells_over_standard.values()) == [1]
    plan = propose([*two, *(person(f"q{i}", ("F", "convicted", False, None)) for i in range(3))], cells, ICRC)
    assert len(plan.assignments) == 4  # two beds each: the fifth is not squeezed in
    assert "MR 21" in plan.unplaced["q2"]


# --- the CECOT case (standards §3) --------------------------------------------------------------------------

RIVALS = HousingPolicy(rival_groups=frozenset({frozenset({"MS-13", "Barrio 18"})}))
CECOT = [Cell(f"P{p}-C{c:02d}", f"P{p}", 80, Decimal(100)) for p in range(1, 9) for c in range(1, 33)]
CECOT_STANDARD_PER_CELL = math.floor(Fraction(100) / Fraction("3.4"))  # 29


def rival_intake(ms13: int, b18: int) -> list[Occupant]:
    return [
        Occupant(f"p{i:05d}", "M", "untried", False, "MS-13" if i < ms13 else "Barrio 18") for i in range(ms13 + b18)
    ]


def assert_no_rivals_mixed(plan: Proposal, people: list[Occupant]) -> dict[str, Counter[str]]:
    group = {p.person_id: p.group for p in people}
    per_cell: dict[str, Counter[str]] = defaultdict(Counter)
    for pid, cid in plan.assignments.items():
        per_cell[cid][group[pid] or ""] += 1
    assert all(len(groups) == 1 for groups in per_cell.values())
    return per_cell


def test_cecot_first_night_2000_untried_men_of_two_rival_groups() -> None:
    assert CECOT_STANDARD_PER_CELL == 29
    people = rival_intake(1000, 1000)
    start = time.perf_counter()
    plan = propose(people, CECOT, RIVALS)
    elapsed = time.perf_counter() - start
    assert elapsed < 0.5, f"2,000 into 256 cells took {elapsed:.3f} s"
    assert len(plan.assignments) == 2000
    assert plan.unplaced == {}
    assert_no_rivals_mixed(plan, people)
    assert plan.standards_capacity == 256 * CECOT_STANDARD_PER_CELL == 7424
    assert plan.persons_above_standard == 0
    assert plan.cells_over_standard == {}
    assert "Standards-based capacity 7424" in plan.summary()
    assert "places 0 above it" in plan.summary()


def test_cecot_at_15000_reports_the_exact_excess_and_spreads_it() -> None:
    people = rival_intake(9000, 6000)
    plan = propose(people, CECOT, RIVALS)
    assert len(plan.assignments) == 15000
    per_cell = assert_no_rivals_mixed(plan, people)
    counts = {cid: sum(groups.values()) for cid, groups in per_cell.items()}
    assert len(counts) == 256
    assert max(counts.values()) <= 80  # beds
    excess = sum(max(0, n - CECOT_STANDARD_PER_CELL) for n in counts.values())
    assert min(counts.values()) > CECOT_STANDARD_PER_CELL  # so the closed form applies:
    assert excess == 15000 - 7424 == 7576
    assert plan.persons_above_standard == plan.total_above_standard == excess
    assert sum(plan.cells_over_standard.values()) == excess
    # within each group the excess is even; across groups the peak is the best any split of cells gives
    for group in ("MS-13", "Barrio 18"):
        theirs = [sum(g.values()) for g in per_cell.values() if group in g]
        assert max(theirs) - min(theirs) <= 1
    best_peak = min(max(math.ceil(9000 / a), math.ceil(6000 / (256 - a))) for a in range(1, 256))
    assert max(counts.values()) == best_peak == 59
    assert plan.min_m2_per_person == Decimal("1.69")  # 100 m² / 59


def test_a_large_class_leaves_empty_cells_for_a_small_rival_one() -> None:
    # within the standard a class fills its cells before claiming another, so the one Barrio 18 member
    # arriving after 25 MS-13 members still finds an empty cell of his own
    cells = [Cell(f"C-{i}", "P1", 80, Decimal(100)) for i in range(3)]
    people = rival_intake(50, 1)
    plan = propose(people, cells, RIVALS)
    assert plan.unplaced == {}
    assert plan.persons_above_standard == 0
    assert_no_rivals_mixed(plan, people)
    assert len(set(plan.assignments.values())) == 3


def test_a_cell_occupied_before_the_plan_is_shared_by_compatible_classes_up_to_its_beds() -> None:
    # one unaffiliated man already in a two-bed cell: an MS-13 and a Barrio 18 member may each join him, not both
    cell = Cell("C-1", "P1", 2, Decimal(20), occupants=(man("m0"),))
    people = rival_intake(1, 1)
    plan = propose(people, [cell], HousingPolicy())  # distinct classes, not rivals: one bed left for one of them
    assert len(plan.assignments) == 1
    assert "MR 21" in next(iter(plan.unplaced.values()))
    plan = propose(people, [Cell("C-1", "P1", 3, Decimal(20), occupants=(man("m0"),))], RIVALS)
    assert len(plan.assignments) == 1  # a free bed is left, but next to a rival
    assert "MR 11" in next(iter(plan.unplaced.values()))
    plan = propose(people, [Cell("C-1", "P1", 3, Decimal(20), occupants=(man("m0"),))], HousingPolicy())
    assert len(plan.assignments) == 2  # no rivalry recorded: both join
    plan = propose(rival_intake(2, 0), [cell], RIVALS)
    assert len(plan.assignments) == 1  # the second would overflow the beds


# --- check_placement names the rule -------------------------------------------------------------------------


def man(pid: str, status: str = "untried", minor: bool = False, group: str | None = None) -> Occupant:
    return Occupant(pid, "M", status, minor, group)  # type: ignore[arg-type]


def cell_with(*occupants: Occupant, beds: int = 10, in_service: bool = True) -> Cell:
    return Cell("C-1", "P1", beds, Decimal(100), in_service=in_service, occupants=occupants)


@pytest.mark.parametrize(
    ("newcomer", "occupant", "rule"),
    [
        (Occupant("w1", "F", "untried", False), man("m1"), "MR 11(a)"),
        (Occupant("x1", "X", "untried", False), man("m1"), "'X'"),
        (man("m2", "untried"), man("m1", "convicted"), "MR 11(b)"),
        (man("m2", "civil"), man("m1", "untried"), "MR 11(c)"),
        (man("m2", "immigration"), man("m1", "convicted"), "MR 11(c)"),
        (man("m2", "immigration"), man("m1", "civil"), "separate legal status"),
        (man("m2", minor=True), man("m1"), "MR 11(d)"),
        (man("m2", group="Barrio 18"), man("m1", group="MS-13"), "Rival-group separation"),
    ],
)
def test_check_placement_names_the_rule(newcomer: Occupant, occupant: Occupant, rule: str) -> None:
    messages = check_placement(newcomer, cell_with(occupant), RIVALS)
    assert len(messages) == 1
    assert rule in messages[0]
    assert newcomer.person_id in messages[0]
    assert occupant.person_id in messages[0]
    assert not compatible(newcomer, occupant, RIVALS)


def test_check_placement_beds_service_and_several_rules_at_once() -> None:
    assert check_placement(man("m2"), cell_with(man("m1")), RIVALS) == []
    closed = check_placement(man("m2"), cell_with(man("m1"), in_service=False), RIVALS)
    assert len(closed) == 1 and "out of service" in closed[0]
    full = check_placement(man("m3"), cell_with(man("m1"), man("m2"), beds=2), RIVALS)
    assert len(full) == 1 and "MR 21" in full[0] and "R19" in full[0] and "2 bed(s)" in full[0]
    girl = Occupant("g1", "F", "untried", True, "Barrio 18")
    several = check_placement(girl, cell_with(man("m1", "convicted", group="MS-13"), beds=1), RIVALS)
    assert [m.split(" ")[0] for m in several] == ["MR", "MR", "MR", "MR", "Rival-group"]
    assert "MR 11(b)" in " ".join(several) and "MR 11(d)" in " ".join(several)
    # legal status is used only when the policy separates it
    lenient = HousingPolicy(separate_legal_status=False)
    assert check_placement(man("m2", "untried"), cell_with(man("m1", "convicted")), lenient) == []
    # one message per rule, however many occupants it concerns
    crowd = cell_with(*(man(f"m{i:02d}") for i in range(80)), beds=80)
    woman = check_placement(Occupant("w1", "F", "untried", False), crowd, RIVALS)
    assert len(woman) == 2  # no bed; MR 11(a)
    assert "80 person(s)" in woman[1] and "and 75 more" in woman[1]


def test_crowding_warnings_name_r16_and_r18() -> None:
    at_standard = cell_with(*(man(f"m{i:02d}") for i in range(28)), beds=80)
    assert crowding_warnings(at_standard, ICRC) == []
    one_over = crowding_warnings(at_standard, ICRC, adding=2)
    assert len(one_over) == 1 and "R16" in one_over[0] and "capacity of 29" in one_over[0] and "1 above" in one_over[0]
    below_3 = crowding_warnings(at_standard, ICRC, adding=6)  # 34 in 100 m² = 2.94 m² each
    assert len(below_3) == 2 and "R18" in below_3[1] and "2.94" in below_3[1]


def test_unplaced_reasons_say_why() -> None:
    full = Cell("C-1", "P1", 1, Decimal(10), occupants=(man("m1"),))
    women_only = Cell("C-2", "P1", 5, Decimal(20), occupants=(Occupant("w1", "F", "untried", False),))
    closed = Cell("C-3", "P1", 5, Decimal(20), in_service=False)
    plan = propose([man("m2")], [full, closed], ICRC)
    assert "no free bed" in plan.unplaced["m2"] and "MR 21" in plan.unplaced["m2"]
    plan = propose([man("m2")], [full, women_only, closed], ICRC)
    assert "MR 11" in plan.unplaced["m2"] and "4 free bed(s)" in plan.unplaced["m2"]


# --- input that breaks a rule of form -----------------------------------------------------------------------


def test_invalid_input_is_refused() -> None:
    with pytest.raises(InvalidInput, match="floor_area_m2"):
        Cell("C-1", "P1", 2, 10.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="sex"):
        Occupant("p1", "male", "untried", False)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="legal_status"):
        Occupant("p1", "M", "detained", False)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="rival_groups"):
        HousingPolicy(rival_groups=frozenset({frozenset({"MS-13"})}))
    with pytest.raises(InvalidInput, match="shared_m2_per_person"):
        HousingPolicy(shared_m2_per_person=3.4)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="given twice"):
        propose([man("m1"), man("m1")], [cell_with()], ICRC)
    with pytest.raises(InvalidInput, match="already housed"):
        propose([man("m1")], [cell_with(man("m1"))], ICRC)
    with pytest.raises(InvalidInput, match="at once"):
        propose([], [cell_with(man("m1")), Cell("C-2", "P1", 2, Decimal(10), occupants=(man("m1"),))], ICRC)
