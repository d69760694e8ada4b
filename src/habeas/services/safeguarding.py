"""Safeguards on every command: re-check the people and cells a command touched, in its transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select

from habeas.domain.alerts import AlertRaised
from habeas.errors import Conflict
from habeas.ledger.envelope import StoredEvent
from habeas.ledger.timefmt import format_instant
from habeas.safeguards.catalogue import BY_ID
from habeas.safeguards.sweep import NAMESPACE, find, reconcile
from habeas.services.unit_of_work import Work
from habeas.store.bulk import among
from habeas.store.law_tables import orders
from habeas.store.register_tables import cells as cell_table
from habeas.store.register_tables import stays


def after_command(work: Work) -> None:
    """Raise (or resolve) the alerts the command's own events change, before it commits.

    Scoped to the events stored since the last check (``Work.check``): a mass intake runs
    this once per chunk, for the people and cells of that chunk, in the same transaction.
    """
    persons: set[str] = set()
    cells: set[str] = set()
    new = work.unchecked()
    for event in new:
        payload = event.payload
        if "person_id" in payload:
            persons.add(str(payload["person_id"]))
        for key in ("cell_id", "from_cell_id"):
            if payload.get(key):
                cells.add(str(payload[key]))
    backdated(work, new)
    if not persons and not cells:
        return
    ledger = work.ledger.ledger_id
    cells |= cells_left(work, persons, new)
    unit_ids = sorted(
        set(
            work.conn.execute(
                select(cell_table.c.unit_id).where(
                    cell_table.c.ledger_id == ledger, among(work.conn, cell_table.c.cell_id, sorted(cells))
                )
            ).scalars()
        )
    )
    at = work.recorded_at
    findings = find(work.conn, ledger, at, persons=sorted(persons), cell_ids=sorted(cells))
    reconcile(work, ledger, at, findings, persons=sorted(persons), cell_ids=sorted(cells), unit_ids=unit_ids)


def cells_left(work: Work, persons: set[str], new: Sequence[StoredEvent]) -> set[str]:
    """Cells the command's people were in until now (a release or a transfer names none)."""
    if not persons:
        return set()
    times = sorted({e.occurred_at for e in new})
    rows = work.conn.execute(
        select(stays.c.cell_id).where(
            stays.c.ledger_id == work.ledger.ledger_id,
            among(work.conn, stays.c.person_id, sorted(persons)),
            stays.c.cell_id.is_not(None),
            among(work.conn, stays.c.valid_to, times),
        )
    )
    return {str(cell) for cell in rows.scalars()}


# R23: an entry recorded this long after it happened is flagged for review (a policy choice:
# a night's paperwork is normal, a week is how registers get rewritten).
BACKDATING_LIMIT = timedelta(hours=72)


def backdated(work: Work, new: Sequence[StoredEvent]) -> None:
    """R23: raise an alert for each event of this command recorded long after it happened."""
    late = [
        e
        for e in new
        if e.recorded_at - e.occurred_at > BACKDATING_LIMIT and "person_id" in e.payload  # entries about people
    ]
    for event in late:
        delay = event.recorded_at - event.occurred_at
        work.add(
            "alert.raised",
            AlertRaised(
                alert_id=str(uuid.uuid5(NAMESPACE, f"{work.ledger.ledger_id}/R23/{event.event_id}")),
                rule="R23",
                severity=BY_ID["R23"].severity,
                subject=event.event_id,
                message=f"{event.type} recorded {delay.days} days {delay.seconds // 3600} h after it happened "
                f"({format_instant(event.occurred_at)}), by {event.actor}",
                refs=(event.event_id,),
            ),
            work.recorded_at,
        )


def refuse_contrary_orders(work: Work, person_id: str, kinds: tuple[str, ...], action: str) -> None:
    """R26: a command an active order forbids is refused, naming the order."""
    row = work.conn.execute(
        select(orders)
        .where(
            orders.c.ledger_id == work.ledger.ledger_id,
            orders.c.person_id == person_id,
            orders.c.status == "active",
            orders.c.kind.in_(kinds),
        )
        .order_by(orders.c.issued_at)
        .limit(1)
    ).first()
    if row is not None:
        raise Conflict(
            "person_id",
            f"R26: {action} is contrary to the active {row.kind.replace('_', '-')} order {row.reference} "
            f"of {row.court} ({row.court_state}), order id {row.order_id}",
        )
