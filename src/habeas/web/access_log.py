"""Recording who read whose record through a page (architecture: every read of a personal record is logged).

Page authors call :func:`log_page_reads` with the ids of every person a page shows
before returning it, like ``api.security.log_reads`` does for the API.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import Request
from sqlalchemy import Connection, insert

from habeas.api.security import app_state
from habeas.domain.access import Principal
from habeas.store.account_tables import access_log


def log_page_reads(
    request: Request, who: Principal, person_ids: Iterable[str], reason: str | None = None,
    conn: Connection | None = None,
) -> None:  # fmt: skip
    """One access-log row per person shown; in ``conn``'s transaction when given, else in its own."""
    ids = sorted(set(person_ids))
    if not ids:
        return
    state = app_state(request)
    template = getattr(request.scope.get("route"), "path", None) or request.url.path
    common = {
        "at": state.config.clock(), "account_id": who.account_id, "username": who.username, "role": who.role.value,
        "ledger_id": state.config.ledger_id, "action": f"page {request.method} {template}"[:200], "reason": reason,
    }  # fmt: skip
    rows = [{**common, "person_id": person} for person in ids]
    if conn is not None:
        conn.execute(insert(access_log), rows)
        return
    with state.config.engine.begin() as own:
        own.execute(insert(access_log), rows)
