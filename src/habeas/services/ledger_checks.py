"""Recording each verification of a ledger, and reading back the latest ones (oversight's history).

A check is recorded whoever runs it — the oversight page, the API, ``habeas verify`` — so the
answer to "when was this ledger last verified, and what was found" is the same on every server
worker and survives a restart.  Checks are listed in the order they were recorded (``check_id``),
not by their clocks: the CLI stamps the machine's clock, a server its own.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson
from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import DBAPIError

from habeas.ledger.verify import VerifyReport
from habeas.store.check_tables import ledger_checks
from habeas.store.engine import write_transaction

Via = Literal["web", "api", "cli"]


@dataclass(frozen=True)
class RecordedCheck:
    check_id: int | None  # None: a check that could not be recorded (shown once, to whoever ran it)
    checked_at: datetime
    checked_by: str
    via: Via
    size: int
    root: str  # base64
    checkpoints_checked: int
    ok: bool
    bad_seq: int | None
    problem: str | None
    notes: list[str]


def _values(report: VerifyReport, checked_at: datetime, checked_by: str, via: Via) -> dict[str, Any]:
    return {
        "ledger_id": report.ledger_id, "checked_at": checked_at, "checked_by": checked_by[:120], "via": via,
        "size": report.size, "root": base64.b64encode(report.root).decode(),
        "checkpoints_checked": report.checkpoints_checked, "ok": report.ok, "bad_seq": report.bad_seq,
        "problem": report.problem, "notes": orjson.dumps(report.notes).decode(),
    }  # fmt: skip


def record_check(engine: Engine, report: VerifyReport, checked_at: datetime, checked_by: str, via: Via) -> int:
    """Keep ``report`` (append-only), in a transaction of its own; returns its ``check_id``."""
    with write_transaction(engine) as conn:
        inserted = conn.execute(
            insert(ledger_checks).returning(ledger_checks.c.check_id), _values(report, checked_at, checked_by, via)
        )
        return int(inserted.scalar_one())


def record_or_note(engine: Engine, report: VerifyReport, checked_at: datetime, checked_by: str, via: Via) -> int | None:
    """:func:`record_check`, or — the database busy, read-only, or from before migration 0010 — a note on
    ``report`` saying it was not kept (the verdict stands: whoever ran the check still sees it); None then."""
    try:
        return record_check(engine, report, checked_at, checked_by, via)
    except DBAPIError as error:
        report.notes.append(f"this check could not be recorded: {error.orig}; it is shown here but not recorded "
                            "for oversight")  # fmt: skip
        return None


def as_recorded(report: VerifyReport, checked_at: datetime, checked_by: str, via: Via) -> RecordedCheck:
    """The check as it would read once recorded (for one that could not be)."""
    values = _values(report, checked_at, checked_by, via)
    return _recorded({**values, "check_id": None})


def recent_checks(
    conn: Connection, ledger_id: str, limit: int = 10, *, ok: bool | None = None, before: int | None = None
) -> list[RecordedCheck]:
    """The ledger's checks, latest recorded first; only those with this ``ok``; recorded before ``before``."""
    query = select(ledger_checks).where(ledger_checks.c.ledger_id == ledger_id)
    if ok is not None:
        query = query.where(ledger_checks.c.ok == ok)
    if before is not None:
        query = query.where(ledger_checks.c.check_id < before)
    rows = conn.execute(query.order_by(ledger_checks.c.check_id.desc()).limit(limit)).mappings().all()
    return [_recorded(r) for r in rows]


def _recorded(r: Any) -> RecordedCheck:
    return RecordedCheck(
        check_id=r["check_id"], checked_at=r["checked_at"], checked_by=r["checked_by"], via=r["via"],
        size=r["size"], root=r["root"], checkpoints_checked=r["checkpoints_checked"], ok=bool(r["ok"]),
        bad_seq=r["bad_seq"], problem=r["problem"], notes=orjson.loads(r["notes"]),
    )  # fmt: skip
