"""Each alert's acknowledgements as rows, so an alert's page reads its own.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

Acknowledgements lived in the ledger only: every alert page read every ``alert.acknowledged``
event of the register and kept those naming its alert, a cost that grew with the register's
whole history.  ``alert_acknowledgements`` is a projection like ``alerts`` (0002 creates it on a
fresh database from the current definitions): made here only where it is missing, and filled
from the acknowledgements already in the ledger.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from habeas.ledger.log import read_events
from habeas.store.register_tables import alert_acknowledgements
from habeas.store.tables import ledgers

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BATCH = 10_000


def upgrade() -> None:
    bind = op.get_bind()
    if alert_acknowledgements.name in sa.inspect(bind).get_table_names():
        return  # a fresh database: 0002 made it, and there was nothing to copy
    alert_acknowledgements.create(bind)
    for ledger_id in list(bind.execute(sa.select(ledgers.c.ledger_id)).scalars()):
        after = 0
        # A batch read whole, then written: one connection does not stream and write at once.
        while batch := list(read_events(bind, ledger_id, after_seq=after, types=["alert.acknowledged"], limit=BATCH)):
            bind.execute(sa.insert(alert_acknowledgements), [
                {"ledger_id": ledger_id, "alert_id": e.payload["alert_id"], "seq": e.seq, "actor": e.actor,
                 "acknowledged_at": e.occurred_at, "note": e.payload["note"]}
                for e in batch
            ])  # fmt: skip
            after = batch[-1].seq


def downgrade() -> None:
    alert_acknowledgements.drop(op.get_bind())
