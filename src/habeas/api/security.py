"""Who is asking, and may they: bearer tokens, the permission each route needs, rate limits.

Each route declares exactly one permission with :func:`guard` (or :func:`public`);
the permission table itself is ``domain.access.POLICY`` and a test walks every
route × every role against it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import Connection, insert

from habeas.api.config import PREFIX, ApiConfig
from habeas.domain.access import Permission, Principal, allowed
from habeas.errors import Forbidden, Unauthenticated
from habeas.services.accounts import AccountService
from habeas.store.account_tables import access_log

bearer = HTTPBearer(auto_error=False, description="A session token from /auth/sign-in, or an API token")


@dataclass
class AppState:
    config: ApiConfig
    accounts: AccountService
    limiter: MovingWindowRateLimiter


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.habeas
    return state


def client_address(request: Request) -> str:
    host = request.client.host if request.client else "unknown"
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and host in app_state(request).config.trusted_proxies:
        return forwarded.split(",")[0].strip()
    return host


def principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    if credentials is None:
        raise Unauthenticated("send 'Authorization: Bearer <token>'")
    return app_state(request).accounts.authenticate(credentials.credentials)


def guard(permission: Permission) -> Any:
    """A dependency that admits only roles holding ``permission`` (domain.access.POLICY)."""

    def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if not allowed(who.role, permission):
            raise Forbidden(f"a {who.role.value} account may not {permission.value}")
        return who

    check.habeas_permission = permission  # type: ignore[attr-defined]  # read by the route x role test
    return Depends(check)


def rate_limited(kind: str) -> Callable[[Request], None]:
    def check(request: Request) -> None:
        state = app_state(request)
        limit = parse(state.config.public_rate if kind == "public" else state.config.sign_in_rate)
        key = client_address(request)
        if not state.limiter.hit(limit, kind, key):
            reset = state.limiter.get_window_stats(limit, kind, key).reset_time
            wait = max(1, int(reset - time.time()) + 1)  # the limiter keeps wall-clock windows
            raise HTTPException(429, f"too many requests from {key}; try again later", {"Retry-After": str(wait)})

    check.habeas_public = kind  # type: ignore[attr-defined]
    return check


def public() -> Any:
    return Depends(rate_limited("public"))


def new_limiter() -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(MemoryStorage())


def _reason(
    x_habeas_reason: Annotated[
        str | None, Header(max_length=500, description="Why you open this record (kept in the access log)")
    ] = None,
) -> str | None:
    return x_habeas_reason


def reason_header() -> Any:
    """The reader's stated reason for opening a record (``X-Habeas-Reason``), if given."""
    return Depends(_reason)


def log_reads(
    request: Request, who: Principal, person_ids: Iterable[str], reason: str | None, conn: Connection | None = None
) -> None:
    """Architecture: every read of a personal record by a non-public role is itself recorded.

    One row per person shown (a list, a group case of hundreds: one insert).  With ``conn``
    the rows are written in the caller's transaction (the read and its log commit together);
    otherwise in a transaction of their own.
    """
    ids = sorted(set(person_ids))
    if not ids:
        return
    state = app_state(request)
    template = getattr(request.scope.get("route"), "path", None)
    action = f"{request.method} {PREFIX + template if template else request.url.path}"[:200]
    common = {
        "at": state.config.clock(), "account_id": who.account_id, "username": who.username, "role": who.role.value,
        "ledger_id": state.config.ledger_id, "action": action, "reason": reason,
    }  # fmt: skip
    rows = [{**common, "person_id": person} for person in ids]
    if conn is not None:
        conn.execute(insert(access_log), rows)
        return
    with state.config.engine.begin() as own:
        own.execute(insert(access_log), rows)


def log_read(
    request: Request, who: Principal, person_id: str, reason: str | None, conn: Connection | None = None
) -> None:
    """:func:`log_reads` for one person."""
    log_reads(request, who, [person_id], reason, conn)
