"""Reading the staff forms of the order, alert and inspection pages: local times, and refusals named by field.

A form's time is what the officer reads on the facility's clock (``datetime-local``, no
offset); the ledger stores the UTC instant.  A refusal from a service (``habeas.errors``)
becomes ``{field: rule}`` so the page shows it next to the field it names.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from habeas.errors import Conflict, Forbidden, HabeasError, InvalidInput, NotFound
from habeas.web.i18n import N_

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
WHEN_MISSING = N_("Give the date and time, e.g. 2025-03-16 14:30.")
WHEN_FUTURE = N_("Cannot be in the future: record what has happened.")


def local_value(instant: datetime, timezone: str) -> str:
    """An instant as a ``datetime-local`` field's value on the facility's clock."""
    return instant.astimezone(ZoneInfo(timezone)).strftime(LOCAL_FORMAT)


def parse_local(text: str, timezone: str) -> datetime | None:
    """The UTC instant of a ``datetime-local`` value read on the facility's clock; None if it is not one."""
    try:
        naive = datetime.strptime(text.strip()[:16], LOCAL_FORMAT)  # noqa: DTZ007 - the zone is added next
    except ValueError:
        return None
    return naive.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def when(text: str, timezone: str, now: datetime, errors: dict[str, str], field: str = "at") -> datetime | None:
    """The form's time, or an error under ``field``: missing, malformed or in the future."""
    value = parse_local(text, timezone)
    if value is None:
        errors[field] = WHEN_MISSING
    elif value > now:
        errors[field] = WHEN_FUTURE
    return value


def refusal_fields(error: HabeasError) -> dict[str, str]:
    """What a service refused, by field (the service's own wording, which names the rule)."""
    if isinstance(error, InvalidInput):
        return {p.field: p.rule for p in error.problems}
    if isinstance(error, Conflict):
        return {error.field: error.rule}
    if isinstance(error, NotFound):
        return {error.what: str(error)}
    if isinstance(error, Forbidden):
        return {"request": error.rule}
    return {"request": str(error)}
