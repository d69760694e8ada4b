"""Value types shared by event payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer, StringConstraints

from habeas.ledger.timefmt import format_instant, require_utc

# An instant in a payload: UTC only, serialized in the ledger's one fixed-width form.
Instant = Annotated[
    datetime,
    AfterValidator(lambda v: require_utc(v, "time")),
    PlainSerializer(format_instant, return_type=str),
]
Text = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class Payload(BaseModel):
    """Base for every event payload: strict, closed, immutable."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
