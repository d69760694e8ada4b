"""Jurisdiction policies as dated data: the files, the decree records, the custody clocks and the refusals.

The oracles for the administrative deadline (`lawful_at`, the scan in the Hypothesis test) read
the rule off the standards (R3) directly, independently of habeas.domain.policy.
"""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from habeas.domain.housing import Cell, HousingPolicy, standards_capacity
from habeas.domain.policy import Decree, Extension, Period, Policy, add_period
from habeas.errors import InvalidInput, NotFound
from habeas.policy.loader import available_jurisdictions, load_policy, parse_policy

SV = timezone(timedelta(hours=-6))  # El Salvador: UTC-06:00, no daylight saving time
H72 = timedelta(hours=72)
D15 = timedelta(days=15)
MINUTE = timedelta(minutes=1)
SUSPENDED = frozenset({"Cn. 12(2)", "Cn. 13(2)", "Cn. 24"})
SOE = {"state_of_exception"}

SLV = load_policy("slv")
INTL = load_policy("intl")


def sv(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Salvadoran wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=SV)


def decree(number: str, start: datetime, end: datetime | None, maximum: timedelta | None = D15) -> Decree:
    articles = SUSPENDED if maximum is not None else frozenset({"Cn. 24"})
    return Decree(number, f"test decree {number}", start, end, articles, maximum, "test record")


def with_decrees(*decrees: Decree, base: Policy = SLV) -> Policy:
    return dataclasses.replace(base, decrees=decrees)


def numbers(policy: Policy, at: datetime) -> list[str]:
    return [d.number for d in policy.decrees_in_force(at)]


# --- the files ----------------------------------------------------------------------------------------------


def test_both_jurisdictions_load_and_are_listed() -> None:
    assert {"slv", "intl"} <= set(available_jurisdictions())
    for code in available_jurisdictions():
        policy = load_policy(code)
        assert policy.code == code
    assert SLV.name == "El Salvador"
    assert SLV.time_zone == SLV.sentencing.time_zone == "America/El_Salvador"
    assert INTL.decrees == () and INTL.extensions == ()


def test_the_state_of_exception_is_one_record_per_period_through_the_48th_renewal() -> None:
    assert [d.number for d in SLV.decrees] == ["333", *(f"333-R{n}" for n in range(1, 49))]
    first, last = SLV.decrees[0], SLV.decrees[-1]
    assert first.in_force_from == sv(2022, 3, 27) and first.in_force_to == sv(2022, 4, 26)  # 30 days
    assert SLV.decrees[47].in_force_from == sv(2026, 1, 31)  # the 47th renewal (reported, Jan 2026)
    assert last.in_force_to == sv(2026, 4, 1)
    # no gap from the first day to the last recorded renewal
    covered_to = first.in_force_to
    for d in sorted(SLV.decrees, key=lambda d: d.in_force_from)[1:]:
        assert covered_to is not None and d.in_force_from <= covered_to, d.number
        covered_to = max(covered_to, d.in_force_to or covered_to)
    for d in SLV.decrees:
        assert d.in_force_to is not None and d.in_force_to - d.in_force_from <= timedelta(days=30)  # Cn. 30
        assert d.suspended_articles >= SUSPENDED
        assert ("Cn. 7" in d.suspended_articles) == (d.in_force_from.astimezone(SV).year == 2022)
        assert d.administrative_max == D15  # Cn. 29, from the data, never hard-coded in the domain
        assert d.source.startswith("reported")
    # renewal numbers are never presented as official ones
    assert all("number not verified" in d.source for d in SLV.decrees[1:])


def test_every_time_in_the_files_carries_the_salvadoran_offset() -> None:
    raw = tomllib.loads(resources.files("habeas.policy").joinpath("jurisdictions/slv.toml").read_text("utf-8"))
    times = [
        record[key]
        for section in ("decrees", "extensions")
        for record in raw[section]
        for key in ("in_force_from", "in_force_to")
        if key in record
    ]
    assert len(times) == 2 * (49 + 2)
    assert all(t.utcoffset() == timedelta(hours=-6) for t in times)


def test_the_extensions_are_dated_instruments() -> None:
    decree_803, reform = SLV.extensions
    assert "803" in decree_803.name and decree_803.in_force_from == sv(2023, 8, 25)
    assert decree_803.in_force_to == reform.in_force_from == sv(2025, 8, 25)
    assert reform.in_force_to == sv(2027, 8, 25)
    assert all(e.applies_to == "provisional_detention" and e.scope == "state_of_exception" for e in SLV.extensions)


# --- decrees at instants ------------------------------------------------------------------------------------


def test_decree_lookup_first_day_last_minute_and_after() -> None:
    assert numbers(SLV, sv(2022, 3, 26, 23, 59)) == []
    assert numbers(SLV, sv(2022, 3, 27)) == ["333"]  # first instant
    assert numbers(SLV, sv(2022, 4, 25, 23, 59)) == ["333"]  # last minute
    assert numbers(SLV, sv(2022, 4, 26)) == ["333-R1"]  # the end is not in force: the renewal is
    # the modelled renewal 11 overlaps the reported start of renewal 12 (they agree)
    assert numbers(SLV, sv(2023, 3, 19)) == ["333-R11", "333-R12"]
    assert numbers(SLV, sv(2026, 3, 31, 23, 59)) == ["333-R48"]
    assert numbers(SLV, sv(2026, 4, 1)) == []  # no renewal recorded: none is assumed
    assert numbers(SLV, datetime(2024, 5, 10, 12, tzinfo=UTC)) == numbers(SLV, sv(2024, 5, 10, 6))


def test_a_gap_between_decrees_restores_the_ordinary_limit() -> None:
    gap = with_decrees(decree("A", sv(2030, 1, 1), sv(2030, 1, 31)), decree("B", sv(2030, 2, 5), sv(2030, 3, 7)))
    assert numbers(gap, sv(2030, 1, 30, 23, 59)) == ["A"]
    for instant in (sv(2030, 1, 31), sv(2030, 2, 3), sv(2030, 2, 4, 23, 59)):
        assert numbers(gap, instant) == []
        assert not gap.is_suspended("Cn. 13(2)", instant)
        assert gap.administrative_limit(instant).duration == H72
    assert numbers(gap, sv(2030, 2, 5)) == ["B"]
    assert gap.administrative_limit(sv(2030, 2, 5)).duration == D15


def test_which_articles_are_suspended_when() -> None:
    assert SLV.is_suspended("Cn. 7", sv(2022, 6, 1))
    assert not SLV.is_suspended("Cn. 7", sv(2023, 6, 1))
    assert SLV.is_suspended("Cn. 13(2)", sv(2023, 6, 1))
    assert SLV.is_suspended("Cn. 12(2)", sv(2025, 12, 24))
    assert not SLV.is_suspended("Cn. 13(3)", sv(2023, 6, 1))  # the judge's 72 h: never suspended
    assert not SLV.is_suspended("Cn. 13(2)", sv(2021, 6, 1))


# --- the administrative deadline (R3) -----------------------------------------------------------------------


@pytest.mark.parametrize("detained", [sv(2021, 6, 1, 8, 15), sv(2026, 4, 2, 13, 0)], ids=["before", "after"])
def test_outside_decrees_72_hours_71_59_is_lawful_72_01_is_not(detained: datetime) -> None:
    deadline = SLV.administrative_deadline(detained)
    assert deadline.due == detained + H72
    assert deadline.duration == H72
    assert deadline.instruments == ()
    assert "Cn. 13(2)" in deadline.basis
    assert not deadline.breached(detained + timedelta(hours=71, minutes=59))
    assert not deadline.breached(detained + H72)  # "at most 72 hours"
    assert deadline.breached(detained + timedelta(hours=72, minutes=1))
    assert deadline.remaining(detained + timedelta(hours=71)) == timedelta(hours=1)
    assert SLV.administrative_limit(detained).duration == H72


def test_inside_a_decree_the_decree_maximum_applies() -> None:
    detained = sv(2024, 5, 10, 14, 30)
    limit = SLV.administrative_limit(detained)
    assert limit.duration == D15
    assert "Cn. 29" in limit.basis and "333-R" in limit.basis
    deadline = SLV.administrative_deadline(detained)
    assert deadline.due == detained + D15
    assert not deadline.breached(detained + D15 - MINUTE)
    assert deadline.breached(detained + D15 + MINUTE)
    assert deadline.breached(detained + timedelta(hours=72, minutes=1)) is False


def test_renewals_without_a_gap_continue_the_suspension() -> None:
    detained = sv(2026, 2, 25)  # 5 days before the 47th renewal ends; the 48th starts that instant
    deadline = SLV.administrative_deadline(detained)
    assert deadline.due == detained + D15
    assert deadline.instruments == ("333-R47", "333-R48")
    assert "333-R47" in deadline.basis and "333-R48" in deadline.basis


class TestDecreeLapsingMidDetention:
    """No renewal at the decree's end: Cn. 13(2) revives at once, measured from the arrest (module rule)."""

    END = sv(2030, 1, 31)
    POLICY = with_decrees(decree("A", sv(2030, 1, 1), END))

    def test_held_more_than_72_hours_at_the_end_must_be_before_a_judge_by_the_end(self) -> None:
        detained = self.END - timedelta(days=10)
        deadline = self.POLICY.administrative_deadline(detained)
        assert deadline.due == self.END  # not detained + 15 days, and no fresh 72 h after the end
        assert not deadline.breached(self.END - MINUTE)
        assert deadline.breached(self.END + MINUTE)
        assert deadline.instruments == ("A",)
        assert "ended" in deadline.basis and "applied again at once" in deadline.basis

    def test_held_less_than_72_hours_at_the_end_keeps_the_rest_of_the_72_hours(self) -> None:
        detained = self.END - timedelta(days=1)
        deadline = self.POLICY.administrative_deadline(detained)
        assert deadline.due == detained + H72
        assert not deadline.breached(detained + timedelta(hours=71, minutes=59))
        assert deadline.breached(detained + timedelta(hours=72, minutes=1))

    def test_held_exactly_72_hours_at_the_end(self) -> None:
        detained = self.END - H72
        assert self.POLICY.administrative_deadline(detained).due == self.END == detained + H72

    def test_detained_the_minute_before_the_end(self) -> None:
        detained = self.END - MINUTE
        assert self.POLICY.administrative_deadline(detained).due == detained + H72

    def test_detained_the_minute_the_decree_ends(self) -> None:
        deadline = self.POLICY.administrative_deadline(self.END)
        assert deadline.due == self.END + H72
        assert deadline.instruments == ()
        assert self.POLICY.administrative_limit(self.END).duration == H72
        assert self.POLICY.administrative_limit(self.END - MINUTE).duration == D15

    def test_the_last_recorded_renewal_in_the_slv_file(self) -> None:
        detained = sv(2026, 3, 25)
        deadline = SLV.administrative_deadline(detained)
        assert deadline.due == sv(2026, 4, 1)  # the end of renewal 48; no 49th recorded
        assert deadline.instruments == ("333-R48",)


class TestDecreeStartingMidDetention:
    START = sv(2030, 3, 1)
    POLICY = with_decrees(decree("B", START, START + timedelta(days=30)))

    def test_within_the_72_hours_the_decree_maximum_applies_from_the_arrest(self) -> None:
        detained = self.START - timedelta(hours=24)
        assert self.POLICY.administrative_deadline(detained).due == detained + D15

    def test_exactly_72_hours_at_the_decree_start(self) -> None:
        detained = self.START - H72
        assert self.POLICY.administrative_deadline(detained).due == detained + D15

    def test_a_breach_before_the_decree_is_not_cured_by_it(self) -> None:
        detained = self.START - timedelta(hours=80)
        deadline = self.POLICY.administrative_deadline(detained)
        assert deadline.due == detained + H72
        assert deadline.instruments == ()
        assert deadline.breached(self.START + timedelta(days=1))


def test_overlapping_decrees_use_the_smaller_maximum() -> None:
    a = decree("A", sv(2030, 1, 1), sv(2030, 2, 1))
    b = Decree("B", "b", sv(2030, 1, 1), sv(2030, 2, 1), SUSPENDED, timedelta(days=10), "t")
    with pytest.raises(InvalidInput):
        with_decrees(a, b)  # overlapping decrees that disagree are refused ...
    # ... but a decree whose maximum is below the ordinary limit never shortens it
    short = with_decrees(Decree("C", "c", sv(2030, 1, 1), sv(2030, 2, 1), SUSPENDED, timedelta(hours=24), "t"))
    assert short.administrative_deadline(sv(2030, 1, 10)).due == sv(2030, 1, 10) + H72


# --- an independent oracle for the rule ---------------------------------------------------------------------

GRID = timedelta(minutes=10)
ORIGIN = datetime(2030, 1, 1, tzinfo=UTC)


def lawful_at(decrees: list[Decree], detained: datetime, instant: datetime) -> bool:
    """R3 read off the standard: beyond 72 h only while a decree suspending Cn. 13(2) is in force, up to its max."""
    limit = H72
    for d in decrees:
        in_force = d.in_force_from <= instant and (d.in_force_to is None or instant < d.in_force_to)
        if in_force and "Cn. 13(2)" in d.suspended_articles and d.administrative_max is not None:
            limit = max(limit, d.administrative_max)
    return instant - detained <= limit


@st.composite
def decree_histories(draw: st.DrawFn) -> tuple[list[Decree], datetime]:
    """Up to four consecutive decrees on a 10-minute grid, contiguous or with gaps, and an arrest time."""
    decrees: list[Decree] = []
    cursor = ORIGIN + draw(st.integers(0, 600)) * GRID
    for i in range(draw(st.integers(0, 4))):
        start = cursor + draw(st.sampled_from([0, 0, 1, 6, 300])) * GRID
        end = start + draw(st.integers(1, 2200)) * GRID
        maximum = draw(st.sampled_from([D15, timedelta(days=5), None]))  # None: a decree not touching Cn. 13(2)
        decrees.append(decree(f"D{i}", start, end, maximum))
        cursor = end
    detained = ORIGIN + draw(st.integers(0, 4000)) * GRID
    return decrees, detained


@settings(max_examples=80, deadline=None)
@given(decree_histories())
def test_the_deadline_is_the_end_of_the_first_lawful_stretch(history: tuple[list[Decree], datetime]) -> None:
    decrees, detained = history
    deadline = with_decrees(*decrees).administrative_deadline(detained)
    # scan every half grid step: boundaries and limits are on the grid, so this finds the first unlawful instant
    half = GRID / 2
    step = 0
    while lawful_at(decrees, detained, detained + step * half):
        step += 1
    first_unlawful = detained + step * half
    expected = first_unlawful if step % 2 == 0 else first_unlawful - half
    assert deadline.due == expected
    assert H72 <= deadline.duration <= D15
    assert not deadline.breached(deadline.due)
    assert deadline.breached(deadline.due + timedelta(microseconds=1))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 6 * 365 * 24 * 60))
def test_slv_deadlines_stay_between_72_hours_and_15_days(minutes: int) -> None:
    detained = sv(2021, 1, 1) + timedelta(minutes=minutes)
    deadline = SLV.administrative_deadline(detained)
    assert detained + H72 <= deadline.due <= detained + D15
    if SLV.is_suspended("Cn. 13(2)", detained) and SLV.is_suspended("Cn. 13(2)", detained + D15):
        assert deadline.due == detained + D15


# --- the judicial decision (R4) -----------------------------------------------------------------------------


def test_judicial_decision_72_hours_even_under_the_state_of_exception() -> None:
    placed = sv(2024, 5, 10, 9)
    assert SLV.is_suspended("Cn. 13(2)", placed)
    deadline = SLV.judicial_decision_deadline(placed)
    assert deadline.due == placed + H72
    assert "Cn. 13(3)" in deadline.basis
    assert not deadline.breached(placed + timedelta(hours=71, minutes=59))
    assert deadline.breached(placed + timedelta(hours=72, minutes=1))


# --- provisional detention (R5) -----------------------------------------------------------------------------


def test_provisional_detention_12_and_24_months_outside_any_extension() -> None:
    detained = sv(2021, 6, 15, 10)
    at = sv(2021, 7, 1)
    less = SLV.provisional_detention_limit("less_serious", detained, at)
    assert less.due == sv(2022, 6, 15, 10) and "CPP 8" in less.basis and less.instruments == ()
    serious = SLV.provisional_detention_limit("serious", detained, at)
    assert serious.due == sv(2023, 6, 15, 10)
    assert not serious.breached(sv(2023, 6, 15, 9, 59)) and serious.breached(sv(2023, 6, 15, 10, 1))


def test_months_are_counted_on_the_local_calendar() -> None:
    leap = SLV.provisional_detention_limit("less_serious", sv(2024, 2, 29, 9), sv(2024, 3, 1))
    assert leap.due == sv(2025, 2, 28, 9)  # clamped to the month's last day
    # 30 May 20:00 in San Salvador is already 31 May in UTC: one month later is 30 June locally
    assert add_period(sv(2024, 5, 30, 20), Period(1), "America/El_Salvador") == sv(2024, 6, 30, 20)
    assert add_period(sv(2024, 5, 30, 20), Period(1), "UTC") == datetime(2024, 6, 30, 2, tzinfo=UTC)


def test_decree_803_and_the_2025_reform_extend_serious_cases_under_the_state_of_exception() -> None:
    detained = sv(2022, 4, 10)
    ordinary = sv(2024, 4, 10)
    before_803 = SLV.provisional_detention_limit("serious", detained, sv(2023, 6, 1), SOE)
    assert before_803.due == ordinary and before_803.instruments == ()
    under_803 = SLV.provisional_detention_limit("serious", detained, sv(2024, 6, 1), SOE)
    assert under_803.due == sv(2025, 8, 25)
    assert "803" in under_803.instruments[0] and not under_803.breached(sv(2024, 6, 1))
    # without the case placed under the state of exception, no extension is assumed
    unscoped = SLV.provisional_detention_limit("serious", detained, sv(2024, 6, 1))
    assert unscoped.due == ordinary and unscoped.breached(sv(2024, 6, 1))
    last_minute = SLV.provisional_detention_limit("serious", detained, sv(2025, 8, 24, 23, 59), SOE)
    assert last_minute.due == sv(2025, 8, 25)
    reform = SLV.provisional_detention_limit("serious", detained, sv(2025, 8, 25), SOE)
    assert reform.due == sv(2027, 8, 25) and "2025 reform" in reform.instruments[0]
    after = SLV.provisional_detention_limit("serious", detained, sv(2027, 8, 25), SOE)
    assert after.due == ordinary and after.breached(sv(2027, 8, 25))


def test_less_serious_case_breached_before_803_and_covered_after() -> None:
    detained = sv(2022, 5, 1)
    june = SLV.provisional_detention_limit("less_serious", detained, sv(2023, 6, 1), SOE)
    assert june.due == sv(2023, 5, 1) and june.breached(sv(2023, 6, 1))
    september = SLV.provisional_detention_limit("less_serious", detained, sv(2023, 9, 1), SOE)
    assert september.due == sv(2025, 8, 25) and not september.breached(sv(2023, 9, 1))


def test_an_extension_never_shortens_the_ordinary_limit() -> None:
    detained = sv(2024, 1, 10)
    deadline = SLV.provisional_detention_limit("serious", detained, sv(2024, 6, 1), SOE)
    assert deadline.due == sv(2026, 1, 10)  # the ordinary 24 months end after Decree 803's fixed end
    assert deadline.instruments == ()


@pytest.mark.parametrize(
    ("counted_from", "period", "expected"),
    [
        ("detention", "P30M", sv(2024, 7, 10)),
        ("ordinary_limit", "P6M", sv(2024, 7, 10)),
        ("in_force_from", "P12M", sv(2024, 9, 1)),
    ],
)
def test_what_an_extension_is_counted_from(counted_from: str, period: str, expected: datetime) -> None:
    extension = Extension(
        name="X",
        applies_to="provisional_detention",
        in_force_from=sv(2023, 9, 1),
        in_force_to=None,
        period=Period.parse(period),
        counted_from=counted_from,  # type: ignore[arg-type]
        source="test",
        offence_classes=frozenset({"serious"}),
    )
    policy = dataclasses.replace(SLV, extensions=(extension,))
    detained = sv(2022, 1, 10)
    assert policy.provisional_detention_limit("serious", detained, sv(2024, 1, 1)).due == expected
    # the extension covers serious offences only
    assert policy.provisional_detention_limit("less_serious", detained, sv(2024, 1, 1)).due == sv(2023, 1, 10)


def test_an_unknown_offence_class_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        SLV.provisional_detention_limit("grave", sv(2024, 1, 1), sv(2024, 2, 1))
    assert caught.value.problems[0].field == "offence_class"
    assert "less_serious" in caught.value.problems[0].rule


# --- the international minimum -----------------------------------------------------------------------------


def test_intl_48_hours_to_a_judge() -> None:
    detained = datetime(2025, 3, 15, 22, 4, tzinfo=UTC)
    deadline = INTL.administrative_deadline(detained)
    assert deadline.due == detained + timedelta(hours=48)
    assert not deadline.breached(detained + timedelta(hours=47, minutes=59))
    assert deadline.breached(detained + timedelta(hours=48, minutes=1))
    assert "General Comment 35" in INTL.administrative_limit(detained).basis
    assert INTL.decrees_in_force(detained) == ()
    assert not INTL.is_suspended("ICCPR 9(3)", detained)
    assert INTL.judicial_decision_deadline(detained).due == detained + timedelta(hours=24)
    assert INTL.space.capacity_standard == "icrc"


def test_notification_windows_are_stated_with_their_source() -> None:
    for policy in (SLV, INTL):
        windows = policy.limits.windows
        assert list(windows) == ["R7", "R8", "R10", "R11", "R22", "R24", "R30"]
        assert windows["R8"].duration == windows["R10"].duration == windows["R11"].duration == timedelta(hours=24)
        assert all(w.basis for w in windows.values())
        assert "policy choice" in windows["R22"].basis and "policy choice" in windows["R30"].basis


def test_sentencing_rules() -> None:
    rules = SLV.sentencing
    assert str(rules.single_term_min) == "P6M" and str(rules.single_term_max) == "P60Y"
    assert rules.aggregate_cap is None  # unconfirmed: a parameter, not assumed
    assert rules.perpetual_penalties_forbidden
    start = sv(2024, 1, 15, 10)
    assert rules.term_end(start, Period.parse("P6M")) == sv(2024, 7, 15, 10)
    assert rules.release_date(sv(2024, 1, 15, 23), Period.parse("P6M")) == date(2024, 7, 15)  # local date, not UTC


# --- housing ------------------------------------------------------------------------------------------------


def test_the_policy_gives_the_housing_policy() -> None:
    housing = SLV.housing_policy()
    assert isinstance(housing, HousingPolicy)
    assert housing.shared_m2_per_person == Decimal("3.4") and housing.single_m2_per_person == Decimal("5.4")
    assert housing.separate_legal_status
    assert housing.rivals("MS-13", "Barrio 18") and housing.rivals("Barrio 18 Sureños", "Barrio 18 Revolucionarios")
    assert not housing.rivals("MS-13", "MS-13")
    assert INTL.housing_policy() == HousingPolicy()
    cell = Cell("P1-C01", "P1", 80, Decimal(100))
    assert standards_capacity(cell, housing) == 29  # standards §3
    cpt = parse_policy(BASE.replace("[space]\n", '[space]\ncapacity_standard = "cpt"\n'))
    assert cpt.housing_policy().shared_m2_per_person == Decimal(4)
    assert standards_capacity(cell, cpt.housing_policy()) == 25
    assert SLV.space.critical_shared_m2 == Decimal(3) and SLV.space.cpt_single_m2 == Decimal(6)


# --- refusals -----------------------------------------------------------------------------------------------

BASE = """
code = "test"
name = "Test"
time_zone = "America/El_Salvador"

[limits.administrative_detention]
max = "PT72H"
article = "Cn. 13(2)"
basis = "Cn. 13(2)"
[limits.judicial_decision]
max = "PT72H"
basis = "Cn. 13(3)"
[limits.provisional_detention.less_serious]
max = "P12M"
basis = "CPP 8"
[limits.provisional_detention.serious]
max = "P24M"
basis = "CPP 8"
[limits.family_notification]
max = "PT24H"
basis = "R8"
[limits.rights_information]
max = "PT24H"
basis = "R7"
[limits.medical_examination]
max = "PT24H"
basis = "R10"
[limits.injury_referral]
max = "PT24H"
basis = "R11"
[limits.complaint_answer]
max = "P10D"
basis = "R22"
[limits.information_request_answer]
max = "PT48H"
basis = "R24"
[limits.oversight_request_answer]
max = "P7D"
basis = "R30"

[space]

[sentencing]
single_term_min = "P6M"
single_term_max = "P60Y"
perpetual_penalties_forbidden = true
basis = "Penal Code 45"

[separation]
rival_groups = [["MS-13", "Barrio 18"]]
"""


def decree_toml(
    number: str = "333",
    start: str = "2022-03-27T00:00:00-06:00",
    end: str = "2022-04-26T00:00:00-06:00",
    articles: str = '["Cn. 12(2)", "Cn. 13(2)", "Cn. 24"]',
    maximum: str | None = '"P15D"',
    extra: str = "",
) -> str:
    lines = [
        "[[decrees]]",
        f'number = "{number}"',
        'title = "t"',
        f"in_force_from = {start}",
        f"in_force_to = {end}",
        f"suspended_articles = {articles}",
        *([f"administrative_max = {maximum}"] if maximum is not None else []),
        'source = "reported"',
        extra,
    ]
    return "\n" + "\n".join(lines) + "\n"


EXTENSION = """
[[extensions]]
name = "803"
applies_to = "provisional_detention"
in_force_from = 2023-08-25T00:00:00-06:00
in_force_to = 2025-08-25T00:00:00-06:00
period = "P24M"
counted_from = "in_force_from"
source = "reported"
"""


def renewal(n: int) -> str:
    return decree_toml(f"333-R{n}", f"2022-{4 + n:02d}-01T00:00:00-06:00", f"2022-{5 + n:02d}-01T00:00:00-06:00")


def test_the_base_file_and_agreeing_overlaps_are_accepted() -> None:
    policy = parse_policy(BASE + decree_toml() + decree_toml("333-R1", "2022-04-20T00:00:00-06:00") + EXTENSION)
    assert [d.number for d in policy.decrees] == ["333", "333-R1"]
    assert policy.administrative_deadline(sv(2022, 4, 1)).due == sv(2022, 4, 16)


BAD_FILES = [
    ("naive time", BASE + decree_toml(start="2022-03-27T00:00:00"), "decrees[0].in_force_from", "UTC offset"),
    ("bare date", BASE + decree_toml(end="2022-04-26"), "decrees[0].in_force_to", "not a date"),
    ("time as text", BASE + decree_toml(start='"2022-03-27T00:00:00-06:00"'), "decrees[0].in_force_from", "string"),
    ("unknown top key", 'colour = "red"\n' + BASE, "colour", "unknown key"),
    ("unknown key in a table", BASE + 'colour = "red"\n', "separation.colour", "unknown key"),
    ("unknown decree key", BASE + decree_toml(extra='note = "x"'), "decrees[0].note", "unknown key"),
    (
        "typo in a key",
        BASE.replace('article = "Cn. 13(2)"', 'articel = "Cn. 13(2)"'),
        "limits.administrative_detention.articel",
        "unknown key",
    ),
    (
        "missing limit",
        BASE.replace('[limits.judicial_decision]\nmax = "PT72H"\nbasis = "Cn. 13(3)"\n', ""),
        "limits.judicial_decision",
        "required",
    ),
    (
        "not ISO 8601",
        BASE.replace('max = "PT72H"\narticle', 'max = "72h"\narticle'),
        "limits.administrative_detention.max",
        "ISO 8601",
    ),
    ("months for hours", BASE + decree_toml(maximum='"P1M"'), "decrees[0].administrative_max", "calendar months"),
    (
        "zero",
        BASE.replace('max = "PT24H"\nbasis = "R8"', 'max = "PT0H"\nbasis = "R8"'),
        "limits.family_notification.max",
        "zero",
    ),
    ("number for duration", BASE + decree_toml(maximum="15"), "decrees[0].administrative_max", "an integer"),
    ("end before start", BASE + decree_toml(end="2022-03-01T00:00:00-06:00"), "decrees[0].in_force_to", "after"),
    (
        "number twice",
        BASE + decree_toml() + decree_toml(start="2022-05-01T00:00:00-06:00", end="2022-05-31T00:00:00-06:00"),
        "decrees[1].number",
        "unique",
    ),
    (
        "overlap suspending other articles",
        BASE
        + decree_toml()
        + decree_toml("333-R1", "2022-04-20T00:00:00-06:00", articles='["Cn. 7", "Cn. 12(2)", "Cn. 13(2)", "Cn. 24"]'),
        "decrees[1]",
        "overlaps decrees[0]",
    ),
    (
        "overlap with another maximum",
        BASE + decree_toml() + decree_toml("333-R1", "2022-04-20T00:00:00-06:00", maximum='"P10D"'),
        "decrees[1]",
        "administrative maximum",
    ),
    ("suspension without maximum", BASE + decree_toml(maximum=None), "decrees[0].administrative_max", "required"),
    (
        "maximum without suspension",
        BASE + decree_toml(articles='["Cn. 24"]'),
        "decrees[0].administrative_max",
        "only a decree suspending",
    ),
    ("article twice", BASE + decree_toml(articles='["Cn. 24", "Cn. 24"]'), "decrees[0].suspended_articles[1]", "twice"),
    ("unknown time zone", BASE.replace("America/El_Salvador", "America/San_Salvador"), "time_zone", "IANA"),
    ("bad code", BASE.replace('code = "test"', 'code = "SLV!"'), "code", "lowercase"),
    ("empty basis", BASE.replace('basis = "R7"', 'basis = ""'), "limits.rights_information.basis", "non-empty"),
    (
        "bad offence class name",
        BASE.replace("[limits.provisional_detention.serious]", "[limits.provisional_detention.Serious]"),
        "limits.provisional_detention.Serious",
        "lowercase",
    ),
    (
        "extension target",
        BASE + EXTENSION.replace('"provisional_detention"', '"sentence"'),
        "extensions[0].applies_to",
        "provisional_detention",
    ),
    (
        "extension counted from",
        BASE + EXTENSION.replace('"in_force_from"', '"arrest"'),
        "extensions[0].counted_from",
        "ordinary_limit",
    ),
    (
        "extension class",
        BASE + EXTENSION + 'offence_classes = ["grave"]\n',
        "extensions[0].offence_classes",
        "unknown: ['grave']",
    ),
    (
        "extension naive",
        BASE + EXTENSION.replace("2023-08-25T00:00:00-06:00", "2023-08-25T00:00:00"),
        "extensions[0].in_force_from",
        "UTC offset",
    ),
    (
        "rival of one",
        BASE.replace('[["MS-13", "Barrio 18"]]', '[["MS-13"]]'),
        "separation.rival_groups[0]",
        "two different",
    ),
    (
        "rival of itself",
        BASE.replace('[["MS-13", "Barrio 18"]]', '[["MS-13", "MS-13"]]'),
        "separation.rival_groups[0][1]",
        "twice",
    ),
    ("area as text", BASE.replace("[space]\n", '[space]\nicrc_shared_m2 = "3.4"\n'), "space.icrc_shared_m2", "number"),
    ("negative area", BASE.replace("[space]\n", "[space]\ncpt_shared_m2 = -4\n"), "space.cpt_shared_m2", "> 0"),
    (
        "space standard",
        BASE.replace("[space]\n", '[space]\ncapacity_standard = "un"\n'),
        "space.capacity_standard",
        "icrc",
    ),
    (
        "term bounds",
        BASE.replace('single_term_min = "P6M"', 'single_term_min = "P61Y"'),
        "sentencing.single_term_max",
        "longer",
    ),
    (
        "not a boolean",
        BASE.replace("perpetual_penalties_forbidden = true", 'perpetual_penalties_forbidden = "yes"'),
        "sentencing.perpetual_penalties_forbidden",
        "true or false",
    ),
    (
        "decrees not tables",
        BASE.replace('code = "test"', 'decrees = "none"\ncode = "test"'),
        "decrees",
        "array of tables",
    ),
    ("not TOML", BASE + "[[decrees]\n", "toml", "not valid TOML"),
]


@pytest.mark.parametrize(("text", "path", "rule"), [case[1:] for case in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_a_bad_file_is_refused_naming_the_path(text: str, path: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_policy(text)
    found = [p for p in caught.value.problems if p.field == path]
    assert found, f"no problem at {path}: {caught.value}"
    assert any(rule in p.rule for p in found), str(caught.value)


def test_every_problem_is_listed_at_once() -> None:
    text = (
        BASE.replace("America/El_Salvador", "Mars/Olympus")
        + decree_toml()
        + renewal(1)
        + renewal(2)
        + decree_toml("333-R3", "2022-07-01T00:00:00", "2022-07-31T00:00:00-06:00")
        + decree_toml("333-R4", "2022-06-15T00:00:00-06:00", "2022-07-15T00:00:00-06:00", maximum='"P10D"')
        + EXTENSION.replace('"P24M"', '"24 months"')
    )
    with pytest.raises(InvalidInput) as caught:
        parse_policy(text)
    fields = {p.field for p in caught.value.problems}
    assert {"time_zone", "decrees[3].in_force_from", "decrees[4]", "extensions[0].period"} <= fields
    assert "decrees[3].in_force_from: must carry a UTC offset" in str(caught.value)


def test_load_policy_refuses_unknown_and_malformed_codes() -> None:
    with pytest.raises(NotFound):
        load_policy("atlantis")
    with pytest.raises(InvalidInput) as caught:
        load_policy("../slv")
    assert caught.value.problems[0].field == "code"


def test_domain_values_refuse_naive_times() -> None:
    with pytest.raises(InvalidInput) as caught:
        Decree("1", "t", datetime(2022, 3, 27), None, SUSPENDED, D15, "s")
    assert caught.value.problems[0].field == "in_force_from"
    for call in (
        lambda: SLV.administrative_deadline(datetime(2024, 1, 1)),
        lambda: SLV.decrees_in_force(datetime(2024, 1, 1)),
        lambda: SLV.provisional_detention_limit("serious", sv(2024, 1, 1), datetime(2024, 1, 1)),
    ):
        with pytest.raises(InvalidInput):
            call()
    stored = decree("X", sv(2030, 1, 1), sv(2030, 1, 31))
    assert stored.in_force_from.tzinfo is UTC  # kept in UTC


@given(
    st.integers(0, 1200),
    st.integers(0, 400),
    st.integers(0, 23),
    st.integers(0, 59),
)
def test_period_text_round_trips(months: int, days: int, hours: int, minutes: int) -> None:
    period = Period(months, timedelta(days=days, hours=hours, minutes=minutes))
    assert Period.parse(str(period)) == period


def test_period_parsing() -> None:
    assert Period.parse("PT72H") == Period(0, H72)
    assert Period.parse("P15D") == Period(0, D15)
    assert Period.parse("P1Y6M") == Period(18)
    assert str(Period.parse("P24M")) == "P24M" and str(Period.parse("P60Y")) == "P60Y"
    for bad in ("P", "PT", "72h", "P1.5D", "P1DT", "pt72h", "P-1D"):
        with pytest.raises(ValueError, match="ISO 8601"):
            Period.parse(bad)
