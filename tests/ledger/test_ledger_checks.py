"""Every verification is recorded, append-only, and read back newest first (services.ledger_checks), on both backends.

Oversight must see when the ledger was last verified and what was found from any server worker and after a
restart (architecture: oversight reads everything); a failed check must not be replaceable by a passing one.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from habeas.ledger import verify
from habeas.ledger.verify import VerifyReport, verify_in_snapshot, verify_ledger
from habeas.services.ledger_checks import recent_checks, record_check
from tests.conftest import at
from tests.ledger.support import new_ledger, note


def verified(engine: Engine, ledger_id: str) -> VerifyReport:
    with engine.connect() as conn:
        return verify_ledger(conn, ledger_id)


def test_checks_are_kept_per_ledger_newest_first(engine: Engine, ledger_id: str) -> None:
    new_ledger(engine, ledger_id, at()).append([note(), note("person:2")], at(1))
    record_check(engine, verified(engine, ledger_id), at(10), "inspector-1", "web")
    failed = VerifyReport(ledger_id, size=2).fail(2, "hash does not match")
    failed.notes.append("checkpoint signatures were not checked")
    record_check(engine, failed, at(20), "cli:auditor", "cli")
    record_check(engine, VerifyReport(f"{ledger_id}-other"), at(30), "inspector-1", "api")  # another ledger
    with engine.connect() as conn:
        checks = recent_checks(conn, ledger_id)
        assert [c.checked_at for c in recent_checks(conn, ledger_id, limit=1)] == [at(20)]
    assert [(c.checked_by, c.via, c.ok) for c in checks] == [
        ("cli:auditor", "cli", False),
        ("inspector-1", "web", True),
    ]
    latest, first = checks
    assert (latest.bad_seq, latest.problem, latest.notes) == (2, "hash does not match", [failed.notes[0]])
    assert (first.size, first.checkpoints_checked, first.bad_seq, first.problem) == (2, 0, None, None)
    assert first.root and first.checked_at == at(10)


@pytest.mark.parametrize("verb", ["UPDATE ledger_checks SET ok = :true", "DELETE FROM ledger_checks"])
def test_a_recorded_check_cannot_be_rewritten_or_removed(engine: Engine, ledger_id: str, verb: str) -> None:
    failed = VerifyReport(ledger_id, size=5).fail(4, "hash does not match")
    record_check(engine, failed, at(5), "inspector-1", "web")
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(f"{verb} WHERE ledger_id = :ledger"), {"true": True, "ledger": ledger_id})
    with engine.connect() as conn:
        assert [c.ok for c in recent_checks(conn, ledger_id)] == [False]


def test_checks_are_listed_in_the_order_recorded_whatever_their_clocks(engine: Engine, ledger_id: str) -> None:
    # The CLI stamps the machine's clock, a server its own (the demo's runs in 2025): a check recorded
    # later is the latest, even if its clock says earlier.
    record_check(engine, VerifyReport(ledger_id, size=1), at(500), "cli:someone", "cli")
    later = record_check(engine, VerifyReport(ledger_id, size=1).fail(1, "x"), at(10), "inspector-1", "web")
    with engine.connect() as conn:
        assert [(c.check_id, c.via) for c in recent_checks(conn, ledger_id)] == [(later, "web"), (later - 1, "cli")]


def test_failures_are_found_however_many_checks_follow_them(engine: Engine, ledger_id: str) -> None:
    failed = record_check(engine, VerifyReport(ledger_id, size=3).fail(2, "hash does not match"), at(1), "a", "cli")
    passed = [record_check(engine, VerifyReport(ledger_id, size=3), at(2 + n), "director", "api") for n in range(12)]
    with engine.connect() as conn:
        assert [c.check_id for c in recent_checks(conn, ledger_id, 1, ok=False)] == [failed]
        assert failed not in [c.check_id for c in recent_checks(conn, ledger_id, 10)]
        assert [c.check_id for c in recent_checks(conn, ledger_id, 3, ok=True)] == passed[:-4:-1]
        older = recent_checks(conn, ledger_id, 100, before=passed[0])
    assert [c.check_id for c in older] == [failed]


def test_a_check_reads_one_snapshot_while_events_are_appended(
    engine: Engine, ledger_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An event committed between the head's read and the scan is not taken for one stored beyond the head."""
    ledger = new_ledger(engine, ledger_id, at())
    ledger.append([note()], at(1))
    read_head = verify.read_head

    def head_then_append(conn: Connection, ledger_id: str, **kwargs: Any) -> Any:
        head = read_head(conn, ledger_id, **kwargs)
        ledger.append([note("person:2")], at(2))  # another connection commits meanwhile
        return head

    monkeypatch.setattr(verify, "read_head", head_then_append)
    report = verify_in_snapshot(engine, ledger_id)
    assert (report.ok, report.size, report.problem) == (True, 1, None)
