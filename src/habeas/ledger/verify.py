"""Re-check a whole ledger: the chain, the Merkle tree, the head, and every checkpoint.

This is what ``habeas verify`` runs and what an inspector relies on (MR 83–85;
APT's register checklist: entries deleted, inserted or altered afterwards).  It
reads the events in order once and stops at the first thing wrong, naming the
sequence number and what is wrong with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, select

from habeas.ledger import merkle
from habeas.ledger.checkpoint import Checkpoint, CheckpointError, Verifier, parse_checkpoint
from habeas.ledger.envelope import GENESIS_HASH
from habeas.ledger.log import read_head
from habeas.store.tables import checkpoints


@dataclass
class VerifyReport:
    ledger_id: str
    size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    checkpoints_checked: int = 0
    bad_seq: int | None = None
    problem: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None

    def fail(self, seq: int | None, problem: str) -> VerifyReport:
        self.bad_seq, self.problem = seq, problem
        return self


@dataclass(frozen=True)
class _Expected:
    """A tree head the ledger must reproduce: from the database or from outside it."""

    checkpoint: Checkpoint
    source: str


def _load_checkpoints(
    conn: Connection, ledger_id: str, origin: str, verifier: Verifier | None, external: Sequence[str]
) -> tuple[list[_Expected], str | None]:
    expected: list[_Expected] = []
    rows = conn.execute(
        select(checkpoints.c.size, checkpoints.c.root, checkpoints.c.note)
        .where(checkpoints.c.ledger_id == ledger_id)
        .order_by(checkpoints.c.size)
    )
    for row in rows:
        try:
            cp = verifier.verify(row.note) if verifier else parse_checkpoint(row.note.split("\n\n")[0] + "\n")
        except CheckpointError as error:
            return expected, f"stored checkpoint at size {row.size}: {error}"
        if cp.size != row.size or cp.root != bytes(row.root):
            return expected, f"stored checkpoint at size {row.size}: its columns disagree with its signed note"
        expected.append(_Expected(cp, f"stored checkpoint at size {row.size}"))
    for index, text in enumerate(external):
        try:
            cp = verifier.verify(text) if verifier else parse_checkpoint(text.split("\n\n")[0] + "\n")
        except CheckpointError as error:
            return expected, f"checkpoint file {index + 1}: {error}"
        expected.append(_Expected(cp, f"checkpoint file {index + 1} (size {cp.size})"))
    for item in expected:
        if item.checkpoint.origin != origin:
            return expected, f"{item.source} is for log {item.checkpoint.origin!r}, not {origin!r}"
    expected.sort(key=lambda item: item.checkpoint.size)
    return expected, None


_SQLITE_ROWS = (
    "SELECT seq, event_id, type, schema_version, actor, occurred_at, recorded_at, body, prev_hash, hash, "
    "merkle_nodes FROM events WHERE ledger_id = ? AND seq > ? ORDER BY seq LIMIT ?"
)
# PostgreSQL hands the instants over in the envelope's own text form, so nothing is parsed.
_PG_INSTANT = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
_POSTGRES_ROWS = (
    "SELECT seq, event_id, type, schema_version, actor, "
    + _PG_INSTANT.format("occurred_at") + ", " + _PG_INSTANT.format("recorded_at")
    + ", body, prev_hash, hash, merkle_nodes FROM events WHERE ledger_id = %s AND seq > %s ORDER BY seq LIMIT %s"
)
_CHUNK = 20_000


def _rows(conn: Connection, ledger_id: str) -> Iterator[tuple[Any, ...]]:
    """Every event row in order, in chunks by sequence number, straight from the driver."""
    sql = _SQLITE_ROWS if conn.dialect.name == "sqlite" else _POSTGRES_ROWS
    after = 0
    while True:
        chunk = conn.exec_driver_sql(sql, (ledger_id, after, _CHUNK)).fetchall()
        yield from chunk
        if len(chunk) < _CHUNK:
            return
        after = chunk[-1][0]


def verify_ledger(
    conn: Connection,
    ledger_id: str,
    verifier: Verifier | None = None,
    external_checkpoints: Sequence[str] = (),
) -> VerifyReport:
    report = VerifyReport(ledger_id)
    head = read_head(conn, ledger_id)
    expected, problem = _load_checkpoints(conn, ledger_id, head.origin, verifier, external_checkpoints)
    if problem:
        return report.fail(None, problem)
    if verifier is None:
        report.notes.append("no verifier key given: checkpoint signatures were not checked")

    sha256 = hashlib.sha256
    leaf_hash = merkle.leaf_hash
    append_leaf = merkle.append_leaf
    dumps = orjson.dumps
    frontier: list[bytes] = []
    prev = GENESIS_HASH
    size = 0
    next_cp = 0
    quoted_ledger = dumps(ledger_id)
    for seq, event_id, type_, version, actor, occurred, recorded, body, prev_hash, digest, nodes in _rows(
        conn, ledger_id
    ):
        expected_seq = size + 1
        if seq != expected_seq:
            what = "missing (deleted?)" if seq > expected_seq else "out of order"
            return report.fail(expected_seq, f"event {expected_seq} is {what}: found {seq} next")
        body = bytes(body)
        if bytes(prev_hash) != prev:
            return report.fail(
                seq, "prev_hash does not match the previous event's hash (removed, inserted or reordered)"
            )
        actual = sha256(prev + body).digest()
        if actual != bytes(digest):
            return report.fail(seq, "hash does not match the event's content (altered)")
        # The indexed columns must say what the hashed envelope says.  The envelope is RFC 8785
        # with keys in a fixed order around the payload, so the columns determine its exact
        # beginning and end: comparing bytes avoids parsing every event's JSON.
        front = b'{"actor":%b,"event_id":%b,"ledger_id":%b,"occurred_at":"%b","payload":' % (
            dumps(actor), dumps(event_id), quoted_ledger, occurred.encode()
        )
        back = b',"recorded_at":"%b","schema_version":%d,"seq":%d,"type":%b}' % (
            recorded.encode(), version, seq, dumps(type_)
        )
        if not (body.startswith(front) and body.endswith(back)):
            return report.fail(seq, "the indexed columns disagree with the hashed envelope (altered)")
        completed = append_leaf(frontier, size, leaf_hash(actual))
        if b"".join(completed) != bytes(nodes):
            return report.fail(seq, "stored Merkle nodes do not match the events (proofs would lie)")
        size = seq
        prev = actual
        while next_cp < len(expected) and expected[next_cp].checkpoint.size == size:
            if merkle.root_from_frontier(frontier) != expected[next_cp].checkpoint.root:
                return report.fail(
                    size, f"{expected[next_cp].source}: the root at size {size} differs (history rewritten)"
                )
            report.checkpoints_checked += 1
            next_cp += 1
    report.size = size
    report.root = merkle.root_from_frontier(frontier)
    if next_cp < len(expected):
        missing = expected[next_cp]
        return report.fail(
            size + 1,
            f"{missing.source} covers {missing.checkpoint.size} events but only {size} are stored (deleted)",
        )
    if head.size != size or head.head_hash != prev:
        return report.fail(
            min(head.size, size) + 1 if head.size != size else size,
            f"the ledger head says {head.size} events; {size} are stored",
        )
    if head.frontier != frontier:
        return report.fail(size, "the ledger head's Merkle frontier does not match the events")
    return report
