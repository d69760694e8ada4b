"""Push the sending state's outbox to its webhook, with retries (issue #5; the pollable feed is the other way).

At-least-once delivery: entries are POSTed in ledger order, in batches, as JSON
``{"state": "USA", "entries": [...]}``; the receiver acknowledges with a 2xx status and
de-duplicates by ``seq``.  The cursor (the last acknowledged ``seq``) advances only after an
acknowledgement, so a crash or a failed attempt re-sends, never skips.  A failed attempt is
retried after a growing pause, up to ``attempts`` times per run; the error and the count are kept
for the operator (``transfer_webhook_cursors``).  The transport and the pause are arguments, so
tests run without a network or a clock.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Engine, insert, select, update

from habeas.errors import InvalidInput
from habeas.ledger.timefmt import format_instant
from habeas.services import liaison
from habeas.store.transfer_tables import webhook_cursors

Send = Callable[[str, bytes], int]  # (url, body) -> HTTP status; raises OSError on a transport failure


def post_json(url: str, body: bytes, timeout: float = 10.0) -> int:
    if not url.startswith(("https://", "http://")):
        raise InvalidInput.one("url", "must be an http(s) URL")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@dataclass(frozen=True)
class Delivery:
    state: str
    url: str
    sent: int  # entries acknowledged in this run
    cursor: int  # the last acknowledged seq
    failed: bool
    error: str | None = None


def _payload(state: str, entries: Sequence[liaison.FeedEntry]) -> bytes:
    return orjson.dumps(
        {
            "state": state,
            "entries": [
                {
                    "seq": e.seq, "type": e.type, "person_id": e.person_id, "agreement_id": e.agreement_id,
                    "occurred_at": format_instant(e.occurred_at), "summary": e.summary,
                }
                for e in entries
            ],
        }
    )  # fmt: skip


def deliver(
    engine: Engine,
    ledger: str,
    state: str,
    url: str,
    clock: Callable[[], datetime],
    *,
    send: Send = post_json,
    attempts: int = 5,
    pause: Callable[[float], Any] = time.sleep,
    backoff: float = 1.0,
    batch: int = 100,
) -> Delivery:
    """Send everything after the cursor; stop at the first batch that fails ``attempts`` times."""
    if attempts < 1 or batch < 1:
        raise InvalidInput.one("attempts", "at least one attempt and one entry per batch")
    with engine.begin() as conn:
        row = conn.execute(
            select(webhook_cursors.c.delivered_seq).where(
                webhook_cursors.c.ledger_id == ledger, webhook_cursors.c.state == state, webhook_cursors.c.url == url
            )
        ).first()
        if row is None:
            conn.execute(
                insert(webhook_cursors).values(
                    ledger_id=ledger, state=state, url=url, delivered_seq=0, attempts=0, last_error=None,
                    last_attempt_at=None,
                )
            )  # fmt: skip
        cursor = int(row.delivered_seq) if row is not None else 0
    sent = 0
    while True:
        with engine.connect() as conn:
            entries = liaison.feed(conn, ledger, state, after=cursor, limit=batch)
        if not entries:
            return Delivery(state, url, sent, cursor, False)
        body = _payload(state, entries)
        error: str | None = None
        for attempt in range(attempts):
            try:
                status = send(url, body)
                error = None if 200 <= status < 300 else f"HTTP {status}"
            except OSError as exc:
                error = f"{type(exc).__name__}: {exc}"
            if error is None:
                break
            _record(engine, ledger, state, url, clock(), error=error)
            if attempt + 1 < attempts:
                pause(backoff * 2**attempt)
        if error is not None:
            return Delivery(state, url, sent, cursor, True, error)
        cursor = entries[-1].seq
        sent += len(entries)
        _record(engine, ledger, state, url, clock(), cursor=cursor)


def _record(
    engine: Engine, ledger: str, state: str, url: str, at: datetime, *, cursor: int | None = None,
    error: str | None = None,
) -> None:  # fmt: skip
    where = (webhook_cursors.c.ledger_id == ledger, webhook_cursors.c.state == state, webhook_cursors.c.url == url)
    with engine.begin() as conn:
        if cursor is not None:
            values: dict[str, Any] = {"delivered_seq": cursor, "attempts": 0, "last_error": None, "last_attempt_at": at}
        else:
            attempts = conn.execute(select(webhook_cursors.c.attempts).where(*where)).scalar_one()
            values = {"attempts": int(attempts) + 1, "last_error": (error or "")[:4000], "last_attempt_at": at}
        conn.execute(update(webhook_cursors).where(*where).values(values))


__all__ = ["Delivery", "deliver", "post_json"]
