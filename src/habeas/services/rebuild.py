"""``habeas rebuild``: regenerate the read models from the ledger (architecture invariant 1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, select

from habeas.ledger.log import read_events, read_head
from habeas.projections import fold as projection
from habeas.projections.fold import ALL_TABLES
from habeas.store.engine import write_transaction

CHUNK = 5000


def rebuild(engine: Engine, ledger_id: str, progress: Callable[[int, int], None] | None = None) -> int:
    """Drop the projections' rows and fold every event again, in one transaction. Returns events folded."""
    with write_transaction(engine) as conn:
        total = read_head(conn, ledger_id, lock=True).size
        projection.clear(conn, ledger_id)
        done = 0
        while done < total:
            # Read a chunk fully before writing: one connection must not stream and write at once.
            chunk = list(read_events(conn, ledger_id, after_seq=done, limit=CHUNK))
            if not chunk:
                break
            projection.apply(conn, ledger_id, chunk)
            done = chunk[-1].seq
            if progress:
                progress(done, total)
        return done


def snapshot(conn: Connection, ledger_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every projection row of a ledger, sorted: what a rebuild must reproduce exactly."""
    out = {}
    for table in ALL_TABLES:
        rows = conn.execute(select(table).where(table.c.ledger_id == ledger_id)).all()
        out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out
