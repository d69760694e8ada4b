"""Appending to and reading from a ledger.

An append validates every event first (outside any lock), then, in one
transaction, locks the ledger's head, chains and Merkle-hashes the batch, inserts
it and moves the head.  Either the whole batch is in the ledger or none of it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, insert, select, update

from habeas.errors import Conflict, InvalidInput, NotFound, Problem
from habeas.ledger import merkle
from habeas.ledger.envelope import (
    GENESIS_HASH,
    NewEvent,
    StoredEvent,
    chain_hash,
    check_header,
    check_ledger_id,
    envelope_bytes,
)
from habeas.ledger.registry import EventRegistry
from habeas.ledger.timefmt import TimeError, format_instant, require_utc
from habeas.store.bulk import insert_rows
from habeas.store.engine import is_sqlite, write_transaction
from habeas.store.tables import events, ledgers


@dataclass(frozen=True)
class Head:
    ledger_id: str
    origin: str
    size: int
    head_hash: bytes
    frontier: list[bytes]

    @property
    def root(self) -> bytes:
        return merkle.root_from_frontier(self.frontier)


def split_frontier(blob: bytes) -> list[bytes]:
    return [blob[i : i + 32] for i in range(0, len(blob), 32)]


def _head_from_row(row: Any) -> Head:
    return Head(row.ledger_id, row.origin, row.size, bytes(row.head_hash), split_frontier(bytes(row.frontier)))


_HEAD_COLUMNS = (ledgers.c.ledger_id, ledgers.c.origin, ledgers.c.size, ledgers.c.head_hash, ledgers.c.frontier)


def create_ledger(conn: Connection, ledger_id: str, origin: str, created_at: datetime) -> Head:
    check_ledger_id(ledger_id)
    if not origin or any(c.isspace() for c in origin):
        raise InvalidInput.one("origin", "must be non-empty with no spaces (it names the log in checkpoints)")
    existing = conn.execute(select(ledgers.c.ledger_id).where(ledgers.c.ledger_id == ledger_id)).first()
    if existing is not None:
        raise Conflict("ledger_id", f"ledger {ledger_id!r} already exists")
    conn.execute(
        insert(ledgers).values(
            ledger_id=ledger_id, origin=origin, created_at=require_utc(created_at, "created_at"),
            size=0, head_hash=GENESIS_HASH, frontier=b"",
        )
    )  # fmt: skip
    return Head(ledger_id, origin, 0, GENESIS_HASH, [])


def read_head(conn: Connection, ledger_id: str, *, lock: bool = False) -> Head:
    query = select(*_HEAD_COLUMNS).where(ledgers.c.ledger_id == ledger_id)
    if lock and not is_sqlite(conn):
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound("ledger", ledger_id)
    return _head_from_row(row)


EVENT_COLUMNS = (
    "ledger_id", "seq", "event_id", "type", "schema_version", "occurred_at", "recorded_at",
    "actor", "body", "prev_hash", "hash", "merkle_nodes",
)  # fmt: skip


class _Prepared(NamedTuple):
    event: NewEvent
    schema_version: int
    payload: bytes
    occurred_at: str


class Ledger:
    """One ledger in one database: the only way events get in."""

    def __init__(self, engine: Engine, ledger_id: str, registry: EventRegistry) -> None:
        self.engine = engine
        self.ledger_id = check_ledger_id(ledger_id)
        self.registry = registry

    def prepare(self, batch: Sequence[NewEvent], recorded_at: datetime) -> list[_Prepared]:
        """Validate a batch; raises InvalidInput naming the event and field. Pure."""
        prepared = []
        instants: dict[datetime, str] = {}  # a mass intake shares a few instants
        for index, event in enumerate(batch):
            try:
                check_header(event, recorded_at)
                version, payload = self.registry.encode_payload(event.type, event.payload, event.schema_version)
            except InvalidInput as error:
                if len(batch) == 1:
                    raise
                raise InvalidInput([Problem(f"events[{index}].{p.field}", p.rule) for p in error.problems]) from None
            occurred = instants.get(event.occurred_at)
            if occurred is None:
                occurred = instants[event.occurred_at] = format_instant(event.occurred_at)
            prepared.append(_Prepared(event, version, payload, occurred))
        return prepared

    def append(self, batch: Sequence[NewEvent], recorded_at: datetime) -> list[StoredEvent]:
        """Append ``batch`` atomically; returns the stored events in order."""
        if not batch:
            return []
        try:
            recorded_at = require_utc(recorded_at, "recorded_at")
        except TimeError as error:
            raise InvalidInput.one(error.field, error.rule) from None
        prepared = self.prepare(batch, recorded_at)
        with write_transaction(self.engine) as conn:
            return self.append_prepared(conn, prepared, recorded_at)

    def append_prepared(
        self, conn: Connection, prepared: Sequence[_Prepared], recorded_at: datetime
    ) -> list[StoredEvent]:
        """Append inside the caller's write transaction (so projections can join it)."""
        head = read_head(conn, self.ledger_id, lock=True)
        size, prev, frontier = head.size, head.head_hash, head.frontier
        recorded_text = format_instant(recorded_at)
        as_text = is_sqlite(conn)  # SQLite keeps instants as their canonical text
        recorded_value: object = recorded_text if as_text else recorded_at
        rows = []
        stored = []
        ledger_id = self.ledger_id
        for item in prepared:
            size += 1
            event = item.event
            event_id = str(event.event_id)
            body = envelope_bytes(
                ledger_id, size, event_id, event.type, item.schema_version,
                item.occurred_at, recorded_text, event.actor, item.payload,
            )  # fmt: skip
            digest = chain_hash(prev, body)
            nodes = merkle.append_leaf(frontier, size - 1, merkle.leaf_hash(digest))
            rows.append(
                (
                    ledger_id, size, event_id, event.type, item.schema_version,
                    item.occurred_at if as_text else event.occurred_at, recorded_value,
                    event.actor, body, prev, digest, b"".join(nodes),
                )
            )  # fmt: skip
            stored.append(
                StoredEvent(
                    ledger_id, size, event_id, event.type, item.schema_version,
                    event.occurred_at, recorded_at, event.actor, body, prev, digest,
                )
            )  # fmt: skip
            prev = digest
        insert_rows(conn, events, EVENT_COLUMNS, rows)
        conn.execute(
            update(ledgers)
            .where(ledgers.c.ledger_id == ledger_id)
            .values(size=size, head_hash=prev, frontier=b"".join(frontier))
        )
        return stored

    def head(self) -> Head:
        with self.engine.connect() as conn:
            return read_head(conn, self.ledger_id)


_EVENT_COLUMNS = (
    events.c.ledger_id, events.c.seq, events.c.event_id, events.c.type, events.c.schema_version,
    events.c.occurred_at, events.c.recorded_at, events.c.actor, events.c.body,
    events.c.prev_hash, events.c.hash,
)  # fmt: skip


def stored_event(row: Any) -> StoredEvent:
    return StoredEvent(
        row.ledger_id, row.seq, row.event_id, row.type, row.schema_version, row.occurred_at,
        row.recorded_at, row.actor, bytes(row.body), bytes(row.prev_hash), bytes(row.hash),
    )  # fmt: skip


def read_events(
    conn: Connection,
    ledger_id: str,
    *,
    after_seq: int = 0,
    types: Sequence[str] = (),
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> Iterator[StoredEvent]:
    """Events in sequence order, filtered by type, actor and occurred_at ∈ [since, until)."""
    query = (
        select(*_EVENT_COLUMNS).where(events.c.ledger_id == ledger_id, events.c.seq > after_seq).order_by(events.c.seq)
    )
    if types:
        query = query.where(events.c.type.in_(types))
    if actor is not None:
        query = query.where(events.c.actor == actor)
    if since is not None:
        query = query.where(events.c.occurred_at >= since)
    if until is not None:
        query = query.where(events.c.occurred_at < until)
    if limit is not None:
        query = query.limit(limit)
    for row in conn.execute(query, execution_options={"yield_per": 5000}):
        yield stored_event(row)


def read_events_by_id(conn: Connection, ledger_id: str, event_ids: Sequence[str]) -> list[StoredEvent]:
    rows = conn.execute(
        select(*_EVENT_COLUMNS).where(events.c.ledger_id == ledger_id, events.c.event_id.in_(event_ids))
    )
    found = {row.event_id: stored_event(row) for row in rows}
    missing = [e for e in event_ids if e not in found]
    if missing:
        raise NotFound("event", missing[0])
    return [found[e] for e in event_ids]


def read_events_by_seq(conn: Connection, ledger_id: str, seqs: Sequence[int]) -> list[StoredEvent]:
    rows = conn.execute(
        select(*_EVENT_COLUMNS).where(events.c.ledger_id == ledger_id, events.c.seq.in_(seqs)).order_by(events.c.seq)
    )
    return [stored_event(row) for row in rows]
