"""Event schemas: strict validation, named fields, and the fast canonical path's safety."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from habeas.domain.events import REGISTRY
from habeas.domain.types import DecimalText, Instant, Payload, Seq
from habeas.errors import InvalidInput
from habeas.ledger.registry import EventRegistry, _float_free


class WithFloat(Payload):
    weight: float


class WithDict(Payload):
    fields: dict[str, str]


class Nested(Payload):
    at: Instant
    area: DecimalText
    kind: Literal["a", "b"]
    parts: Seq[str] = ()


class Outer(Payload):
    inner: Nested
    maybe: int | None = None


def test_float_free_detection() -> None:
    assert _float_free(Outer)
    assert not _float_free(WithFloat)
    assert not _float_free(WithDict)  # free-form keys may need UTF-16 ordering


def test_every_registered_type_but_corrections_takes_the_fast_path() -> None:
    slow = {t for t in REGISTRY.types() if not REGISTRY.latest(t).float_free}
    assert slow == {"event.corrected"}


@settings(max_examples=60)
@given(
    text=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30),
    number=st.integers(-(2**53) + 1, 2**53 - 1),
    parts=st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8), max_size=4),
)
def test_the_fast_path_is_rfc8785(text: str, number: int, parts: list[str]) -> None:
    registry = EventRegistry()
    registry.register("test.outer", 1, Outer)
    payload = {"inner": {"at": datetime(2025, 3, 15, tzinfo=UTC), "area": (text.isdigit() and text[:5]) or "1.5",
                         "kind": "a", "parts": parts}, "maybe": number}  # fmt: skip
    try:
        _, encoded = registry.encode_payload("test.outer", payload)
    except InvalidInput:
        return  # e.g. an area that is not a decimal: refusals are tested elsewhere
    assert encoded == rfc8785.dumps(Outer.model_validate(payload).model_dump(mode="json"))


def test_an_oversized_integer_is_refused_by_path_even_on_the_fast_path() -> None:
    registry = EventRegistry()
    registry.register("test.outer", 1, Outer)
    payload: dict[str, Any] = {"inner": {"at": datetime(2025, 3, 15, tzinfo=UTC), "area": "1", "kind": "a"},
                               "maybe": 2**60}  # fmt: skip
    with pytest.raises(InvalidInput) as refused:
        registry.encode_payload("test.outer", payload)
    assert refused.value.problems[0].field == "payload.maybe"


def test_json_lists_are_accepted_for_sequences_and_strings_are_not() -> None:
    _, encoded = REGISTRY.encode_payload("note.recorded", {"subject": "s", "text": "t", "references": ["a", "b"]})
    assert b'"references":["a","b"]' in encoded
    with pytest.raises(InvalidInput, match=r"payload\.references"):
        REGISTRY.encode_payload("note.recorded", {"subject": "s", "text": "t", "references": "ab"})


def test_decimals_must_not_arrive_as_floats() -> None:
    registry = EventRegistry()
    registry.register("test.outer", 1, Outer)
    payload = {"inner": {"at": datetime(2025, 3, 15, tzinfo=UTC), "area": 1.5, "kind": "a"}}
    with pytest.raises(InvalidInput) as refused:
        registry.encode_payload("test.outer", payload)
    assert refused.value.problems[0].field == "payload.inner.area"
    assert "decimal string" in refused.value.problems[0].rule
    assert Nested.model_validate({**payload["inner"], "area": "1.50"}).area == Decimal("1.50")


def test_registration_checks_names_and_versions() -> None:
    registry = EventRegistry()
    with pytest.raises(ValueError, match=r"subject\.verb"):
        registry.register("Bad Name", 1, Outer)
    registry.register("test.outer", 1, Outer)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("test.outer", 1, Outer)
    with pytest.raises(InvalidInput, match="no version 2"):
        registry.encode_payload("test.outer", {}, 2)
