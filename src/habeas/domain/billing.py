"""Billing for people held under a transfer agreement: person-days, monthly invoices, corrections, R27.

Pure: no I/O, no clock, no database.  Everything is computed from the custody spans the register
holds and the agreement's fee model, so the same input always gives the same invoice.  (Local days
come from the tz database through :mod:`zoneinfo`; that is read-only data, the same on every call.)

The rules, in the words an auditor would use (issue 5, standards §5 and §6: F16, R27)
=====================================================================================
**Counting** (:class:`CountingRule`).  Days are *local calendar days* in the agreement's time zone
(El Salvador by default): a release at 23:30 local on 30 April is a release on 30 April even though
it is 05:30 UTC on 1 May.  By default the day of admission counts and the day of departure
(release, transfer out, death) does not — the "midnight count": a person is billed for a day when
they are held at the end of it.  A same-day admission and departure still counts **one** day, since
someone was held that day; it counts none only if the rule counts neither the admission nor the
departure day.  A span with no end is still held and counts through the last day asked about.
Overlapping spans of one person never count a day twice: a person's days are a set.

**Money** is exact: :class:`decimal.Decimal` (never float), computed through
:class:`fractions.Fraction` so that no intermediate step rounds.  Each *line* is rounded once to the
currency's minor unit with ROUND_HALF_EVEN (banker's rounding, the decimal module's
``ROUND_HALF_EVEN``: a tie goes to the even digit, so ties do not drift upward over thousands of
lines); an invoice's total is the sum of its rounded lines and is never rounded again.

**Lump sums** are prorated by *calendar days of the period*: a month gets
``amount × (period days in that month) / (days in the period)``, rounded per line, and the period's
last month takes ``amount − (the other months' shares)`` so that the months add up to the lump sum
exactly.  The person-days of a lump-sum month are still listed, as information-only lines priced at
zero, so that R27 can prove them against the register.

**Corrections.**  An invoice carries the exact days it billed for each person
(:attr:`InvoiceLine.billed_days`).  When the history changes after an invoice was issued, the next
invoice adds *adjustment* lines for each earlier month and person whose days differ: one line for
the days added, one for the days removed, each naming the month and the days.  Their amounts are the
difference of rounded month amounts, so every (month, person) always adds up to exactly what a
fresh invoice for the corrected history would bill, however many corrections came in between.
"""

from __future__ import annotations

import calendar
import csv
import html
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "CountingRule",
    "CustodySpan",
    "FeeModel",
    "Invoice",
    "InvoiceLine",
    "Reconciliation",
    "invoice_csv",
    "invoice_html",
    "lump_sum_share",
    "minor_unit",
    "monthly_invoice",
    "person_days",
    "reconcile",
    "round_money",
]

LineKind = Literal["person_days", "lump_sum", "adjustment"]
_LINE_KINDS: frozenset[str] = frozenset({"person_days", "lump_sum", "adjustment"})
_CURRENCY = re.compile(r"[A-Z]{3}")
_ONE_DAY = timedelta(days=1)

# ISO 4217 minor units that are not 2 (the norm).  Exponent = digits after the decimal point.
_MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}


# --- money -------------------------------------------------------------------------------------


def minor_unit(currency: str) -> int:
    """Digits after the decimal point in ``currency`` (ISO 4217): 2 for USD, 0 for JPY, 3 for KWD."""
    _check_currency("currency", currency)
    return _MINOR_UNITS.get(currency, 2)


def round_money(value: Decimal | Fraction | int, currency: str) -> Decimal:
    """``value`` rounded to the currency's minor unit with ROUND_HALF_EVEN, exactly.

    Works on the exact rational value (a :class:`Fraction`), so a prorated share such as
    6,000,000 × 30 / 365 is rounded once, from its true value, never from a truncated quotient.
    """
    places = minor_unit(currency)
    scaled = Fraction(value) * 10**places
    whole, rest = divmod(scaled.numerator, scaled.denominator)  # floor, so 0 <= rest < denominator
    # ROUND_HALF_EVEN: above half rounds up; exactly half rounds to the even neighbour.
    if 2 * rest > scaled.denominator or (2 * rest == scaled.denominator and whole % 2 == 1):
        whole += 1
    return Decimal(f"{whole}E-{places}")  # built from a string: exact, whatever the decimal context


def _check_currency(name: str, currency: object) -> None:
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise ValueError(f"{name}: must be an ISO 4217 code of three capital letters such as 'USD', not {currency!r}")


def _check_decimal(name: str, value: object, currency: str, *, whole_minor_units: bool) -> None:
    if isinstance(value, float):
        raise ValueError(f"{name}: must be a decimal.Decimal, not a float (floats are not exact money)")
    if not isinstance(value, Decimal):
        raise ValueError(f"{name}: must be a decimal.Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{name}: must be a finite amount, not {value}")
    if value < 0:
        raise ValueError(f"{name}: must not be negative, not {value}")
    if whole_minor_units and value != round_money(value, currency):
        raise ValueError(
            f"{name}: must be in whole minor units of {currency} ({minor_unit(currency)} decimals), not {value}"
        )


# --- inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustodySpan:
    """One stretch of custody of one transferee, as the register holds it.

    ``start`` is the admission or arrival, ``end`` the release, transfer out or death; both are
    aware instants (UTC as stored; any offset is accepted).  ``end=None`` means still held.
    """

    person_id: str
    start: datetime
    end: datetime | None

    def __post_init__(self) -> None:
        if not self.person_id:
            raise ValueError("person_id: must not be empty")
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            raise ValueError("start: must be an aware instant (with a time zone), not a naive time")
        if self.end is not None:
            if self.end.tzinfo is None or self.end.utcoffset() is None:
                raise ValueError("end: must be an aware instant (with a time zone), not a naive time")
            if self.end < self.start:
                raise ValueError(f"end: must not be before start ({self.end.isoformat()} < {self.start.isoformat()})")


@dataclass(frozen=True)
class FeeModel:
    """What the sending state pays: a rate per person-day, or a lump sum for a period.

    ``per_person_day`` needs ``rate`` (any exact non-negative decimal; lines are rounded).
    ``lump_sum`` needs ``amount`` (in whole minor units) and the inclusive ``period_start`` and
    ``period_end`` it covers.  A field that belongs to the other kind must be left ``None``.
    """

    kind: Literal["per_person_day", "lump_sum"]
    currency: str
    rate: Decimal | None = None
    amount: Decimal | None = None
    period_start: date | None = None
    period_end: date | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("per_person_day", "lump_sum"):
            raise ValueError(f"kind: must be 'per_person_day' or 'lump_sum', not {self.kind!r}")
        _check_currency("currency", self.currency)
        if self.kind == "per_person_day":
            self._post_init_rate()
        else:
            self._post_init_lump_sum()

    def _post_init_rate(self) -> None:
        if self.rate is None:
            raise ValueError("rate: is required for a per_person_day fee")
        _check_decimal("rate", self.rate, self.currency, whole_minor_units=False)
        for name in ("amount", "period_start", "period_end"):
            if getattr(self, name) is not None:
                raise ValueError(f"{name}: only a lump_sum fee has one; leave it None for per_person_day")

    def _post_init_lump_sum(self) -> None:
        if self.rate is not None:
            raise ValueError("rate: only a per_person_day fee has one; leave it None for lump_sum")
        if self.amount is None:
            raise ValueError("amount: is required for a lump_sum fee")
        _check_decimal("amount", self.amount, self.currency, whole_minor_units=True)
        for name in ("period_start", "period_end"):
            value = getattr(self, name)
            if value is None:
                raise ValueError(f"{name}: is required for a lump_sum fee (the period the amount covers)")
            if isinstance(value, datetime) or not isinstance(value, date):
                raise ValueError(f"{name}: must be a date, not {type(value).__name__}")
        assert self.period_start is not None and self.period_end is not None  # checked just above
        if self.period_end < self.period_start:
            raise ValueError(f"period_end: must not be before period_start ({self.period_end} < {self.period_start})")
        # Each month's share is rounded on its own, so a tiny amount over many months could leave the
        # last month a negative remainder (0.03 over Jan–May: 0.01 × 4 months, then -0.01).  Refuse it.
        _, last = lump_sum_share(self, self.period_end)
        if last < 0:
            raise ValueError(
                f"amount: {self.amount} {self.currency} is too small to prorate over the period by "
                f"calendar days (the last month's share would be {last})"
            )


@dataclass(frozen=True)
class CountingRule:
    """Which local days of a custody span are billable (see the module docstring).

    Default: days are counted in El Salvador's time zone; the admission day counts, the departure
    day does not; a same-day admission and departure counts one day.
    """

    time_zone: str = "America/El_Salvador"
    admission_day_counts: bool = True
    departure_day_counts: bool = False

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"time_zone: must be an IANA time zone such as 'America/El_Salvador', not {self.time_zone!r}"
            ) from exc

    def local_day(self, instant: datetime) -> date:
        """The calendar day ``instant`` falls on in this rule's time zone."""
        return instant.astimezone(ZoneInfo(self.time_zone)).date()


# --- person-days -------------------------------------------------------------------------------


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += _ONE_DAY


def _span_days(span: CustodySpan, rule: CountingRule, start: date, end: date) -> Iterator[date]:
    """The billable local days of one span, clipped to [start, end]."""
    admitted = rule.local_day(span.start)
    if span.end is None:  # still held: every day after admission up to the end of the window
        first, last = (admitted if rule.admission_day_counts else admitted + _ONE_DAY), end
    else:
        departed = rule.local_day(span.end)
        if departed == admitted:  # same-day in and out: someone was held that day, so one day
            if rule.admission_day_counts or rule.departure_day_counts:
                first = last = admitted
            else:
                return
        else:
            first = admitted if rule.admission_day_counts else admitted + _ONE_DAY
            last = departed if rule.departure_day_counts else departed - _ONE_DAY
    yield from _days(max(first, start), min(last, end))


def person_days(spans: Sequence[CustodySpan], rule: CountingRule, start: date, end: date) -> dict[str, set[date]]:
    """The local days each person is billable within [start, end] (inclusive), by ``rule``.

    Only people with at least one billable day appear.  Overlapping or duplicate spans of one
    person never count a day twice.
    """
    if end < start:
        raise ValueError(f"end: must not be before start ({end} < {start})")
    days: dict[str, set[date]] = defaultdict(set)
    for span in spans:
        days[span.person_id].update(_span_days(span, rule, start, end))
    return {person: held for person, held in days.items() if held}


# --- invoices ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceLine:
    """One line of an invoice.

    * ``person_days``: ``days`` billed for ``person_id`` in ``month`` at ``unit_price`` per day (a
      zero price marks an information-only line under a lump sum).
    * ``lump_sum``: the month's share of a lump sum; ``days`` are the calendar days of the period
      in this month, ``unit_price`` the amount of the whole period; no person, no billed days.
    * ``adjustment``: a correction to an earlier ``month`` for ``person_id``: ``days`` > 0 for days
      added, < 0 for days removed; ``billed_days`` are those days either way.

    ``billed_days`` are the exact local days the line bills (or un-bills), sorted.
    """

    kind: LineKind
    person_id: str | None
    month: date
    days: int
    unit_price: Decimal
    amount: Decimal
    note: str
    billed_days: tuple[date, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in _LINE_KINDS:
            raise ValueError(f"kind: must be one of {sorted(_LINE_KINDS)}, not {self.kind!r}")
        if self.month.day != 1:
            raise ValueError(f"month: must be the first day of the month, not {self.month}")
        if self.kind == "lump_sum":
            if self.person_id is not None or self.billed_days:
                raise ValueError("person_id: a lump_sum line bills no person and no days")
        else:
            if not self.person_id:
                raise ValueError(f"person_id: a {self.kind} line must name the person")
            if len(self.billed_days) != abs(self.days):
                raise ValueError(
                    f"billed_days: must list exactly |days| = {abs(self.days)} days, not {len(self.billed_days)}"
                )
            if any(_first_of_month(day) != self.month for day in self.billed_days):
                raise ValueError(f"billed_days: every day must fall in {self.month:%Y-%m}")


@dataclass(frozen=True)
class Invoice:
    """The invoice for one agreement and one month; its total is the sum of its (rounded) lines."""

    agreement_id: str
    month: date
    currency: str
    lines: tuple[InvoiceLine, ...]

    def __post_init__(self) -> None:
        if not self.agreement_id:
            raise ValueError("agreement_id: must not be empty")
        if self.month.day != 1:
            raise ValueError(f"month: must be the first day of the month, not {self.month}")
        _check_currency("currency", self.currency)

    @property
    def total(self) -> Decimal:
        """The sum of the line amounts, exact (each line was rounded once; the sum is not rounded again)."""
        exact = sum((Fraction(line.amount) for line in self.lines), Fraction(0))
        return round_money(exact, self.currency)  # exact already: this only sets the number of decimals


def _first_of_month(day: date) -> date:
    return date(day.year, day.month, 1)


def _last_of_month(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def _months(first: date, last: date) -> Iterator[date]:
    """The first day of every month from ``first``'s month to ``last``'s, in order."""
    month = _first_of_month(first)
    while month <= last:
        yield month
        month = _last_of_month(month) + _ONE_DAY


def _day_ranges(days: Iterable[date]) -> str:
    """'2025-04-01 to 2025-04-03, 2025-04-07': runs of consecutive days, for people to read."""
    runs: list[list[date]] = []
    for day in sorted(set(days)):
        if runs and day - runs[-1][1] == _ONE_DAY:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return ", ".join(f"{a}" if a == b else f"{a} to {b}" for a, b in runs)


def _plural(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def lump_sum_share(fee: FeeModel, month: date) -> tuple[int, Decimal]:
    """(period days in ``month``, the month's share of the lump sum) for a ``lump_sum`` fee.

    Proration basis: calendar days of the period.  Every month but the period's last gets
    ``amount × days / period days`` rounded half-even; the last gets what remains, so the shares
    of all months add up to ``amount`` exactly.  A month outside the period gets (0, 0).
    """
    if fee.kind != "lump_sum" or fee.amount is None or fee.period_start is None or fee.period_end is None:
        raise ValueError("fee: must be a lump_sum fee model")
    amount, period_start, period_end = Fraction(fee.amount), fee.period_start, fee.period_end
    period_days = (period_end - period_start).days + 1

    def in_period(first: date) -> int:
        lo, hi = max(first, period_start), min(_last_of_month(first), period_end)
        return max((hi - lo).days + 1, 0)

    def share(first: date) -> Fraction:
        return Fraction(round_money(amount * in_period(first) / period_days, fee.currency))

    target = _first_of_month(month)
    days = in_period(target)
    if days == 0:
        return 0, round_money(0, fee.currency)
    if target != _first_of_month(period_end):
        return days, round_money(share(target), fee.currency)
    earlier = sum((share(m) for m in _months(period_start, period_end) if m != target), Fraction(0))
    return days, round_money(amount - earlier, fee.currency)


def _day_price(fee: FeeModel) -> Decimal:
    """The price of one person-day: the rate, or zero when a lump sum covers the days."""
    return fee.rate if fee.kind == "per_person_day" and fee.rate is not None else round_money(0, fee.currency)


def _day_amount(days: int, fee: FeeModel) -> Decimal:
    return round_money(Fraction(_day_price(fee)) * days, fee.currency)


def _billed(invoices: Iterable[Invoice]) -> dict[tuple[date, str], Counter[date]]:
    """Net days billed per (month, person): +1 for each day billed or added, −1 for each removed."""
    net: dict[tuple[date, str], Counter[date]] = defaultdict(Counter)
    for invoice in invoices:
        for line in invoice.lines:
            if line.person_id is None:
                continue
            sign = -1 if line.days < 0 else 1
            for day in line.billed_days:
                net[line.month, line.person_id][day] += sign
    return net


def _check_issued(agreement_id: str, month: date, fee: FeeModel, issued: Sequence[Invoice]) -> None:
    seen: set[date] = set()
    for invoice in issued:
        if invoice.agreement_id != agreement_id:
            raise ValueError(f"issued: an invoice for agreement {invoice.agreement_id!r}, not {agreement_id!r}")
        if invoice.currency != fee.currency:
            raise ValueError(f"issued: an invoice in {invoice.currency} cannot be adjusted in {fee.currency}")
        if invoice.month >= month:
            raise ValueError(f"issued: the invoice for {invoice.month:%Y-%m} is not earlier than {month:%Y-%m}")
        if invoice.month in seen:
            raise ValueError(f"issued: two invoices for {invoice.month:%Y-%m}")
        seen.add(invoice.month)


def _covered_days(spans: Sequence[CustodySpan], rule: CountingRule, fee: FeeModel, month: date) -> dict[str, set[date]]:
    """The days of ``month`` the fee covers: all of them per person-day; only the period's for a lump sum.

    Days held outside a lump sum's period are paid by nothing, so they are not listed as covered
    and :func:`reconcile` shows them as registered but not billed.
    """
    first, last = month, _last_of_month(month)
    if fee.kind == "lump_sum" and fee.period_start is not None and fee.period_end is not None:
        first, last = max(first, fee.period_start), min(last, fee.period_end)
        if last < first:
            return {}
    return person_days(spans, rule, first, last)


def _adjustments(
    spans: Sequence[CustodySpan], fee: FeeModel, rule: CountingRule, issued: Sequence[Invoice]
) -> list[InvoiceLine]:
    """Lines that bring every earlier invoiced month in line with the (corrected) history."""
    billed = _billed(issued)
    months = {invoice.month for invoice in issued} | {month for month, _ in billed}
    lines: list[InvoiceLine] = []
    for month in sorted(months):
        now = _covered_days(spans, rule, fee, month)
        for person in sorted({p for m, p in billed if m == month} | set(now)):
            lines.extend(_adjust(month, person, billed.get((month, person), Counter()), now.get(person, set()), fee))
    return lines


def _adjust(month: date, person: str, billed: Counter[date], now: set[date], fee: FeeModel) -> list[InvoiceLine]:
    """At most two lines for one month and person: the days removed, then the days added."""
    removed: list[date] = []
    added: list[date] = []
    for day in sorted(set(billed) | now):
        change = (day in now) - billed[day]  # each registered day billed once, nothing else billed
        (added if change > 0 else removed).extend([day] * abs(change))
    if not removed and not added:
        return []
    before = sum(billed.values())
    kept = before - len(removed)
    price = _day_price(fee)
    info = "" if fee.kind == "per_person_day" else " (information only: covered by the lump sum)"
    lines = []
    # Amounts are differences of rounded month amounts, so rounding never accumulates across corrections.
    if removed:
        lines.append(
            InvoiceLine(
                "adjustment",
                person,
                month,
                -len(removed),
                price,
                _day_amount(kept, fee) - _day_amount(before, fee),
                f"correction to {month:%Y-%m}: {_plural(len(removed))} removed ({_day_ranges(removed)}){info}",
                tuple(removed),
            )
        )
    if added:
        lines.append(
            InvoiceLine(
                "adjustment",
                person,
                month,
                len(added),
                price,
                _day_amount(kept + len(added), fee) - _day_amount(kept, fee),
                f"correction to {month:%Y-%m}: {_plural(len(added))} added ({_day_ranges(added)}){info}",
                tuple(added),
            )
        )
    return lines


def monthly_invoice(
    agreement_id: str,
    month: date,
    spans: Sequence[CustodySpan],
    fee: FeeModel,
    rule: CountingRule,
    issued: Sequence[Invoice] = (),
) -> Invoice:
    """The invoice for ``agreement_id`` for the month containing ``month``.

    ``spans`` are the custody spans of the agreement's transferees as the register holds them now;
    ``issued`` are the invoices already issued for this agreement for earlier months.

    * ``per_person_day``: one line per person, days × rate, rounded half-even to the minor unit.
    * ``lump_sum``: the month's share of the lump sum (:func:`lump_sum_share`; none outside the
      period), then one information-only line per person with the days of the period this month,
      priced at zero.  Days held outside the period are covered by nothing and are not listed.
    * Then adjustment lines for every earlier month and person whose days in the register now
      differ from what ``issued`` billed (net of earlier adjustments).

    Spans still open count through the month's last day, so invoice a month once it has ended.
    """
    first = _first_of_month(month)
    _check_issued(agreement_id, first, fee, issued)
    lines: list[InvoiceLine] = []
    if fee.kind == "lump_sum":
        lines.extend(_lump_sum_line(first, fee))
    price = _day_price(fee)
    info = "" if fee.kind == "per_person_day" else "information only: covered by the lump sum; "
    for person, held in sorted(_covered_days(spans, rule, fee, first).items()):
        days = tuple(sorted(held))
        lines.append(
            InvoiceLine(
                "person_days",
                person,
                first,
                len(days),
                price,
                _day_amount(len(days), fee),
                f"{info}{_day_ranges(days)}",
                days,
            )
        )
    lines.extend(_adjustments(spans, fee, rule, issued))
    return Invoice(agreement_id, first, fee.currency, tuple(lines))


def _lump_sum_line(first: date, fee: FeeModel) -> list[InvoiceLine]:
    assert fee.amount is not None and fee.period_start is not None and fee.period_end is not None  # a lump_sum fee
    days, share = lump_sum_share(fee, first)
    if days == 0:
        return []
    period_days = (fee.period_end - fee.period_start).days + 1
    note = (
        f"{days} of {period_days} days of the period {fee.period_start} to {fee.period_end} (prorated by calendar days)"
    )
    if first == _first_of_month(fee.period_end):
        note += f"; the period's last month takes the rounding remainder so the months total {fee.amount:,f}"
    return [InvoiceLine("lump_sum", None, first, days, fee.amount, share, note)]


# --- reconciliation (R27) ----------------------------------------------------------------------


@dataclass(frozen=True)
class Reconciliation:
    """R27: invoiced person-days against register person-days, net of adjustments.

    ``billed_not_registered``: (person, day) billed but not a registered day (or billed more than once:
    one entry per extra copy).  ``registered_not_billed``: registered days never billed.
    """

    billed_not_registered: list[tuple[str, date]] = field(default_factory=list)
    registered_not_billed: list[tuple[str, date]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every billed day is a registered day and every registered day is billed once."""
        return not self.billed_not_registered and not self.registered_not_billed


def reconcile(
    invoices: Sequence[Invoice], spans: Sequence[CustodySpan], rule: CountingRule, start: date, end: date
) -> Reconciliation:
    """Prove the invoices against the register for the local days in [start, end] (R27).

    Lump-sum invoices take part through their information-only person-day lines, so days held
    outside a lump sum's period show as registered but not billed: nobody pays for them.
    """
    registered = person_days(spans, rule, start, end)
    billed: Counter[tuple[str, date]] = Counter()
    for (_, person), days in _billed(invoices).items():
        for day, n in days.items():
            if start <= day <= end:
                billed[person, day] += n
    expected = Counter({(person, day): 1 for person, days in registered.items() for day in days})
    over = billed - expected  # Counter subtraction keeps only positive counts
    under = expected - billed
    return Reconciliation(
        billed_not_registered=sorted(key for key, n in over.items() for _ in range(n)),
        registered_not_billed=sorted(key for key, n in under.items() for _ in range(n)),
    )


# --- exports -----------------------------------------------------------------------------------

CSV_HEADER = (
    "agreement_id",
    "invoice_month",
    "kind",
    "person_id",
    "month",
    "days",
    "unit_price",
    "amount",
    "currency",
    "billed_days",
    "note",
)


def _cell(text: str) -> str:
    """Text a spreadsheet will not run as a formula (CSV injection): a leading = + - @ gets a quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def invoice_csv(invoice: Invoice) -> str:
    """The invoice as CSV (RFC 4180): a header row, one row per line, then a ``total`` row.

    ``billed_days`` are ISO dates separated by spaces; amounts are plain decimals with the
    currency's number of decimals.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    head = (_cell(invoice.agreement_id), f"{invoice.month:%Y-%m}")
    for line in invoice.lines:
        writer.writerow(
            (
                *head,
                line.kind,
                _cell(line.person_id or ""),
                f"{line.month:%Y-%m}",
                line.days,
                f"{line.unit_price:f}",
                f"{line.amount:f}",
                invoice.currency,
                " ".join(day.isoformat() for day in line.billed_days),
                _cell(line.note),
            )
        )
    writer.writerow((*head, "total", "", "", "", "", f"{invoice.total:f}", invoice.currency, "", ""))
    return out.getvalue()


_STYLE = """
body { font-family: Georgia, 'Times New Roman', serif; margin: 2em; color: #111; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dt { font-weight: bold; }
table { border-collapse: collapse; width: 100%; margin-top: 1em; font-size: 0.9em; }
th, td { border: 1px solid #999; padding: 0.3em 0.5em; vertical-align: top; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tfoot td { font-weight: bold; border-top: 2px solid #111; }
tr.adjustment td { background: #f6f1e0; }
@page { size: A4; margin: 15mm; }
@media print {
  body { margin: 0; font-size: 10pt; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  tr.adjustment td { background: none; }
}
"""


def _money(amount: Decimal) -> str:
    return f"{amount:,f}"


def invoice_html(invoice: Invoice, *, agreement_name: str, sending_state: str, receiving_state: str) -> str:
    """The invoice as a printable, self-contained HTML document (inline print stylesheet, no script).

    Every value is escaped, so names and notes from the register cannot inject markup.
    """
    e = html.escape
    rows = []
    for line in invoice.lines:
        rows.append(
            f'<tr class="{e(line.kind)}"><td>{e(line.kind.replace("_", " "))}</td><td>{e(line.person_id or "")}</td>'
            f"<td>{line.month:%Y-%m}</td>"
            f'<td class="num">{line.days}</td><td class="num">{e(_money(line.unit_price))}</td>'
            f'<td class="num">{e(_money(line.amount))}</td><td>{e(line.note)}</td></tr>'
        )
    body = "\n".join(rows) if rows else '<tr><td colspan="7">No billable days this month.</td></tr>'
    title = f"Invoice {invoice.agreement_id} {invoice.month:%Y-%m}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{e(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>{e(title)}</h1>
<dl>
<dt>Agreement</dt><dd>{e(agreement_name)} ({e(invoice.agreement_id)})</dd>
<dt>Billed to (sending state)</dt><dd>{e(sending_state)}</dd>
<dt>From (receiving state)</dt><dd>{e(receiving_state)}</dd>
<dt>Month</dt><dd>{invoice.month:%Y-%m}</dd>
<dt>Currency</dt><dd>{e(invoice.currency)}</dd>
</dl>
<table>
<thead><tr><th>Line</th><th>Person</th><th>Month</th><th class="num">Days</th><th class="num">Unit price</th>
<th class="num">Amount</th><th>Detail</th></tr></thead>
<tbody>
{body}
</tbody>
<tfoot><tr><td colspan="5">Total ({e(invoice.currency)})</td>
<td class="num">{e(_money(invoice.total))}</td><td></td></tr></tfoot>
</table>
<p>Days are local calendar days; amounts are rounded per line to the currency's minor unit (half to even).</p>
</body>
</html>
"""
