"""Recording each verification of a ledger, and reading back the latest ones (oversight's history).

A check is recorded whoever runs it — the oversight page, the API, ``habeas verify`` — so the
answer to "when was this ledger last verified, and what was found" is the same on every server
worker and survives a restart.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson
from sqlalchemy import Connection, Engine, insert, select

from habeas.ledger.verify import VerifyReport
from habeas.store.check_tables import ledger_checks
from habeas.store.engine import write_transaction

Via = Literal["web", "api", "cli"]


@dataclass(frozen=True)
class RecordedCheck:
    checked_at: datetime
    checked_by: str
    via: str
    size: int
    root: str  # base64
    checkpoints_checked: int
    ok: bool
    bad_seq: int | None
    problem: str | None
    notes: list[str]


def record_check(engine: Engine, report: VerifyReport, checked_at: datetime, checked_by: str, via: Via) -> None:
    """Keep ``report`` (append-only), in a transaction of its own."""
    with write_transaction(engine) as conn:
        conn.execute(
            insert(ledger_checks),
            {
                "ledger_id": report.ledger_id, "checked_at": checked_at, "checked_by": checked_by[:120],
                "via": via, "size": report.size, "root": base64.b64encode(report.root).decode(),
                "checkpoints_checked": report.checkpoints_checked, "ok": report.ok, "bad_seq": report.bad_seq,
                "problem": report.problem, "notes": orjson.dumps(report.notes).decode(),
            },
        )  # fmt: skip


def recent_checks(conn: Connection, ledger_id: str, limit: int = 10) -> list[RecordedCheck]:
    """The ledger's latest checks, newest first."""
    rows = conn.execute(
        select(ledger_checks)
        .where(ledger_checks.c.ledger_id == ledger_id)
        .order_by(ledger_checks.c.checked_at.desc(), ledger_checks.c.check_id.desc())
        .limit(limit)
    ).all()
    return [_recorded(r) for r in rows]


def _recorded(r: Any) -> RecordedCheck:
    return RecordedCheck(
        checked_at=r.checked_at, checked_by=r.checked_by, via=r.via, size=r.size, root=r.root,
        checkpoints_checked=r.checkpoints_checked, ok=r.ok, bad_seq=r.bad_seq, problem=r.problem,
        notes=orjson.loads(r.notes),
    )  # fmt: skip
