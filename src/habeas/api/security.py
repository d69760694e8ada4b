"""Who is asking, and may they: bearer tokens, the permission each route needs, rate limits.

Each route declares exactly one permission with :func:`guard` (or :func:`public`);
the permission table itself is ``domain.access.POLICY`` and a test walks every
route × every role against it.

A request takes one pooled connection (:func:`request_connection`): the token check
runs on it and the route's reads continue on it, in the same transaction.  Nothing
caches a token, so a revoked token fails on the very next request.  A command hands
the connection back (:func:`command_engine`) before its service opens its own, so a
request never holds two connections at once.  At most ``REQUEST_CONNECTIONS`` requests
per process hold one (the rest wait without a thread), so requests holding connections
while they wait for a thread can never starve token checks waiting for a connection.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import Connection, Engine, insert
from starlette.concurrency import run_in_threadpool

from habeas.api.config import PREFIX, REQUEST_CONNECTIONS, ApiConfig
from habeas.domain.access import Permission, Principal, allowed
from habeas.errors import Forbidden, Unauthenticated
from habeas.services.accounts import TOKEN_PREFIX, AccountService, authenticate
from habeas.store.account_tables import access_log
from habeas.store.engine import WRITE, is_sqlite

LOG_READ = insert(access_log)  # built once: on the hot path, building a statement costs more than running it
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


class RequestDatabase:
    """The request's one pooled connection, checked out on first use and handed back once."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.conn: Connection | None = None

    def connection(self) -> Connection:
        if self.conn is None or self.conn.closed:
            self.conn = self.engine.connect()
        return self.conn

    def release(self) -> None:
        """Back to the pool; whatever the request did not commit is rolled back."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    @property
    def holding(self) -> bool:
        return self.conn is not None and not self.conn.closed


async def request_database(request: Request) -> AsyncIterator[RequestDatabase]:
    """Dependency (of :func:`principal`): the request's connection holder.

    Routes close the connection themselves (``with request_connection(request) as conn``,
    in their own thread); this only hands back one left open, e.g. by a refused token,
    before the response is sent.
    """
    db = RequestDatabase(app_state(request).config.engine)
    request.state.habeas_db = db
    try:
        yield db
    finally:
        if db.holding:
            await run_in_threadpool(db.release)


def request_connection(request: Request) -> Connection:
    """The connection the token was checked on (still in its transaction), or a new one.

    Use it as ``with request_connection(request) as conn:``: leaving the block hands it
    back to the pool (rolled back unless the route committed).
    """
    db: RequestDatabase | None = getattr(request.state, "habeas_db", None)
    return db.connection() if db is not None else app_state(request).config.engine.connect()


def release_connection(request: Request) -> None:
    """Hand the request's connection back before a service opens its own (never two at once)."""
    db: RequestDatabase | None = getattr(request.state, "habeas_db", None)
    if db is not None:
        db.release()


def command_engine(request: Request) -> Engine:
    """The engine a command's service runs on, after the request's connection went back to the pool."""
    release_connection(request)
    return app_state(request).config.engine


@contextmanager
def audited_read(request: Request) -> Iterator[Connection]:
    """The request's connection for a read that logs itself: the read and its access-log rows commit together,
    before the answer is sent (an audited read is never shown unlogged).

    On SQLite the log's write lock is taken first (``BEGIN IMMEDIATE``): a read transaction that later writes
    fails at once if another writer committed meanwhile, while a writer waiting for the lock just queues.
    """
    with request_connection(request) as conn:
        if is_sqlite(conn):
            conn.commit()  # ends the token check's read transaction
            conn.execution_options(**{WRITE: True})
        yield conn
        conn.commit()


def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    db: Annotated[RequestDatabase, Depends(request_database, scope="function", max_concurrency=REQUEST_CONNECTIONS)],
) -> Principal:
    """Who the bearer token belongs to, checked against the database on every request (no cache)."""
    if credentials is None:
        raise Unauthenticated("send 'Authorization: Bearer <token>'")
    if not credentials.credentials.startswith(TOKEN_PREFIX):
        raise Unauthenticated("not a habeas token")
    return authenticate(db.connection(), credentials.credentials, app_state(request).config.clock())


def guard(permission: Permission) -> Any:
    """A dependency that admits only roles holding ``permission`` (domain.access.POLICY)."""

    async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:  # no I/O: no thread hop
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


async def _reason(
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
    values: dict[str, Any] | list[dict[str, Any]] = rows[0] if len(rows) == 1 else rows  # one row: no executemany
    if conn is not None:
        conn.execute(LOG_READ, values)
        return
    with state.config.engine.begin() as own:
        own.execute(LOG_READ, values)


def log_read(
    request: Request, who: Principal, person_id: str, reason: str | None, conn: Connection | None = None
) -> None:
    """:func:`log_reads` for one person."""
    log_reads(request, who, [person_id], reason, conn)
