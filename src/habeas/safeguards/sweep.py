"""The sweep: run every check at an instant, raise alerts for new breaches, resolve cleared ones.

Alerts are events (``alert.raised`` / ``alert.resolved``), so their whole history is in
the ledger.  The sweep appends only the differences from the alerts already open, so a
second sweep at the same instant appends nothing.  It runs on demand
(``habeas safeguards check [--at TIME]``), so breaches that happen by the passing of
time are found without any new command, and after every register command for the
people and cells that command touched.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from sqlalchemy import Connection, Engine, select

from habeas.domain.alerts import AlertRaised, AlertResolved
from habeas.domain.policy import Policy
from habeas.ledger.log import read_head
from habeas.ledger.timefmt import format_instant
from habeas.policy.loader import load_policy
from habeas.safeguards.catalogue import BY_ID
from habeas.safeguards.checks import SWEEP_CHECKS, SWEPT_RULES, Context, Finding, facilities_policies
from habeas.services.unit_of_work import Work, unit_of_work
from habeas.store.register_tables import alerts

ACTOR = "system:safeguards"
NAMESPACE = uuid.UUID("6f1c1d52-55a4-4e4b-9d0e-8b8f5d6d3c11")


@dataclass
class SweepResult:
    at: datetime
    findings: Counter[str] = field(default_factory=Counter)  # rule -> breaches found
    raised: int = 0
    resolved: int = 0


def find(
    conn: Connection,
    ledger: str,
    at: datetime,
    *,
    persons: Sequence[str] | None = None,
    cell_ids: Sequence[str] | None = None,
    load: Callable[[str], Policy] = load_policy,
) -> list[Finding]:
    """Every breach at ``at`` (restricted to some people and cells, if given).  Reads only."""
    ctx = Context(conn, ledger, at, facilities_policies(conn, ledger, load), persons, cell_ids)
    found: list[Finding] = []
    for _, check in SWEEP_CHECKS:
        found.extend(check(ctx))
    return found


def reconcile(
    work: Work,
    ledger: str,
    at: datetime,
    findings: Sequence[Finding],
    *,
    persons: Sequence[str] | None = None,
    cell_ids: Sequence[str] | None = None,
    unit_ids: Sequence[str] | None = None,
) -> SweepResult:
    """Raise what is new, resolve what no longer holds (within the scope that was checked)."""
    result = SweepResult(at, Counter(f.rule for f in findings))
    current = {(f.rule, f.subject): f for f in findings}
    query = select(alerts.c.alert_id, alerts.c.rule, alerts.c.subject, alerts.c.refs).where(
        alerts.c.ledger_id == ledger, alerts.c.resolved_at.is_(None), alerts.c.rule.in_(sorted(SWEPT_RULES | {"R13"}))
    )
    open_alerts = {}
    refs_of: dict[tuple[str, str], set[str]] = {}
    for row in work.conn.execute(query):
        if row.rule == "R13" and '"count:' in row.refs:  # raised by a roll call: a person closes it, not the sweep
            continue
        open_alerts[(row.rule, row.subject)] = row.alert_id
        refs_of[(row.rule, row.subject)] = set(orjson.loads(row.refs))
    scoped = persons is not None or cell_ids is not None
    in_scope = set(persons or ()) | set(cell_ids or ()) | set(unit_ids or ())
    base = read_head(work.conn, ledger).size + len(work.pending)
    for key in sorted(current.keys() - open_alerts.keys()):
        f = current[key]
        rule = BY_ID[f.rule]
        # Unique even when the same breach recurs at the same instant after being resolved.
        alert_id = str(
            uuid.uuid5(NAMESPACE, f"{ledger}/{f.rule}/{f.subject}/{format_instant(at)}/{base + result.raised}")
        )
        work.add(
            "alert.raised",
            AlertRaised(
                alert_id=alert_id,
                rule=f.rule,
                severity=rule.severity,
                subject=f.subject,
                message=f.message,
                refs=f.refs,
            ),
            at,
        )
        result.raised += 1
    for key in sorted(open_alerts.keys() - current.keys()):
        # A scoped check (after a command) covers alerts about its people, cells and units, and
        # those whose refs name them (an order, a case, a sentence of a person it touched).
        if scoped and key[1] not in in_scope and not refs_of[key] & in_scope:
            continue  # not checked this time
        work.add(
            "alert.resolved",
            AlertResolved(alert_id=open_alerts[key], resolution=f"no longer holds at {format_instant(at)}"),
            at,
        )
        result.resolved += 1
    return result


def sweep(
    engine: Engine, ledger: str, at: datetime, recorded_at: datetime, load: Callable[[str], Policy] = load_policy
) -> SweepResult:
    """The full sweep at ``at``, in one transaction."""
    with unit_of_work(engine, ledger, ACTOR, recorded_at) as work:
        findings = find(work.conn, ledger, at, load=load)
        return reconcile(work, ledger, at, findings)
