"""Value types shared by event payloads."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
)

from habeas.ledger.timefmt import format_instant, require_utc


def _utc(value: datetime) -> datetime:
    return require_utc(value, "time")


def _no_float(value: Any) -> Any:
    # A decimal quantity (area, money) must arrive exact: "100.5" or Decimal, never 100.5.
    if isinstance(value, float):
        raise ValueError("give a decimal string such as '100.5', not a float")
    return value


T = TypeVar("T")


# A sequence in a payload: a tuple, given as a tuple or a JSON-style list.  Only the container is
# lax (a list becomes a tuple; a string is still refused): every item keeps its strict schema.
Seq = Annotated[tuple[T, ...], Field(strict=False)]

# An instant in a payload: UTC only, serialized in the ledger's one fixed-width form.
Instant = Annotated[datetime, AfterValidator(_utc), PlainSerializer(format_instant, return_type=str)]
Day = Annotated[date, PlainSerializer(date.isoformat, return_type=str)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$")]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64)]
DecimalText = Annotated[
    Decimal,
    BeforeValidator(_no_float),
    Field(strict=False, ge=0, max_digits=14, decimal_places=4),
    PlainSerializer(lambda d: format(d.normalize(), "f"), return_type=str),
]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Count = Annotated[int, Field(ge=0, le=10_000_000)]


class Payload(BaseModel):
    """Base for every event payload: strict, closed, immutable."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
