"""The one textual form of an instant in the ledger: UTC, microseconds, a trailing Z."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class TimeError(ValueError):
    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


def require_utc(value: datetime, field: str) -> datetime:
    """Refuse naive and non-UTC datetimes: a register entry's time must be unambiguous."""
    if not isinstance(value, datetime):
        raise TimeError(field, "must be a datetime")
    offset = value.utcoffset()
    if offset is None:
        raise TimeError(field, "must carry a time zone (UTC); naive times are ambiguous")
    if offset != timedelta(0):
        raise TimeError(field, f"must be in UTC, got offset {offset}")
    return value.astimezone(UTC)


def format_instant(value: datetime) -> str:
    """2025-03-15T22:04:00.000000Z: fixed width, so text order is time order."""
    offset = value.utcoffset()
    if offset is None:
        raise TimeError("time", "must carry a time zone (UTC); naive times are ambiguous")
    if offset:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")[:-6] + "Z"


def parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)
