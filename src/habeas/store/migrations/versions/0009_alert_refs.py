"""Each alert's references as rows, so the alerts naming a person are found by index.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

After every command the safeguards compare their findings with the open alerts about the command's
people, cells and units, including alerts whose references name them (an R26 alert's subject is the
order, its references name the person).  Those were found by reading every open alert's JSON refs:
measured at 1,000,000 people with half a million open alerts, 2.6 s per command, whatever its size.
``alert_refs`` holds one row per (alert, id named).  A projection like ``alerts`` (0002 creates it on a
fresh database from the current definitions): made here only where it is missing, and filled from the
alerts already recorded.
"""

from __future__ import annotations

import orjson
import sqlalchemy as sa
from alembic import op

from habeas.store.register_tables import alert_refs, alerts

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BATCH = 10_000


def upgrade() -> None:
    bind = op.get_bind()
    if alert_refs.name in sa.inspect(bind).get_table_names():
        return  # a fresh database: 0002 made it, and there were no alerts to copy
    alert_refs.create(bind)
    rows = bind.execute(sa.select(alerts.c.ledger_id, alerts.c.alert_id, alerts.c.refs))
    while batch := rows.fetchmany(BATCH):
        values = [
            {"ledger_id": ledger, "ref": ref, "alert_id": alert_id}
            for ledger, alert_id, refs in batch
            for ref in sorted(set(orjson.loads(refs)))
        ]
        if values:
            bind.execute(sa.insert(alert_refs), values)


def downgrade() -> None:
    alert_refs.drop(op.get_bind())
