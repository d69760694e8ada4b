"""Re-check a whole ledger: the chain, the Merkle tree, the head, and every checkpoint.

This is what ``habeas verify`` runs and what an inspector relies on (MR 83–85;
APT's register checklist: entries deleted, inserted or altered afterwards).  It
reads the events in order once and stops at the first thing wrong, naming the
sequence number and what is wrong with it.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, select
from sqlalchemy.pool import NullPool

from habeas.ledger import merkle
from habeas.ledger.checkpoint import Checkpoint, CheckpointError, Verifier, parse_checkpoint
from habeas.ledger.envelope import GENESIS_HASH
from habeas.ledger.log import read_head
from habeas.store.engine import make_engine
from habeas.store.tables import checkpoints, events


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


# PostgreSQL hands the instants over in the envelope's own text form, so nothing is parsed.
_PG_INSTANT = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
_CHUNK = 20_000


@dataclass
class _Segment:
    """What scanning a run of events found: enough for the caller to stitch runs together."""

    first_seq: int
    assumed_prev: bytes  # the hash the run's first event chains to
    last_seq: int = 0
    last_hash: bytes = b""
    frontier: list[bytes] = field(default_factory=list)  # Merkle frontier of the run alone
    frontiers_at: dict[int, list[bytes]] = field(default_factory=dict)  # at the sizes asked for
    spill: bytes = b""  # stored nodes above the run's own subtree (for the caller to check)
    bad_seq: int | None = None
    problem: str | None = None


def _scan(rows: Iterable[tuple[Any, ...]], ledger_id: str, first_seq: int, prev: bytes,
          sizes: Sequence[int] = (), aligned_run: bool = False) -> _Segment:  # fmt: skip
    """Check a run of events from ``first_seq`` on: chain, content, columns and Merkle nodes.

    With ``aligned_run`` the run starts at a multiple of a power of two and covers that
    many events; the nodes its last event completes above the run's subtree are returned
    in ``spill`` instead of being checked here.
    """
    out = _Segment(first_seq, prev)
    sha256 = hashlib.sha256
    leaf_hash = merkle.leaf_hash
    append_leaf = merkle.append_leaf
    dumps = orjson.dumps
    quoted_ledger = dumps(ledger_id)
    frontier = out.frontier
    wanted = set(sizes)
    local = 0
    for seq, event_id, type_, version, actor, occurred, recorded, body, prev_hash, digest, nodes in rows:
        expected_seq = first_seq + local
        if seq != expected_seq:
            what = "missing (deleted?)" if seq > expected_seq else "out of order"
            out.bad_seq, out.problem = expected_seq, f"event {expected_seq} is {what}: found {seq} next"
            return out
        if prev_hash != prev:
            out.bad_seq = seq
            out.problem = "prev_hash does not match the previous event's hash (removed, inserted or reordered)"
            return out
        actual = sha256(prev + body).digest()
        if actual != digest:
            out.bad_seq, out.problem = seq, "hash does not match the event's content (altered)"
            return out
        # The indexed columns must say what the hashed envelope says.  The envelope is RFC 8785
        # with keys in a fixed order around the payload, so the columns determine its exact
        # beginning and end: comparing bytes avoids parsing every event's JSON.
        front = b'{"actor":%b,"event_id":%b,"ledger_id":%b,"occurred_at":"%b","payload":' % (
            dumps(actor),
            dumps(event_id),
            quoted_ledger,
            occurred.encode(),
        )
        back = b',"recorded_at":"%b","schema_version":%d,"seq":%d,"type":%b}' % (
            recorded.encode(),
            version,
            seq,
            dumps(type_),
        )
        if not (body.startswith(front) and body.endswith(back)):
            out.bad_seq, out.problem = seq, "the indexed columns disagree with the hashed envelope (altered)"
            return out
        computed = b"".join(append_leaf(frontier, local, leaf_hash(actual)))
        local += 1
        if nodes != computed:
            if aligned_run and nodes.startswith(computed) and len(frontier) == 1:
                out.spill = nodes[len(computed) :]
            else:
                out.bad_seq, out.problem = seq, "stored Merkle nodes do not match the events (proofs would lie)"
                return out
        if seq in wanted:
            out.frontiers_at[seq] = list(frontier)
        prev = actual
    out.last_seq, out.last_hash = first_seq + local - 1, prev
    return out


_ROW_COLUMNS = "seq, event_id, type, schema_version, actor, {occurred}, {recorded}, body, prev_hash, hash, merkle_nodes"


def _select(dialect: str, bounded: bool) -> str:
    if dialect == "sqlite":
        cols = _ROW_COLUMNS.format(occurred="occurred_at", recorded="recorded_at")
        mark = "?"
    else:  # PostgreSQL hands the instants over in the envelope's own text form
        cols = _ROW_COLUMNS.format(
            occurred=_PG_INSTANT.format("occurred_at"), recorded=_PG_INSTANT.format("recorded_at")
        )
        mark = "%s"
    upper = f" AND seq <= {mark}" if bounded else ""
    return f"SELECT {cols} FROM events WHERE ledger_id = {mark} AND seq > {mark}{upper} ORDER BY seq LIMIT {mark}"


def _rows(conn: Connection, ledger_id: str, after: int = 0, upto: int | None = None) -> Iterator[tuple[Any, ...]]:
    """Event rows in order, in chunks by sequence number, straight from the driver (bytes as bytes)."""
    sql = _select(conn.dialect.name, upto is not None)
    while True:
        params = (ledger_id, after, upto, _CHUNK) if upto is not None else (ledger_id, after, _CHUNK)
        chunk = conn.exec_driver_sql(sql, params).fetchall()
        yield from chunk  # both drivers return BLOB/bytea as bytes
        if len(chunk) < _CHUNK:
            return
        after = chunk[-1][0]


def _stored_hash(conn: Connection, ledger_id: str, seq: int) -> bytes:
    if seq == 0:
        return GENESIS_HASH
    row = conn.execute(select(events.c.hash).where(events.c.ledger_id == ledger_id, events.c.seq == seq)).first()
    return bytes(row[0]) if row is not None else b""


# --- running runs in parallel ------------------------------------------------------------------


def default_workers() -> int:
    """Processes ``habeas verify --workers`` offers by default: one per core (the scan is CPU-bound)."""
    return max(1, min(8, os.cpu_count() or 1))


RUN_LEVEL = 15  # runs of 2**15 events: each a perfect Merkle subtree, so runs check independently
_worker_engine: dict[str, Engine] = {}


def _scan_run(job: tuple[str, str, int, bool, tuple[int, ...], int]) -> _Segment:
    """In a worker process: read one run of events with its own connection and scan it."""
    url, ledger_id, first_seq, last_run, sizes, run = job
    engine = _worker_engine.get(url)
    if engine is None:
        engine = _worker_engine[url] = make_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        prev = _stored_hash(conn, ledger_id, first_seq - 1)
        upto = None if last_run else first_seq + run - 1
        return _scan(_rows(conn, ledger_id, first_seq - 1, upto), ledger_id, first_seq, prev, sizes, True)


def _scan_parallel(
    conn: Connection, ledger_id: str, size: int, sizes: Sequence[int], workers: int, run: int
) -> _Segment:
    """Scan a large ledger in runs of ``run`` events on several processes, then stitch the runs."""
    url = conn.engine.url.render_as_string(hide_password=False)
    starts = list(range(1, size + 1, run))
    jobs = [
        (url, ledger_id, start, start == starts[-1], tuple(s for s in sizes if start <= s < start + run), run)
        for start in starts
    ]
    whole = _Segment(1, GENESIS_HASH)
    high: list[bytes] = []  # the frontier of whole runs: perfect subtrees of RUN_LEVEL and above
    # forkserver, not fork: a forked copy of a process with open database connections and
    # threads can inherit held locks; the server is a clean process that forks the workers.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["habeas.ledger.verify"])
    with context.Pool(workers) as pool:
        for number, part in enumerate(pool.imap(_scan_run, jobs)):
            if part.problem is not None:
                whole.bad_seq, whole.problem = part.bad_seq, part.problem
                return whole
            if part.assumed_prev != (whole.last_hash or GENESIS_HASH):
                whole.bad_seq = part.first_seq
                whole.problem = "prev_hash does not match the previous event's hash (removed, inserted or reordered)"
                return whole
            count = part.last_seq - part.first_seq + 1
            if count < run and not jobs[number][3]:
                whole.bad_seq = part.last_seq + 1
                whole.problem = f"event {part.last_seq + 1} is missing (deleted?)"
                return whole
            for seq, local in part.frontiers_at.items():
                whole.frontiers_at[seq] = high + local
            if count == run:
                # A whole run is one perfect subtree: it joins the frontier like a leaf one level up.
                completed = b"".join(merkle.append_leaf(high, number, part.frontier[0]))
                if completed != part.spill:
                    whole.bad_seq = part.last_seq
                    whole.problem = "stored Merkle nodes do not match the events (proofs would lie)"
                    return whole
                whole.frontier = list(high)
            else:
                whole.frontier = high + part.frontier
            whole.last_seq, whole.last_hash = part.last_seq, part.last_hash
    return whole


def verify_ledger(
    conn: Connection,
    ledger_id: str,
    verifier: Verifier | None = None,
    external_checkpoints: Sequence[str] = (),
    workers: int = 1,
    run_level: int = RUN_LEVEL,
) -> VerifyReport:
    """Check everything; with ``workers`` > 1, large ledgers are scanned on that many processes."""
    report = VerifyReport(ledger_id)
    head = read_head(conn, ledger_id)
    expected, problem = _load_checkpoints(conn, ledger_id, head.origin, verifier, external_checkpoints)
    if problem:
        return report.fail(None, problem)
    if verifier is None:
        report.notes.append("no verifier key given: checkpoint signatures were not checked")
    sizes = sorted({item.checkpoint.size for item in expected})
    run = 1 << run_level
    parallel = workers > 1 and head.size >= 2 * run and conn.engine.url.database not in (None, "", ":memory:")
    if parallel:
        scan = _scan_parallel(conn, ledger_id, head.size, sizes, workers, run)
    else:
        scan = _scan(_rows(conn, ledger_id), ledger_id, 1, GENESIS_HASH, sizes)
    if scan.problem is not None:
        return report.fail(scan.bad_seq, scan.problem)
    size, prev, frontier = scan.last_seq, scan.last_hash or GENESIS_HASH, scan.frontier
    for item in expected:
        cp = item.checkpoint
        if cp.size > size:
            return report.fail(size + 1, f"{item.source} covers {cp.size} events but only {size} are stored (deleted)")
        root = merkle.root_from_frontier(scan.frontiers_at.get(cp.size, []))
        if root != cp.root:
            return report.fail(cp.size, f"{item.source}: the root at size {cp.size} differs (history rewritten)")
        report.checkpoints_checked += 1
    report.size = size
    report.root = merkle.root_from_frontier(frontier)
    if head.size != size or head.head_hash != prev:
        return report.fail(
            min(head.size, size) + 1 if head.size != size else size,
            f"the ledger head says {head.size} events; {size} are stored",
        )
    if head.frontier != frontier:
        return report.fail(size, "the ledger head's Merkle frontier does not match the events")
    return report


def verify_in_snapshot(
    engine: Engine,
    ledger_id: str,
    verifier: Verifier | None = None,
    external_checkpoints: Sequence[str] = (),
    workers: int = 1,
) -> VerifyReport:
    """:func:`verify_ledger` on a connection of its own that sees one snapshot of the ledger.

    Under PostgreSQL's default isolation each statement sees what was committed before it, so an event
    appended between the head's read and the scan would be counted as stored beyond the head — a rewrite,
    wrongly — on a register in use.  REPEATABLE READ fixes one snapshot for the whole check; SQLite's read
    transaction is a snapshot already.  The parallel scan (``workers`` > 1) reads on processes of its own,
    outside this snapshot: use it on a copy or a quiet register.
    """
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as conn:
        return verify_ledger(conn, ledger_id, verifier, external_checkpoints, workers)
