"""Which event types exist, and the schema each version's payload must satisfy.

The ledger refuses any event whose type is unknown or whose payload fails its
schema, naming the field.  Payload schemas are Pydantic models in strict mode
with no extra fields; a new shape is a new version (old rows are never rewritten).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import orjson
from pydantic import BaseModel, ValidationError

from habeas.errors import InvalidInput, Problem
from habeas.ledger.canonical import CanonicalError, canonical_bytes

EVENT_TYPE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")


@dataclass(frozen=True)
class EventSchema:
    type_name: str
    version: int
    model: type[BaseModel]
    float_free: bool = False  # no field can hold a float or a free-form dict key (see _float_free)


_FAST = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER
_SAFE_LEAVES = (str, int, bool, type(None), datetime, date, Decimal)


def _float_free(annotation: Any) -> bool:
    """True when every value a field of this type can take serializes without floats or dict keys.

    Decimals and instants serialize as strings; str-keyed dicts are excluded because a key
    above U+FFFF sorts differently in RFC 8785 than in orjson.
    """
    origin = get_origin(annotation)
    if origin is Annotated:
        return _float_free(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return all(_float_free(a) for a in get_args(annotation))
    if origin is Literal:
        return all(isinstance(a, str | bool | int) and not isinstance(a, float) for a in get_args(annotation))
    if origin in (tuple, list):
        return all(_float_free(a) for a in get_args(annotation) if a is not Ellipsis)
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return all(_float_free(f.annotation) for f in annotation.model_fields.values())
        if issubclass(annotation, Enum):
            return all(isinstance(m.value, str) for m in annotation)
        return issubclass(annotation, _SAFE_LEAVES) and not issubclass(annotation, float)
    return False


def _location(loc: tuple[int | str, ...], payload: object) -> str:
    """The path of the offending input, as ``payload.a.b[2]``.

    Pydantic's locations also name union members ("constrained-str", "int"); the
    path follows the input instead, so it names only what the person sent (or, last,
    the missing field).
    """
    out, node = "payload", payload
    for position, part in enumerate(loc):
        if isinstance(node, Mapping) and part in node:
            node, out = node[part], f"{out}.{part}"
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node, out = node[part], f"{out}[{part}]"
        elif isinstance(node, Mapping) and position == len(loc) - 1:
            out = f"{out}.{part}"
        else:
            break
    return out


def _problems(error: ValidationError, payload: object) -> list[Problem]:
    by_field: dict[str, list[str]] = {}
    for e in error.errors():
        rules = by_field.setdefault(_location(e["loc"], payload), [])
        if e["msg"] not in rules:
            rules.append(e["msg"])
    return [Problem(field, " or ".join(rules)) for field, rules in by_field.items()]


class EventRegistry:
    def __init__(self) -> None:
        self._schemas: dict[str, dict[int, EventSchema]] = {}

    def register(self, type_name: str, version: int, model: type[BaseModel]) -> None:
        if not EVENT_TYPE.fullmatch(type_name):
            raise ValueError(f"event type {type_name!r} must look like 'subject.verb' in lower case")
        versions = self._schemas.setdefault(type_name, {})
        if version in versions:
            raise ValueError(f"event type {type_name} v{version} is already registered")
        versions[version] = EventSchema(type_name, version, model, _float_free(model))

    def types(self) -> list[str]:
        return sorted(self._schemas)

    def latest(self, type_name: str) -> EventSchema:
        versions = self._schemas.get(type_name)
        if not versions:
            raise InvalidInput.one("type", f"unknown event type {type_name!r}")
        return versions[max(versions)]

    def schema(self, type_name: str, version: int) -> EventSchema:
        schema = self._schemas.get(type_name, {}).get(version)
        if schema is None:
            raise InvalidInput.one("schema_version", f"{type_name} has no version {version}")
        return schema

    def encode_payload(
        self, type_name: str, payload: BaseModel | Mapping[str, Any], version: int | None = None
    ) -> tuple[int, bytes]:
        """Validate a payload and return (schema version, canonical payload bytes)."""
        schema = self.latest(type_name) if version is None else self.schema(type_name, version)
        if isinstance(payload, BaseModel):
            if type(payload) is not schema.model:
                raise InvalidInput.one(
                    "payload",
                    f"{type(payload).__name__} is not the schema of {type_name} v{schema.version}",
                )
            model = payload
        else:
            # Strict: a schema never coerces (no float quietly becoming an int, no "1" an int).
            try:
                model = schema.model.model_validate(payload)  # strict by the model config
            except ValidationError as error:
                raise InvalidInput(_problems(error, payload)) from None
        dumped = model.model_dump(mode="json")
        if schema.float_free:
            # The schema admits no float and no user-chosen key, so orjson's sorted output is
            # already RFC 8785; it still refuses oversized integers and lone surrogates itself.
            try:
                return schema.version, orjson.dumps(dumped, option=_FAST)
            except orjson.JSONEncodeError:
                pass  # fall through to the full check, which names the path
        # Floats and other values without a canonical form are refused here, by path.
        try:
            return schema.version, canonical_bytes(dumped, "payload")
        except CanonicalError as error:
            raise InvalidInput.one(error.path, error.rule) from None
