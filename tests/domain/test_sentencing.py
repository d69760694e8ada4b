"""Sentence calculation: worked examples, properties, refusals, time zones, and two real failure shapes.

Expected dates in the table are worked out by hand (and written as literals), not by calling the code
under test, so a mistake in habeas.domain.sentencing cannot hide by being repeated.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from habeas.domain.sentencing import (
    Calculation,
    CountSentence,
    CustodyCredit,
    SentencingRules,
    Term,
    compute,
)
from habeas.errors import InvalidInput

RULES = SentencingRules()
SHORT_TERMS = SentencingRules(single_term_min=Term(days=1))  # a policy allowing short terms, to show month ends


def cons(count_id: str, term: Term, article: str = "art. 345") -> CountSentence:
    return CountSentence(count_id, "gang membership", article, term, "consecutive")


def conc(count_id: str, term: Term, with_: str | None = None, article: str = "art. 345") -> CountSentence:
    return CountSentence(count_id, "gang membership", article, term, "concurrent", with_)


def held(start: date, end: date, reason: str = "provisional detention") -> CustodyCredit:
    return CustodyCredit(start, end, reason)


def text(calc: Calculation) -> str:
    return "\n".join(calc.explanation)


# --- 1. worked examples -------------------------------------------------------------------------------------

# CECOT-style (standards §4): one leader count (art. 345, 40–45 years) and 23 membership counts (20–30 years),
# all consecutive: 45 + 23 × 25 = 620 years.  Held since 2 April 2022 under the state of exception.
CECOT = (
    CountSentence("1", "gang leadership", "art. 345", Term(years=45), "consecutive"),
    *(cons(str(i), Term(years=25)) for i in range(2, 25)),
)
CECOT_CREDIT = (held(date(2022, 4, 2), date(2024, 3, 9), "provisional detention, state of exception"),)  # 708 days


@dataclass(frozen=True)
class Row:
    name: str
    counts: tuple[CountSentence, ...]
    sentenced_on: date
    release_on: date
    aggregate: Term
    enforceable: Term
    credits: tuple[CustodyCredit, ...] = ()
    rules: SentencingRules = RULES
    credit_days: int = 0
    says: tuple[str, ...] = ()  # fragments the explanation must contain
    warns: tuple[str, ...] = ()  # fragments the warnings must contain
    no_warnings: bool = field(default=True)


S = date(2024, 3, 10)
ROWS = [
    Row("single count", (cons("1", Term(years=1)),), S, date(2025, 3, 10), Term(years=1), Term(years=1),
        says=("served 2024-03-10 through 2025-03-09", "Release on 2025-03-10")),
    Row("two consecutive", (cons("1", Term(years=2)), cons("2", Term(months=6))), S, date(2026, 9, 10),
        Term(years=2, months=6), Term(years=2, months=6),
        says=("Count 2 (gang membership, art. 345) runs consecutively",)),
    Row("concurrent inside its count", (cons("1", Term(years=5)), conc("2", Term(years=3), "1")), S,
        date(2029, 3, 10), Term(years=8), Term(years=5), says=("runs concurrently with count 1",)),
    Row("concurrent outlasting its count, mid-chain",
        (cons("1", Term(years=1)), cons("2", Term(years=2)), conc("3", Term(years=4), "2")), S,
        date(2029, 3, 10), Term(years=7), Term(years=5), says=("ending with count 3",)),
    Row("mixed, one alongside the whole",
        (cons("1", Term(years=3)), cons("2", Term(years=3)), conc("3", Term(years=10)), cons("4", Term(months=6))),
        S, date(2034, 3, 10), Term(years=16, months=6), Term(years=10), says=("with the whole sentence",)),
    Row("with credit", (cons("1", Term(years=1)),), S, date(2024, 12, 31), Term(years=1), Term(years=1),
        credits=(held(date(2024, 1, 1), date(2024, 3, 9)),), credit_days=69,
        says=("Credit for 69 days held since 2024-01-01",)),
    Row("overlapping credits counted once", (cons("1", Term(years=1)),), S, date(2025, 1, 24), Term(years=1),
        Term(years=1), credits=(held(date(2024, 1, 1), date(2024, 1, 31)), held(date(2024, 1, 15), date(2024, 2, 14))),
        credit_days=45, says=("overlap by 17 days",)),
    Row("credit cut at the sentence date", (cons("1", Term(years=1)),), S, date(2025, 3, 1), Term(years=1),
        Term(years=1), credits=(held(date(2024, 3, 1), date(2024, 3, 20)),), credit_days=9,
        says=("the 11 days from the sentence date on",)),
    Row("31 Jan + 1 month, leap year", (cons("1", Term(months=1)),), date(2024, 1, 31), date(2024, 2, 29),
        Term(months=1), Term(months=1), rules=SHORT_TERMS),
    Row("31 Jan + 1 month, common year", (cons("1", Term(months=1)),), date(2023, 1, 31), date(2023, 2, 28),
        Term(months=1), Term(months=1), rules=SHORT_TERMS),
    Row("31 Aug + 6 months", (cons("1", Term(months=6)),), date(2023, 8, 31), date(2024, 2, 29), Term(months=6),
        Term(months=6)),
    Row("29 Feb + 1 year", (cons("1", Term(years=1)),), date(2024, 2, 29), date(2025, 2, 28), Term(years=1),
        Term(years=1)),
    Row("29 Feb + 4 years", (cons("1", Term(years=4)),), date(2024, 2, 29), date(2028, 2, 29), Term(years=4),
        Term(years=4)),
    Row("29 Feb + 1 year 1 month clamps once", (cons("1", Term(years=1, months=1)),), date(2024, 2, 29),
        date(2025, 3, 29), Term(years=1, months=1), Term(years=1, months=1)),
    Row("month ends: 1 month then 1 month", (cons("1", Term(months=1)), cons("2", Term(months=1))),
        date(2024, 1, 31), date(2024, 3, 29), Term(months=2), Term(months=2), rules=SHORT_TERMS),
    Row("month ends: 2 months at once", (cons("1", Term(months=2)),), date(2024, 1, 31), date(2024, 3, 31),
        Term(months=2), Term(months=2), rules=SHORT_TERMS),
    Row("order: 1 month then 1 day", (cons("1", Term(months=1)), cons("2", Term(days=1))), date(2024, 1, 30),
        date(2024, 3, 1), Term(months=1, days=1), Term(months=1, days=1), rules=SHORT_TERMS),
    Row("order: 1 day then 1 month", (cons("1", Term(days=1)), cons("2", Term(months=1))), date(2024, 1, 30),
        date(2024, 2, 29), Term(months=1, days=1), Term(months=1, days=1), rules=SHORT_TERMS),
    Row("CECOT-style, no cap", CECOT, S, date(2642, 4, 2), Term(years=620), Term(years=620), credits=CECOT_CREDIT,
        credit_days=708, warns=("R29: announced aggregate beyond any enforceable term", "Cn. 27"), no_warnings=False),
    Row("CECOT-style, 60-year cap", CECOT, S, date(2082, 4, 2), Term(years=620), Term(years=60),
        credits=CECOT_CREDIT, rules=SentencingRules(aggregate_cap=Term(years=60)), credit_days=708,
        says=("caps the total at 60 years", "cut to 60 years")),
    Row("cap that does not bite", (cons("1", Term(years=20)),), S, date(2044, 3, 10), Term(years=20),
        Term(years=20), rules=SentencingRules(aggregate_cap=Term(years=60)), says=("does not shorten",)),
    Row("credit longer than the term", (cons("1", Term(months=6)),), S, S, Term(months=6), Term(months=6),
        credits=(held(date(2023, 1, 1), date(2024, 3, 9)),), credit_days=434,
        says=("cover the whole enforceable term", "release is at once"), warns=("beyond the enforceable term",),
        no_warnings=False),
]  # fmt: skip


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_worked_examples(row: Row) -> None:
    calc = compute(row.counts, row.sentenced_on, row.credits, row.rules)
    assert calc.release_on == row.release_on
    assert calc.aggregate == row.aggregate
    assert calc.enforceable == row.enforceable
    assert calc.credit_days == row.credit_days
    assert calc.starts_on == row.sentenced_on
    for fragment in row.says:
        assert fragment in text(calc), fragment
    for fragment in row.warns:
        assert any(fragment in w for w in calc.warnings), (fragment, calc.warnings)
    if row.no_warnings:
        assert calc.warnings == ()
    assert calc.explanation[0].startswith("1. ")
    assert all(step.startswith(f"{n}. ") for n, step in enumerate(calc.explanation, start=1))


def test_cecot_figures_are_kept_apart() -> None:
    capped = compute(CECOT, S, CECOT_CREDIT, SentencingRules(aggregate_cap=Term(years=60)), Term(years=620))
    assert (capped.aggregate, capped.enforceable) == (Term(years=620), Term(years=60))
    assert capped.warnings == ()  # a cap gives an enforceable term: R29 does not apply
    assert "matches the sum of the counts" in text(capped)
    wrong = compute(CECOT, S, CECOT_CREDIT, SentencingRules(aggregate_cap=Term(years=60)), Term(years=1335))
    assert any("1,335 years" in w and "differs" in w for w in wrong.warnings)


def test_term_formatting_and_sums() -> None:
    assert str(Term(years=1335)) == "1,335 years"
    assert str(Term(years=1, months=2, days=1)) == "1 year 2 months 1 day"
    assert str(Term()) == "0 days"
    assert Term(months=11).plus(Term(months=3, days=40)) == Term(years=1, months=2, days=40)  # days never carried


def test_credit_exactly_the_term_and_one_day_more() -> None:
    six_months = [cons("1", Term(months=6))]  # 2024-03-10 to 2024-09-10: 184 days
    exact = compute(six_months, S, [held(date(2023, 9, 8), date(2024, 3, 9))], RULES)  # 184 days
    assert (exact.credit_days, exact.release_on, exact.warnings) == (184, S, ())
    one_more = compute(six_months, S, [held(date(2023, 9, 7), date(2024, 3, 9))], RULES)  # 185 days
    assert (one_more.credit_days, one_more.release_on) == (185, S)
    assert one_more.warnings == ("Held 1 day beyond the enforceable term before sentence: release at once; "
                                 "excess credit cannot be banked.",)  # fmt: skip
    less = compute(six_months, S, [held(date(2023, 9, 9), date(2024, 3, 9))], RULES)  # 183 days
    assert less.release_on == date(2024, 3, 11)


def test_credit_after_the_sentence_date_is_not_credit() -> None:
    calc = compute([cons("1", Term(years=1))], S, [held(S, date(2024, 4, 1))], RULES)
    assert calc.credit_days == 0 and calc.release_on == date(2025, 3, 10)
    assert any("not credit" in w for w in calc.warnings)


# --- refusals -----------------------------------------------------------------------------------------------


def refused(*args: object, **kwargs: object) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        compute(*args, **kwargs)
    return {p.field: p.rule for p in caught.value.problems}


def test_counts_outside_art_45_are_refused_naming_each_count() -> None:
    problems = refused([cons("1", Term(months=5, days=27)), cons("2", Term(years=20)), cons("3", Term(years=61))],
                       S, [], RULES)  # fmt: skip
    assert set(problems) == {"counts[0].term", "counts[2].term"}
    assert "Penal Code art. 45" in problems["counts[0].term"] and "below" in problems["counts[0].term"]
    assert "Penal Code art. 45" in problems["counts[2].term"] and "beyond" in problems["counts[2].term"]
    assert "counts[0].term" in refused([cons("1", Term(years=59, months=12, days=1))], S, [], RULES)


@pytest.mark.parametrize(
    ("counts", "field"),
    [
        ([], "counts"),
        ([cons("1", Term(years=1)), cons("1", Term(years=1))], "counts[1].count_id"),
        ([conc("1", Term(years=1), "2"), cons("2", Term(years=1))], "counts[0].concurrent_with"),  # not earlier
        ([conc("1", Term(years=1), "1")], "counts[0].concurrent_with"),  # itself
        ([replace(cons("1", Term(years=1)), concurrent_with="0")], "counts[0].concurrent_with"),
        ([replace(cons("1", Term(years=1)), runs="both")], "counts[0].runs"),
        ([cons("", Term(years=1))], "counts[0].count_id"),
        ([cons("1", Term(years=-1, months=30))], "counts[0].term"),
        ([cons("1", Term(years=True))], "counts[0].term"),
    ],
)
def test_malformed_counts_are_refused(counts: list[CountSentence], field: str) -> None:
    assert field in refused(counts, S, [], RULES)


def test_malformed_dates_credits_and_rules_are_refused() -> None:
    one = [cons("1", Term(years=1))]
    assert "sentenced_on" in refused(one, datetime(2024, 3, 10, tzinfo=UTC), [], RULES)
    assert "credits[0].end" in refused(one, S, [held(date(2024, 2, 1), date(2024, 1, 1))], RULES)
    assert "credits[0].reason" in refused(one, S, [held(date(2024, 1, 1), date(2024, 1, 2), " ")], RULES)
    assert "rules.time_zone" in refused(one, S, [], SentencingRules(time_zone="Mars/Olympus_Mons"))
    assert "rules.release_hour" in refused(one, S, [], SentencingRules(release_hour=24))
    assert "rules.single_term_min" in refused(one, S, [], SentencingRules(single_term_min=Term(years=61)))
    assert "rules.aggregate_cap" in refused(one, S, [], SentencingRules(aggregate_cap=Term()))


def test_a_term_past_the_calendar_is_refused_without_a_cap_cn_27() -> None:
    counts = [cons(str(i), Term(years=60)) for i in range(170)]  # 10,200 years from 2024: past 31 Dec 9999
    problems = refused(counts, S, [], RULES)
    assert "Cn. 27" in problems["counts"] and "aggregate_cap" in problems["counts"]
    capped = compute(counts, S, [], SentencingRules(aggregate_cap=Term(years=60)))
    assert capped.release_on == date(2084, 3, 10) and capped.aggregate == Term(years=10_200)


# --- time zones ---------------------------------------------------------------------------------------------


def test_release_at_in_el_salvador_is_utc_minus_6() -> None:
    calc = compute([cons("1", Term(years=1))], S, [], RULES)
    assert calc.release_at == datetime(2025, 3, 10, 14, 0, tzinfo=UTC)
    assert calc.release_at.utcoffset() == timedelta(0)


def test_release_at_across_a_dst_change_in_madrid() -> None:
    madrid = SentencingRules(time_zone="Europe/Madrid")
    # 6 months from 30 Sep 2024: release on Sunday 30 Mar 2025, the day clocks go forward at 02:00 CET.
    summer = compute([cons("1", Term(months=6))], date(2024, 9, 30), [], madrid)
    assert summer.release_on == date(2025, 3, 30)
    assert summer.release_at == datetime(2025, 3, 30, 6, 0, tzinfo=UTC)  # 08:00 CEST (UTC+2)
    # One day of credit moves release to Saturday, still winter time.
    winter = compute([cons("1", Term(months=6))], date(2024, 9, 30), [held(date(2024, 9, 29), date(2024, 9, 29))],
                     madrid)  # fmt: skip
    assert winter.release_on == date(2025, 3, 29)
    assert winter.release_at == datetime(2025, 3, 29, 7, 0, tzinfo=UTC)  # 08:00 CET (UTC+1)
    assert winter.release_at - summer.release_at == timedelta(hours=-23)  # a 23-hour local day


def test_release_hour_in_a_dst_gap_and_in_a_repeated_hour() -> None:
    # 02:00 does not exist on 30 Mar 2025 in Madrid: release when the clocks jump, 01:00 UTC.
    gap = compute(
        [cons("1", Term(months=6))], date(2024, 9, 30), [], SentencingRules(time_zone="Europe/Madrid", release_hour=2)
    )
    assert gap.release_at == datetime(2025, 3, 30, 1, 0, tzinfo=UTC)
    assert "does not exist" in text(gap)
    # 02:00 happens twice on 26 Oct 2025 in Madrid: the first (CEST, 00:00 UTC) is the earlier release.
    twice = compute(
        [cons("1", Term(months=6))], date(2025, 4, 26), [], SentencingRules(time_zone="Europe/Madrid", release_hour=2)
    )
    assert twice.release_on == date(2025, 10, 26)
    assert twice.release_at == datetime(2025, 10, 26, 0, 0, tzinfo=UTC)
    assert "happens twice" in text(twice)


# --- 2. properties ------------------------------------------------------------------------------------------

days_ = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
valid_terms = st.one_of(
    st.builds(Term, years=st.integers(1, 58), months=st.integers(0, 11), days=st.integers(0, 60)),
    st.builds(Term, years=st.just(0), months=st.integers(6, 11), days=st.integers(0, 30)),
)
ZONES = ["America/El_Salvador", "Europe/Madrid", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]


@st.composite
def count_lists(draw: st.DrawFn, max_size: int = 8) -> list[CountSentence]:
    n = draw(st.integers(1, max_size))
    counts: list[CountSentence] = []
    for i in range(n):
        term = draw(valid_terms)
        kind = draw(st.sampled_from(["consecutive", "concurrent", "concurrent_with"]))
        cid = f"c{i}"
        if kind == "consecutive":
            counts.append(cons(cid, term))
        elif kind == "concurrent" or not counts:
            counts.append(conc(cid, term))
        else:
            counts.append(conc(cid, term, draw(st.sampled_from([c.count_id for c in counts]))))
    return counts


@st.composite
def credit_lists(draw: st.DrawFn, sentenced_on: date) -> list[CustodyCredit]:
    out = []
    for _ in range(draw(st.integers(0, 4))):
        start = sentenced_on - timedelta(days=draw(st.integers(1, 3000)))
        out.append(held(start, start + timedelta(days=draw(st.integers(0, 900)))))
    return out


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[CountSentence], date, list[CustodyCredit]]:
    on = draw(days_)
    return draw(count_lists()), on, draw(credit_lists(on))


@given(cases())
def test_consecutive_is_never_shorter_than_concurrent(
    case: tuple[list[CountSentence], date, list[CustodyCredit]],
) -> None:
    counts, on, credits = case
    all_cons = [cons(c.count_id, c.term) for c in counts]
    all_conc = [conc(c.count_id, c.term) for c in counts]
    a, mixed, b = (compute(x, on, credits, RULES) for x in (all_cons, counts, all_conc))
    assert a.release_on >= mixed.release_on >= b.release_on
    assert a.aggregate == mixed.aggregate == b.aggregate


@given(cases(), st.data())
def test_more_credit_never_gives_a_later_release(case: tuple[list[CountSentence], date, list[CustodyCredit]],
                                                 data: st.DataObject) -> None:  # fmt: skip
    counts, on, credits = case
    extra = data.draw(credit_lists(on))
    before = compute(counts, on, credits, RULES)
    after = compute(counts, on, credits + extra, RULES)
    assert after.release_on <= before.release_on
    assert after.credit_days >= before.credit_days
    assert after.release_on >= on  # never before the sentence date


@given(cases(), st.data())
def test_adding_a_count_never_gives_an_earlier_release(case: tuple[list[CountSentence], date, list[CustodyCredit]],
                                                       data: st.DataObject) -> None:  # fmt: skip
    counts, on, credits = case
    where = data.draw(st.integers(0, len(counts)))
    new = data.draw(st.sampled_from([cons, conc]))("new", data.draw(valid_terms))
    more = [*counts[:where], new, *counts[where:]]
    assert compute(more, on, credits, RULES).release_on >= compute(counts, on, credits, RULES).release_on


@given(count_lists(max_size=3), days_, st.sampled_from(ZONES), st.integers(0, 23))
def test_release_at_is_the_local_release_hour(counts: list[CountSentence], on: date, zone_name: str,
                                              hour: int) -> None:  # fmt: skip
    calc = compute(counts, on, [], SentencingRules(time_zone=zone_name, release_hour=hour))
    zone = ZoneInfo(zone_name)
    assert calc.release_at.tzinfo is UTC
    wall = datetime(calc.release_on.year, calc.release_on.month, calc.release_on.day, hour)
    local = calc.release_at.astimezone(zone)
    if wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall:
        assert (local.date(), local.hour, local.minute, local.second) == (calc.release_on, hour, 0, 0)
        assert calc.release_at <= wall.replace(tzinfo=zone, fold=1).astimezone(UTC)  # the first if it repeats
    else:  # a DST gap: the first instant whose local time is at or after the hour
        assert local.replace(tzinfo=None) >= wall
        assert (calc.release_at - timedelta(seconds=1)).astimezone(zone).replace(tzinfo=None) < wall


@given(cases())
def test_determinism(case: tuple[list[CountSentence], date, list[CustodyCredit]]) -> None:
    counts, on, credits = case
    assert compute(counts, on, credits, RULES) == compute(tuple(counts), on, tuple(credits), RULES)


@settings(max_examples=50)
@given(cases())
def test_explanation_mentions_every_count(case: tuple[list[CountSentence], date, list[CustodyCredit]]) -> None:
    counts, on, credits = case
    explained = text(compute(counts, on, credits, RULES))
    for c in counts:
        assert f"Count {c.count_id} (" in explained


# --- 3. publicly reported failures --------------------------------------------------------------------------


def test_a_consecutive_enhancement_is_never_eaten_by_credit_early_release() -> None:
    """Modelled on Washington State DOC, 2002–2015 (reported Dec 2015; Governor Inslee's press conference):
    after a 2002 court ruling on credit for county-jail time, the release-date software applied the credit
    reduction to sentence *enhancements* (e.g. firearm time, by law served in full and consecutively) as
    well as to the base term; about 3,200 people were released early, by 49–55 days on average and up to
    600 days (The Stranger, 22 Dec 2015; infopackets.com; hackread.com; data-safety.tech summary citing the
    governor's 2016-02-25 DOC investigation report).  Habeas has no good-time credit; the same shape of bug
    here is dropping or absorbing the consecutive enhancement, or taking credit off each count separately.
    """
    on = date(2023, 6, 15)
    base = CountSentence("1", "assault", "art. 142", Term(years=3), "consecutive")
    enhancement = CountSentence("1-E", "firearm enhancement", "art. 142 (enhancement)", Term(years=1), "consecutive")
    jail = [held(date(2023, 3, 7), date(2023, 6, 14), "county jail before sentence")]  # 100 days
    calc = compute([base, enhancement], on, jail, RULES)
    assert calc.credit_days == 100
    assert calc.release_on == date(2027, 3, 7)  # 15 Jun 2027 − 100 days, worked by hand
    assert calc.release_on > date(2026, 3, 7)  # enhancement dropped: a year early
    assert calc.release_on > date(2026, 11, 27)  # credit taken off both counts: 100 days early
    assert "Count 1-E (firearm enhancement" in text(calc) and "+1 year" in text(calc)


def test_pre_trial_custody_is_always_credited_too_long_otherwise() -> None:
    """Modelled on Arizona's ACIS (reported Feb 2021 by KJZZ; The Register, StateScoop, Gizmodo): the release
    calculator could not apply the earned-release credits of a 2019 law (SB 1310), so people stayed in prison
    past the date the law gave them; staff computed dates by hand, and 733 eligible people were found not
    enrolled.  Also Washington DOC again in 2019 (Techdirt, 20 Mar 2019): a calculation bug reviewed in ~3,500
    cases, mostly people held too long.  Here: police cells (72 h), provisional detention, bail, re-arrest —
    every day held counts, each day once, and credit longer than the term means release at once.
    """
    on = S
    periods = [
        held(date(2022, 3, 28), date(2022, 3, 30), "administrative detention, Cn. 13(2)"),
        held(date(2022, 3, 31), date(2023, 9, 30), "provisional detention"),
        held(date(2023, 1, 1), date(2023, 2, 1), "provisional detention, recorded again after a transfer"),
        held(date(2024, 1, 10), date(2024, 3, 9), "provisional detention after re-arrest"),
    ]
    calc = compute([cons("1", Term(years=2))], on, periods, RULES)
    assert calc.credit_days == 612  # 3 + 549 + 60, the duplicate counted once (644 listed)
    assert calc.release_on == date(2024, 7, 6)  # 10 Mar 2026 − 612 days, worked by hand
    assert calc.release_on < date(2026, 3, 10)  # credit ignored: 612 days too long
    assert calc.release_on < date(2026, 1, 9)  # only the last period (60 days) counted: 552 days too long
    # Held longer before trial than the whole term: released on the sentence date, not at the end of the term.
    short = compute([cons("1", Term(months=6))], on, periods, RULES)
    assert short.release_on == on
    assert short.release_at == datetime(2024, 3, 10, 14, 0, tzinfo=UTC)
    assert any("beyond the enforceable term" in w for w in short.warnings)
