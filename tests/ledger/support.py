"""Helpers for ledger tests: building events, and tampering behind the triggers' back."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text

from habeas.domain.events import REGISTRY
from habeas.ledger.envelope import NewEvent
from habeas.ledger.log import Ledger, create_ledger
from habeas.store import append_only
from habeas.store.account_tables import APPEND_ONLY_ACCOUNT_TABLES
from habeas.store.check_tables import APPEND_ONLY_CHECK_TABLES
from habeas.store.engine import write_transaction
from habeas.store.tables import APPEND_ONLY_TABLES


def note(subject: str = "person:1", text_: str = "arrived", occurred_at: datetime | None = None,
         actor: str = "user:intake-1", **extra: Any) -> NewEvent:  # fmt: skip
    from tests.conftest import at

    payload: dict[str, Any] = {"subject": subject, "text": text_, **extra}
    return NewEvent("note.recorded", payload, occurred_at or at(), actor, uuid.uuid4())


def new_ledger(engine: Engine, ledger_id: str, created_at: datetime) -> Ledger:
    with write_transaction(engine) as conn:
        create_ledger(conn, ledger_id, f"habeas.test/{ledger_id}", created_at)
    return Ledger(engine, ledger_id, REGISTRY)


def tamper(engine: Engine, statements: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Run SQL with the append-only triggers out of the way, as an attacker with DB access would."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in (*APPEND_ONLY_TABLES, "ledgers"):
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all()
            for name in names:
                conn.execute(text(f"DROP TRIGGER {name}"))
        for sql, params in statements:
            conn.execute(text(sql), params)
        if engine.dialect.name == "postgresql":
            for table in (*APPEND_ONLY_TABLES, "ledgers"):
                conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
        else:
            # Every append-only table's triggers come back, not only the ledger's (all were dropped above).
            tables = (*APPEND_ONLY_TABLES, *APPEND_ONLY_ACCOUNT_TABLES, *APPEND_ONLY_CHECK_TABLES)
            append_only.install("sqlite", lambda s: conn.execute(text(s)), tables)
