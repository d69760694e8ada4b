"""The safeguard catalogue (standards.md §6, R1–R31, then habeas's own H1) and the threshold search the sweep
relies on.

The catalogue is the one list of rules: every rule names its standard, a severity from the
table in standards.md §6, how it acts, and where it is checked.  A rule said to be swept has a
check in the sweep, and the sweep checks nothing the catalogue does not say it sweeps.  The
rules not checked yet are listed here on purpose: when one of them gains a check, this test
must change with it.

``latest_breaching_start`` turns a dated time limit into one threshold instant by bisection;
it is compared with a brute-force search over every microsecond (Hypothesis), on deadline
functions that are monotone as the law's are (a later start never has an earlier deadline).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from habeas.domain.policy import Deadline
from habeas.policy.loader import load_policy
from habeas.safeguards.catalogue import BY_ID, RULES, SEVERITY_ORDER, rule
from habeas.safeguards.checks import EARLIEST, SWEEP_CHECKS, SWEPT_RULES, latest_breaching_start

# standards.md §6, the table's last column, as written there.
STANDARDS_TABLE = {
    "R1": "critical", "R2": "refuse", "R3": "critical", "R4": "critical", "R5": "high", "R6": "critical",
    "R7": "high", "R8": "high", "R9": "high", "R10": "high", "R11": "critical", "R12": "critical",
    "R13": "critical", "R14": "high", "R15": "high", "R16": "high", "R17": "medium", "R18": "critical",
    "R19": "high", "R20": "high", "R21": "medium", "R22": "high", "R23": "critical", "R24": "high",
    "R25": "critical", "R26": "critical / refuse", "R27": "high", "R28": "medium", "R29": "info", "R30": "high",
    "R31": "high",
}  # fmt: skip
# Rules beyond the standards' table (ids H1, H2, ...), with their severity.
OWN_RULES = {"H1": "high"}
NOT_YET = frozenset({"R22", "R24", "R30", "R31"})
SEVERITIES = frozenset({"critical", "high", "medium", "info"})
STANDARDS_MD = Path(__file__).resolve().parents[3] / "shared" / "docs" / "standards.md"
MICRO = timedelta(microseconds=1)


def swept_by_checks() -> set[str]:
    """The rules SWEEP_CHECKS runs, with ranges such as "R16-R19" spelled out."""
    out: set[str] = set()
    for label, _ in SWEEP_CHECKS:
        first, _, last = label.partition("-")
        prefix, lo, hi = first[0], int(first[1:]), int((last or first)[1:])
        out.update(f"{prefix}{n}" for n in range(lo, hi + 1))
    return out


# --- the catalogue ------------------------------------------------------------------------------


def test_the_catalogue_is_r1_to_r31_in_order_then_habeas_own_rules() -> None:
    assert [r.id for r in RULES] == [f"R{n}" for n in range(1, 32)] + list(OWN_RULES)
    assert set(BY_ID) == set(STANDARDS_TABLE) | set(OWN_RULES)
    assert all(rule(r.id) is r for r in RULES)
    with pytest.raises(KeyError):
        rule("R32")  # an R id is always a row of standards.md


@pytest.mark.parametrize("rule_id", list(OWN_RULES))
def test_habeas_own_rules_name_their_standard_and_severity(rule_id: str) -> None:
    r = BY_ID[rule_id]
    assert r.title.strip() and r.standard.strip() and r.severity == OWN_RULES[rule_id]
    assert r.mode == "alert" and r.checked == "sweep"


@pytest.mark.parametrize("rule_id", list(STANDARDS_TABLE))
def test_each_rule_names_its_standard_severity_and_where_it_is_checked(rule_id: str) -> None:
    r = BY_ID[rule_id]
    assert r.title.strip() and r.standard.strip() and r.checked.strip()
    assert r.severity in SEVERITIES and set(SEVERITY_ORDER) == SEVERITIES
    assert r.mode in ("refuse", "alert", "refuse+alert")
    table = STANDARDS_TABLE[rule_id]
    named = [word for word in re.split(r"[\s/]+", table) if word in SEVERITIES]
    if named:
        assert [r.severity] == named, f"{rule_id}: standards.md says {table!r}"
    if "refuse" in table:
        assert "refuse" in r.mode, f"{rule_id}: standards.md says {table!r}, the catalogue {r.mode!r}"


def test_the_embedded_table_is_the_one_in_standards_md() -> None:
    if not STANDARDS_MD.exists():
        pytest.skip(f"{STANDARDS_MD} is not here")
    rows = re.findall(r"^\| (R\d+) \| .+? \| ([^|]+?) \|$", STANDARDS_MD.read_text(encoding="utf-8"), re.MULTILINE)
    assert dict(rows) == STANDARDS_TABLE


def test_the_rules_not_checked_yet() -> None:
    """Update this set (and add the rule's tests) when one of these rules gains a check."""
    waiting = {r.id for r in RULES if r.checked.startswith("not yet")}
    assert waiting == NOT_YET
    for rule_id in waiting:
        assert BY_ID[rule_id].checked.removeprefix("not yet").lstrip(": ").strip(), f"{rule_id} says why not"
        assert "not yet" not in BY_ID[rule_id].checked.removeprefix("not yet")
    assert not waiting & (SWEPT_RULES | swept_by_checks())
    assert all("not yet" not in r.checked for r in RULES if r.id not in NOT_YET)


def sweep_claim(checked: str) -> str | None:
    """The rule whose sweep check a ``checked`` text points at: its own, or another's ("as R13")."""
    if "sweep" not in checked:
        return None
    alias = re.search(r"sweep \([^)]*\bas (R\d+)\)", checked)
    return alias.group(1) if alias else ""


@pytest.mark.parametrize(
    "rule_id",
    [r for r in STANDARDS_TABLE],
)
def test_a_rule_said_to_be_swept_has_a_sweep_check(rule_id: str) -> None:
    claim = sweep_claim(BY_ID[rule_id].checked)
    covered = SWEPT_RULES | swept_by_checks()
    if claim is None:
        assert rule_id not in covered, f"{rule_id} is swept but its catalogue entry does not say so"
    else:
        assert (claim or rule_id) in covered, f"{rule_id}: {BY_ID[rule_id].checked!r} but the sweep has no check"


def test_everything_the_sweep_checks_is_in_the_catalogue_as_swept() -> None:
    by_checks, listed = swept_by_checks(), set(SWEPT_RULES)
    assert by_checks <= set(BY_ID) and listed <= set(BY_ID)
    # R13 is run by the sweep (overdue movements) but left out of SWEPT_RULES on purpose: its roll-call
    # alerts are closed by people (checks.py); every other rule is in both or neither.
    assert by_checks - listed == {"R13"} and listed <= by_checks
    for rule_id in by_checks:
        assert "sweep" in BY_ID[rule_id].checked, rule_id
        assert BY_ID[rule_id].mode != "refuse", f"{rule_id} is swept, so it raises alerts"


def test_refusing_rules_say_which_command_refuses() -> None:
    for r in RULES:
        if "refuse" in r.mode:
            assert re.search(r"command|admission", r.checked), f"{r.id}: {r.checked!r}"


# --- latest_breaching_start ----------------------------------------------------------------------

T0 = datetime(2025, 3, 15, 22, 4, tzinfo=UTC)


def brute_force(due: Callable[[datetime], datetime], at: datetime, earliest: datetime) -> datetime:
    """The latest start in [earliest, at] whose deadline is strictly before ``at``, trying every microsecond."""
    found = earliest - MICRO
    s = earliest
    while s <= at:
        if due(s) < at:
            found = s
        s += MICRO
    return found


@st.composite
def monotone_deadlines(draw: st.DrawFn) -> tuple[Callable[[datetime], Deadline], datetime, datetime]:
    """A deadline a fixed time after the start, raised to a non-decreasing step (a decree's fixed end date,
    an extension counted from its entry into force), over a span of a few hundred microseconds."""
    span = draw(st.integers(1, 300))
    duration = draw(st.integers(0, 2 * span))
    steps = sorted(draw(st.lists(st.integers(0, span), max_size=4)))
    levels = sorted(draw(st.lists(st.integers(0, 3 * span), min_size=len(steps), max_size=len(steps))))
    earliest = T0
    at = T0 + draw(st.integers(0, span)) * MICRO

    def deadline(start: datetime) -> Deadline:
        offset = (start - earliest) // MICRO
        due = start + duration * MICRO
        for step, level in zip(steps, levels, strict=True):
            if offset >= step:
                due = max(due, earliest + level * MICRO)
        return Deadline(start, due, "test")

    return deadline, at, earliest


@settings(max_examples=150, deadline=None)
@given(monotone_deadlines())
def test_bisection_equals_brute_force(case: tuple[Callable[[datetime], Deadline], datetime, datetime]) -> None:
    deadline, at, earliest = case
    assert latest_breaching_start(deadline, at, earliest) == brute_force(lambda s: deadline(s).due, at, earliest)


@settings(max_examples=200, deadline=None)
@given(
    at=st.datetimes(datetime(1950, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)),
    duration=st.timedeltas(timedelta(0), timedelta(days=365 * 80)),
)
def test_bisection_is_exact_to_the_microsecond_over_decades(at: datetime, duration: timedelta) -> None:
    # due = start + duration: breached iff start + duration < at iff start <= at - duration - 1 µs.
    found = latest_breaching_start(lambda s: Deadline(s, s + duration, "test"), at, EARLIEST)
    assert found == max(EARLIEST - MICRO, at - duration - MICRO)


SLV = load_policy("slv")


@settings(max_examples=40, deadline=None)
@given(
    at=st.datetimes(datetime(2022, 3, 1), datetime(2026, 6, 1), timezones=st.just(UTC)),
    probes=st.lists(st.timedeltas(timedelta(0), timedelta(days=40)), min_size=1, max_size=8),
)
def test_the_threshold_under_the_decrees_splits_breach_from_no_breach(at: datetime, probes: list[timedelta]) -> None:
    """R3 under El Salvador's decrees (15 days while Cn. 13(2) is suspended, 72 h otherwise): the threshold
    is exact, and every start up to it breaches while every later one does not."""
    earliest = at - timedelta(days=40)
    found = latest_breaching_start(SLV.administrative_deadline, at, earliest)
    if found >= earliest:
        assert SLV.administrative_deadline(found).due < at
    assert SLV.administrative_deadline(found + MICRO).due >= at
    for probe in probes:
        start = earliest + probe
        assert (SLV.administrative_deadline(start).due < at) == (start <= found), start
