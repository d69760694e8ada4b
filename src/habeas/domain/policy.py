"""Jurisdiction policies as dated data: time limits, decrees, extensions, space, sentencing, separation (F4, F7).

A :class:`Policy` is what one file in ``habeas/policy/jurisdictions`` says (see
:mod:`habeas.policy.loader`): adding a jurisdiction is adding a file, and a renewal of a
state of exception is adding a record.  Nothing here reads a clock: every evaluation takes
the instant as an argument, so the same policy and the same instant always give the same
answer.  Instants are aware datetimes; they are returned in UTC.  The one outside input is
the time-zone database (``zoneinfo``, standard library), read for calendar arithmetic in the
jurisdiction's civil time zone.

Dated records
=============
A :class:`Decree` (a state of exception, or one renewal of it) and an :class:`Extension`
(an instrument lengthening a limit) are in force over the half-open interval
``[in_force_from, in_force_to)``: from the first instant, up to but not including the end
(``None``: no end recorded).  A renewal that starts exactly when the previous record ends
continues the suspension without a gap.  The absence of a record is never read as a
renewal: when the last recorded decree ends, the ordinary limits apply again, and the
register shows the consequences until the next renewal is recorded (a deadline is computed
from the records known; recording a renewal moves it).

Periods
=======
Limits are written as ISO 8601 durations (:class:`Period`).  Years and months are calendar
months counted in the jurisdiction's time zone (CPP 8's "12 months": from a date to the same
date, clamped to the month's last day, so 29 Feb + 12 months is 28 Feb); weeks, days, hours,
minutes and seconds are elapsed time (Cn. 29's "15 days" is 360 hours).

The administrative-detention deadline (R3) — the rule implemented
==================================================================
Cn. 13(2): administrative detention lasts at most 72 hours.  Cn. 29: while Cn. 12(2) and
13(2) are suspended, at most 15 days (the decree's ``administrative_max``).  Standards R3:
beyond the decree's maximum only while a decree suspending Cn. 13(2) is in force.

The law is read **at every instant of the detention**: at instant ``u`` a detention that
began at ``t0`` is lawful without a judicial order while ``u - t0 <= L(u)``, where ``L(u)``
is the decree maximum if a decree suspending the administrative article is in force at
``u`` (the smallest maximum if several are, never less than the ordinary limit), and the
ordinary limit otherwise.  :meth:`Policy.administrative_deadline` returns the last instant
of the first unbroken lawful stretch: the first breach is the breach, and a decree that
comes later does not cure it.  Consequences, each tested:

* no decree: ``t0 + 72 h`` (held 71 h 59 min: lawful; 72 h 1 min: breached);
* a decree in force throughout (renewals without a gap count as one): ``t0 + 15 days``;
* **a decree that lapses mid-detention** (no renewal starting at its end): the guarantee of
  Cn. 13(2) revives at that instant, measured from the arrest as Cn. 13(2) measures it.
  Deadline = ``max(t0 + 72 h, min(t0 + 15 days, end))``: someone held longer than 72 hours
  when the decree ends must be before a judge by its end; someone held less keeps the rest of
  their 72 hours.  No fresh 72 hours run from the lapse;
* a detention beginning at (or after) the instant a decree ends: ``t0 + 72 h``;
* a decree that comes into force while someone is held within their 72 hours: the 15 days
  apply, counted from the arrest; if the 72 hours had already run out before it came into
  force, the deadline stays ``t0 + 72 h``.

Why not "the decree's end + 72 h"?  That grace would restart a clock that Cn. 13(2) runs
from the arrest, and would let a detention exceed both the decree's maximum and the 72
hours; every lapse would become an unrecorded three-day extension.  The end of a decree is
known in advance (it is fixed in the decree; Cn. 30 limits a suspension to 30 days), so the
authorities have its whole term to bring the person before a judge.  The register errs
towards showing a possible breach rather than hiding one: a renewal recorded late moves the
deadline once it is recorded.

The judicial decision (Cn. 13(3), R4) and provisional detention (CPP 8, R5) are evaluated
by :meth:`Policy.judicial_decision_deadline` and :meth:`Policy.provisional_detention_limit`.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from habeas.domain.housing import HousingPolicy
from habeas.errors import InvalidInput, Problem

__all__ = [
    "COUNTED_FROM",
    "EXTENSION_TARGETS",
    "SPACE_STANDARDS",
    "CountedFrom",
    "Deadline",
    "Decree",
    "Extension",
    "ExtensionTarget",
    "Limit",
    "Period",
    "PeriodLimit",
    "Policy",
    "SentencingRules",
    "SeparationRules",
    "SpaceStandard",
    "SpaceStandards",
    "TimeLimits",
    "add_period",
    "decree_problems",
]

ExtensionTarget = Literal["provisional_detention"]
EXTENSION_TARGETS: Final[frozenset[str]] = frozenset({"provisional_detention"})
# what an extension's period is counted from: the start of the detention; the end of the ordinary
# limit (an extra period); or the instrument's entry into force (a fixed end date for everyone it covers)
CountedFrom = Literal["detention", "ordinary_limit", "in_force_from"]
COUNTED_FROM: Final[frozenset[str]] = frozenset({"detention", "ordinary_limit", "in_force_from"})
SpaceStandard = Literal["icrc", "cpt"]
SPACE_STANDARDS: Final[frozenset[str]] = frozenset({"icrc", "cpt"})

_ISO_DURATION: Final = re.compile(
    r"P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?"
)
_MAX_MONTHS: Final = 12 * 1000


# --- small helpers ------------------------------------------------------------------------------------------


def _instant(value: object, name: str) -> datetime:
    """An aware datetime, in UTC; a naive one (or anything else) is refused."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidInput.one(name, "an aware datetime with a UTC offset; a naive time is ambiguous")
    return value.astimezone(UTC)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput.one("time_zone", f"an IANA time zone such as 'America/El_Salvador', not {name!r}") from exc


def _text_ok(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _check(problems: list[Problem], failed: bool, name: str, rule: str) -> None:
    if failed:
        problems.append(Problem(name, rule))


def _aware_problem(value: object, name: str, problems: list[Problem], optional: bool = False) -> None:
    if optional and value is None:
        return
    if not isinstance(value, datetime) or value.utcoffset() is None:
        problems.append(Problem(name, "must carry a UTC offset (an aware datetime); a naive time is ambiguous"))


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _stamp(value: datetime) -> str:
    """2026-04-01T06:00Z: short, unambiguous, for the basis texts."""
    text = value.astimezone(UTC).isoformat(timespec="minutes")
    return text.removesuffix("+00:00") + "Z"


def _human(duration: timedelta) -> str:
    """72 h, 15 days, 10 days 3 h 5 min: for the basis texts."""
    seconds = max(0, int(duration.total_seconds()))
    hours, rest = divmod(seconds, 3_600)
    minutes = rest // 60
    if hours < 96:
        return " ".join([f"{hours} h"] * bool(hours) + [f"{minutes} min"] * bool(minutes or not hours))
    days, hours = divmod(hours, 24)
    return " ".join([f"{days} days"] + [f"{hours} h"] * bool(hours) + [f"{minutes} min"] * bool(minutes))


def _in_force(start: datetime, end: datetime | None, at: datetime) -> bool:
    return start <= at and (end is None or at < end)


# --- periods and limits -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A length of time as ISO 8601 writes it: calendar months, then exact elapsed time.

    ``Period.parse("P12M")`` is 12 calendar months; ``Period.parse("PT72H")`` is 72 hours of
    elapsed time; ``Period.parse("P1Y6M")`` is 18 months.  Weeks and days are exact (7 × 24 h,
    24 h).  Periods with months cannot be compared by themselves: compare the instants they
    lead to (:meth:`after`).
    """

    months: int = 0
    exact: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        _check(
            problems,
            isinstance(self.months, bool) or not isinstance(self.months, int) or not 0 <= self.months <= _MAX_MONTHS,
            "months",
            f"an int from 0 to {_MAX_MONTHS}",
        )
        _check(
            problems,
            not isinstance(self.exact, timedelta) or self.exact < timedelta(0),
            "exact",
            "a timedelta ≥ 0",
        )
        if problems:
            raise InvalidInput(problems)

    @classmethod
    def parse(cls, text: str) -> Period:
        """Read ``P[nY][nM][nW][nD][T[nH][nM][nS]]`` (whole numbers); raises ValueError, saying why."""
        if not isinstance(text, str):
            raise ValueError("an ISO 8601 duration such as 'PT72H', 'P15D' or 'P12M' (a string)")
        match = _ISO_DURATION.fullmatch(text)
        if match is None or text in ("P", "PT"):
            raise ValueError(f"an ISO 8601 duration such as 'PT72H', 'P15D' or 'P12M', not {text!r}")
        parts = {k: int(v) for k, v in match.groupdict().items() if v is not None}
        months = 12 * parts.get("years", 0) + parts.get("months", 0)
        if months > _MAX_MONTHS:
            raise ValueError(f"at most {_MAX_MONTHS // 12} years, not {text!r}")
        exact = timedelta(
            weeks=parts.get("weeks", 0),
            days=parts.get("days", 0),
            hours=parts.get("hours", 0),
            minutes=parts.get("minutes", 0),
            seconds=parts.get("seconds", 0),
        )
        return cls(months, exact)

    @property
    def is_exact(self) -> bool:
        """No calendar months: a fixed amount of elapsed time."""
        return self.months == 0

    @property
    def is_zero(self) -> bool:
        return self.months == 0 and self.exact == timedelta(0)

    def after(self, start: datetime, time_zone: str = "UTC") -> datetime:
        """The instant this period after ``start``: months on the calendar of ``time_zone``, then exact time."""
        return add_period(start, self, time_zone)

    def __str__(self) -> str:
        """ISO 8601 again: ``P24M``, ``P60Y``, ``PT72H`` (under four days in hours, as the law counts), ``P15D``."""
        # months as the law usually writes them ("24 months"); whole years from five years ("60 years")
        years, months = divmod(self.months, 12) if self.months >= 60 else (0, self.months)
        text = "P" + (f"{years}Y" if years else "") + (f"{months}M" if months else "")
        seconds, micro = int(self.exact.total_seconds()), self.exact.microseconds
        days = seconds // 86_400 if seconds >= 4 * 86_400 else 0
        hours, rest = divmod(seconds - 86_400 * days, 3_600)
        minutes, secs = divmod(rest, 60)
        text += f"{days}D" if days else ""
        clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
        if secs or micro:
            clock += f"{secs}.{micro:06d}".rstrip("0").rstrip(".") + "S"
        text += f"T{clock}" if clock else ""
        return text if text != "P" else "PT0S"


def add_period(start: datetime, period: Period, time_zone: str = "UTC") -> datetime:
    """``start`` plus ``period``: months counted on the civil calendar of ``time_zone`` (the same wall-clock
    time, the day clamped to the month's length), then the exact part as elapsed time.  Returned in UTC."""
    instant = _instant(start, "start")
    if period.months:
        local = instant.astimezone(_zone(time_zone))
        index = local.month - 1 + period.months
        year, month = local.year + index // 12, index % 12 + 1
        day = min(local.day, calendar.monthrange(year, month)[1])
        instant = local.replace(year=year, month=month, day=day, fold=0).astimezone(UTC)
    return instant + period.exact


@dataclass(frozen=True)
class Limit:
    """A maximum as elapsed time, and the rule it comes from (article, or "policy choice")."""

    duration: timedelta
    basis: str

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        _check(
            problems,
            not isinstance(self.duration, timedelta) or self.duration <= timedelta(0),
            "duration",
            "a timedelta > 0",
        )
        _check(problems, not _text_ok(self.basis), "basis", "a non-empty string naming the rule or 'policy choice'")
        if problems:
            raise InvalidInput(problems)


@dataclass(frozen=True)
class PeriodLimit:
    """A maximum that may be in calendar months (provisional detention), and the rule it comes from."""

    period: Period
    basis: str

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        _check(
            problems,
            not isinstance(self.period, Period) or self.period.is_zero,
            "period",
            "a Period > 0",
        )
        _check(problems, not _text_ok(self.basis), "basis", "a non-empty string naming the rule or 'policy choice'")
        if problems:
            raise InvalidInput(problems)


@dataclass(frozen=True)
class Deadline:
    """When something must have happened by, counted from ``start`` (both UTC).

    Holding someone (or leaving a duty undone) is a breach strictly after ``due``: at
    ``due`` itself it is not (72 h 0 min is "at most 72 hours").
    """

    start: datetime
    due: datetime
    basis: str
    instruments: tuple[str, ...] = ()  # the decrees or extensions the deadline relies on, if any

    @property
    def duration(self) -> timedelta:
        return self.due - self.start

    def breached(self, at: datetime) -> bool:
        """Whether the deadline has passed at ``at``."""
        return _instant(at, "at") > self.due

    def remaining(self, at: datetime) -> timedelta:
        """Time left at ``at``; negative once breached."""
        return self.due - _instant(at, "at")


# --- dated instruments --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decree:
    """A suspension of guarantees (a state of exception, or one renewal of it), in force over
    ``[in_force_from, in_force_to)``.  ``administrative_max``: the administrative-detention maximum while
    it is in force (Cn. 29: 15 days), required when it suspends the administrative-detention article.
    ``source`` says where the record comes from ("reported: …" where number or dates are not verified)."""

    number: str
    title: str
    in_force_from: datetime
    in_force_to: datetime | None
    suspended_articles: frozenset[str]
    administrative_max: timedelta | None
    source: str

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        _check(problems, not _text_ok(self.number), "number", "a non-empty string")
        _check(problems, not _text_ok(self.title), "title", "a non-empty string")
        _check(problems, not _text_ok(self.source), "source", "a non-empty string ('reported: …' if unverified)")
        _aware_problem(self.in_force_from, "in_force_from", problems)
        _aware_problem(self.in_force_to, "in_force_to", problems, optional=True)
        articles_ok = isinstance(self.suspended_articles, frozenset) and all(
            _text_ok(a) for a in self.suspended_articles
        )
        _check(problems, not articles_ok, "suspended_articles", "a frozenset of article names such as 'Cn. 13(2)'")
        _check(
            problems,
            self.administrative_max is not None
            and (not isinstance(self.administrative_max, timedelta) or self.administrative_max <= timedelta(0)),
            "administrative_max",
            "None or a timedelta > 0",
        )
        if not problems:
            object.__setattr__(self, "in_force_from", self.in_force_from.astimezone(UTC))
            object.__setattr__(self, "in_force_to", _utc_or_none(self.in_force_to))
            if self.in_force_to is not None and self.in_force_to <= self.in_force_from:
                problems.append(Problem("in_force_to", "must be after in_force_from"))
        if problems:
            raise InvalidInput(problems)

    def in_force(self, at: datetime) -> bool:
        return _in_force(self.in_force_from, self.in_force_to, _instant(at, "at"))

    def suspends(self, article: str) -> bool:
        return article in self.suspended_articles

    def overlaps(self, other: Decree) -> bool:
        return (other.in_force_to is None or self.in_force_from < other.in_force_to) and (
            self.in_force_to is None or other.in_force_from < self.in_force_to
        )

    def describe(self) -> str:
        end = "no end recorded" if self.in_force_to is None else _stamp(self.in_force_to)
        return f"decree {self.number} ({_stamp(self.in_force_from)} to {end})"


@dataclass(frozen=True)
class Extension:
    """An instrument lengthening a limit while it is in force (e.g. Decree 803 for provisional detention).

    The extended end is ``period`` counted from ``counted_from``: the start of the detention (a new
    maximum), the end of the ordinary limit (an extra period), or the instrument's entry into force (a fixed
    end for every detention it covers).  An extension only ever lengthens: the limit is the later of the
    ordinary end and the extended end.  ``offence_classes`` (empty: every class) and ``scope`` (None: every
    case; otherwise only cases the caller places in that scope, e.g. "state_of_exception") say whom it
    covers — an extension is never assumed for a case nobody has placed in its scope.
    """

    name: str
    applies_to: ExtensionTarget
    in_force_from: datetime
    in_force_to: datetime | None
    period: Period
    counted_from: CountedFrom
    source: str
    offence_classes: frozenset[str] = frozenset()
    scope: str | None = None

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        _check(problems, not _text_ok(self.name), "name", "a non-empty string")
        _check(problems, self.applies_to not in EXTENSION_TARGETS, "applies_to", f"one of {sorted(EXTENSION_TARGETS)}")
        _aware_problem(self.in_force_from, "in_force_from", problems)
        _aware_problem(self.in_force_to, "in_force_to", problems, optional=True)
        _check(problems, not isinstance(self.period, Period) or self.period.is_zero, "period", "a Period > 0")
        _check(problems, self.counted_from not in COUNTED_FROM, "counted_from", f"one of {sorted(COUNTED_FROM)}")
        _check(problems, not _text_ok(self.source), "source", "a non-empty string ('reported: …' if unverified)")
        classes_ok = isinstance(self.offence_classes, frozenset) and all(_text_ok(c) for c in self.offence_classes)
        _check(problems, not classes_ok, "offence_classes", "a frozenset of offence classes (empty: every class)")
        _check(problems, self.scope is not None and not _text_ok(self.scope), "scope", "None or a non-empty string")
        if not problems:
            object.__setattr__(self, "in_force_from", self.in_force_from.astimezone(UTC))
            object.__setattr__(self, "in_force_to", _utc_or_none(self.in_force_to))
            if self.in_force_to is not None and self.in_force_to <= self.in_force_from:
                problems.append(Problem("in_force_to", "must be after in_force_from"))
        if problems:
            raise InvalidInput(problems)

    def in_force(self, at: datetime) -> bool:
        return _in_force(self.in_force_from, self.in_force_to, _instant(at, "at"))

    def covers(self, offence_class: str, scopes: frozenset[str]) -> bool:
        in_class = not self.offence_classes or offence_class in self.offence_classes
        return in_class and (self.scope is None or self.scope in scopes)

    def extended_end(self, detained_from: datetime, ordinary_end: datetime, time_zone: str) -> datetime:
        anchor = {
            "detention": detained_from,
            "ordinary_limit": ordinary_end,
            "in_force_from": self.in_force_from,
        }[self.counted_from]
        return add_period(anchor, self.period, time_zone)


# --- the parts of a policy ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeLimits:
    """Custody clocks (F4) and duty windows, each with the rule it comes from.

    ``administrative_article`` names the guarantee whose suspension lifts the administrative limit
    (Cn. 13(2)); ``administrative_suspended_basis`` names the rule capping it while suspended (Cn. 29).
    ``provisional_detention`` maps offence classes (e.g. "less_serious", "serious") to their maximum.
    """

    administrative_detention: Limit  # R3: Cn. 13(2) 72 h; GC 35: 48 h
    administrative_article: str
    judicial_decision: Limit  # R4: Cn. 13(3) 72 h
    provisional_detention: Mapping[str, PeriodLimit]  # R5: CPP 8
    family_notification: Limit  # R8: after admission and after every transfer
    rights_information: Limit  # R7
    medical_examination: Limit  # R10
    injury_referral: Limit  # R11
    complaint_answer: Limit  # R22
    information_request_answer: Limit  # R24
    oversight_request_answer: Limit  # R30
    administrative_suspended_basis: str = ""

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        for name in (
            "administrative_detention",
            "judicial_decision",
            *(rule for _, rule in _WINDOWS),
        ):
            _check(problems, not isinstance(getattr(self, name), Limit), name, "a Limit")
        _check(problems, not _text_ok(self.administrative_article), "administrative_article", "a non-empty string")
        classes = self.provisional_detention
        classes_ok = isinstance(classes, Mapping) and all(
            _text_ok(k) and isinstance(v, PeriodLimit) for k, v in classes.items()
        )
        _check(problems, not classes_ok, "provisional_detention", "a mapping of offence class to PeriodLimit")
        _check(
            problems,
            not isinstance(self.administrative_suspended_basis, str),
            "administrative_suspended_basis",
            "a string",
        )
        if problems:
            raise InvalidInput(problems)
        object.__setattr__(self, "provisional_detention", MappingProxyType(dict(sorted(classes.items()))))

    @property
    def windows(self) -> Mapping[str, Limit]:
        """The duty windows by safeguard id: R7, R8, R10, R11, R22, R24, R30."""
        return MappingProxyType({rule: getattr(self, name) for rule, name in _WINDOWS})


_WINDOWS: Final = (
    ("R7", "rights_information"),
    ("R8", "family_notification"),
    ("R10", "medical_examination"),
    ("R11", "injury_referral"),
    ("R22", "complaint_answer"),
    ("R24", "information_request_answer"),
    ("R30", "oversight_request_answer"),
)


@dataclass(frozen=True)
class SpaceStandards:
    """Minimum space per person (standards §2), usable floor area excluding a partitioned toilet.

    ICRC (2012): 3.4 m² shared, 5.4 m² single — R16; CPT/Inf (2015) 44: 4 m² shared, 6 m² single — R17;
    below 3 m² per person in shared accommodation, a presumption of degrading treatment (Muršić v. Croatia,
    2016) — R18.  ``capacity_standard`` says which of ICRC or CPT gives the standards-based capacity.
    """

    icrc_shared_m2: Decimal = Decimal("3.4")
    icrc_single_m2: Decimal = Decimal("5.4")
    cpt_shared_m2: Decimal = Decimal("4")
    cpt_single_m2: Decimal = Decimal("6")
    critical_shared_m2: Decimal = Decimal("3")
    capacity_standard: SpaceStandard = "icrc"
    basis: str = "ICRC (2012) 3.4/5.4 m²; CPT/Inf (2015) 44 4/6 m²; Muršić v. Croatia (2016) 3 m²"

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        for name in ("icrc_shared_m2", "icrc_single_m2", "cpt_shared_m2", "cpt_single_m2", "critical_shared_m2"):
            value = getattr(self, name)
            _check(
                problems,
                not isinstance(value, Decimal) or not value.is_finite() or value <= 0,
                name,
                "a finite Decimal > 0 (never a float)",
            )
        _check(
            problems,
            self.capacity_standard not in SPACE_STANDARDS,
            "capacity_standard",
            f"one of {sorted(SPACE_STANDARDS)}",
        )
        _check(problems, not _text_ok(self.basis), "basis", "a non-empty string")
        if problems:
            raise InvalidInput(problems)

    @property
    def shared_m2(self) -> Decimal:
        """m² per person in shared accommodation by the capacity standard."""
        return self.icrc_shared_m2 if self.capacity_standard == "icrc" else self.cpt_shared_m2

    @property
    def single_m2(self) -> Decimal:
        """m² for a single cell by the capacity standard."""
        return self.icrc_single_m2 if self.capacity_standard == "icrc" else self.cpt_single_m2


@dataclass(frozen=True)
class SentencingRules:
    """What bounds a prison term.  ``aggregate_cap`` (a cap on cumulative sentences) is a parameter because
    whether one applies is unconfirmed (standards §4); None means no cap is recorded, not that none exists.
    ``time_zone``: the civil calendar on which terms in months and years end (release dates)."""

    time_zone: str
    single_term_min: Period | None  # Penal Code 45: 6 months
    single_term_max: Period | None  # Penal Code 45: 60 years
    aggregate_cap: Period | None
    perpetual_penalties_forbidden: bool  # Cn. 27
    basis: str

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        _check(problems, not _text_ok(self.time_zone), "time_zone", "an IANA time zone name")
        for name in ("single_term_min", "single_term_max", "aggregate_cap"):
            value = getattr(self, name)
            _check(problems, value is not None and not isinstance(value, Period), name, "None or a Period")
        _check(
            problems,
            not isinstance(self.perpetual_penalties_forbidden, bool),
            "perpetual_penalties_forbidden",
            "a bool",
        )
        _check(problems, not _text_ok(self.basis), "basis", "a non-empty string")
        if problems:
            raise InvalidInput(problems)

    def term_end(self, start: datetime, term: Period) -> datetime:
        """When a term of ``term`` starting at ``start`` ends (UTC), on the jurisdiction's calendar."""
        return add_period(start, term, self.time_zone)

    def release_date(self, start: datetime, term: Period) -> date:
        """The local calendar date on which that term ends."""
        return self.term_end(start, term).astimezone(_zone(self.time_zone)).date()


@dataclass(frozen=True)
class SeparationRules:
    """Who is held apart beyond MR 11(a), (d) (always): every legal status apart from every other
    (MR 11(b), (c)), and groups recorded as rivals (a safety separation)."""

    separate_legal_status: bool = True
    rival_groups: frozenset[frozenset[str]] = frozenset()
    basis: str = "MR 11"

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        _check(problems, not isinstance(self.separate_legal_status, bool), "separate_legal_status", "a bool")
        pairs_ok = isinstance(self.rival_groups, frozenset) and all(
            isinstance(pair, frozenset) and len(pair) == 2 and all(_text_ok(g) for g in pair)
            for pair in self.rival_groups
        )
        _check(problems, not pairs_ok, "rival_groups", "a frozenset of pairs of two different group names")
        _check(problems, not _text_ok(self.basis), "basis", "a non-empty string")
        if problems:
            raise InvalidInput(problems)

    def housing_policy(self, space: SpaceStandards) -> HousingPolicy:
        """The :class:`~habeas.domain.housing.HousingPolicy` these rules and ``space`` give."""
        return HousingPolicy(
            shared_m2_per_person=space.shared_m2,
            single_m2_per_person=space.single_m2,
            rival_groups=self.rival_groups,
            separate_legal_status=self.separate_legal_status,
        )


def decree_problems(
    decrees: Sequence[Decree], administrative_article: str, labels: Sequence[str] | None = None
) -> list[Problem]:
    """What is wrong with a set of decrees taken together; each problem names the decree by its label
    (``decrees[i]`` by default).  A decree number is given once; overlapping decrees must agree on
    what they suspend and on the administrative maximum; a decree suspending the administrative article
    must carry its maximum, and only such a decree may carry one."""
    names = list(labels) if labels is not None else [f"decrees[{i}]" for i in range(len(decrees))]
    problems: list[Problem] = []
    first: dict[str, str] = {}
    for name, decree in zip(names, decrees, strict=True):
        if decree.number in first:
            problems.append(Problem(f"{name}.number", f"unique; {decree.number!r} is also {first[decree.number]}"))
        first.setdefault(decree.number, name)
        suspends = decree.suspends(administrative_article)
        if suspends and decree.administrative_max is None:
            problems.append(
                Problem(
                    f"{name}.administrative_max",
                    f"required: the decree suspends {administrative_article}, so it must say the administrative-"
                    "detention maximum while it is in force (Cn. 29: 15 days)",
                )
            )
        if not suspends and decree.administrative_max is not None:
            problems.append(
                Problem(
                    f"{name}.administrative_max",
                    f"only a decree suspending {administrative_article} changes the administrative-detention "
                    "maximum; this one does not suspend it",
                )
            )
    for j, later in enumerate(decrees):
        for i in range(j):
            earlier = decrees[i]
            if not earlier.overlaps(later):
                continue
            differences = []
            if earlier.suspended_articles != later.suspended_articles:
                differences.append(
                    f"suspended articles {sorted(earlier.suspended_articles)} vs {sorted(later.suspended_articles)}"
                )
            if earlier.administrative_max != later.administrative_max:
                differences.append(f"administrative maximum {earlier.administrative_max} vs {later.administrative_max}")
            if differences:
                problems.append(
                    Problem(
                        names[j],
                        f"overlaps {names[i]} ({earlier.number}) in time but disagrees with it: "
                        + "; ".join(differences),
                    )
                )
    return problems


# --- the policy ---------------------------------------------------------------------------------------------

_CODE: Final = re.compile(r"[a-z][a-z0-9_-]{1,31}")


@dataclass(frozen=True)
class Policy:
    """One jurisdiction's rules as dated data, and their evaluation at a given instant."""

    code: str
    name: str
    time_zone: str  # the civil calendar for months and years (CPP 8 months; release dates)
    limits: TimeLimits
    space: SpaceStandards
    sentencing: SentencingRules
    separation: SeparationRules
    decrees: tuple[Decree, ...] = ()
    extensions: tuple[Extension, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        _check(
            problems,
            not isinstance(self.code, str) or _CODE.fullmatch(self.code) is None,
            "code",
            "2–32 characters: a lowercase letter, then lowercase letters, digits, '_' or '-'",
        )
        _check(problems, not _text_ok(self.name), "name", "a non-empty string")
        _check(problems, not isinstance(self.limits, TimeLimits), "limits", "TimeLimits")
        _check(problems, not isinstance(self.space, SpaceStandards), "space", "SpaceStandards")
        _check(problems, not isinstance(self.sentencing, SentencingRules), "sentencing", "SentencingRules")
        _check(problems, not isinstance(self.separation, SeparationRules), "separation", "SeparationRules")
        decrees_ok = isinstance(self.decrees, tuple) and all(isinstance(d, Decree) for d in self.decrees)
        _check(problems, not decrees_ok, "decrees", "a tuple of Decree")
        extensions_ok = isinstance(self.extensions, tuple) and all(isinstance(e, Extension) for e in self.extensions)
        _check(problems, not extensions_ok, "extensions", "a tuple of Extension")
        _check(problems, not isinstance(self.description, str), "description", "a string")
        try:
            _zone(self.time_zone)
        except InvalidInput as exc:
            problems.extend(exc.problems)
        if problems:
            raise InvalidInput(problems)
        _check(
            problems,
            self.sentencing.time_zone != self.time_zone,
            "sentencing.time_zone",
            f"the policy's time zone {self.time_zone!r}",
        )
        problems.extend(decree_problems(self.decrees, self.limits.administrative_article))
        classes = set(self.limits.provisional_detention)
        for i, extension in enumerate(self.extensions):
            unknown = sorted(extension.offence_classes - classes)
            _check(
                problems,
                bool(unknown),
                f"extensions[{i}].offence_classes",
                f"offence classes of limits.provisional_detention ({sorted(classes)}); unknown: {unknown}",
            )
        if problems:
            raise InvalidInput(problems)

    # --- decrees ---

    def decrees_in_force(self, at: datetime) -> tuple[Decree, ...]:
        """The decrees in force at ``at``, earliest first."""
        instant = _instant(at, "at")
        found = [d for d in self.decrees if _in_force(d.in_force_from, d.in_force_to, instant)]
        return tuple(sorted(found, key=lambda d: (d.in_force_from, d.number)))

    def is_suspended(self, article: str, at: datetime) -> bool:
        """Whether a decree in force at ``at`` suspends ``article`` (e.g. "Cn. 13(2)")."""
        return any(d.suspends(article) for d in self.decrees_in_force(at))

    def _administrative_at(self, at: datetime) -> tuple[timedelta, tuple[Decree, ...]]:
        """The administrative limit in force at ``at``, and the decrees that lift it (none: the ordinary limit)."""
        base = self.limits.administrative_detention.duration
        lifting = tuple(
            d
            for d in self.decrees_in_force(at)
            if d.suspends(self.limits.administrative_article) and d.administrative_max is not None
        )
        maxima = [d.administrative_max for d in lifting if d.administrative_max is not None]
        if not maxima or min(maxima) <= base:
            return base, ()
        return min(maxima), lifting

    def administrative_limit(self, at: datetime) -> Limit:
        """The administrative-detention maximum in force at ``at`` (R3): the ordinary limit (Cn. 13(2): 72 h),
        or the decree's maximum while a decree suspending the administrative article is in force."""
        limit, decrees = self._administrative_at(at)
        if not decrees:
            return self.limits.administrative_detention
        return Limit(limit, self._suspended_basis(limit, decrees))

    def _suspended_basis(self, limit: timedelta, decrees: Iterable[Decree]) -> str:
        article = self.limits.administrative_article
        rule = self.limits.administrative_suspended_basis or "the decree's administrative maximum"
        listed = ", ".join(d.describe() for d in decrees)
        return f"at most {_human(limit)} while {article} is suspended by {listed} ({rule})"

    def administrative_deadline(self, detained_at: datetime) -> Deadline:
        """When someone detained at ``detained_at`` must be before a judge (R3), by the law in force at each
        instant of the detention; see the module docstring for the rule and for a decree lapsing mid-detention."""
        start = _instant(detained_at, "detained_at")
        article = self.limits.administrative_article
        lifting = [d for d in self.decrees if d.suspends(article) and d.administrative_max is not None]
        boundaries = sorted(
            {b for d in lifting for b in (d.in_force_from, d.in_force_to) if b is not None and b > start}
        )
        relied: dict[str, Decree] = {}
        cursor = start
        for nxt in [*boundaries, None]:
            limit, decrees = self._administrative_at(cursor)
            relied.update((d.number, d) for d in decrees)
            candidate = start + limit
            if candidate < cursor:
                # the limit fell below the time already held: a suspension lapsed; Cn. 13(2) revives at once
                lapsed = [d for d in relied.values() if d.in_force_to == cursor]
                what = ", ".join(d.describe() for d in lapsed) or "the suspension"
                return Deadline(
                    start,
                    cursor,
                    f"the suspension of {article} ended at {_stamp(cursor)} ({what}) after {_human(cursor - start)} "
                    f"of administrative detention; the ordinary limit ({self.limits.administrative_detention.basis}) "
                    "applied again at once, so the person had to be before a judge by then",
                    tuple(relied),
                )
            if nxt is None or candidate < nxt:
                basis = (
                    self._suspended_basis(limit, relied.values())
                    if decrees
                    else self.limits.administrative_detention.basis
                )
                return Deadline(start, candidate, basis, tuple(relied))
            cursor = nxt
        raise AssertionError("unreachable: the last boundary is None")  # pragma: no cover

    # --- judicial decision and provisional detention ---

    def judicial_decision_deadline(self, placed_at_judges_disposal: datetime) -> Deadline:
        """When the judge must have decided (release or provisional detention) for someone placed at the
        judge's disposal at that instant (R4; Cn. 13(3), never suspended)."""
        start = _instant(placed_at_judges_disposal, "placed_at_judges_disposal")
        limit = self.limits.judicial_decision
        return Deadline(start, start + limit.duration, limit.basis)

    def provisional_detention_limit(
        self, offence_class: str, detained_from: datetime, at: datetime, scopes: Iterable[str] = ()
    ) -> Deadline:
        """The end of provisional detention for ``offence_class`` begun at ``detained_from``, as the law stands
        at ``at`` (R5): the ordinary maximum (CPP 8), lengthened by any extension in force at ``at`` that covers
        the class and — for a scoped extension — one of ``scopes`` (the case's scopes, e.g.
        {"state_of_exception"}).  An extension that has ended no longer counts; one not yet in force does not
        count yet; an extension never shortens the ordinary limit."""
        rule = self.limits.provisional_detention.get(offence_class)
        if rule is None:
            raise InvalidInput.one(
                "offence_class", f"one of {sorted(self.limits.provisional_detention)}, not {offence_class!r}"
            )
        start = _instant(detained_from, "detained_from")
        now = _instant(at, "at")
        case_scopes = frozenset(scopes)
        ordinary = add_period(start, rule.period, self.time_zone)
        due, chosen = ordinary, None
        for extension in sorted(self.extensions, key=lambda e: (e.in_force_from, e.name)):
            if (
                extension.applies_to == "provisional_detention"
                and _in_force(extension.in_force_from, extension.in_force_to, now)
                and extension.covers(offence_class, case_scopes)
            ):
                end = extension.extended_end(start, ordinary, self.time_zone)
                if end > due:
                    due, chosen = end, extension
        basis = f"{rule.basis} ({rule.period} from {_stamp(start)}: {_stamp(ordinary)})"
        if chosen is None:
            return Deadline(start, due, basis)
        counted = {
            "detention": "the detention",
            "ordinary_limit": "the end of the ordinary limit",
            "in_force_from": f"its entry into force ({_stamp(chosen.in_force_from)})",
        }[chosen.counted_from]
        return Deadline(
            start,
            due,
            f"{basis}; extended by {chosen.name}, in force at {_stamp(now)}: {chosen.period} counted from {counted}",
            (chosen.name,),
        )

    # --- housing ---

    def housing_policy(self) -> HousingPolicy:
        """The housing policy (space standard and separation) of this jurisdiction."""
        return self.separation.housing_policy(self.space)
