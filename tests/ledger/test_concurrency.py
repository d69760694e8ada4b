"""Concurrent appenders to one ledger produce one gapless chain: no fork, no lost event.

Architecture invariant 6: appends to one ledger are serialized (PostgreSQL locks
the head row; SQLite takes the write lock with BEGIN IMMEDIATE).
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import Engine

from habeas.ledger.log import read_events
from habeas.ledger.verify import verify_ledger
from tests.conftest import at
from tests.ledger.support import new_ledger, note

WRITERS = 8
BATCHES_PER_WRITER = 15


def run_writers(engine: Engine, ledger_id: str) -> list[BaseException]:
    ledger = new_ledger(engine, ledger_id, at())
    failures: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(number: int) -> None:
        try:
            start.wait()
            for batch in range(BATCHES_PER_WRITER):
                size = 1 + (number + batch) % 4
                ledger.append([note(f"writer:{number}", f"{batch}.{i}") for i in range(size)], at(1))
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def expected_total() -> int:
    return sum(1 + (n + b) % 4 for n in range(WRITERS) for b in range(BATCHES_PER_WRITER))


class ConcurrencyContract:
    @pytest.fixture
    def engine(self) -> Engine:
        raise NotImplementedError

    def test_eight_writers_one_gapless_chain(self, engine: Engine, ledger_id: str) -> None:
        failures = run_writers(engine, ledger_id)
        assert failures == []
        with engine.connect() as conn:
            stored = list(read_events(conn, ledger_id))
            report = verify_ledger(conn, ledger_id)
        assert report.ok, report.problem
        assert [e.seq for e in stored] == list(range(1, expected_total() + 1))
        # Every writer's every event is there exactly once, and each batch stayed contiguous.
        texts = Counter((e.payload["subject"], e.payload["text"]) for e in stored)
        assert len(texts) == expected_total() and set(texts.values()) == {1}
        for number in range(WRITERS):
            for batch in range(BATCHES_PER_WRITER):
                mine = (f"writer:{number}", f"{batch}.")
                seqs = [e.seq for e in stored if (e.payload["subject"], e.payload["text"][: len(mine[1])]) == mine]
                assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


@pytest.mark.postgres
class TestConcurrencyOnPostgreSQL(ConcurrencyContract):
    @pytest.fixture
    def engine(self, postgres_engine: Engine) -> Engine:
        return postgres_engine


class TestConcurrencyOnSQLite(ConcurrencyContract):
    @pytest.fixture
    def engine(self, sqlite_engine: Engine) -> Engine:
        return sqlite_engine
