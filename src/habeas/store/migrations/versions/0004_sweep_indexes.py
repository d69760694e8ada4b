"""The safeguard sweep at scale (issue #4): stored deadlines, basis summaries and the sweep's indexes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

Adds to ``duties`` the facility holding the episode (NULL once closed), the administrative
deadline computed at admission (R3) and a summary of the episode's instruments (R6); to
``instruments`` the start of detention and the deadline of a provisional detention order (R5);
one index per clock the sweep reads; two indexes on ``episodes`` (held or not, where, and
each cell's legal statuses); and one on ``alerts`` (the open alerts the sweep compares).

0002 and 0003 create their tables from the current table definitions, so on a fresh database
these columns and indexes exist already when this runs: each is added only where it is missing,
and both a fresh install and an upgrade from 0003 end with the same schema.  On an upgrade the
new columns are filled from the rows already there (``held_in``, ``detained_from``, ``basis_until``,
``basis_issued``); the stored deadlines stay empty, and the sweep computes those deadlines from
the policy until ``habeas rebuild`` folds them in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from habeas.store.law_tables import basis_summary, duties, held_in, instruments
from habeas.store.register_tables import alerts, episodes
from habeas.store.types import UtcInstant

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS: tuple[tuple[str, sa.Column[object]], ...] = (
    ("duties", sa.Column("held_in", sa.String(64), nullable=True)),
    ("duties", sa.Column("admin_deadline", sa.Text(), nullable=True)),
    ("duties", sa.Column("basis_until", UtcInstant(), nullable=True)),
    ("duties", sa.Column("basis_issued", UtcInstant(), nullable=True)),
    ("instruments", sa.Column("detained_from", UtcInstant(), nullable=True)),
    ("instruments", sa.Column("limit_deadline", sa.Text(), nullable=True)),
)
INDEXES = (
    "ix_instruments_limit",
    "ix_duties_judicial",
    "ix_duties_appearance",
    "ix_duties_basis_until",
    "ix_duties_basis_issued",
    "ix_duties_rights",
    "ix_duties_family",
    "ix_duties_moved",
    "ix_duties_consular",
    "ix_duties_examined",
    "ix_duties_injury",
    "ix_duties_died",
    "ix_episodes_held",
    "ix_episodes_cell_status",
    "ix_alerts_sweep",
)


def _indexes() -> dict[str, sa.Index]:
    found = {str(i.name): i for table in (duties, instruments, episodes, alerts) for i in table.indexes}
    return {name: found[name] for name in INDEXES}


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    added: set[str] = set()
    for table, column in COLUMNS:
        if column.name not in {c["name"] for c in inspector.get_columns(table)}:
            op.add_column(table, column)
            added.add(column.name)
    for name, index in _indexes().items():
        table = str(index.table.name) if index.table is not None else ""
        if name not in {i["name"] for i in inspector.get_indexes(table)}:
            index.create(bind)
    if "detained_from" in added:  # an upgrade: fill the copies from the rows already there
        arrested = (
            sa.select(duties.c.arrested_at)
            .where(duties.c.ledger_id == instruments.c.ledger_id, duties.c.episode_id == instruments.c.episode_id)
            .scalar_subquery()
        )
        bind.execute(
            sa.update(instruments)
            .where(instruments.c.kind == "provisional_detention_order")
            .values(detained_from=arrested)
        )
    if "held_in" in added:
        bind.execute(sa.update(duties).values(held_in=held_in(duties.c.ledger_id, duties.c.episode_id)))
    if "basis_until" in added:
        until, issued = basis_summary(duties.c.ledger_id, duties.c.episode_id)
        bind.execute(sa.update(duties).values(basis_until=until, basis_issued=issued))


def downgrade() -> None:
    bind = op.get_bind()
    for index in reversed(_indexes().values()):
        index.drop(bind)
    for table, column in reversed(COLUMNS):
        op.drop_column(table, column.name)
