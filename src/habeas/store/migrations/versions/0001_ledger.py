"""The ledger: heads, events, checkpoints; append-only triggers.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from habeas.store import append_only
from habeas.store.types import UtcInstant

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledgers",
        sa.Column("ledger_id", sa.String(64), primary_key=True),
        sa.Column("origin", sa.String(200), nullable=False, unique=True),
        sa.Column("created_at", UtcInstant, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("head_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("frontier", sa.LargeBinary, nullable=False),
        sa.Column("verifier_key", sa.Text, nullable=True),
    )
    op.create_table(
        "events",
        sa.Column("ledger_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("type", sa.String(80), nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("occurred_at", UtcInstant, nullable=False),
        sa.Column("recorded_at", UtcInstant, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.Column("merkle_nodes", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_events_type", "events", ["ledger_id", "type", "seq"])
    op.create_table(
        "checkpoints",
        sa.Column("ledger_id", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("signed_at", UtcInstant, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    bind = op.get_bind()
    append_only.install(bind.dialect.name, op.execute, ("events", "checkpoints"))


def downgrade() -> None:
    # Dropping the register is not something a migration should do quietly.
    raise RuntimeError("habeas: the ledger migration cannot be reversed; restore from a backup")
