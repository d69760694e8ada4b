"""Every verification of a ledger, as it was run: when, by whom, from where, and what it found.

Oversight asks "when was the ledger last checked, and was it intact?" of every server worker
and after every restart alike, so the answers live in the database, not in a process's memory.
Append-only like the ledger and the access log (``store.append_only``): a failed check cannot be
quietly replaced by a passing one.  Not a projection: ``habeas rebuild`` leaves it alone.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table, Text

from habeas.store.tables import metadata
from habeas.store.types import UtcInstant

ledger_checks = Table(
    "ledger_checks", metadata,
    Column("check_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("ledger_id", String(64), nullable=False),
    Column("checked_at", UtcInstant, nullable=False),
    Column("checked_by", String(120), nullable=False),  # the account's username, or the CLI's actor
    Column("via", String(8), nullable=False),  # "web", "api" or "cli"
    Column("size", BigInteger, nullable=False),  # events checked
    Column("root", String(64), nullable=False),  # the Merkle root recomputed, base64
    Column("checkpoints_checked", Integer, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("bad_seq", BigInteger, nullable=True),  # where it failed, if it did
    Column("problem", Text, nullable=True),
    Column("notes", Text, nullable=False),  # JSON list of the report's notes
)  # fmt: skip
Index("ix_ledger_checks_ledger", ledger_checks.c.ledger_id, ledger_checks.c.checked_at)

CHECK_TABLES = (ledger_checks,)
APPEND_ONLY_CHECK_TABLES = ("ledger_checks",)
