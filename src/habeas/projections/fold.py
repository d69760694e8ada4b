"""Folding events into every read model: one place that knows which handlers an event type has.

``apply`` runs inside the append's transaction (services.unit_of_work) and in
``habeas rebuild``; consecutive events of one type are handled together.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Any

import orjson
from sqlalchemy import Connection, delete

from habeas.ledger.envelope import StoredEvent
from habeas.projections import law, register, transfer
from habeas.store.bulk import insert_dicts
from habeas.store.law_tables import LAW_TABLES
from habeas.store.register_tables import PROJECTION_TABLES, person_events
from habeas.store.transfer_tables import TRANSFER_TABLES

HANDLERS: dict[str, list[register.Handler]] = {}
for module in (register, law, transfer):  # register first: law handlers read the rows it writes
    for type_name, handler in module.HANDLERS.items():
        HANDLERS.setdefault(type_name, []).append(handler)

ALL_TABLES = (*PROJECTION_TABLES, *LAW_TABLES, *TRANSFER_TABLES)


def apply(conn: Connection, ledger: str, stored: Sequence[StoredEvent]) -> None:
    """Fold ``stored`` (in sequence order) into the read models."""
    timeline: list[dict[str, Any]] = []
    for type_name, run in groupby(stored, key=lambda e: e.type):
        items = [(e, orjson.loads(e.body)["payload"]) for e in run]
        for handler in HANDLERS.get(type_name, ()):
            handler(conn, ledger, items)
        if type_name != "event.corrected":  # a correction lists itself under the corrected person
            timeline.extend(
                {"ledger_id": ledger, "person_id": p["person_id"], "seq": e.seq} for e, p in items if "person_id" in p
            )
    insert_dicts(conn, person_events, timeline)


def clear(conn: Connection, ledger: str) -> None:
    for table in ALL_TABLES:
        conn.execute(delete(table).where(table.c.ledger_id == ledger))
