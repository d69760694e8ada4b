"""What the sending state's liaison may see (architecture: roles; issue #6 exposes it over HTTP).

Only its own transferees — people admitted under one of *its* agreements — never anyone else:
their status, where they are **at facility level only** (never a cell or unit), the alerts that
concern them, the people refused from its flights, and its invoices.  The feed is the outbox
(projections.transfer): every event that concerns its agreements or people, in ledger order,
read after a cursor.  Reads only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, and_, or_, select

from habeas.domain.transfer import facility_level
from habeas.errors import InvalidInput
from habeas.store.register_tables import alerts, episodes, facilities, people
from habeas.store.transfer_tables import agreements, invoices, outbox, refusals, transferees


@dataclass(frozen=True)
class Transferee:
    person_id: str
    given_names: str
    family_names: str
    sending_identifier: str
    agreement_id: str
    flight: str
    status: str
    facility_id: str
    facility_name: str
    place: str | None  # where, when outside the facility (a court, a hospital, a destination)
    admitted_at: datetime
    closed_at: datetime | None
    custodian_of_record: str


@dataclass(frozen=True)
class AlertView:
    alert_id: str
    rule: str
    severity: str
    subject: str
    message: str
    raised_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class InvoiceView:
    invoice_id: str
    agreement_id: str
    month: str
    currency: str
    total: Decimal
    issued_at: datetime


@dataclass(frozen=True)
class RefusalView:
    refusal_id: str
    agreement_id: str
    flight: str
    name: str
    rule: str
    reason: str
    refused_at: datetime
    handed_back_at: datetime | None


@dataclass(frozen=True)
class FeedEntry:
    seq: int  # the cursor: ask for what came after it
    type: str
    person_id: str | None
    agreement_id: str | None
    occurred_at: datetime
    summary: dict[str, Any]


@dataclass(frozen=True)
class LiaisonView:
    state: str
    agreements: tuple[str, ...]
    transferees: tuple[Transferee, ...]
    alerts: tuple[AlertView, ...]
    refusals: tuple[RefusalView, ...]
    invoices: tuple[InvoiceView, ...]


def _check_state(state: str) -> str:
    if len(state) != 3 or not state.isalpha() or not state.isupper():
        raise InvalidInput.one("state", "must be an ISO 3166 alpha-3 code such as USA")
    return state


def transferees_of(conn: Connection, ledger: str, state: str) -> list[Transferee]:
    _check_state(state)
    query = (
        select(
            transferees.c.person_id, transferees.c.agreement_id, transferees.c.flight, transferees.c.sending_doc_key,
            transferees.c.custodian_of_record, people.c.given_names, people.c.family_names, episodes.c.status,
            episodes.c.facility_id, episodes.c.place, episodes.c.admitted_at, episodes.c.closed_at,
            facilities.c.name.label("facility_name"),
        )
        .join(episodes, and_(episodes.c.ledger_id == transferees.c.ledger_id,
                             episodes.c.episode_id == transferees.c.episode_id))
        .join(people, and_(people.c.ledger_id == transferees.c.ledger_id,
                           people.c.person_id == transferees.c.person_id))
        .join(facilities, and_(facilities.c.ledger_id == episodes.c.ledger_id,
                               facilities.c.facility_id == episodes.c.facility_id))
        .where(transferees.c.ledger_id == ledger, transferees.c.sending_state == state)
        .order_by(episodes.c.admitted_at, transferees.c.person_id)
    )  # fmt: skip
    return [
        Transferee(
            r.person_id,
            r.given_names,
            r.family_names,
            r.sending_doc_key,
            r.agreement_id,
            r.flight,
            r.status,
            r.facility_id,
            r.facility_name,
            r.place,
            r.admitted_at,
            r.closed_at,
            r.custodian_of_record,
        )
        for r in conn.execute(query)
    ]


def alerts_about(conn: Connection, ledger: str, state: str, *, include_resolved: bool = False) -> list[AlertView]:
    """Alerts whose subject or references name one of the state's transferees or refused people."""
    _check_state(state)
    people_ids = set(
        conn.execute(
            select(transferees.c.person_id).where(
                transferees.c.ledger_id == ledger, transferees.c.sending_state == state
            )
        ).scalars()
    )
    refusal_ids = set(
        conn.execute(
            select(refusals.c.refusal_id).where(refusals.c.ledger_id == ledger, refusals.c.sending_state == state)
        ).scalars()
    )
    mine = people_ids | refusal_ids
    if not mine:
        return []
    query = select(alerts).where(alerts.c.ledger_id == ledger)
    if not include_resolved:
        query = query.where(alerts.c.resolved_at.is_(None))
    wanted = sorted(mine)
    out: dict[str, AlertView] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        conditions = [alerts.c.subject.in_(chunk)]
        for r in conn.execute(query.where(or_(*conditions))):
            out[r.alert_id] = _alert(r)
    # References (an order, a refusal) are JSON lists: checked here, on the few alerts that carry any.
    for r in conn.execute(query.where(alerts.c.refs != "[]")):
        if r.alert_id not in out and set(orjson.loads(r.refs)) & mine:
            out[r.alert_id] = _alert(r)
    return sorted(out.values(), key=lambda a: (a.raised_at, a.alert_id))


def _alert(r: Any) -> AlertView:
    return AlertView(r.alert_id, r.rule, r.severity, r.subject, facility_level(r.message), r.raised_at, r.resolved_at)


def invoices_of(conn: Connection, ledger: str, state: str) -> list[InvoiceView]:
    _check_state(state)
    query = (
        select(invoices)
        .join(agreements, and_(agreements.c.ledger_id == invoices.c.ledger_id,
                               agreements.c.agreement_id == invoices.c.agreement_id))
        .where(invoices.c.ledger_id == ledger, agreements.c.sending_state == state)
        .order_by(invoices.c.agreement_id, invoices.c.month)
    )  # fmt: skip
    return [
        InvoiceView(r.invoice_id, r.agreement_id, r.month, r.currency, Decimal(r.total), r.issued_at)
        for r in conn.execute(query)
    ]


def refusals_of(conn: Connection, ledger: str, state: str) -> list[RefusalView]:
    _check_state(state)
    query = (
        select(refusals)
        .where(refusals.c.ledger_id == ledger, refusals.c.sending_state == state)
        .order_by(refusals.c.refused_at, refusals.c.flight, refusals.c.line)
    )
    return [
        RefusalView(r.refusal_id, r.agreement_id, r.flight, r.name, r.rule, r.reason, r.refused_at, r.handed_back_at)
        for r in conn.execute(query)
    ]


def view(conn: Connection, ledger: str, state: str) -> LiaisonView:
    """Everything the state's liaison may see, and nothing else."""
    _check_state(state)
    own = tuple(
        conn.execute(
            select(agreements.c.agreement_id)
            .where(agreements.c.ledger_id == ledger, agreements.c.sending_state == state)
            .order_by(agreements.c.agreement_id)
        ).scalars()
    )
    return LiaisonView(
        state,
        own,
        tuple(transferees_of(conn, ledger, state)),
        tuple(alerts_about(conn, ledger, state)),
        tuple(refusals_of(conn, ledger, state)),
        tuple(invoices_of(conn, ledger, state)),
    )


def feed(conn: Connection, ledger: str, state: str, after: int = 0, limit: int = 500) -> list[FeedEntry]:
    """The state's outbox after the cursor ``after`` (a ledger sequence number), oldest first."""
    _check_state(state)
    if after < 0 or limit < 1:
        raise InvalidInput.one("after", "the cursor is a sequence number, 0 or more")
    rows = conn.execute(
        select(outbox)
        .where(outbox.c.ledger_id == ledger, outbox.c.state == state, outbox.c.seq > after)
        .order_by(outbox.c.seq)
        .limit(min(limit, 5000))
    )
    return [FeedEntry(r.seq, r.type, r.person_id, r.agreement_id, r.occurred_at, orjson.loads(r.summary)) for r in rows]


__all__ = ["FeedEntry", "LiaisonView", "Transferee", "alerts_about", "feed", "invoices_of", "transferees_of", "view"]
