"""Billing for transferees (issue 5, F16, R27): person-days, invoices, corrections, reconciliation, exports.

Expected figures are worked out by hand and written as literals (54.79 × 21 = 1,150.59; 6,000,000 × 30 / 365
= 493,150.684… → 493,150.68), never by calling the code under test.  The properties check the code against an
independent oracle: the "midnight count" (a person is billed for a local day when held at its end, and a
same-day admission and departure counts that one day), which is what the default counting rule means.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from habeas.domain.billing import (
    CountingRule,
    CustodySpan,
    FeeModel,
    Invoice,
    InvoiceLine,
    invoice_csv,
    invoice_html,
    lump_sum_share,
    monthly_invoice,
    person_days,
    reconcile,
    round_money,
)

SLV = ZoneInfo("America/El_Salvador")  # UTC−6 all year (no daylight saving)
RULE = CountingRule()
RATE = Decimal("54.79")  # ≈ US$20,000 per person-year (standards §5)
PER_DAY = FeeModel("per_person_day", "USD", rate=RATE)
AGREEMENT = "US-SLV-2025"


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An El Salvador wall-clock time as an aware UTC instant, as the register stores it."""
    return datetime(year, month, day, hour, minute, tzinfo=SLV).astimezone(UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def span(person: str, start: datetime, end: datetime | None = None) -> CustodySpan:
    return CustodySpan(person, start, end)


def days(first: date, last: date) -> set[date]:
    return {first + timedelta(n) for n in range((last - first).days + 1)}


def lines_of(invoice: Invoice, kind: str) -> list[InvoiceLine]:
    return [line for line in invoice.lines if line.kind == kind]


# --- counting: exact days, table-driven -----------------------------------------------------------

APR, MAY = (date(2025, 4, 1), date(2025, 4, 30)), (date(2025, 5, 1), date(2025, 5, 31))

COUNTING = [
    # (case, span, window, expected billable days)
    (
        "mid-month admission, still held",
        span("A", local(2025, 4, 10, 14)),
        APR,
        days(date(2025, 4, 10), date(2025, 4, 30)),
    ),
    (
        "release 23:30 local on the last day of the month (05:30 UTC next day)",
        span("A", local(2025, 4, 1, 8), local(2025, 4, 30, 23, 30)),
        APR,
        days(date(2025, 4, 1), date(2025, 4, 29)),
    ),
    (
        "release 00:30 UTC on 1 May is 18:30 local on 30 April: the local day decides",
        span("A", local(2025, 4, 1, 8), utc(2025, 5, 1, 0, 30)),
        APR,
        days(date(2025, 4, 1), date(2025, 4, 29)),
    ),
    ("... and nothing is billed in May", span("A", local(2025, 4, 1, 8), utc(2025, 5, 1, 0, 30)), MAY, set()),
    (
        "release 00:30 local on 1 May: 30 April was held to its end",
        span("A", local(2025, 4, 1, 8), local(2025, 5, 1, 0, 30)),
        APR,
        days(date(2025, 4, 1), date(2025, 4, 30)),
    ),
    (
        "admission and release the same day count one day",
        span("A", local(2025, 4, 10, 9), local(2025, 4, 10, 17)),
        APR,
        {date(2025, 4, 10)},
    ),
    (
        "a zero-length stay is a same-day stay",
        span("A", local(2025, 4, 10, 9), local(2025, 4, 10, 9)),
        APR,
        {date(2025, 4, 10)},
    ),
    (
        "leap day: 27 Feb to 2 Mar 2028 bills 27, 28, 29 Feb",
        span("A", local(2028, 2, 27, 10), local(2028, 3, 2, 10)),
        (date(2028, 2, 1), date(2028, 2, 29)),
        {date(2028, 2, 27), date(2028, 2, 28), date(2028, 2, 29)},
    ),
    (
        "leap day: ... and 1 Mar",
        span("A", local(2028, 2, 27, 10), local(2028, 3, 2, 10)),
        (date(2028, 3, 1), date(2028, 3, 31)),
        {date(2028, 3, 1)},
    ),
    (
        "crossing a month boundary: April part",
        span("A", local(2025, 4, 25, 12), local(2025, 5, 5, 12)),
        APR,
        days(date(2025, 4, 25), date(2025, 4, 30)),
    ),
    (
        "crossing a month boundary: May part",
        span("A", local(2025, 4, 25, 12), local(2025, 5, 5, 12)),
        MAY,
        days(date(2025, 5, 1), date(2025, 5, 4)),
    ),
    (
        "still held at month end (the flight of 15–16 March 2025)",
        span("A", local(2025, 3, 16, 1)),
        (date(2025, 3, 1), date(2025, 3, 31)),
        days(date(2025, 3, 16), date(2025, 3, 31)),
    ),
    ("admitted after the window", span("A", local(2025, 5, 2, 12)), APR, set()),
    ("released before the window", span("A", local(2025, 3, 2, 12), local(2025, 3, 31, 23)), APR, set()),
]


@pytest.mark.parametrize(("case", "custody", "window", "expected"), COUNTING, ids=[c[0] for c in COUNTING])
def test_default_rule_counts_local_days(
    case: str, custody: CustodySpan, window: tuple[date, date], expected: set[date]
) -> None:
    assert person_days([custody], RULE, *window).get("A", set()) == expected


RULES = [
    # (rule, span in April 2025, expected number of April days)
    (CountingRule(departure_day_counts=True), span("A", local(2025, 4, 1, 8), local(2025, 4, 30, 23, 30)), 30),
    (CountingRule(admission_day_counts=False), span("A", local(2025, 4, 10, 8), local(2025, 4, 20, 8)), 9),
    (
        CountingRule(admission_day_counts=False, departure_day_counts=True),
        span("A", local(2025, 4, 10, 8), local(2025, 4, 20, 8)),
        10,
    ),
    (
        CountingRule(admission_day_counts=False, departure_day_counts=True),
        span("A", local(2025, 4, 10, 8), local(2025, 4, 10, 9)),
        1,
    ),
    (
        CountingRule(admission_day_counts=False, departure_day_counts=False),
        span("A", local(2025, 4, 10, 8), local(2025, 4, 10, 9)),
        0,
    ),
    (CountingRule(admission_day_counts=False), span("A", local(2025, 4, 10, 14)), 20),
    # The same instants counted in UTC: admission 2025-04-10T20:00Z, release 2025-05-01T05:30Z bills all of April.
    (CountingRule(time_zone="UTC"), span("A", local(2025, 4, 10, 14), local(2025, 4, 30, 23, 30)), 21),
]


@pytest.mark.parametrize(("rule", "custody", "expected"), RULES)
def test_counting_rule_variants(rule: CountingRule, custody: CustodySpan, expected: int) -> None:
    assert len(person_days([custody], rule, *APR).get("A", set())) == expected


def test_overlapping_spans_never_count_a_day_twice() -> None:
    spans = [
        span("A", local(2025, 4, 1, 8), local(2025, 4, 20, 8)),
        span("A", local(2025, 4, 15, 8), local(2025, 4, 25, 8)),  # overlaps the first
        span("A", local(2025, 4, 20, 12), local(2025, 4, 20, 13)),  # same day as a departure
        span("B", local(2025, 4, 3, 8), local(2025, 4, 5, 8)),
    ]
    got = person_days(spans, RULE, *APR)
    assert got == {"A": days(date(2025, 4, 1), date(2025, 4, 24)), "B": {date(2025, 4, 3), date(2025, 4, 4)}}
    assert len(got["A"]) == 24


def test_window_must_not_be_reversed() -> None:
    with pytest.raises(ValueError, match=r"^end: must not be before start"):
        person_days([], RULE, date(2025, 4, 30), date(2025, 4, 1))


# --- per-person-day invoices ----------------------------------------------------------------------

INVOICED = [
    # (case, spans, month, {person: (days, amount)}, total)
    ("mid-month admission", [span("A", local(2025, 4, 10, 14))], date(2025, 4, 17), {"A": (21, "1150.59")}, "1150.59"),
    (
        "release on the last day, 23:30 local",
        [span("A", local(2025, 4, 1, 8), local(2025, 4, 30, 23, 30))],
        date(2025, 4, 1),
        {"A": (29, "1588.91")},
        "1588.91",
    ),
    (
        "same day in and out",
        [span("A", local(2025, 4, 10, 9), local(2025, 4, 10, 17))],
        date(2025, 4, 30),
        {"A": (1, "54.79")},
        "54.79",
    ),
    (
        "leap February",
        [span("A", local(2028, 2, 27, 10), local(2028, 3, 2, 10))],
        date(2028, 2, 29),
        {"A": (3, "164.37")},
        "164.37",
    ),
    (
        "leap March",
        [span("A", local(2028, 2, 27, 10), local(2028, 3, 2, 10))],
        date(2028, 3, 1),
        {"A": (1, "54.79")},
        "54.79",
    ),
    (
        "crossing into May",
        [span("A", local(2025, 4, 25, 12), local(2025, 5, 5, 12))],
        date(2025, 5, 5),
        {"A": (4, "219.16")},
        "219.16",
    ),
    (
        "still held: March 2025 and two people",
        [span("A", local(2025, 3, 16, 1)), span("B", local(2025, 3, 16, 2))],
        date(2025, 3, 31),
        {"A": (16, "876.64"), "B": (16, "876.64")},
        "1753.28",
    ),
    (
        "still held: all of April",
        [span("A", local(2025, 3, 16, 1))],
        date(2025, 4, 2),
        {"A": (30, "1643.70")},
        "1643.70",
    ),
    ("nobody held", [], date(2025, 4, 1), {}, "0.00"),
]


@pytest.mark.parametrize(("case", "spans", "month", "expected", "total"), INVOICED, ids=[c[0] for c in INVOICED])
def test_per_person_day_invoice(
    case: str, spans: list[CustodySpan], month: date, expected: dict[str, tuple[int, str]], total: str
) -> None:
    invoice = monthly_invoice(AGREEMENT, month, spans, PER_DAY, RULE)
    assert invoice.month == date(month.year, month.month, 1)
    assert invoice.currency == "USD"
    assert {line.person_id: (line.days, str(line.amount)) for line in invoice.lines} == expected
    assert all(line.kind == "person_days" and line.unit_price == RATE for line in invoice.lines)
    assert all(len(line.billed_days) == line.days for line in invoice.lines)
    assert str(invoice.total) == total


def test_lines_are_rounded_half_even_and_the_total_is_their_sum() -> None:
    fee = FeeModel("per_person_day", "USD", rate=Decimal("0.125"))
    spans = [
        span("A", local(2025, 4, 1, 8), local(2025, 4, 2, 8)),  # 1 day: 0.125 → 0.12 (tie to even)
        span("B", local(2025, 4, 1, 8), local(2025, 4, 4, 8)),  # 3 days: 0.375 → 0.38 (tie to even)
        span("C", local(2025, 4, 1, 8), local(2025, 4, 6, 8)),
    ]  # 5 days: 0.625 → 0.62
    invoice = monthly_invoice(AGREEMENT, date(2025, 4, 1), spans, fee, RULE)
    assert [str(line.amount) for line in invoice.lines] == ["0.12", "0.38", "0.62"]
    assert str(invoice.total) == "1.12"  # not 9 × 0.125 = 1.125 → 1.12 by luck: 0.12 + 0.38 + 0.62


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        ("0.125", "USD", "0.12"),
        ("0.135", "USD", "0.14"),
        ("-0.125", "USD", "-0.12"),
        ("2.5", "JPY", "2"),
        ("3.5", "JPY", "4"),
        ("1.0005", "KWD", "1.000"),
        ("1150.6845", "USD", "1150.68"),
        ("7", "USD", "7.00"),
    ],
)
def test_round_money_half_even(value: str, currency: str, expected: str) -> None:
    assert str(round_money(Decimal(value), currency)) == expected


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False, allow_infinity=False))
def test_round_money_agrees_with_the_decimal_module(value: Decimal) -> None:
    assert round_money(value, "USD") == value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


# --- lump sum -------------------------------------------------------------------------------------

LUMP = FeeModel(
    "lump_sum", "USD", amount=Decimal("6000000.00"), period_start=date(2025, 4, 1), period_end=date(2026, 3, 31)
)
# The reported flights landed on 15–16 March 2025: a year from 16 March has a partial first and last month.
LUMP_PARTIAL = FeeModel(
    "lump_sum", "USD", amount=Decimal("6000000.00"), period_start=date(2025, 3, 16), period_end=date(2026, 3, 15)
)

FULL_YEAR = [  # 365 days; 6,000,000 / 365 = 16,438.356164… per day
    (date(2025, 4, 1), 30, "493150.68"),
    (date(2025, 5, 1), 31, "509589.04"),
    (date(2025, 6, 1), 30, "493150.68"),
    (date(2025, 7, 1), 31, "509589.04"),
    (date(2025, 8, 1), 31, "509589.04"),
    (date(2025, 9, 1), 30, "493150.68"),
    (date(2025, 10, 1), 31, "509589.04"),
    (date(2025, 11, 1), 30, "493150.68"),
    (date(2025, 12, 1), 31, "509589.04"),
    (date(2026, 1, 1), 31, "509589.04"),
    (date(2026, 2, 1), 28, "460273.97"),
    (date(2026, 3, 1), 31, "509589.07"),  # the last month: 6,000,000 − 5,490,410.93 (remainder +0.03)
]
PARTIAL_YEAR = [  # 16 Mar 2025 – 15 Mar 2026, also 365 days
    (date(2025, 3, 1), 16, "263013.70"),
    (date(2025, 4, 1), 30, "493150.68"),
    (date(2025, 5, 1), 31, "509589.04"),
    (date(2025, 6, 1), 30, "493150.68"),
    (date(2025, 7, 1), 31, "509589.04"),
    (date(2025, 8, 1), 31, "509589.04"),
    (date(2025, 9, 1), 30, "493150.68"),
    (date(2025, 10, 1), 31, "509589.04"),
    (date(2025, 11, 1), 30, "493150.68"),
    (date(2025, 12, 1), 31, "509589.04"),
    (date(2026, 1, 1), 31, "509589.04"),
    (date(2026, 2, 1), 28, "460273.97"),
    (date(2026, 3, 1), 15, "246575.37"),  # 6,000,000 − 5,753,424.63; a fresh share would be 246,575.34
]


@pytest.mark.parametrize(
    ("fee", "table"), [(LUMP, FULL_YEAR), (LUMP_PARTIAL, PARTIAL_YEAR)], ids=["apr-mar", "partial"]
)
def test_lump_sum_is_prorated_by_calendar_days_and_adds_up_exactly(
    fee: FeeModel, table: list[tuple[date, int, str]]
) -> None:
    total = Decimal(0)
    for month, period_days, share in table:
        invoice = monthly_invoice(AGREEMENT, month, [], fee, RULE)
        [line] = lines_of(invoice, "lump_sum")
        assert (line.days, str(line.amount), line.unit_price) == (period_days, share, Decimal("6000000.00"))
        assert "of 365 days" in line.note
        total += invoice.total
    assert total == Decimal("6000000.00")
    assert str(total) == "6000000.00"


def test_lump_sum_month_outside_the_period_has_no_share() -> None:
    assert lump_sum_share(LUMP_PARTIAL, date(2025, 2, 10)) == (0, Decimal("0.00"))
    assert lines_of(monthly_invoice(AGREEMENT, date(2026, 4, 1), [], LUMP_PARTIAL, RULE), "lump_sum") == []


def test_lump_sum_invoice_lists_person_days_for_information_only() -> None:
    spans = [span("A", local(2025, 3, 16, 1)), span("B", local(2025, 3, 16, 2), local(2025, 3, 20, 9))]
    invoice = monthly_invoice(AGREEMENT, date(2025, 3, 1), spans, LUMP_PARTIAL, RULE)
    info = lines_of(invoice, "person_days")
    assert [(line.person_id, line.days, line.amount) for line in info] == [
        ("A", 16, Decimal("0.00")),
        ("B", 4, Decimal("0.00")),
    ]
    assert all(line.note.startswith("information only") for line in info)
    assert invoice.total == Decimal("263013.70")
    assert reconcile([invoice], spans, RULE, date(2025, 3, 1), date(2025, 3, 31)).ok


def test_days_held_after_a_lump_sum_period_are_not_covered_and_reconcile_shows_them() -> None:
    spans = [span("A", local(2025, 3, 16, 1))]  # still held when the year paid for ends on 15 March 2026
    march = monthly_invoice(AGREEMENT, date(2026, 3, 1), spans, LUMP_PARTIAL, RULE)
    assert [(line.kind, line.days, str(line.amount)) for line in march.lines] == [
        ("lump_sum", 15, "246575.37"),
        ("person_days", 15, "0.00"),
    ]
    result = reconcile([march], spans, RULE, date(2026, 3, 1), date(2026, 3, 31))
    assert result.billed_not_registered == []
    assert result.registered_not_billed == [("A", day) for day in sorted(days(date(2026, 3, 16), date(2026, 3, 31)))]


@given(
    st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(min_value=0, max_value=800),
    st.decimals(min_value=0, max_value=10**8, places=2, allow_nan=False, allow_infinity=False),
)
def test_lump_sum_shares_always_add_up_to_the_amount(first: date, length: int, amount: Decimal) -> None:
    months = len({(first + timedelta(n)).replace(day=1) for n in range(length + 1)})
    try:
        fee = FeeModel("lump_sum", "USD", amount=amount, period_start=first, period_end=first + timedelta(length))
    except ValueError as refused:
        # Only an amount of a few cents per month can leave the last month negative; it is refused, not billed.
        assert str(refused).startswith("amount: ") and "too small to prorate" in str(refused)
        assert amount < Decimal("0.005") * months * (length + 1)
        return
    month, shares, covered = date(first.year, first.month, 1), Decimal(0), 0
    while month <= fee.period_end:  # type: ignore[operator]
        period_days, share = lump_sum_share(fee, month)
        assert share >= 0
        shares, covered = shares + share, covered + period_days
        month = (month + timedelta(days=32)).replace(day=1)
    assert (shares, covered) == (amount, length + 1)


# --- corrections after invoicing ------------------------------------------------------------------

ISSUED_HISTORY = [
    span("A", local(2025, 4, 10, 14)),  # still held
    span("B", local(2025, 4, 1, 8), local(2025, 4, 20, 10)),
]
CORRECTED_HISTORY = [
    span("A", local(2025, 4, 12, 14)),  # admitted two days later than first recorded: 10 and 11 April removed
    span("B", local(2025, 4, 1, 8), local(2025, 4, 25, 10)),  # released five days later: 20–24 April added
    span("C", local(2025, 4, 28, 3)),  # held since 28 April but missing from the register when April was invoiced
]


def test_a_correction_after_invoicing_adds_adjustment_lines_both_ways() -> None:
    april = monthly_invoice(AGREEMENT, date(2025, 4, 1), ISSUED_HISTORY, PER_DAY, RULE)
    assert [(line.person_id, line.days, str(line.amount)) for line in april.lines] == [
        ("A", 21, "1150.59"),
        ("B", 19, "1041.01"),
    ]
    may = monthly_invoice(AGREEMENT, date(2025, 5, 1), CORRECTED_HISTORY, PER_DAY, RULE, issued=[april])
    assert [(line.person_id, line.days, str(line.amount)) for line in lines_of(may, "person_days")] == [
        ("A", 31, "1698.49"),
        ("C", 31, "1698.49"),
    ]
    adjustments = lines_of(may, "adjustment")
    assert [(line.person_id, line.month, line.days, str(line.amount), line.billed_days) for line in adjustments] == [
        ("A", date(2025, 4, 1), -2, "-109.58", (date(2025, 4, 10), date(2025, 4, 11))),
        ("B", date(2025, 4, 1), 5, "273.95", tuple(sorted(days(date(2025, 4, 20), date(2025, 4, 24))))),
        ("C", date(2025, 4, 1), 3, "164.37", (date(2025, 4, 28), date(2025, 4, 29), date(2025, 4, 30))),
    ]
    assert adjustments[0].note == "correction to 2025-04: 2 days removed (2025-04-10 to 2025-04-11)"
    assert adjustments[1].note == "correction to 2025-04: 5 days added (2025-04-20 to 2025-04-24)"
    assert str(may.total) == "3725.72"  # 1698.49 × 2 − 109.58 + 273.95 + 164.37
    # April as corrected: A 19 days, B 24, C 3 = 46 days × 54.79 = 2,520.34 = 2,191.60 billed + 328.74 adjusted.
    assert april.total + sum(line.amount for line in adjustments) == Decimal("2520.34")

    window = (date(2025, 4, 1), date(2025, 5, 31))
    assert reconcile([april, may], CORRECTED_HISTORY, RULE, *window).ok
    stale = reconcile([april], CORRECTED_HISTORY, RULE, date(2025, 4, 1), date(2025, 4, 30))
    assert not stale.ok
    assert stale.billed_not_registered == [("A", date(2025, 4, 10)), ("A", date(2025, 4, 11))]
    assert stale.registered_not_billed == [("B", day) for day in sorted(days(date(2025, 4, 20), date(2025, 4, 24)))] + [
        ("C", date(2025, 4, 28)),
        ("C", date(2025, 4, 29)),
        ("C", date(2025, 4, 30)),
    ]

    # Once adjusted, a month is not adjusted again; reverting the correction reverses the adjustments.
    june = monthly_invoice(AGREEMENT, date(2025, 6, 1), CORRECTED_HISTORY, PER_DAY, RULE, issued=[april, may])
    assert lines_of(june, "adjustment") == []
    reverted = monthly_invoice(AGREEMENT, date(2025, 6, 1), ISSUED_HISTORY, PER_DAY, RULE, issued=[april, may])
    assert [(line.person_id, line.month, line.days, str(line.amount)) for line in lines_of(reverted, "adjustment")] == [
        ("A", date(2025, 4, 1), 2, "109.58"),
        ("B", date(2025, 4, 1), -5, "-273.95"),
        ("C", date(2025, 4, 1), -3, "-164.37"),
        ("C", date(2025, 5, 1), -31, "-1698.49"),
    ]
    assert reconcile([april, may, reverted], ISSUED_HISTORY, RULE, date(2025, 4, 1), date(2025, 6, 30)).ok


def test_adjustments_keep_month_amounts_exact_with_a_fine_rate() -> None:
    """With a rate finer than a cent, an adjustment is the change in the rounded month amount."""
    fee = FeeModel("per_person_day", "USD", rate=Decimal("54.7945"))
    before = [span("A", local(2025, 4, 1, 8), local(2025, 4, 2, 8))]  # 1 day: 54.7945 → 54.79
    after = [span("A", local(2025, 4, 1, 8), local(2025, 4, 3, 8))]  # 2 days: 109.589 → 109.59
    april = monthly_invoice(AGREEMENT, date(2025, 4, 1), before, fee, RULE)
    may = monthly_invoice(AGREEMENT, date(2025, 5, 1), after, fee, RULE, issued=[april])
    [adjustment] = may.lines
    assert (adjustment.days, str(adjustment.amount)) == (1, "54.80")  # not round(54.7945) = 54.79
    assert april.total + may.total == Decimal("109.59")


def test_lump_sum_adjustments_carry_days_but_no_money() -> None:
    april = monthly_invoice(AGREEMENT, date(2025, 4, 1), ISSUED_HISTORY, LUMP, RULE)
    may = monthly_invoice(AGREEMENT, date(2025, 5, 1), CORRECTED_HISTORY, LUMP, RULE, issued=[april])
    adjustments = lines_of(may, "adjustment")
    assert [(line.person_id, line.days, line.amount) for line in adjustments] == [
        ("A", -2, Decimal("0.00")),
        ("B", 5, Decimal("0.00")),
        ("C", 3, Decimal("0.00")),
    ]
    assert may.total == Decimal("509589.04")
    assert reconcile([april, may], CORRECTED_HISTORY, RULE, date(2025, 4, 1), date(2025, 5, 31)).ok


@pytest.mark.parametrize(
    ("issued", "message"),
    [
        (Invoice("OTHER", date(2025, 4, 1), "USD", ()), "issued: an invoice for agreement 'OTHER'"),
        (Invoice(AGREEMENT, date(2025, 4, 1), "EUR", ()), "issued: an invoice in EUR"),
        (Invoice(AGREEMENT, date(2025, 5, 1), "USD", ()), "issued: the invoice for 2025-05 is not earlier"),
    ],
)
def test_issued_invoices_must_be_earlier_months_of_the_same_agreement(issued: Invoice, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        monthly_invoice(AGREEMENT, date(2025, 5, 20), [], PER_DAY, RULE, issued=[issued])


def test_two_invoices_for_one_month_are_refused() -> None:
    april = Invoice(AGREEMENT, date(2025, 4, 1), "USD", ())
    with pytest.raises(ValueError, match=r"^issued: two invoices for 2025-04"):
        monthly_invoice(AGREEMENT, date(2025, 5, 1), [], PER_DAY, RULE, issued=[april, april])


# --- validation -----------------------------------------------------------------------------------

FEE_ERRORS: list[tuple[dict[str, Any], str]] = [
    ({"kind": "per_diem", "currency": "USD", "rate": RATE}, "kind"),
    ({"kind": "per_person_day", "currency": "usd", "rate": RATE}, "currency"),
    ({"kind": "per_person_day", "currency": "US$", "rate": RATE}, "currency"),
    ({"kind": "per_person_day", "currency": "USD"}, "rate"),
    ({"kind": "per_person_day", "currency": "USD", "rate": 54.79}, "rate"),
    ({"kind": "per_person_day", "currency": "USD", "rate": Decimal("-1")}, "rate"),
    ({"kind": "per_person_day", "currency": "USD", "rate": Decimal("NaN")}, "rate"),
    ({"kind": "per_person_day", "currency": "USD", "rate": Decimal("Infinity")}, "rate"),
    ({"kind": "per_person_day", "currency": "USD", "rate": RATE, "amount": Decimal(1)}, "amount"),
    ({"kind": "per_person_day", "currency": "USD", "rate": RATE, "period_start": date(2025, 1, 1)}, "period_start"),
    (
        {"kind": "lump_sum", "currency": "USD", "period_start": date(2025, 4, 1), "period_end": date(2026, 3, 31)},
        "amount",
    ),
    (
        {
            "kind": "lump_sum",
            "currency": "USD",
            "amount": Decimal("6000000.005"),
            "period_start": date(2025, 4, 1),
            "period_end": date(2026, 3, 31),
        },
        "amount",
    ),
    (
        {
            "kind": "lump_sum",
            "currency": "JPY",
            "amount": Decimal("0.5"),
            "period_start": date(2025, 4, 1),
            "period_end": date(2026, 3, 31),
        },
        "amount",
    ),
    (
        {
            "kind": "lump_sum",
            "currency": "USD",
            "amount": Decimal("0.03"),
            "period_start": date(2024, 1, 1),
            "period_end": date(2024, 5, 1),
        },
        "amount",
    ),  # 0.01 × 4 months, the last (1 May) would be -0.01
    ({"kind": "lump_sum", "currency": "USD", "amount": Decimal(6), "period_end": date(2026, 3, 31)}, "period_start"),
    ({"kind": "lump_sum", "currency": "USD", "amount": Decimal(6), "period_start": date(2025, 4, 1)}, "period_end"),
    (
        {
            "kind": "lump_sum",
            "currency": "USD",
            "amount": Decimal(6),
            "period_start": date(2025, 4, 1),
            "period_end": date(2025, 3, 31),
        },
        "period_end",
    ),
    (
        {
            "kind": "lump_sum",
            "currency": "USD",
            "amount": Decimal(6),
            "rate": RATE,
            "period_start": date(2025, 4, 1),
            "period_end": date(2026, 3, 31),
        },
        "rate",
    ),
]


@pytest.mark.parametrize(("kwargs", "field"), FEE_ERRORS)
def test_fee_model_errors_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}: "):
        FeeModel(**kwargs)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: CustodySpan("", local(2025, 4, 1, 8), None), "person_id"),
        (lambda: CustodySpan("A", datetime(2025, 4, 1, 8), None), "start"),
        (lambda: CustodySpan("A", local(2025, 4, 1, 8), datetime(2025, 4, 2, 8)), "end"),
        (lambda: CustodySpan("A", local(2025, 4, 2, 8), local(2025, 4, 1, 8)), "end"),
        (lambda: CountingRule(time_zone="Mars/Olympus_Mons"), "time_zone"),
        (lambda: InvoiceLine("refund", "A", date(2025, 4, 1), 0, RATE, RATE, ""), "kind"),  # type: ignore[arg-type]
        (lambda: InvoiceLine("person_days", "A", date(2025, 4, 2), 0, RATE, RATE, ""), "month"),
        (
            lambda: InvoiceLine("person_days", "A", date(2025, 4, 1), 2, RATE, RATE, "", (date(2025, 4, 1),)),
            "billed_days",
        ),
        (
            lambda: InvoiceLine("person_days", "A", date(2025, 4, 1), 1, RATE, RATE, "", (date(2025, 5, 1),)),
            "billed_days",
        ),
        (lambda: Invoice(AGREEMENT, date(2025, 4, 2), "USD", ()), "month"),
    ],
)
def test_other_refusals_name_the_field(make: Any, field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}: "):
        make()


# --- exports --------------------------------------------------------------------------------------


def test_invoice_csv_has_a_header_one_row_per_line_and_a_total() -> None:
    april = monthly_invoice(AGREEMENT, date(2025, 4, 1), ISSUED_HISTORY, PER_DAY, RULE)
    spans = [*CORRECTED_HISTORY, span("=HYPERLINK()", local(2025, 5, 30, 9))]
    may = monthly_invoice(AGREEMENT, date(2025, 5, 1), spans, PER_DAY, RULE, issued=[april])
    rows = list(csv.DictReader(io.StringIO(invoice_csv(may))))
    assert len(rows) == len(may.lines) + 1
    assert [row["kind"] for row in rows] == [*(["person_days"] * 3), *(["adjustment"] * 3), "total"]
    assert rows[0]["person_id"] == "'=HYPERLINK()"  # a spreadsheet must not run it
    assert rows[3] | {"note": ""} == {
        "agreement_id": AGREEMENT,
        "invoice_month": "2025-05",
        "kind": "adjustment",
        "person_id": "A",
        "month": "2025-04",
        "days": "-2",
        "unit_price": "54.79",
        "amount": "-109.58",
        "currency": "USD",
        "billed_days": "2025-04-10 2025-04-11",
        "note": "",
    }
    assert rows[-1]["amount"] == str(may.total) == "3835.30"  # 3,725.72 + 2 days for the new person
    assert sum(Decimal(row["amount"]) for row in rows[:-1]) == Decimal(rows[-1]["amount"])


def test_invoice_html_is_printable_self_contained_and_escaped() -> None:
    invoice = monthly_invoice(AGREEMENT, date(2025, 4, 1), [span("<b>A</b>", local(2025, 4, 10, 14))], PER_DAY, RULE)
    page = invoice_html(
        invoice,
        agreement_name="Agreement <script>alert(1)</script> & co",
        sending_state="United States",
        receiving_state="El Salvador",
    )
    assert page.startswith("<!DOCTYPE html>")
    assert "@media print" in page and "@page" in page
    assert "<script" not in page and "&lt;script&gt;" in page and "&amp; co" in page
    assert "&lt;b&gt;A&lt;/b&gt;" in page and "<b>" not in page
    assert "1,150.59" in page and "United States" in page and "El Salvador" in page
    assert "http" not in page  # nothing to fetch: self-contained


# --- properties -----------------------------------------------------------------------------------

# Zones whose clocks never jump at midnight, so local midnight is one instant (the oracle needs it).
ZONES = ["America/El_Salvador", "UTC", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "Australia/Lord_Howe"]
BASE = datetime(2027, 12, 1, tzinfo=UTC)
MONTHS = [date(2027, 12, 1), date(2028, 1, 1), date(2028, 2, 1), date(2028, 3, 1), date(2028, 4, 1)]  # leap Feb
WINDOW = (date(2027, 12, 1), date(2028, 4, 30))


@st.composite
def custody_spans(draw: st.DrawFn) -> CustodySpan:
    start = BASE + timedelta(minutes=draw(st.integers(-20 * 1440, 150 * 1440)))
    length = draw(st.none() | st.integers(0, 70 * 1440) | st.integers(0, 1440))
    return CustodySpan(
        draw(st.sampled_from(["P1", "P2", "P3"])), start, None if length is None else start + timedelta(minutes=length)
    )


span_lists = st.lists(custody_spans(), max_size=6)
rules = st.sampled_from(ZONES).map(lambda zone: CountingRule(time_zone=zone))


def midnight_count(spans: Sequence[CustodySpan], rule: CountingRule, first: date, last: date) -> set[tuple[str, date]]:
    """The oracle: held at the end of the local day, or in and out on that very day."""
    zone = ZoneInfo(rule.time_zone)
    counted = set()
    for day in days(first, last):
        midnight = datetime.combine(day + timedelta(1), time(0), tzinfo=zone)
        for s in spans:
            held_at_midnight = s.start < midnight and (s.end is None or s.end >= midnight)
            same_day = s.end is not None and s.start.astimezone(zone).date() == s.end.astimezone(zone).date() == day
            if held_at_midnight or same_day:
                counted.add((s.person_id, day))
    return counted


def pairs(by_person: dict[str, set[date]]) -> set[tuple[str, date]]:
    return {(person, day) for person, held in by_person.items() for day in held}


@given(span_lists, rules)
def test_person_days_is_the_midnight_count(spans: list[CustodySpan], rule: CountingRule) -> None:
    assert pairs(person_days(spans, rule, *WINDOW)) == midnight_count(spans, rule, *WINDOW)


@given(span_lists, rules, st.data())
def test_person_days_never_counts_a_day_twice(
    spans: list[CustodySpan], rule: CountingRule, data: st.DataObject
) -> None:
    whole = person_days(spans, rule, *WINDOW)
    # Repeating spans adds nothing, and each person's days are the union of their spans' days.
    assert person_days([*spans, *spans, *data.draw(st.permutations(spans))], rule, *WINDOW) == whole
    for person, held in whole.items():
        union = set().union(*(person_days([s], rule, *WINDOW).get(person, set()) for s in spans))
        assert held == union
    # Month by month, the days add up to the whole window: no day in two months.
    by_month = [person_days(spans, rule, m, (m + timedelta(days=32)).replace(day=1) - timedelta(1)) for m in MONTHS]
    assert sum(len(held) for month in by_month for held in month.values()) == sum(len(h) for h in whole.values())


def invoice_run(
    histories: Sequence[Sequence[CustodySpan]], switches: Sequence[int], fee: FeeModel, rule: CountingRule
) -> list[Invoice]:
    """Invoice MONTHS in order; the register's history becomes histories[i] from month switches[i - 1] on."""
    issued: list[Invoice] = []
    for index, month in enumerate(MONTHS):
        version = sum(1 for switch in switches if switch <= index)
        if index == len(MONTHS) - 1:
            version = len(histories) - 1  # the last invoice sees the final history
        issued.append(monthly_invoice(AGREEMENT, month, histories[version], fee, rule, issued=tuple(issued)))
    return issued


corrections = st.lists(span_lists, min_size=1, max_size=4).flatmap(
    lambda histories: st.tuples(
        st.just(histories),
        st.lists(st.integers(1, len(MONTHS) - 1), min_size=len(histories) - 1, max_size=len(histories) - 1).map(sorted),
    )
)


@given(corrections, rules, st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False, allow_infinity=False))
def test_invoices_with_adjustments_add_up_to_days_times_rate(
    history: tuple[list[list[CustodySpan]], list[int]], rule: CountingRule, rate: Decimal
) -> None:
    histories, switches = history
    invoices = invoice_run(histories, switches, FeeModel("per_person_day", "USD", rate=rate), rule)
    final = histories[-1]
    assert sum(invoice.total for invoice in invoices) == len(midnight_count(final, rule, *WINDOW)) * rate
    assert reconcile(invoices, final, rule, *WINDOW).ok


@given(corrections, rules)
def test_lump_sum_runs_reconcile_and_bill_only_the_shares(
    history: tuple[list[list[CustodySpan]], list[int]], rule: CountingRule
) -> None:
    histories, switches = history
    fee = FeeModel("lump_sum", "USD", amount=Decimal("1000000.00"), period_start=WINDOW[0], period_end=WINDOW[1])
    invoices = invoice_run(histories, switches, fee, rule)
    assert sum(invoice.total for invoice in invoices) == Decimal("1000000.00")  # corrections move days, not money
    assert reconcile(invoices, histories[-1], rule, *WINDOW).ok


@given(corrections, rules, st.decimals(min_value=0, max_value=100, places=4, allow_nan=False, allow_infinity=False))
def test_with_a_fine_rate_invoices_add_up_to_the_rounded_month_lines(
    history: tuple[list[list[CustodySpan]], list[int]], rule: CountingRule, rate: Decimal
) -> None:
    histories, switches = history
    invoices = invoice_run(histories, switches, FeeModel("per_person_day", "USD", rate=rate), rule)
    owed = Decimal(0)
    for month in MONTHS:
        last = (month + timedelta(days=32)).replace(day=1) - timedelta(1)
        per_person: dict[str, int] = {}
        for person, _ in midnight_count(histories[-1], rule, month, last):
            per_person[person] = per_person.get(person, 0) + 1
        owed += sum((round_money(n * rate, "USD") for n in per_person.values()), Decimal(0))
    assert sum(invoice.total for invoice in invoices) == owed


@given(span_lists, rules, st.data())
def test_reconcile_catches_a_change_that_was_not_adjusted(
    spans: list[CustodySpan], rule: CountingRule, data: st.DataObject
) -> None:
    invoices = invoice_run([spans], [], PER_DAY, rule)
    assert reconcile(invoices, spans, rule, *WINDOW).ok
    assume(spans)
    index = data.draw(st.integers(0, len(spans) - 1))
    shift = data.draw(st.none() | st.integers(1, 10))  # None: the span is deleted; else admitted `shift` days earlier
    changed = list(spans)
    if shift is None:
        del changed[index]
    else:
        changed[index] = replace(spans[index], start=spans[index].start - timedelta(days=shift))
    before, after = midnight_count(spans, rule, *WINDOW), midnight_count(changed, rule, *WINDOW)
    assume(before != after)
    result = reconcile(invoices, changed, rule, *WINDOW)
    assert not result.ok
    assert result.billed_not_registered == sorted(before - after)
    assert result.registered_not_billed == sorted(after - before)
