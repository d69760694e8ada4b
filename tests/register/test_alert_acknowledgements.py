"""An alert's acknowledgements are a projection: written with their events, rebuilt from the ledger (both backends)."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, select

from habeas.domain.alerts import AlertRaised
from habeas.domain.law import AlertAcknowledged
from habeas.ledger.envelope import NewEvent
from habeas.services.rebuild import rebuild, snapshot
from habeas.services.unit_of_work import append_and_project
from habeas.store.register_tables import alert_acknowledgements
from tests.conftest import at
from tests.ledger.support import new_ledger


def test_acknowledgements_are_projected_and_rebuilt_alike(engine: Engine, ledger_id: str) -> None:
    new_ledger(engine, ledger_id, at())
    raised = [AlertRaised(alert_id=f"{ledger_id}-{a}", rule="R8", severity="high", subject="p-1", message="m")
              for a in "ab"]  # fmt: skip
    append_and_project(engine, ledger_id, [NewEvent("alert.raised", p, at(1), "system", uuid.uuid4()) for p in raised],
                       at(1))  # fmt: skip
    for minute, (alert, note) in enumerate([("a", "family called"), ("b", "no answer"), ("a", "called again")], 2):
        ack = AlertAcknowledged(alert_id=f"{ledger_id}-{alert}", note=note)
        append_and_project(engine, ledger_id, [NewEvent("alert.acknowledged", ack, at(minute), f"officer:{minute}",
                                                        uuid.uuid4())], at(minute))  # fmt: skip
    query = (
        select(alert_acknowledgements.c.actor, alert_acknowledgements.c.note)
        .where(alert_acknowledgements.c.ledger_id == ledger_id, alert_acknowledgements.c.alert_id == f"{ledger_id}-a")
        .order_by(alert_acknowledgements.c.seq)
    )
    with engine.connect() as conn:
        incremental = snapshot(conn, ledger_id)
        found = [tuple(r) for r in conn.execute(query)]
    assert found == [("officer:2", "family called"), ("officer:4", "called again")]
    rebuild(engine, ledger_id)
    with engine.connect() as conn:
        assert snapshot(conn, ledger_id) == incremental
        assert len(incremental["alert_acknowledgements"]) == 3
