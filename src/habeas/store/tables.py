"""The ledger's tables, as SQLAlchemy Core metadata.

Every table carries ``ledger_id`` first so the schema can be distributed by it
(architecture invariant 6).  The migrations in ``migrations/versions`` create
these tables; this module is what the code reads and writes through, and a test
checks the two agree.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from habeas.store.types import UtcInstant

metadata = MetaData()


def ledger_key() -> Column[str]:
    """The first key column of every table: the ledger a row belongs to (architecture invariant 6)."""
    return Column("ledger_id", String(64), primary_key=True)


# One row per ledger: its head.  Appends lock this row (PostgreSQL) or the whole
# database (SQLite, BEGIN IMMEDIATE), which serializes appends to one ledger.
ledgers = Table(
    "ledgers",
    metadata,
    Column("ledger_id", String(64), primary_key=True),
    Column("origin", String(200), nullable=False, unique=True),
    Column("created_at", UtcInstant, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("head_hash", LargeBinary(32), nullable=False),
    # Roots of the perfect subtrees that make up the tree now, left to right,
    # concatenated: enough to extend the Merkle tree without reading it back.
    Column("frontier", LargeBinary, nullable=False),
    Column("verifier_key", Text, nullable=True),
)

# The events themselves.  ``body`` is the canonical envelope (RFC 8785) and is what
# ``hash`` covers, with ``prev_hash``; the other columns repeat fields of the body so
# they can be indexed, and ``habeas verify`` checks that they agree with it.
events = Table(
    "events",
    metadata,
    Column("ledger_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("type", String(80), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("occurred_at", UtcInstant, nullable=False),
    Column("recorded_at", UtcInstant, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("prev_hash", LargeBinary(32), nullable=False),
    Column("hash", LargeBinary(32), nullable=False),
    # Hashes of the Merkle subtrees this event completes, levels 1, 2, ... (as many
    # as seq-1 has trailing one bits; empty for half of all events).  Stored once,
    # with the event, so that any proof is one primary-key lookup and an append
    # writes no extra rows.  Derived data: ``habeas verify`` recomputes it.
    Column("merkle_nodes", LargeBinary, nullable=False),
)
# One secondary index only: each index is paid for on every append (the hot path).  Queries
# by actor or time scan the ledger (an audit, not a hot path); hot questions are answered
# by the projections.
Index("ix_events_type", events.c.ledger_id, events.c.type, events.c.seq)

# Signed tree heads.  Append-only like the events; copies should also leave the system.
checkpoints = Table(
    "checkpoints",
    metadata,
    Column("ledger_id", String(64), primary_key=True),
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("signed_at", UtcInstant, nullable=False),
    Column("note", Text, nullable=False),
)

APPEND_ONLY_TABLES = ("events", "checkpoints")
