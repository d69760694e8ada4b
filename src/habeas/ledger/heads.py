"""Signed tree heads: sign the ledger's current Merkle root and keep the note.

A checkpoint is only worth something once a copy has left the system (an
inspector's laptop, a court's file, a public mirror): then a later rewrite of
anything it covers shows, even to someone who never had database access.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, insert, select

from habeas.ledger.checkpoint import Checkpoint, Signer
from habeas.ledger.log import read_head
from habeas.store.engine import write_transaction
from habeas.store.tables import checkpoints, ledgers


@dataclass(frozen=True)
class StoredCheckpoint:
    ledger_id: str
    size: int
    root: bytes
    signed_at: datetime
    note: str


def sign_checkpoint(engine: Engine, ledger_id: str, signer: Signer, signed_at: datetime) -> StoredCheckpoint:
    """Sign the current head (or return the checkpoint already stored for this size)."""
    with write_transaction(engine) as conn:
        head = read_head(conn, ledger_id, lock=True)
        existing = conn.execute(
            select(checkpoints).where(checkpoints.c.ledger_id == ledger_id, checkpoints.c.size == head.size)
        ).first()
        if existing is not None:
            return _stored(existing)
        signed = signer.sign(Checkpoint(head.origin, head.size, head.root))
        conn.execute(
            insert(checkpoints).values(
                ledger_id=ledger_id, size=head.size, root=head.root, signed_at=signed_at, note=signed.text
            )
        )
        return StoredCheckpoint(ledger_id, head.size, head.root, signed_at, signed.text)


def list_checkpoints(conn: Connection, ledger_id: str) -> list[StoredCheckpoint]:
    rows = conn.execute(select(checkpoints).where(checkpoints.c.ledger_id == ledger_id).order_by(checkpoints.c.size))
    return [_stored(row) for row in rows]


def checkpoint_at(conn: Connection, ledger_id: str, size: int) -> StoredCheckpoint | None:
    row = conn.execute(
        select(checkpoints).where(checkpoints.c.ledger_id == ledger_id, checkpoints.c.size == size)
    ).first()
    return _stored(row) if row is not None else None


def first_checkpoint_covering(conn: Connection, ledger_id: str, seq: int) -> StoredCheckpoint | None:
    """The newest checkpoint whose tree includes event ``seq``."""
    row = conn.execute(
        select(checkpoints)
        .where(checkpoints.c.ledger_id == ledger_id, checkpoints.c.size >= seq)
        .order_by(checkpoints.c.size.desc())
        .limit(1)
    ).first()
    return _stored(row) if row is not None else None


def record_verifier_key(conn: Connection, ledger_id: str, verifier_key: str) -> None:
    """Keep the public key beside the ledger for display; verification never trusts this copy."""
    read_head(conn, ledger_id, lock=True)
    conn.execute(ledgers.update().where(ledgers.c.ledger_id == ledger_id).values(verifier_key=verifier_key))


def _stored(row: object) -> StoredCheckpoint:
    r = row._mapping  # type: ignore[attr-defined]
    return StoredCheckpoint(r["ledger_id"], r["size"], bytes(r["root"]), r["signed_at"], r["note"])
