"""Pushing the outbox to the sending state's webhook: in order, at least once, retried with back-off."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import orjson
from sqlalchemy import Engine

from habeas.services import webhooks
from tests.transfer import support as s

NOW = datetime(2025, 4, 2, tzinfo=UTC)
URL = "https://liaison.example/hook"


def setup(engine: Engine, ledger_id: str) -> s.World:
    w = s.world(engine, ledger_id, NOW)
    w.transfers.conclude("user:director", s.agreement(), datetime(2025, 3, 1, tzinfo=UTC))
    w.transfers.import_flight("user:intake", s.AGREEMENT, "F-1", s.flight(1, 3, datetime(2025, 3, 16, 3, tzinfo=UTC)))
    return w


def test_delivery_in_order_with_retries_and_a_cursor(engine: Engine, ledger_id: str) -> None:
    w = setup(engine, ledger_id)
    received: list[int] = []
    statuses = itertools.chain([503], itertools.repeat(200))
    pauses: list[float] = []

    def send(url: str, body: bytes) -> int:
        status = next(statuses)
        if status == 200:
            received.extend(e["seq"] for e in orjson.loads(body)["entries"])
        return status

    result = webhooks.deliver(w.engine, ledger_id, "USA", URL, w.clock, send=send, pause=pauses.append, batch=4)
    assert not result.failed and result.sent == len(received) and received == sorted(received)
    assert pauses == [1.0]  # one retry after the 503
    # Nothing new: nothing sent.  A later event is sent from the cursor on.
    again = webhooks.deliver(w.engine, ledger_id, "USA", URL, w.clock, send=send, pause=pauses.append)
    assert again.sent == 0 and again.cursor == received[-1]


def test_a_failing_receiver_keeps_the_cursor_and_the_error(engine: Engine, ledger_id: str) -> None:
    w = setup(engine, ledger_id)
    pauses: list[float] = []

    def down(url: str, body: bytes) -> int:
        raise ConnectionRefusedError("refused")

    result = webhooks.deliver(w.engine, ledger_id, "USA", URL, w.clock, send=down, pause=pauses.append, attempts=3)
    assert result.failed and result.cursor == 0 and "ConnectionRefusedError" in (result.error or "")
    assert pauses == [1.0, 2.0]  # exponential back-off between the three attempts
    sent: list[int] = []
    result = webhooks.deliver(
        w.engine, ledger_id, "USA", URL, w.clock,
        send=lambda url, body: sent.extend(e["seq"] for e in orjson.loads(body)["entries"]) or 200,
    )  # fmt: skip
    assert not result.failed and sent and sent[0] > 0  # everything from the start: nothing was skipped
