"""One write: lock the ledger, read state, append events, fold them into the projections.

Everything a command changes happens in this one transaction, so a refusal (raised
before ``append``) or a failure changes nothing, and an acknowledged command is
in the ledger and the read models together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from pydantic import BaseModel
from sqlalchemy import Connection, Engine

from habeas.domain.events import REGISTRY
from habeas.ledger.envelope import NewEvent, StoredEvent
from habeas.ledger.log import Ledger, read_head
from habeas.projections import fold as projection
from habeas.store.engine import write_transaction


@dataclass
class Work:
    conn: Connection
    ledger: Ledger
    actor: str
    recorded_at: datetime
    pending: list[NewEvent] = field(default_factory=list)
    # Stored since the safeguards last ran: the whole command, or the current chunk of a
    # mass intake (which checks chunk by chunk); what ``after`` looks at.
    stored: list[StoredEvent] = field(default_factory=list)
    checked: list[StoredEvent] = field(default_factory=list)  # stored, and already checked
    after: Callable[[Work], None] | None = None  # the command's safeguards (services.safeguarding)
    checks_run: int = 0

    def add(
        self, type_name: str, payload: BaseModel | dict[str, Any], occurred_at: datetime, event_id: UUID | None = None
    ) -> None:
        self.pending.append(NewEvent(type_name, payload, occurred_at, self.actor, event_id or uuid4()))

    def flush(self) -> list[StoredEvent]:
        """Append what is pending and fold it into the projections (still in the transaction)."""
        if not self.pending:
            return []
        prepared = self.ledger.prepare(self.pending, self.recorded_at)
        stored = self.ledger.append_prepared(self.conn, prepared, self.recorded_at)
        projection.apply(self.conn, self.ledger.ledger_id, stored)
        self.pending = []
        self.stored.extend(stored)
        return stored

    def unchecked(self) -> list[StoredEvent]:
        """The events stored since the safeguards last ran (``stored``)."""
        return self.stored

    def check(self) -> None:
        """Flush, then run the safeguards over what this command stored since they last ran.

        Still inside the command's transaction: a breach is never missed, only checked
        once for a whole chunk of a mass intake instead of once per person.
        """
        self.flush()
        # Once at least (as every command always did), then again only for what is new.
        if self.after is not None and (self.stored or not self.checks_run):
            self.after(self)
            self.flush()
            self.checks_run += 1
        self.checked.extend(self.stored)
        self.stored = []


@contextmanager
def unit_of_work(
    engine: Engine, ledger_id: str, actor: str, recorded_at: datetime, after: Callable[[Work], None] | None = None
) -> Iterator[Work]:
    """A write; ``after`` runs on the flushed work before commit (the safeguards of a command)."""
    ledger = Ledger(engine, ledger_id, REGISTRY)
    with write_transaction(engine) as conn:
        read_head(conn, ledger_id, lock=True)  # serialize with other writers before reading state
        work = Work(conn, ledger, actor, recorded_at, after=after)
        yield work
        work.check()


def append_and_project(
    engine: Engine, ledger_id: str, events: Sequence[NewEvent], recorded_at: datetime
) -> list[StoredEvent]:
    """For callers that already decided their events (imports, tests)."""
    with unit_of_work(engine, ledger_id, "system", recorded_at) as work:
        work.pending.extend(events)
        stored: list[StoredEvent] = work.flush()
        return stored
