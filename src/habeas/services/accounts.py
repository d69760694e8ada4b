"""Accounts: create, disable, sign in, tokens, and who a token belongs to.

Passwords are hashed with argon2id (RFC 9106) by argon2-cffi; tokens are random
(``secrets``), shown once, and stored as their SHA-256.  Every change of access
(an account created, disabled or enabled, a password changed, an API token issued
or revoked, a lockout) is also an event in the ledger, without the secret, so
oversight can see who was given access and who lost it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from habeas.domain import accounts as a
from habeas.domain.access import Principal, Role, check_scope, may_manage
from habeas.errors import Conflict, Forbidden, InvalidInput, Locked, NotFound, Problem, Unauthenticated
from habeas.ledger.timefmt import format_instant
from habeas.services.unit_of_work import Work, unit_of_work
from habeas.store.account_tables import accounts, api_tokens, sign_in_failures

Clock = Callable[[], datetime]
TOKEN_PREFIX = "hbs_"  # noqa: S105 - a prefix that makes leaked tokens easy to spot, not a secret
MIN_PASSWORD = 12  # NIST SP 800-63B asks for at least 8; these accounts open personal records
MAX_PASSWORD = 256


@dataclass(frozen=True)
class Session:
    token: str
    expires_at: datetime
    principal: Principal


@dataclass(frozen=True)
class IssuedToken:
    token_id: str
    token: str  # shown once; only its hash is kept
    expires_at: datetime | None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class AccountService:
    def __init__(
        self,
        engine: Engine,
        ledger_id: str,
        clock: Clock,
        hasher: PasswordHasher | None = None,
        lockout: a.LockoutPolicy | None = None,
        session_ttl: timedelta = timedelta(minutes=30),
    ) -> None:
        self.engine = engine
        self.ledger_id = ledger_id
        self.clock = clock
        self.hasher = hasher or PasswordHasher()  # argon2id, RFC 9106's second recommended parameters
        self.lockout = lockout or a.LockoutPolicy()
        self.session_ttl = session_ttl
        # Verified against when the username is unknown, so a wrong name costs as long as a wrong password.
        self._decoy = self.hasher.hash(secrets.token_hex(16))

    # --- managing accounts ------------------------------------------------------------------------

    def add(
        self,
        manager: Principal | None,
        username: str,
        display_name: str,
        role: str,
        password: str | None,
        scope: str | None = None,
    ) -> str:
        """Create an account; ``manager`` None is the server console.  Returns the account id."""
        problems = []
        try:
            role_ = Role(role)
        except ValueError:
            raise InvalidInput.one("role", f"must be one of {', '.join(r.value for r in Role)}") from None
        if not username or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
            problems.append(("username", "letters, digits, '.', '-' and '_' only, not empty"))
        if len(username) > 80:
            problems.append(("username", "at most 80 characters"))
        if not display_name.strip():
            problems.append(("display_name", "must not be empty"))
        if (why := check_scope(role_, scope)) is not None:
            problems.append(("scope", why))
        if password is not None and (why := _password_problem(password)) is not None:
            problems.append(("password", why))
        if problems:
            raise InvalidInput([Problem(f, r) for f, r in problems])
        self._may(manager, role_, "create")
        account_id = str(uuid4())
        now = self.clock()
        with self._work(manager) as work:
            if work.conn.execute(select(accounts.c.account_id).where(accounts.c.username == username)).first():
                raise Conflict("username", f"an account named {username!r} already exists")
            work.conn.execute(
                insert(accounts).values(
                    account_id=account_id, username=username, display_name=display_name.strip(), role=role_.value,
                    scope=scope, password_hash=None if password is None else self.hasher.hash(password),
                    created_at=now, created_by=_actor(manager), disabled_at=None, disabled_reason=None,
                )
            )  # fmt: skip
            work.add(
                "account.created",
                a.AccountCreated(
                    account_id=account_id, username=username, display_name=display_name, role=role_.value, scope=scope
                ),
                now,
            )
        return account_id

    def disable(self, manager: Principal | None, username: str, reason: str) -> None:
        self._set_disabled(manager, username, reason, disabled=True)

    def enable(self, manager: Principal | None, username: str, reason: str) -> None:
        self._set_disabled(manager, username, reason, disabled=False)

    def _set_disabled(self, manager: Principal | None, username: str, reason: str, *, disabled: bool) -> None:
        if not reason.strip():
            raise InvalidInput.one("reason", "say why (it is recorded in the ledger)")
        now = self.clock()
        with self._work(manager) as work:
            row = self._account(work.conn, username)
            self._may(manager, Role(row.role), "change")
            if disabled == (row.disabled_at is not None):
                raise Conflict("username", f"{username} is already {'disabled' if disabled else 'enabled'}")
            work.conn.execute(
                update(accounts)
                .where(accounts.c.account_id == row.account_id)
                .values(disabled_at=now if disabled else None, disabled_reason=reason if disabled else None)
            )
            if disabled:
                work.add(
                    "account.disabled",
                    a.AccountDisabled(account_id=row.account_id, username=username, reason=reason),
                    now,
                )
            else:
                work.add(
                    "account.enabled",
                    a.AccountEnabled(account_id=row.account_id, username=username, reason=reason),
                    now,
                )

    def set_password(self, manager: Principal | None, username: str, password: str) -> None:
        if (why := _password_problem(password)) is not None:
            raise InvalidInput.one("password", why)
        now = self.clock()
        with self._work(manager) as work:
            row = self._account(work.conn, username)
            if manager is None or manager.account_id != row.account_id:  # anyone may change their own
                self._may(manager, Role(row.role), "change")
            work.conn.execute(
                update(accounts)
                .where(accounts.c.account_id == row.account_id)
                .values(password_hash=self.hasher.hash(password))
            )
            work.add("account.password_changed", a.PasswordChanged(account_id=row.account_id, username=username), now)

    def issue_token(
        self, manager: Principal | None, username: str, name: str, expires_at: datetime | None = None
    ) -> IssuedToken:
        """A long-lived API token for a system (shown once, stored hashed, revocable)."""
        if not name.strip():
            raise InvalidInput.one("name", "name the token after the system that will use it")
        now = self.clock()
        if expires_at is not None and expires_at <= now:
            raise InvalidInput.one("expires_at", "must be in the future")
        token, token_id = new_token(), str(uuid4())
        with self._work(manager) as work:
            row = self._account(work.conn, username)
            if manager is None or manager.account_id != row.account_id:
                self._may(manager, Role(row.role), "change")
            if row.disabled_at is not None:
                raise Conflict("username", f"{username} is disabled")
            work.conn.execute(
                insert(api_tokens).values(
                    token_hash=token_hash(token), token_id=token_id, account_id=row.account_id, kind="api",
                    name=name.strip(), created_at=now, expires_at=expires_at, revoked_at=None,
                )
            )  # fmt: skip
            work.add(
                "account.token_issued",
                a.TokenIssued(account_id=row.account_id, token_id=token_id, name=name, expires_at=expires_at),
                now,
            )
        return IssuedToken(token_id, token, expires_at)

    def revoke_token(self, manager: Principal | None, token_id: str, reason: str) -> None:
        if not reason.strip():
            raise InvalidInput.one("reason", "say why (it is recorded in the ledger)")
        now = self.clock()
        with self._work(manager) as work:
            token = work.conn.execute(select(api_tokens).where(api_tokens.c.token_id == token_id)).first()
            if token is None:
                raise NotFound("token", token_id)
            owner = work.conn.execute(select(accounts).where(accounts.c.account_id == token.account_id)).one()
            if manager is None or manager.account_id != owner.account_id:
                self._may(manager, Role(owner.role), "change")
            if token.revoked_at is not None:
                raise Conflict("token_id", "this token is already revoked")
            work.conn.execute(update(api_tokens).where(api_tokens.c.token_id == token_id).values(revoked_at=now))
            if token.kind == "api":
                work.add(
                    "account.token_revoked",
                    a.TokenRevoked(account_id=owner.account_id, token_id=token_id, reason=reason),
                    now,
                )

    def account(self, username: str) -> dict[str, Any]:
        """One account as shown to managers (never its password hash)."""
        with self.engine.connect() as conn:
            row = self._account(conn, username)
        return {k: v for k, v in row._mapping.items() if k != "password_hash"}

    def list_accounts(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(accounts).order_by(accounts.c.username)).mappings()
            return [{k: v for k, v in r.items() if k != "password_hash"} for r in rows]

    def tokens_of(self, username: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            row = self._account(conn, username)
            rows = conn.execute(
                select(api_tokens).where(api_tokens.c.account_id == row.account_id).order_by(api_tokens.c.created_at)
            ).mappings()
            return [{k: v for k, v in r.items() if k != "token_hash"} for r in rows]

    # --- signing in -------------------------------------------------------------------------------

    def sign_in(self, username: str, password: str, client: str) -> Session:
        """A short-lived session token, or Unauthenticated / Locked (after repeated failures)."""
        now = self.clock()
        refusal: Exception | None = None
        lock: tuple[Any, str, datetime] | None = None
        with self.engine.begin() as conn:  # committed even when the sign-in is refused: failures count
            row = conn.execute(select(accounts).where(accounts.c.username == username)).first()
            if row is None or row.password_hash is None:
                _verify(self.hasher, self._decoy, password)
                raise Unauthenticated("wrong username or password")
            source = a.lockout_source(row.role, client)
            failures = _failures(conn, row.account_id, source)
            if a.locked(failures, now):
                assert failures is not None and failures.locked_until is not None
                raise Locked(format_instant(failures.locked_until))
            if not _verify(self.hasher, row.password_hash, password):
                after = a.after_failure(failures, now, self.lockout)
                _store_failures(conn, row.account_id, source, after, exists=failures is not None)
                if after.locked_until is not None:
                    lock = (row, source, after.locked_until)
                refusal = Unauthenticated("wrong username or password")
            elif row.disabled_at is not None:
                refusal = Unauthenticated("this account is disabled")
            else:
                if failures is not None:
                    _store_failures(conn, row.account_id, source, a.Failures(0, now, None), exists=True)
                token = new_token()
                expires = now + self.session_ttl
                conn.execute(
                    insert(api_tokens).values(
                        token_hash=token_hash(token), token_id=str(uuid4()), account_id=row.account_id,
                        kind="session", name=f"sign-in from {client}"[:200], created_at=now, expires_at=expires,
                        revoked_at=None,
                    )
                )  # fmt: skip
        if lock is not None:
            self._record_lock(*lock, now)
        if refusal is not None:
            raise refusal
        return Session(token, expires, _principal(row))

    def sign_out(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(api_tokens)
                .where(api_tokens.c.token_hash == token_hash(token), api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=self.clock())
            )

    def authenticate(self, token: str) -> Principal:
        """The account a bearer token belongs to; Unauthenticated if unknown, expired, revoked or disabled."""
        if not token.startswith(TOKEN_PREFIX):
            raise Unauthenticated("not a habeas token")
        with self.engine.connect() as conn:
            return authenticate(conn, token, self.clock())

    # --- helpers ----------------------------------------------------------------------------------

    def _work(self, manager: Principal | None) -> Any:
        return unit_of_work(self.engine, self.ledger_id, _actor(manager), self.clock())

    @staticmethod
    def _may(manager: Principal | None, target: Role, action: str) -> None:
        if (why := may_manage(None if manager is None else manager.role, target, action)) is not None:
            raise Forbidden(why)

    @staticmethod
    def _account(conn: Connection, username: str) -> Any:
        row = conn.execute(select(accounts).where(accounts.c.username == username)).first()
        if row is None:
            raise NotFound("account", username)
        return row

    def _record_lock(self, row: Any, source: str, until: datetime, now: datetime) -> None:
        # In its own transaction: the lock is recorded even though the sign-in is refused.
        with unit_of_work(self.engine, self.ledger_id, "system:accounts", now) as work:
            work.add(
                "account.locked",
                a.AccountLocked(account_id=row.account_id, username=row.username, source=source, locked_until=until),
                now,
            )


# Built once: every API request runs it, and building a statement costs more CPU than running it.
TOKEN_OWNER = (
    select(
        api_tokens.c.expires_at, api_tokens.c.revoked_at, accounts.c.account_id, accounts.c.username,
        accounts.c.role, accounts.c.scope, accounts.c.disabled_at,
    )
    .join(accounts, accounts.c.account_id == api_tokens.c.account_id)
    .where(api_tokens.c.token_hash == bindparam("token_hash"))
)  # fmt: skip


def authenticate(conn: Connection, token: str, now: datetime) -> Principal:
    row = conn.execute(TOKEN_OWNER, {"token_hash": token_hash(token)}).first()
    if row is None:
        raise Unauthenticated("unknown token")
    if row.revoked_at is not None:
        raise Unauthenticated("this token was revoked")
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthenticated("this token has expired; sign in again")
    if row.disabled_at is not None:
        raise Unauthenticated("this account is disabled")
    return _principal(row)


def _principal(row: Any) -> Principal:
    return Principal(row.account_id, row.username, Role(row.role), row.scope)


def _actor(manager: Principal | None) -> str:
    return "console" if manager is None else manager.actor


def _verify(hasher: PasswordHasher, hashed: str, password: str) -> bool:
    try:
        return hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"at most {MAX_PASSWORD} characters"
    return None


def _failures(conn: Connection, account_id: str, source: str) -> a.Failures | None:
    row = conn.execute(
        select(sign_in_failures).where(sign_in_failures.c.account_id == account_id, sign_in_failures.c.source == source)
    ).first()
    return None if row is None else a.Failures(row.failures, row.last_failure_at, row.locked_until)


def _store_failures(conn: Connection, account_id: str, source: str, record: a.Failures, *, exists: bool) -> None:
    values = {
        "failures": record.failures,
        "last_failure_at": record.last_failure_at,
        "locked_until": record.locked_until,
    }
    if exists:
        conn.execute(
            update(sign_in_failures)
            .where(sign_in_failures.c.account_id == account_id, sign_in_failures.c.source == source)
            .values(**values)
        )
    else:
        conn.execute(insert(sign_in_failures).values(account_id=account_id, source=source, **values))


__all__ = ["AccountService", "IssuedToken", "Session", "Work", "authenticate", "token_hash"]
