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
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, or_, select, true

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
    scoped = persons is not None or cell_ids is not None
    in_scope = set(persons or ()) | set(cell_ids or ()) | set(unit_ids or ())
    where = [alerts.c.ledger_id == ledger, alerts.c.resolved_at.is_(None), alerts.c.rule.in_(sorted(SWEPT_RULES))]
    open_alerts: dict[tuple[str, str], str] = {}
    refs_of: dict[tuple[str, str], set[str]] = {}
    if scoped:
        query = select(alerts.c.alert_id, alerts.c.rule, alerts.c.subject, alerts.c.refs).where(
            *where[:2],
            alerts.c.rule.in_(sorted(SWEPT_RULES | {"R13"})),
            _scope_filter({f.subject for f in findings}, in_scope),
        )
        for alert_id, rule, subject, refs in work.conn.execute(query):
            if rule == "R13" and '"count:' in refs:  # raised by a roll call: a person closes it, not the sweep
                continue
            open_alerts[(rule, subject)] = alert_id
            refs_of[(rule, subject)] = set(orjson.loads(refs))  # whose refs name the command's people
    else:
        # Every open alert of the swept rules, from ix_alerts_sweep alone (not the alerts' rows: their
        # messages are most of the table).  R13 apart: only its refs tell a roll call's alert (closed by
        # a person) from the sweep's own.
        swept = select(alerts.c.alert_id, alerts.c.rule, alerts.c.subject).where(*where, alerts.c.rule != "R13")
        open_alerts = {(rule, subject): alert_id for alert_id, rule, subject in work.conn.execute(swept)}
        overdue = select(alerts.c.alert_id, alerts.c.subject, alerts.c.refs).where(*where[:2], alerts.c.rule == "R13")
        for alert_id, subject, refs in work.conn.execute(overdue):
            if '"count:' not in refs:
                open_alerts[("R13", subject)] = alert_id
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


# A command touches a few people and cells: past this many ids, reading every open alert is as quick.
SCOPED_READ_MAX = 500


def _scope_filter(subjects: set[str], in_scope: set[str]) -> Any:
    """The open alerts a scoped reconcile needs, instead of every open alert of the ledger.

    It compares them with the findings (alerts about the findings' subjects) and resolves only alerts in
    the scope (about its people, cells and units, or whose refs name them; see below), so these are all it
    can touch.  Refs are JSON lists of ids: an id is matched as ``"id"`` inside the text, and the match is
    checked exactly afterwards (``%`` or ``_`` in an id only widen it).  An id JSON would escape, or a
    scope too large for one query, reads every open alert as before.
    """
    wanted = subjects | in_scope
    if len(wanted) > SCOPED_READ_MAX or any(ch in '\\"' or ord(ch) < 0x20 for ident in in_scope for ch in ident):
        return true()
    return or_(
        alerts.c.subject.in_(sorted(wanted)),
        *(alerts.c.refs.like(f'%"{ident}"%') for ident in sorted(in_scope)),
    )


def sweep(
    engine: Engine, ledger: str, at: datetime, recorded_at: datetime, load: Callable[[str], Policy] = load_policy
) -> SweepResult:
    """The full sweep at ``at``, in one transaction."""
    with unit_of_work(engine, ledger, ACTOR, recorded_at) as work:
        findings = find(work.conn, ledger, at, load=load)
        return reconcile(work, ledger, at, findings)
