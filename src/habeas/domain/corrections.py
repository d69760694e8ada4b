"""What a correction may change (architecture invariant 2: history is fixed by adding, never editing).

A correction names the event it corrects, the fields and the reason.  Identity
details of a person can be corrected; so can the time a custody event happened,
as long as the person's history keeps its order (a fact that changes the order
is a different fact, recorded as its own event).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from habeas.errors import Conflict, InvalidInput
from habeas.ledger.timefmt import TimeError, format_instant, parse_instant, require_utc

PERSON_FIELDS = frozenset({"given_names", "family_names", "birth_date", "sex", "gender_identity"})
TIMED_TYPES = frozenset({
    "custody.admitted", "custody.placed", "custody.departed", "custody.returned", "custody.transit_started",
    "custody.transit_arrived", "custody.released", "custody.transferred", "custody.died",
})  # fmt: skip


def check_correction(
    event_type: str,
    payload: dict[str, Any],
    fields: dict[str, Any],
    neighbours: tuple[datetime | None, datetime | None],
    recorded_at: datetime | None = None,
) -> None:
    if not fields:
        raise InvalidInput.one("corrected_fields", "name at least one field to correct")
    allowed = (PERSON_FIELDS if event_type == "person.registered" else frozenset()) | (
        {"occurred_at"} if event_type in TIMED_TYPES else frozenset()
    )
    for name, value in fields.items():
        if name not in allowed:
            raise InvalidInput.one(
                f"corrected_fields.{name}",
                f"a {event_type} event can have {', '.join(sorted(allowed)) or 'nothing'} corrected",
            )
        if name == "birth_date" and value is not None:
            try:
                date.fromisoformat(str(value))
            except ValueError:
                raise InvalidInput.one("corrected_fields.birth_date", "must be YYYY-MM-DD") from None
        if name == "sex" and value not in ("F", "M", "X"):
            raise InvalidInput.one("corrected_fields.sex", "must be F, M or X")
    if "occurred_at" in fields:
        try:
            new = require_utc(parse_instant(str(fields["occurred_at"])), "corrected_fields.occurred_at")
        except (TimeError, ValueError):
            raise InvalidInput.one(
                "corrected_fields.occurred_at", "must be a UTC time like 2025-03-15T22:04:00.000000Z"
            ) from None
        fields["occurred_at"] = format_instant(new)
        if recorded_at is not None and new > recorded_at:
            raise InvalidInput.one("corrected_fields.occurred_at", "is after now: a correction records what happened")
        before, after = neighbours
        if (before is not None and new < before) or (after is not None and new > after):
            raise Conflict(
                "corrected_fields.occurred_at",
                "would change the order of this person's history; record the missed fact as its own event",
            )
