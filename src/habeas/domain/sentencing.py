"""Sentences and release dates, with an explanation anyone can follow (F4 sentence clock, F9, R29).

Pure: no I/O, no clock.  The same input always gives the same :class:`Calculation`.  (The
time-zone rules come from the system's tz database through :mod:`zoneinfo`; that is data,
read-only, and the same on every call.)

What is stored, and why three figures (standards §4)
====================================================
El Salvador sentences offences cumulatively, so courts announce totals of 463 to 1,420 years
(reported) although Penal Code art. 45 says a prison term runs from 6 months to 60 years and
Cn. 27 forbids perpetual penalties.  A register that kept only one number would either repeat
the announcement (a term nobody can serve) or silently apply a cap nobody has confirmed.  So a
:class:`Calculation` keeps apart:

* the **per-count sentences** (the input, :class:`CountSentence`);
* the **aggregate** — the sum of every count, concurrent ones included, the way a court
  announces it ("1,335 years");
* the **enforceable term** — what is actually served once concurrency and any cap apply,
  with its dates.

Whether a statutory cap on the total applies is unconfirmed, so it is a policy parameter,
:attr:`SentencingRules.aggregate_cap`, never a constant here.

Rules, each with its reasoning
==============================
1. **Calendar terms.**  A :class:`Term` is years, months and days on the calendar, not a fixed
   number of days: a year from 10 March ends on the next 10 March whatever the number of days
   between.  Adding a term: first ``12 × years + months`` months *in one step*, keeping the day
   of the month and clamping it to the last day of the target month (31 Jan + 1 month = 28 or
   29 Feb; 29 Feb 2024 + 1 year = 28 Feb 2025; 29 Feb 2024 + 4 years = 29 Feb 2028), then the
   days, each a calendar day.  Years and months are added together so a term clamps at most
   once: adding the year and then the month separately could clamp twice and lose a day
   (29 Feb 2024 + 1 year → 28 Feb 2025, + 1 month → 28 Mar 2025, where 13 months give
   29 Mar 2025).

2. **When a term ends (the one convention used everywhere).**  Day one of a term is its start
   date and is served in full.  A term is served *through the day before its anniversary*, and
   release is *on the anniversary*: a 1-year term from 2024-03-10 is served through 2025-03-09
   and the person is released on 2025-03-10.  Then the days served are simply
   ``release_on − starts_on`` with no off-by-one, terms chain without gaps or overlaps (the next
   consecutive count's day one is the previous count's release day), and nobody is held on a
   day that belongs to no term.  North Carolina's prison division applies the same convention
   (it "does not release a person until the day after a sentence is fully served"; UNC School of
   Government, "Counting Jail Credit Days").

3. **The sentence starts on the sentence date** (``starts_on = sentenced_on``), and time held
   before it is *credit*, not an earlier start.  Starting the term at the first day of custody
   would silently credit any gap in custody (release on bail, a quashed order) and would give
   a different answer from the day-for-day rule below whenever the custody spans month ends.

4. **Consecutive counts** are added one after another to the running end date of the
   consecutive chain, *in the order given*.  Order matters because of month-end clamping:
   from 2024-01-31, 1 month then 1 month gives 2024-02-29 then 2024-03-29, but 2 months give
   2024-03-31; from 2024-01-30, 1 month then 1 day gives 2024-03-01, but 1 day then 1 month
   gives 2024-02-29.  The order given (the judgment's order) is deterministic and is the one a
   person reading the judgment would follow.  Every calendar addition is monotone (a later
   start never gives an earlier end), so adding a count never makes a release earlier.

5. **Concurrent counts** run alongside another count: ``concurrent_with`` names an *earlier*
   count and the concurrent count starts on that count's start date; with
   ``concurrent_with=None`` it runs alongside the whole sentence, from ``starts_on``.  A
   concurrent count never moves the start of later consecutive counts (they follow the
   consecutive chain), but it does end when it ends: the **enforceable term is the longest
   chain**, i.e. it ends on the latest end date of any count.  Its :class:`Term` is the sum of
   the terms along that chain (a concurrent count's own term plus the consecutive terms before
   its start).  The dates come from applying the terms one by one (rule 4), so they are what
   the register holds; the :class:`Term` is the same chain written the way a court writes it.

6. **Aggregate** = the sum of every count's term, components added and every 12 months carried
   into a year; days are never carried into months (a month is not a fixed number of days).

7. **Bounds (Penal Code art. 45).**  Art. 45 reads "la pena de prisión, cuya duración será de
   seis meses a sesenta años": it bounds *a* prison penalty, i.e. each count.  Nothing found
   applies it to the cumulative total (hence the cap below is a policy parameter), so each
   count outside ``[single_term_min, single_term_max]`` is refused with
   :class:`~habeas.errors.InvalidInput` naming ``counts[i].term``.  A term is compared with a
   bound by their end dates from ``starts_on`` (calendar terms have no other exact order).

8. **Cap on the total** (policy, unconfirmed in law): with ``aggregate_cap`` the enforceable
   term ends no later than ``starts_on + aggregate_cap``, and the explanation says whether the
   cap shortened it.  Without a cap, an aggregate beyond ``single_term_max`` is reported as
   **R29** ("announced aggregate beyond any enforceable term") and an enforceable term beyond
   it as a Cn. 27 warning (in effect a perpetual penalty).  A term that would end after the
   last day of the calendar (31 Dec 9999) is refused outright: Cn. 27 forbids perpetual
   penalties, and a release date that cannot be written is one.

9. **Credit**: every day held before the sentence date for this case counts once.  Credit
   periods are inclusive (``start`` and ``end`` are both days held); days from the sentence
   date on are cut off (they are served under the sentence itself and must not count twice);
   overlapping periods are merged, so a day recorded twice (police cells and provisional
   detention, say) is credited once.  The credited days are subtracted day for day from the
   release date of the enforceable term, *after* any cap: the cap limits the penalty, and
   pre-trial detention counts towards the penalty actually served.  If the credit is as long
   as the term or longer, the term was served before sentence: release is on the sentence date
   (at once) and a warning says how many days the person was held beyond the term.  Excess
   credit cannot be banked.

10. **Release instant.**  ``release_on`` is a local calendar date in ``rules.time_zone``;
    ``release_at`` is ``release_hour`` o'clock local time that day, as an aware UTC instant
    (America/El_Salvador is UTC−6 all year; zones with daylight saving time move the UTC hour
    across the change).  If that local time happens twice (clocks go back), the first
    occurrence is used — the earlier release.  If it does not exist (clocks go forward), release
    is at the instant the clocks jump past it, the first moment the local clock shows that hour
    or later.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from habeas.domain.policy import Period, Policy
from habeas.errors import InvalidInput, Problem

Runs = Literal["consecutive", "concurrent"]
RUNS: Final[frozenset[str]] = frozenset({"consecutive", "concurrent"})

ART_45: Final = "Penal Code art. 45"
CN_27: Final = "Cn. 27 forbids perpetual penalties"


@dataclass(frozen=True)
class Term:
    """A calendar term: years, months and days (rule 1), not a fixed number of days."""

    years: int = 0
    months: int = 0
    days: int = 0

    def plus(self, other: Term) -> Term:
        """The sum as a court writes it: components added, 12 months carried into a year, days never carried."""
        return Term(self.years + other.years, self.months + other.months, self.days + other.days).normalized()

    def normalized(self) -> Term:
        carry, months = divmod(self.months, 12)
        return Term(self.years + carry, months, self.days)

    def __str__(self) -> str:
        parts = [
            f"{value:,} {unit if value == 1 else unit + 's'}"
            for value, unit in ((self.years, "year"), (self.months, "month"), (self.days, "day"))
            if value
        ]
        return " ".join(parts) if parts else "0 days"


@dataclass(frozen=True)
class CountSentence:
    """One count of a judgment: the offence, the article applied, its term, and how it runs."""

    count_id: str
    offence: str
    article: str
    term: Term
    runs: Runs
    concurrent_with: str | None = None  # an earlier count's id; None with "concurrent" = alongside the whole


@dataclass(frozen=True)
class CustodyCredit:
    """Time already held for this case before sentence (pre-trial); ``start`` and ``end`` are both days held."""

    start: date
    end: date
    reason: str


@dataclass(frozen=True)
class SentencingRules:
    """Policy: the single-term bounds (Penal Code art. 45), an optional cap on the total, where and when release is."""

    single_term_min: Term = Term(months=6)
    single_term_max: Term = Term(years=60)
    aggregate_cap: Term | None = None  # unconfirmed in law (standards §4): a policy decision, never a constant
    time_zone: str = "America/El_Salvador"
    release_hour: int = 8  # local time at which release happens on the release date


@dataclass(frozen=True)
class Calculation:
    aggregate: Term  # the sum of every count, as a court announces it
    enforceable: Term  # what is actually served after concurrency and any cap
    starts_on: date  # day one of the sentence: the sentence date (rule 3)
    credit_days: int
    release_on: date  # local calendar date of release
    release_at: datetime  # aware UTC instant: release_hour local time on release_on
    explanation: tuple[str, ...]  # numbered steps in plain words
    warnings: tuple[str, ...]


# --- calendar arithmetic --------------------------------------------------------------------------------------


def _add(start: date, term: Term) -> date | None:
    """``start`` + ``term`` by rule 1; None when the result is past 31 Dec 9999."""
    total = start.year * 12 + (start.month - 1) + term.years * 12 + term.months
    year, month0 = divmod(total, 12)
    if year > date.max.year:
        return None
    day = min(start.day, calendar.monthrange(year, month0 + 1)[1])
    try:
        return date(year, month0 + 1, day) + timedelta(days=term.days)
    except OverflowError:
        return None


def _days(n: int) -> str:
    return f"{n:,} day" if n == 1 else f"{n:,} days"


def _later(a: date | None, b: date | None) -> bool:
    """Is ``a`` after ``b``?  None is past the end of the calendar."""
    if a is None:
        return b is not None
    return b is not None and a > b


def _valid_term(term: object) -> bool:
    return isinstance(term, Term) and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (term.years, term.months, term.days)
    )


def _is_day(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _release_instant(day: date, hour: int, zone: ZoneInfo) -> tuple[datetime, str | None]:
    """``hour`` o'clock local on ``day`` as a UTC instant (rule 10), and a note when the local time is unusual."""
    wall = datetime.combine(day, time(hour))
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        if second != first and second.astimezone(zone).replace(tzinfo=None) == wall:
            return min(first, second), "that local time happens twice (clocks go back); the first is used"
        return first, None
    # A gap: the wall time never shows.  The clocks jump past it at an instant between the two readings;
    # find the first whole second whose local time is at or after the wall time (local time rises in a gap).
    lo, hi = min(first, second), max(first, second)
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(zone).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid
    jump = hi.replace(microsecond=0)
    if jump.astimezone(zone).replace(tzinfo=None) < wall:
        jump += timedelta(seconds=1)
    return jump, "that local time does not exist (clocks go forward); release is when the clocks jump past it"


# --- validation -----------------------------------------------------------------------------------------------


def _check_inputs(
    counts: Sequence[CountSentence],
    sentenced_on: date,
    credits: Sequence[CustodyCredit],
    rules: SentencingRules,
    announced_aggregate: Term | None,
) -> tuple[list[Problem], ZoneInfo | None]:
    problems: list[Problem] = []

    def need(failed: bool, field_name: str, rule: str) -> None:
        if failed:
            problems.append(Problem(field_name, rule))

    need(not _is_day(sentenced_on), "sentenced_on", "a calendar date (datetime.date), not a datetime")
    need(not counts, "counts", "at least one count: a sentence without a count has no legal basis")

    # rules
    zone: ZoneInfo | None = None
    if not isinstance(rules.time_zone, str) or not rules.time_zone:
        need(True, "rules.time_zone", "an IANA time zone name such as 'America/El_Salvador'")
    else:
        try:
            zone = ZoneInfo(rules.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            need(True, "rules.time_zone", f"unknown time zone {rules.time_zone!r}: an IANA name is required")
    hour = rules.release_hour
    need(
        not isinstance(hour, int) or isinstance(hour, bool) or not 0 <= hour <= 23,
        "rules.release_hour",
        "a whole hour from 0 to 23",
    )
    for name in ("single_term_min", "single_term_max"):
        need(not _valid_term(getattr(rules, name)), f"rules.{name}", "a Term of whole numbers ≥ 0")
    cap = rules.aggregate_cap
    if cap is not None:
        need(not _valid_term(cap) or cap == Term(), "rules.aggregate_cap", "None or a Term longer than zero")
    need(
        announced_aggregate is not None and not _valid_term(announced_aggregate),
        "announced_aggregate",
        "None or a Term of whole numbers ≥ 0",
    )
    if problems:  # without a valid date and valid rules, the checks below cannot be stated
        return problems, zone

    lo, hi = _add(sentenced_on, rules.single_term_min), _add(sentenced_on, rules.single_term_max)
    if lo is None or hi is None or hi < lo:
        need(True, "rules.single_term_min", "at most rules.single_term_max, both ending within the calendar")
        return problems, zone
    if cap is not None and _add(sentenced_on, cap) is None:
        need(True, "rules.aggregate_cap", "must end within the calendar (by 31 Dec 9999)")

    seen: dict[str, int] = {}
    for i, count in enumerate(counts):
        where = f"counts[{i}]"
        if not isinstance(count, CountSentence):
            need(True, where, "a CountSentence")
            continue
        for name in ("count_id", "offence", "article"):
            value = getattr(count, name)
            need(not isinstance(value, str) or not value.strip(), f"{where}.{name}", "a non-empty string")
        if isinstance(count.count_id, str) and count.count_id in seen:
            need(True, f"{where}.count_id", f"duplicate of counts[{seen[count.count_id]}]: each count id once")
        elif isinstance(count.count_id, str):
            seen.setdefault(count.count_id, i)
        need(count.runs not in RUNS, f"{where}.runs", "'consecutive' or 'concurrent'")
        if count.runs == "consecutive":
            need(
                count.concurrent_with is not None,
                f"{where}.concurrent_with",
                "only a concurrent count runs alongside another; a consecutive count has None",
            )
        elif count.runs == "concurrent" and count.concurrent_with is not None:
            earlier = count.concurrent_with in seen and seen[count.concurrent_with] < i
            need(
                not earlier,
                f"{where}.concurrent_with",
                f"names no earlier count ({count.concurrent_with!r}): a concurrent count runs alongside an "
                "earlier count in the list, or alongside the whole sentence with None",
            )
        if not _valid_term(count.term):
            need(True, f"{where}.term", "a Term of whole numbers ≥ 0 (years, months, days)")
            continue
        end = _add(sentenced_on, count.term)
        bounds = f"{rules.single_term_min} to {rules.single_term_max}"
        need(
            end is not None and lo is not None and end < lo,
            f"{where}.term",
            f"{count.term} is below the shortest prison term ({ART_45}: a single prison term runs {bounds})",
        )
        need(
            end is None or (hi is not None and end > hi),
            f"{where}.term",
            f"{count.term} is beyond the longest prison term ({ART_45}: a single prison term runs {bounds})",
        )

    for i, credit in enumerate(credits):
        where = f"credits[{i}]"
        if not isinstance(credit, CustodyCredit):
            need(True, where, "a CustodyCredit")
            continue
        need(not _is_day(credit.start), f"{where}.start", "a calendar date (datetime.date), not a datetime")
        need(not _is_day(credit.end), f"{where}.end", "a calendar date (datetime.date), not a datetime")
        if _is_day(credit.start) and _is_day(credit.end):
            need(credit.end < credit.start, f"{where}.end", "on or after start (both days are days held)")
        need(
            not isinstance(credit.reason, str) or not credit.reason.strip(),
            f"{where}.reason",
            "a non-empty string: why the person was held (the explanation quotes it)",
        )
    return problems, zone


# --- the calculation ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Placed:
    start: date | None  # None: past the end of the calendar
    end: date | None  # the release date for this count alone (rule 2)
    before: Term  # the chain of terms from starts_on to ``start``
    to_end: Term  # the chain of terms from starts_on to ``end``


def _label(count: CountSentence) -> str:
    return f"Count {count.count_id} ({count.offence}, {count.article})"


def _served(start: date | None, end: date | None) -> str:
    if start is None or end is None:
        return "ending after 31 Dec 9999"
    return f"served {start} through {end - timedelta(days=1)}"


def compute(
    counts: Sequence[CountSentence],
    sentenced_on: date,
    credits: Sequence[CustodyCredit],
    rules: SentencingRules,
    announced_aggregate: Term | None = None,
) -> Calculation:
    """The aggregate, the enforceable term and the release date, each step explained (module rules 1–10).

    Raises :class:`~habeas.errors.InvalidInput` listing every problem: a count outside the
    single-term bounds (``counts[i].term``, Penal Code art. 45), a malformed count or credit,
    invalid rules, or a term that cannot end within the calendar without a cap (Cn. 27).
    """
    problems, zone = _check_inputs(counts, sentenced_on, credits, rules, announced_aggregate)
    if problems:
        raise InvalidInput(problems)
    assert zone is not None  # _check_inputs reports a problem whenever it cannot load the zone

    start = sentenced_on
    steps: list[str] = [
        f"Day one of the sentence is the sentence date, {start}. Each term is served through the day before "
        "its anniversary and release is on the anniversary (a 1-year term from 2024-03-10 is served through "
        "2025-03-09; release on 2025-03-10). Months and years are calendar months and years; a day of the "
        "month that the target month lacks becomes its last day (31 Jan + 1 month = 28/29 Feb)."
    ]
    warnings: list[str] = []

    # Rules 4 and 5: place every count on the calendar.
    placed: dict[str, _Placed] = {}
    chain_end: date | None = start
    chain_term = Term()
    aggregate = Term()
    for count in counts:
        aggregate = aggregate.plus(count.term)
        if count.runs == "consecutive":
            begin, before = chain_end, chain_term
            end = None if begin is None else _add(begin, count.term)
            chain_end, chain_term = end, chain_term.plus(count.term)
            how = f"runs consecutively: +{count.term}, {_served(begin, end)}"
        else:
            if count.concurrent_with is None:
                begin, before = start, Term()
                alongside = "the whole sentence"
            else:
                ref = placed[count.concurrent_with]
                begin, before = ref.start, ref.before
                alongside = f"count {count.concurrent_with}"
            end = None if begin is None else _add(begin, count.term)
            how = f"runs concurrently with {alongside}: {count.term} alongside it, {_served(begin, end)}"
        placed[count.count_id] = _Placed(begin, end, before, before.plus(count.term))
        steps.append(f"{_label(count)} {how}.")

    steps.append(f"Aggregate as a court announces it (the sum of every count, concurrent ones included): {aggregate}.")
    if announced_aggregate is not None:
        if announced_aggregate.normalized() == aggregate:
            steps.append(f"The announced aggregate, {announced_aggregate}, matches the sum of the counts.")
        else:
            warnings.append(
                f"The announced aggregate, {announced_aggregate}, differs from the sum of the counts, {aggregate}: "
                "check the judgment; the register keeps the per-count sentences."
            )
            steps.append(f"The announced aggregate, {announced_aggregate}, differs from the sum of the counts.")

    # The longest chain: the latest end of any count; ties go to the first in the order given.
    longest_id = counts[0].count_id
    for count in counts[1:]:
        if _later(placed[count.count_id].end, placed[longest_id].end):
            longest_id = count.count_id
    uncapped_end, enforceable = placed[longest_id].end, placed[longest_id].to_end
    steps.append(
        f"Enforceable term before any cap: the longest chain, ending with count {longest_id}: {enforceable}, "
        f"{_served(start, uncapped_end)}."
    )

    # Rule 8: the cap (policy) and the warnings about unbounded totals.
    longest_single = rules.single_term_max
    end = uncapped_end
    cap = rules.aggregate_cap
    if cap is not None:
        cap_end = _add(start, cap)
        assert cap_end is not None  # checked in _check_inputs
        if _later(uncapped_end, cap_end):
            end, enforceable = cap_end, cap.normalized()
            steps.append(
                f"The policy caps the total at {cap} (rules.aggregate_cap; whether the law caps it is unconfirmed): "
                f"the enforceable term is cut to {cap}, served {start} through {cap_end - timedelta(days=1)}."
            )
        else:
            steps.append(f"The policy cap on the total, {cap}, does not shorten this term.")
    else:
        max_end = _add(start, longest_single)
        if _later(_add(start, aggregate), max_end):
            warnings.append(
                f"R29: announced aggregate beyond any enforceable term — {aggregate} is more than the longest single "
                f"prison term, {longest_single} ({ART_45}), and no cap on the total is configured "
                "(rules.aggregate_cap)."
            )
        if end is None:
            raise InvalidInput.one(
                "counts",
                "the consecutive terms end after 31 Dec 9999, so no release date can be written; "
                f"{CN_27}: set rules.aggregate_cap",
            )
        if _later(end, max_end):
            warnings.append(
                f"The enforceable term, {enforceable}, is beyond the longest single prison term, {longest_single} "
                f"({ART_45}), with no cap configured: in effect a perpetual penalty ({CN_27})."
            )
    assert end is not None

    # Rule 9: credit, day for day, each day once.
    periods: list[tuple[date, date]] = []
    for credit in credits:
        days = (credit.end - credit.start).days + 1
        if credit.start >= start:
            warnings.append(
                f"Credit {credit.start}–{credit.end} ({credit.reason}) is on or after the sentence date and is not "
                "credit: those days are served under the sentence."
            )
            continue
        last = min(credit.end, start - timedelta(days=1))
        held = (last - credit.start).days + 1
        cut = (
            f" (the {_days(days - held)} from the sentence date on are served under the sentence)"
            if held < days
            else ""
        )
        steps.append(f"Credit for {_days(held)} held since {credit.start} through {last} ({credit.reason}){cut}.")
        periods.append((credit.start, last))
    merged: list[tuple[date, date]] = []
    for a, b in sorted(periods):
        if merged and a <= merged[-1][1] + timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    credit_days = sum((b - a).days + 1 for a, b in merged)
    listed = sum((b - a).days + 1 for a, b in periods)
    if listed > credit_days:
        steps.append(
            f"The credit periods overlap by {_days(listed - credit_days)}; each day held counts once: "
            f"{_days(credit_days)} of credit in all."
        )
    elif periods:
        steps.append(f"Credit in all: {_days(credit_days)}.")
    else:
        steps.append("No credit: no time held for this case before the sentence date is recorded.")

    term_days = (end - start).days
    if credit_days >= term_days:
        release_on = start
        because = (
            f"the {_days(credit_days)} of credit cover the whole enforceable term of {_days(term_days)} "
            f"({enforceable}): it was served before the sentence date, so release is at once"
        )
        if credit_days > term_days:
            warnings.append(
                f"Held {_days(credit_days - term_days)} beyond the enforceable term before sentence: release at once; "
                "excess credit cannot be banked."
            )
    else:
        release_on = end - timedelta(days=credit_days)
        because = f"the enforceable term ({enforceable}) is served through {end - timedelta(days=1)}" + (
            f" and {_days(credit_days)} of credit bring release {_days(credit_days)} earlier" if credit_days else ""
        )

    # Rule 10: the local release hour as a UTC instant.
    release_at, note = _release_instant(release_on, rules.release_hour, zone)
    local = release_at.astimezone(zone)
    when = (
        f"at {rules.release_hour:02d}:00 {rules.time_zone} ({release_at:%Y-%m-%d %H:%M} UTC, local offset {local:%z})"
    )
    steps.append(f"Release on {release_on} {when} because {because}" + (f"; {note}" if note else "") + ".")

    return Calculation(
        aggregate=aggregate,
        enforceable=enforceable,
        starts_on=start,
        credit_days=credit_days,
        release_on=release_on,
        release_at=release_at,
        explanation=tuple(f"{n}. {text}" for n, text in enumerate(steps, start=1)),
        warnings=tuple(warnings),
    )


def rules_from_policy(policy: Policy) -> SentencingRules:
    """The sentencing rules a jurisdiction's policy file states, in this module's terms."""
    source = policy.sentencing

    def term(period: Period | None, default: Term | None) -> Term | None:
        if period is None:
            return default
        return Term(period.months // 12, period.months % 12, period.exact.days)

    return SentencingRules(
        single_term_min=term(source.single_term_min, Term()) or Term(),
        single_term_max=term(source.single_term_max, Term(years=1000)) or Term(years=1000),  # no bound recorded
        aggregate_cap=term(source.aggregate_cap, None),
        time_zone=source.time_zone,
    )
