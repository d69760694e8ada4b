"""Accounts as the ledger sees them, and the sign-in lockout rule.

The ledger records who was given access and who lost it (never a password or a
token), so oversight can see that nobody was quietly added or locked out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from habeas.domain.types import Identifier, Instant, Name, Payload, Text


class AccountCreated(Payload):
    account_id: Identifier
    username: Name
    display_name: Name
    role: Name
    scope: Name | None = None


class AccountDisabled(Payload):
    account_id: Identifier
    username: Name
    reason: Text


class AccountEnabled(Payload):
    account_id: Identifier
    username: Name
    reason: Text


class PasswordChanged(Payload):
    account_id: Identifier
    username: Name


class TokenIssued(Payload):
    """A long-lived API token for a system; the token itself is shown once and stored hashed."""

    account_id: Identifier
    token_id: Identifier
    name: Name
    expires_at: Instant | None = None


class TokenRevoked(Payload):
    account_id: Identifier
    token_id: Identifier
    reason: Text


class AccountLocked(Payload):
    """Repeated failed sign-ins locked an account (or, for oversight, one source address)."""

    account_id: Identifier
    username: Name
    source: Name
    locked_until: Instant


@dataclass(frozen=True)
class LockoutPolicy:
    """After ``max_failures`` failed sign-ins within ``window``, refuse sign-in for ``lock_for``.

    The figures follow NIST SP 800-63B §5.2.2 (limit failed attempts; at most 100),
    deliberately stricter here because staff accounts open personal records.
    """

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lock_for: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Failures:
    failures: int
    last_failure_at: datetime
    locked_until: datetime | None


def after_failure(previous: Failures | None, at: datetime, policy: LockoutPolicy) -> Failures:
    """The failure record after one more failed sign-in at ``at``."""
    fresh = previous is None or at - previous.last_failure_at > policy.window
    count = 1 if fresh or previous is None else previous.failures + 1
    locked_until = at + policy.lock_for if count >= policy.max_failures else None
    return Failures(count, at, locked_until)


def locked(record: Failures | None, at: datetime) -> bool:
    return record is not None and record.locked_until is not None and at < record.locked_until


def lockout_source(role: str, client: str) -> str:
    """Which failures count together: the whole account, or (oversight) only this client's.

    An inspector must not be lockable by someone failing on purpose from elsewhere
    (architecture: oversight "may not be disabled by the facility").
    """
    return client if role == "oversight" else "*"


TokenKind = Literal["session", "api"]
