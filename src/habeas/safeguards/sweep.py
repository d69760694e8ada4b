"""The sweep: run every check at an instant, raise alerts for new breaches, resolve cleared ones.

Alerts are events (``alert.raised`` / ``alert.resolved``), so their whole history is in
the ledger.  The sweep appends only the differences from the alerts already open, so a
second sweep at the same instant appends nothing.  It runs on demand
(``habeas safeguards check [--at TIME]``), so breaches that happen by the passing of
time are found without any new command, and after every register command for the
people and cells that command touched.
"""

from __future__ import annotations

import gc
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Select, select

from habeas.domain.alerts import AlertRaised, AlertResolved
from habeas.domain.policy import Policy
from habeas.ledger.log import read_head
from habeas.ledger.timefmt import format_instant
from habeas.policy.loader import load_policy
from habeas.safeguards.catalogue import BY_ID
from habeas.safeguards.checks import SWEEP_CHECKS, SWEPT_RULES, Context, Finding, Known, facilities_policies
from habeas.services.unit_of_work import Work, unit_of_work
from habeas.store.bulk import among
from habeas.store.register_tables import alert_refs, alerts

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
    known: Known | None = None,
) -> list[Finding]:
    """Every breach at ``at`` (restricted to some people and cells, if given).  Reads only.

    The findings of breaches in ``known`` (open alerts: rule -> subjects) may come without their message."""
    if conn.dialect.name == "postgresql":
        # Many short index-driven queries: compiling them (JIT) costs more than it saves, up to a second
        # each on a million people, where the estimated costs pass the inlining and optimisation thresholds.
        conn.exec_driver_sql("SET LOCAL jit = off")
    ctx = Context(conn, ledger, at, facilities_policies(conn, ledger, load), persons, cell_ids, known or {})
    found: list[Finding] = []
    with collection_paused():
        for _, check in SWEEP_CHECKS:
            found.extend(check(ctx))
    return found


@contextmanager
def collection_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while the findings pile up.

    A full sweep keeps half a million findings (and their rows) alive: each collection of the oldest
    generation walks all of them, so collections during the sweep cost time growing faster than the
    register.  Findings hold no reference cycles; nothing is left for the collector to free later.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def reconcile(
    work: Work,
    ledger: str,
    at: datetime,
    findings: Sequence[Finding],
    *,
    persons: Sequence[str] | None = None,
    cell_ids: Sequence[str] | None = None,
    unit_ids: Sequence[str] | None = None,
    open_alerts: OpenAlerts | None = None,
) -> SweepResult:
    """Raise what is new, resolve what no longer holds (within the scope that was checked).

    A full sweep may pass the open alerts it read before ``find`` (:func:`open_swept_alerts`)."""
    result = SweepResult(at, Counter(f.rule for f in findings))
    # Compared rule by rule on subject ids (text, whose hashes Python keeps): half a million
    # (rule, subject) tuples would each be hashed again at every lookup.
    current: dict[str, dict[str, Finding]] = {}
    for f in findings:
        current.setdefault(f.rule, {})[f.subject] = f
    scoped = persons is not None or cell_ids is not None
    in_scope = set(persons or ()) | set(cell_ids or ()) | set(unit_ids or ())
    refs_of: dict[tuple[str, str], set[str]] = {}
    if scoped:
        open_alerts = {}
        for alert_id, rule, subject, refs in _scoped_open_alerts(work.conn, ledger, findings, in_scope):
            if rule == "R13" and '"count:' in refs:  # raised by a roll call: a person closes it, not the sweep
                continue
            open_alerts.setdefault(rule, {})[subject] = alert_id
            refs_of[(rule, subject)] = set(orjson.loads(refs))  # whose refs name the command's people
    elif open_alerts is None:
        open_alerts = open_swept_alerts(work.conn, ledger)
    base = read_head(work.conn, ledger).size + len(work.pending)
    new = [
        found[subject]
        for rule_id, found in sorted(current.items())
        for subject in sorted(found.keys() - open_alerts.get(rule_id, {}).keys())
    ]
    for f in new:
        entry = BY_ID[f.rule]
        # Unique even when the same breach recurs at the same instant after being resolved.
        alert_id = str(
            uuid.uuid5(NAMESPACE, f"{ledger}/{f.rule}/{f.subject}/{format_instant(at)}/{base + result.raised}")
        )
        work.add(
            "alert.raised",
            AlertRaised(
                alert_id=alert_id,
                rule=f.rule,
                severity=entry.severity,
                subject=f.subject,
                message=f.message,
                refs=f.refs,
            ),
            at,
        )
        result.raised += 1
    gone = [
        (rule_id, subject)
        for rule_id, opened in sorted(open_alerts.items())
        for subject in sorted(opened.keys() - current.get(rule_id, {}).keys())
    ]
    for rule_id, subject in gone:
        # A scoped check (after a command) covers alerts about its people, cells and units, and
        # those whose refs name them (an order, a case, a sentence of a person it touched).
        if scoped and subject not in in_scope and not refs_of[(rule_id, subject)] & in_scope:
            continue  # not checked this time
        work.add(
            "alert.resolved",
            AlertResolved(
                alert_id=open_alerts[rule_id][subject], resolution=f"no longer holds at {format_instant(at)}"
            ),
            at,
        )
        result.resolved += 1
    return result


# The open alerts of the swept rules: rule -> subject -> alert id.
OpenAlerts = dict[str, dict[str, str]]


def open_swept_alerts(conn: Connection, ledger: str) -> OpenAlerts:
    """Every open alert of the swept rules: rule -> subject -> alert id.

    From ix_alerts_sweep alone (not the alerts' rows: their messages are most of the table).  R13 apart:
    only its refs tell a roll call's alert (closed by a person) from the sweep's own."""
    where = [alerts.c.ledger_id == ledger, alerts.c.resolved_at.is_(None)]
    swept = select(alerts.c.rule, alerts.c.subject, alerts.c.alert_id).where(
        *where, alerts.c.rule.in_(sorted(SWEPT_RULES)), alerts.c.rule != "R13"
    )
    found: OpenAlerts = {}
    for rule, subject, alert_id in _plain_rows(conn, swept):
        found.setdefault(rule, {})[subject] = alert_id
    overdue = select(alerts.c.alert_id, alerts.c.subject, alerts.c.refs).where(*where, alerts.c.rule == "R13")
    for alert_id, subject, refs in conn.execute(overdue):
        if '"count:' not in refs:
            found.setdefault("R13", {})[subject] = alert_id
    return found


def _plain_rows(conn: Connection, query: Select[Any]) -> list[tuple[Any, ...]]:
    """The rows of a query of plain text columns, as the driver returns them (tuples).

    Half a million open alerts in a full sweep: SQLAlchemy's result rows cost twice the driver's own
    fetch, and nothing here needs their conversions (ids and rule names are text on both backends).
    """
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params: Any = compiled.params
    if compiled.positiontup is not None:
        params = tuple(params[name] for name in compiled.positiontup)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _scoped_open_alerts(
    conn: Connection, ledger: str, findings: Sequence[Finding], in_scope: set[str]
) -> list[tuple[str, str, str, str]]:
    """The open alerts a scoped reconcile needs, instead of every open alert of the ledger.

    It compares them with the findings (alerts about the findings' subjects) and resolves only alerts in
    the scope (about its people, cells and units, or whose refs name them), so these are all it can touch:
    those whose subject is a finding's or in the scope (``ix_alerts_subject``), and those whose refs name
    an id of the scope (``alert_refs``).  Two index lookups, whatever the number of open alerts.
    """
    columns = (alerts.c.alert_id, alerts.c.rule, alerts.c.subject, alerts.c.refs)
    where = (
        alerts.c.ledger_id == ledger,
        alerts.c.resolved_at.is_(None),
        alerts.c.rule.in_(sorted(SWEPT_RULES | {"R13"})),
    )
    subjects = sorted({f.subject for f in findings} | in_scope)
    found: dict[str, tuple[str, str, str, str]] = {}
    if subjects:
        for row in conn.execute(select(*columns).where(*where, among(conn, alerts.c.subject, subjects))):
            found[row.alert_id] = tuple(row)
    if in_scope:
        named = select(alert_refs.c.alert_id).where(
            alert_refs.c.ledger_id == ledger, among(conn, alert_refs.c.ref, sorted(in_scope))
        )
        query = select(*columns).where(*where, alerts.c.alert_id.in_(named))
        for row in conn.execute(query):
            found[row.alert_id] = tuple(row)
    return [found[alert_id] for alert_id in sorted(found)]


def sweep(
    engine: Engine, ledger: str, at: datetime, recorded_at: datetime, load: Callable[[str], Policy] = load_policy
) -> SweepResult:
    """The full sweep at ``at``, in one transaction."""
    with collection_paused(), unit_of_work(engine, ledger, ACTOR, recorded_at) as work:
        # The open alerts first: the breaches they already report need no message (see find).
        open_alerts = open_swept_alerts(work.conn, ledger)
        findings = find(work.conn, ledger, at, load=load, known=open_alerts)
        return reconcile(work, ledger, at, findings, open_alerts=open_alerts)
