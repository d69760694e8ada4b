"""Accounts, their tokens, failed sign-ins, and the log of who read whose record.

These are not projections: a password hash or a token hash is a secret the ledger
must never hold, so ``habeas rebuild`` leaves these tables alone.  What matters for
oversight (an account created, disabled, a token issued or revoked) is also recorded
as an event in the ledger, without the secret.  The read-access log is append-only
like the ledger (architecture: "every read of a personal record by a non-public role
is itself recorded").
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from habeas.store.tables import metadata
from habeas.store.types import UtcInstant

accounts = Table(
    "accounts", metadata,
    Column("account_id", String(36), primary_key=True),
    Column("username", String(80), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("role", String(40), nullable=False),
    Column("scope", String(200), nullable=True),
    Column("password_hash", Text, nullable=True),  # argon2id (PHC string); None: token-only system account
    Column("created_at", UtcInstant, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("disabled_at", UtcInstant, nullable=True),
    Column("disabled_reason", Text, nullable=True),
)  # fmt: skip

api_tokens = Table(
    "api_tokens", metadata,
    Column("token_hash", String(64), primary_key=True),  # SHA-256 of the token: the token itself is shown once
    Column("token_id", String(36), nullable=False, unique=True),
    Column("account_id", String(36), nullable=False),
    Column("kind", String(10), nullable=False),  # "session" (sign-in, short-lived) or "api" (systems)
    Column("name", String(200), nullable=False),
    Column("created_at", UtcInstant, nullable=False),
    Column("expires_at", UtcInstant, nullable=True),
    Column("revoked_at", UtcInstant, nullable=True),
)  # fmt: skip
Index("ix_api_tokens_account", api_tokens.c.account_id)

# Failed sign-ins, per account and source.  For most accounts the source is "*" (the
# account locks wherever the attempts come from); for oversight it is the client's
# address, so that nobody can lock an inspector out by failing on purpose elsewhere.
sign_in_failures = Table(
    "sign_in_failures", metadata,
    Column("account_id", String(36), primary_key=True),
    Column("source", String(100), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", UtcInstant, nullable=False),
    Column("locked_until", UtcInstant, nullable=True),
)  # fmt: skip

access_log = Table(
    "access_log", metadata,
    Column("entry_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", UtcInstant, nullable=False),
    Column("account_id", String(36), nullable=False),
    Column("username", String(80), nullable=False),
    Column("role", String(40), nullable=False),
    Column("ledger_id", String(64), nullable=False),
    Column("person_id", String(64), nullable=False),
    Column("action", String(200), nullable=False),  # what was read, e.g. "GET /api/v1/people/{id}"
    Column("reason", Text, nullable=True),  # why, if the reader gave one (X-Habeas-Reason)
)  # fmt: skip
Index("ix_access_log_person", access_log.c.ledger_id, access_log.c.person_id, access_log.c.at)
Index("ix_access_log_account", access_log.c.account_id, access_log.c.at)

ACCOUNT_TABLES = (accounts, api_tokens, sign_in_failures, access_log)
APPEND_ONLY_ACCOUNT_TABLES = ("access_log",)
