"""The event envelope and its hash.

An event's canonical envelope is the RFC 8785 JSON object of its ledger id,
sequence number, event id, type, schema version, both times, actor and payload.
Its hash is SHA-256(previous event's hash || envelope bytes); the first event's
previous hash is 32 zero bytes.  The envelope is assembled from already-canonical
pieces in RFC 8785 key order (a test checks it equals a full canonicalization).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple
from uuid import UUID

import orjson
from pydantic import BaseModel

from habeas.errors import InvalidInput
from habeas.ledger.timefmt import TimeError, format_instant, parse_instant, require_utc

GENESIS_HASH = bytes(32)
LEDGER_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
ACTOR = re.compile(r"[^\x00-\x1f\x7f]{1,200}")


@dataclass(frozen=True)
class NewEvent:
    """An event as a caller hands it to the ledger (``recorded_at`` and ``seq`` come later)."""

    type: str
    payload: BaseModel | dict[str, Any]
    occurred_at: datetime
    actor: str
    event_id: UUID
    schema_version: int | None = None


class StoredEvent(NamedTuple):
    """An event as the ledger holds it.  (A NamedTuple: batches of thousands are built.)"""

    ledger_id: str
    seq: int
    event_id: str
    type: str
    schema_version: int
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    body: bytes
    prev_hash: bytes
    hash: bytes

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = orjson.loads(self.body)["payload"]
        return payload


def check_ledger_id(ledger_id: str) -> str:
    if not LEDGER_ID.fullmatch(ledger_id):
        raise InvalidInput.one("ledger_id", "1–64 lower-case letters, digits or '-', starting with a letter or digit")
    return ledger_id


@lru_cache(maxsize=4096)
def _valid_actor(actor: object) -> bool:
    return isinstance(actor, str) and ACTOR.fullmatch(actor) is not None


def check_header(event: NewEvent, recorded_at: datetime) -> None:
    """Form rules for the envelope's own fields; raises InvalidInput naming the field."""
    # The type is checked against the registry, whose names are checked on registration.
    if not _valid_actor(event.actor):
        raise InvalidInput.one("actor", "1–200 characters, no control characters")
    if not isinstance(event.event_id, UUID):
        raise InvalidInput.one("event_id", "must be a UUID")
    try:
        occurred = require_utc(event.occurred_at, "occurred_at")
    except TimeError as error:
        raise InvalidInput.one(error.field, error.rule) from None
    if occurred > recorded_at:
        # Invariant 3: when it happened and when it was recorded are both facts, and
        # nothing is recorded before it happens.
        raise InvalidInput.one("occurred_at", "is after recorded_at: an event cannot be recorded before it happens")


def envelope_bytes(
    ledger_id: str,
    seq: int,
    event_id: str,
    type_name: str,
    schema_version: int,
    occurred_at: str,
    recorded_at: str,
    actor: str,
    payload: bytes,
) -> bytes:
    """RFC 8785 bytes of the envelope, keys in code-unit order, from canonical parts."""
    d = orjson.dumps
    return b"".join(
        (
            b'{"actor":', d(actor),
            b',"event_id":', d(event_id),
            b',"ledger_id":', d(ledger_id),
            b',"occurred_at":', d(occurred_at),
            b',"payload":', payload,
            b',"recorded_at":', d(recorded_at),
            b',"schema_version":', str(schema_version).encode(),
            b',"seq":', str(seq).encode(),
            b',"type":', d(type_name),
            b"}",
        )
    )  # fmt: skip


def chain_hash(prev_hash: bytes, body: bytes) -> bytes:
    return hashlib.sha256(prev_hash + body).digest()


HEADER_FIELDS = (
    "ledger_id", "seq", "event_id", "type", "schema_version", "occurred_at", "recorded_at", "actor",
)  # fmt: skip


def header_of(body: bytes) -> dict[str, Any]:
    """The envelope's fields other than the payload, as stored in the indexed columns."""
    envelope = orjson.loads(body)
    header = {name: envelope[name] for name in HEADER_FIELDS}
    header["occurred_at"] = parse_instant(header["occurred_at"])
    header["recorded_at"] = parse_instant(header["recorded_at"])
    return header


__all__ = [
    "GENESIS_HASH",
    "NewEvent",
    "StoredEvent",
    "chain_hash",
    "check_header",
    "check_ledger_id",
    "envelope_bytes",
    "format_instant",
    "header_of",
]
