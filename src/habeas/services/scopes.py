"""What a scoped account may see: a liaison its own state's transferees, a court its own defendants.

Architecture (roles): the sending state's liaison may "see and be notified about its
own transferees ... see anyone else: no"; a court issues orders "on its cases".
Every person-level read of a scoped account goes through :func:`person_visible`,
and every list is filtered with :func:`visible_people`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, exists, or_, select, union

from habeas.domain.access import Principal, Role
from habeas.errors import NotFound
from habeas.store.law_tables import cases, defendants, orders
from habeas.store.register_tables import alert_refs, alerts
from habeas.store.transfer_tables import transferees


def visible_people(ledger: str, principal: Principal) -> Select[tuple[str]] | None:
    """A query of the person ids ``principal`` may see, or None when it sees everyone."""
    if principal.role is Role.LIAISON:
        return select(transferees.c.person_id).where(
            transferees.c.ledger_id == ledger, transferees.c.sending_state == principal.scope
        )
    if principal.role is Role.COURT:
        on_cases = (
            select(defendants.c.person_id)
            .join(cases, (cases.c.ledger_id == defendants.c.ledger_id) & (cases.c.case_id == defendants.c.case_id))
            .where(defendants.c.ledger_id == ledger, cases.c.court == principal.scope)
        )
        by_orders = select(orders.c.person_id).where(orders.c.ledger_id == ledger, orders.c.court == principal.scope)
        return select(union(on_cases, by_orders).subquery().c[0])
    return None


def visible_alerts(ledger: str, principal: Principal) -> Any | None:
    """A condition on ``alerts``: those ``principal`` may read, or None when it reads them all.

    An alert is about someone in scope when its subject is one of their people, or when its references
    name one (``alert_refs``): an R26 alert's subject is the order, a R28 alert's the case and defendant,
    and the court that issued the order (or the state whose transferee it concerns) must see it.
    """
    scope = visible_people(ledger, principal)
    if scope is None:
        return None
    named = select(alert_refs.c.alert_id).where(alert_refs.c.ledger_id == ledger, alert_refs.c.ref.in_(scope))
    return or_(alerts.c.subject.in_(scope), alerts.c.alert_id.in_(named))


def person_visible(conn: Connection, ledger: str, principal: Principal, person_id: str) -> bool:
    query = visible_people(ledger, principal)
    if query is None:
        return True
    column = query.selected_columns[0]
    return bool(conn.execute(select(exists(query.where(column == person_id)))).scalar())


def require_visible(conn: Connection, ledger: str, principal: Principal, person_id: str) -> None:
    """Outside the scope looks exactly like absent: a liaison must not learn who else is held."""
    if not person_visible(conn, ledger, principal, person_id):
        raise NotFound("person", person_id)


__all__ = ["or_", "person_visible", "require_visible", "visible_alerts", "visible_people"]
