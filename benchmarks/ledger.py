"""How fast the ledger appends and verifies, against baselines on the same machine.

Run::

    uv run python benchmarks/ledger.py                      # both backends, full sizes (~2-3 min)
    uv run python benchmarks/ledger.py --quick              # both backends, under a minute
    uv run python benchmarks/ledger.py --backend sqlite --events 50000 --verify-events 500000
    uv run python benchmarks/ledger.py --backend postgresql --postgres-url postgresql://...
    uv run python benchmarks/ledger.py --quick --profile    # + cProfile of append and verify

Sizes: ``--events N`` events at batch 100 and again at batch 1,000 (default 20,000,
quick 10,000), N/20 at batch 1 (each its own fsync'd transaction), and a ledger of
``--verify-events`` (default 200,000, quick 50,000) for the verify figure.

The PostgreSQL URL defaults to ``$HABEAS_TEST_POSTGRES_URL``, else
``postgresql://postgres@127.0.0.1:5432/test``; the benchmark creates its own
databases there (``habeas_bench_<hex>``) and drops them at the end.  SQLite
databases are files in a temporary directory.

What is measured, per backend (events per second; wall clock, ``time.perf_counter``):

1. **Append** at batch sizes 1, 100 and 1,000.
   *Ours*: ``Ledger.append(batch, recorded_at)`` — validation of each
   ``note.recorded`` payload against its schema, canonical (RFC 8785) encoding,
   the hash chain, the Merkle nodes, the insert and the head update, one
   transaction per batch.  The events (dict payloads, fresh uuid4 ids) are built
   before timing starts.
   *Raw*: the very rows our path stored, read back (every column of ``events``),
   with only ``ledger_id`` (a second ledger) and ``event_id`` (unique) rewritten,
   inserted again in the same database with the same batch sizes, one
   transaction per batch, through ``habeas.store.bulk.insert_rows`` inside
   ``write_transaction(engine)``.  So the baseline pays the same indexes, fsync
   and transaction cost, and none of the validation, encoding or hashing.
   Target: ours/raw >= 0.5 at batch 100 and 1,000.
2. **Verify**: ``verify_ledger(conn, ledger_id, workers=default_workers())`` (what
   ``habeas verify`` runs: one process per core, runs of 2**15 events), and with one
   process, over one ledger of N events,
   against plain ``hashlib.sha256(prev_hash + body)`` over the same rows'
   ``prev_hash`` and ``body``, read in ``seq`` order from the same database on the
   same kind of connection, streamed the same way.  Best of two runs each.
   Target: ours/sha256 >= 0.5.
3. **Peer**: the ``eventsourcing`` library's application recorder
   (``SQLiteApplicationRecorder`` / ``PostgresApplicationRecorder``) storing the same
   events at the same batch sizes, in a database of its own on the same disk or
   server.  Each event is its own aggregate (originator id = our event id,
   version 1) — like our one-note-per-person payloads — and its ``state`` is our
   canonical payload JSON.  Only the recorder is timed: it neither validates nor
   hashes nor encodes.  The application recorder (rather than the aggregate one)
   because it keeps a total order of all events, as our ledger does.  Durability as
   the library leaves it: on PostgreSQL the server's ``synchronous_commit``; on
   SQLite, WAL and *no* ``synchronous`` pragma, so the build's default applies
   (printed; FULL with the usual builds, the same as ours).
   Target: ours/eventsourcing > 1 at batch 100.

Each append figure alternates ours, raw and eventsourcing in 10 rounds over the
same events, so drift on the machine (autovacuum, neighbours, the PostgreSQL
server sharing our CPUs) falls on all three alike; the table also shows the
quartiles of the per-round ours/raw ratios, a measure of that noise.  On SQLite
each timed stretch starts with an empty WAL (see :meth:`Bench.settle`).  A
readable table is printed, then, as the very last line, one JSON object with every
rate and ratio (and ``targets_met``) for scripts.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import io
import json
import pstats
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from eventsourcing.persistence import StoredEvent as EsStoredEvent
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, select
from sqlalchemy.engine import URL

from _common import (
    default_postgres_url,
    fmt_rate,
    fmt_ratio,
    machine_info,
    per_second,
    ratio,
    scratch_postgres_database,
    url_string,
)
from habeas.domain.events import REGISTRY
from habeas.errors import InvalidInput
from habeas.ledger.envelope import NewEvent
from habeas.ledger.log import EVENT_COLUMNS, Ledger, create_ledger
from habeas.ledger.verify import default_workers, verify_ledger
from habeas.store.bulk import insert_rows
from habeas.store.engine import make_engine, write_transaction
from habeas.store.migrate import upgrade
from habeas.store.tables import events

BATCH_SIZES = (1, 100, 1000)
APPEND_TARGET = 0.5  # ours/raw at batch 100 and 1,000
VERIFY_TARGET = 0.5  # ours/sha256
PEER_TARGET = 1.0  # ours/eventsourcing at batch 100, strictly greater
EVENT_TYPE = "note.recorded"
ES_TOPIC = "habeas.domain.events:NoteRecorded"
SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


@dataclass(frozen=True)
class Sizes:
    single: int  # events appended one per transaction
    batched: int  # events appended at batch 100, and again at batch 1,000
    verify: int  # events in the ledger that is verified
    rounds: int  # ours / raw / eventsourcing alternate this many times per batch size

    def events_for(self, batch: int) -> int:
        return self.single if batch == 1 else self.batched


# --- synthetic events ----------------------------------------------------------------------


_PHRASES = (
    "transferred to wing B after medical assessment",
    "property receipt signed",
    "family notified by telephone",
    "legal counsel visit logged",
    "complaint registered with the duty officer",
    "detainee informed of rights in a language understood",
    "cell inspection found no defects",
    "outdoor exercise one hour",
    "meal refused, reason recorded",
    "interpreter present",
    "court date confirmed by the registry",
    "medication handed over by the nurse on duty",
)


def references_container() -> type[list[str]] | type[tuple[str, ...]]:
    """A list, as JSON gives it, unless the ``note.recorded`` schema (strict) wants a tuple."""
    sample = {"subject": "person:1", "text": "probe", "references": ["doc:1"]}
    try:
        REGISTRY.encode_payload(EVENT_TYPE, sample)
    except InvalidInput:
        return tuple
    return list


class EventFactory:
    """Realistic ``note.recorded`` events: one person each, varied text and references."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.container = references_container()
        self.counter = 0
        self.base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)

    def make(self, count: int) -> list[NewEvent]:
        rng = self.rng
        out = []
        for _ in range(count):
            self.counter += 1
            i = self.counter
            text = "; ".join(rng.choices(_PHRASES, k=rng.randint(2, 7)))
            refs = [f"doc:intake/{rng.randint(2020, 2026)}/{rng.randint(1, 999_999):06d}"]
            refs += [f"person:{rng.randint(1, 500_000)}" for _ in range(rng.randint(0, 2))]
            payload: dict[str, Any] = {
                "subject": f"person:{100_000 + i}",
                "text": text.capitalize() + ".",
                "references": self.container(refs),
            }
            out.append(
                NewEvent(
                    type=EVENT_TYPE,
                    payload=payload,
                    occurred_at=self.base + timedelta(seconds=i, microseconds=rng.randint(0, 999_999)),
                    actor=f"officer:{rng.randint(1, 40)}",
                    event_id=uuid4(),
                )
            )
        return out


def chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def es_events(batch: Sequence[NewEvent]) -> list[EsStoredEvent]:
    """The same events as eventsourcing stored events: our canonical payload as state.

    Fairness: each event is its own aggregate (originator id = our event id, a
    uuid4, version 1), as each note here is about a different person.  So the
    peer's primary-key index takes random uuids, as our unique ``event_id`` index
    does; one aggregate per batch with versions 1..n would be easier on its index.
    """
    out = []
    for event in batch:
        _, payload = REGISTRY.encode_payload(event.type, event.payload, event.schema_version)
        out.append(EsStoredEvent(event.event_id, 1, ES_TOPIC, payload))
    return out


# --- the eventsourcing peer ----------------------------------------------------------------


def wal_checkpoint(path: Path) -> None:
    """Empty a SQLite file's WAL into the database (from a connection of our own)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.close()
    if busy:
        raise RuntimeError(f"could not checkpoint {path}: a connection holds a read transaction")


class Peer:
    """An eventsourcing application recorder in a database of its own."""

    name: str
    settings: dict[str, Any]
    recorder: Any
    datastore: Any

    def insert(self, batch: list[EsStoredEvent]) -> None:
        self.recorder.insert_events(batch)

    def settle(self) -> None:
        """Called (untimed) before each timed stretch; see :meth:`Bench.settle`."""

    def close(self) -> None:
        self.datastore.close()


class SQLitePeer(Peer):
    def __init__(self, path: Path) -> None:
        from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

        self.datastore = SQLiteDatastore(str(path))
        self.recorder = SQLiteApplicationRecorder(self.datastore)
        self.recorder.create_table()
        self.name = "SQLiteApplicationRecorder"
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute("PRAGMA synchronous")
            synchronous = cursor.fetchone()[0]
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0]
        # eventsourcing sets WAL but no synchronous pragma: whatever the SQLite build's
        # default is applies.  Reported, not changed.
        self.settings = {
            "journal_mode": journal,
            "synchronous": SYNCHRONOUS.get(synchronous, str(synchronous)),
            "synchronous_set_by_recorder": False,
        }
        self.path = path

    def settle(self) -> None:
        wal_checkpoint(self.path)


class PostgresPeer(Peer):
    def __init__(self, url: URL) -> None:
        from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

        self.datastore = PostgresDatastore(
            dbname=url.database or "",
            host=url.host or "127.0.0.1",
            port=url.port or 5432,
            user=url.username or "postgres",
            password=url.password or "",
        )
        self.recorder = PostgresApplicationRecorder(self.datastore)
        self.recorder.create_table()
        self.name = "PostgresApplicationRecorder"
        with self.datastore.get_connection() as conn:
            row = conn.execute("SHOW synchronous_commit").fetchone()
        self.settings = {"synchronous_commit": row["synchronous_commit"] if row else None}


# --- one backend ---------------------------------------------------------------------------


@dataclass
class AppendFigure:
    """Seconds spent by each side, per round; the figures are totals over the rounds."""

    batch: int
    rounds: list[tuple[float, float, float]] = field(default_factory=list)  # ours, raw, peer
    events: int = 0

    def add(self, count: int, ours_s: float, raw_s: float, peer_s: float) -> None:
        self.events += count
        self.rounds.append((ours_s, raw_s, peer_s))

    def spread(self) -> tuple[float, float]:
        """Quartiles of the per-round ours/raw ratios: how much the machine wobbled."""
        ratios = sorted(raw / ours for ours, raw, _ in self.rounds)
        if len(ratios) < 4:
            return ratios[0], ratios[-1]
        q1, _, q3 = statistics.quantiles(ratios, n=4)
        return q1, q3

    def as_json(self) -> dict[str, Any]:
        ours = per_second(self.events, sum(r[0] for r in self.rounds))
        raw = per_second(self.events, sum(r[1] for r in self.rounds))
        peer = per_second(self.events, sum(r[2] for r in self.rounds))
        low, high = self.spread()
        return {
            "events": self.events,
            "ours": round(ours, 1),
            "raw": round(raw, 1),
            "ratio": round(ratio(ours, raw), 4),
            "ratio_round_quartiles": [round(low, 4), round(high, 4)],
            "eventsourcing": round(peer, 1),
            "ratio_eventsourcing": round(ratio(ours, peer), 4),
        }


@dataclass
class BackendResult:
    backend: str
    settings: dict[str, Any] = field(default_factory=dict)
    peer_name: str = ""
    peer_settings: dict[str, Any] = field(default_factory=dict)
    appends: dict[int, AppendFigure] = field(default_factory=dict)
    verify_events: int = 0
    verify_s: float = 0.0  # habeas verify as run by default: default_workers() processes
    verify_single_s: float = 0.0  # one process
    verify_workers: int = 1
    sha_s: float = 0.0
    profile: str = ""

    def as_json(self) -> dict[str, Any]:
        append = {str(b): f.as_json() for b, f in self.appends.items()}
        ours_v = per_second(self.verify_events, self.verify_s)
        sha_v = per_second(self.verify_events, self.sha_s)
        single_v = per_second(self.verify_events, self.verify_single_s)
        verify = {
            "events": self.verify_events,
            "workers": self.verify_workers,
            "ours": round(ours_v, 1),
            "ours_one_process": round(single_v, 1),
            "sha256": round(sha_v, 1),
            "ratio": round(ratio(ours_v, sha_v), 4),
            "ratio_one_process": round(ratio(single_v, sha_v), 4),
        }
        peer: dict[str, Any] = {"recorder": self.peer_name, **self.peer_settings}
        for b, fig in append.items():
            peer[b] = {
                "ours": fig["ours"],
                "eventsourcing": fig["eventsourcing"],
                "ratio": fig["ratio_eventsourcing"],
            }
        targets = {
            "append_100": append["100"]["ratio"] >= APPEND_TARGET,
            "append_1000": append["1000"]["ratio"] >= APPEND_TARGET,
            "verify": verify["ratio"] >= VERIFY_TARGET,
            "eventsourcing_100": peer["100"]["ratio"] > PEER_TARGET,
        }
        return {
            "settings": self.settings,
            "append": {
                b: {k: v[k] for k in ("events", "ours", "raw", "ratio", "ratio_round_quartiles")}
                for b, v in append.items()
            },
            "verify": verify,
            "eventsourcing": peer,
            "targets_met": targets,
        }


class Bench:
    """Everything for one backend: our engine, the ledgers, the peer, the timings."""

    def __init__(
        self, backend: str, engine: Engine, peer: Peer, sizes: Sizes, seed: int, sqlite_path: Path | None = None
    ) -> None:
        self.backend = backend
        self.engine = engine
        self.sqlite_path = sqlite_path
        self.peer = peer
        self.sizes = sizes
        self.factory = EventFactory(seed)
        self.result = BackendResult(backend, peer_name=peer.name, peer_settings=peer.settings)
        self.marker = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        self.created = datetime.now(UTC)

    # setup helpers

    def settle(self) -> None:
        """Start each timed stretch from the same state: on SQLite, an empty WAL.

        SQLite copies the WAL back into the database (a checkpoint, with an fsync of
        the database file) whenever a commit leaves it over 1,000 pages.  Ours and the
        raw baseline share one file, so without this the checkpoint that our pages
        made necessary could land on a raw commit, or the reverse, depending on how
        the rounds happen to line up.  Emptying the WAL first means each side pays for
        the checkpoints its own writes cause, and nothing else.  (PostgreSQL
        checkpoints on time and WAL volume, far apart; nothing to do there.)
        """
        if self.sqlite_path is not None:
            wal_checkpoint(self.sqlite_path)

    def new_ledger(self, name: str) -> Ledger:
        with write_transaction(self.engine) as conn:
            create_ledger(conn, name, f"bench.example/{name}", self.created)
        return Ledger(self.engine, name, REGISTRY)

    def stored_rows(self, ledger_id: str, after: int, upto: int) -> list[tuple[Any, ...]]:
        """Every column of ``events`` for seq in (after, upto], as the driver returns them."""
        m = self.marker
        sql = (
            f"SELECT {', '.join(EVENT_COLUMNS)} FROM events "
            f"WHERE ledger_id = {m} AND seq > {m} AND seq <= {m} ORDER BY seq"
        )
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.exec_driver_sql(sql, (ledger_id, after, upto))]

    # the three appenders; each returns seconds spent inside the timed calls

    def time_ours(self, ledger: Ledger, batches: Sequence[Sequence[NewEvent]]) -> float:
        total = 0.0
        append = ledger.append
        for batch in batches:
            recorded_at = datetime.now(UTC)
            start = time.perf_counter()
            append(batch, recorded_at)
            total += time.perf_counter() - start
        return total

    def time_raw(self, batches: Sequence[Sequence[tuple[Any, ...]]]) -> float:
        total = 0.0
        engine = self.engine
        for batch in batches:
            start = time.perf_counter()
            with write_transaction(engine) as conn:
                insert_rows(conn, events, EVENT_COLUMNS, batch)
            total += time.perf_counter() - start
        return total

    def time_peer(self, batches: Sequence[list[EsStoredEvent]]) -> float:
        total = 0.0
        insert = self.peer.insert
        for batch in batches:
            start = time.perf_counter()
            insert(batch)
            total += time.perf_counter() - start
        return total

    def append_round(self, ours: Ledger, raw_id: str, batch: int, count: int, figure: AppendFigure) -> None:
        # Everything each side needs is built before its clock starts.
        new = self.factory.make(count)
        ours_batches = chunks(new, batch)
        peer_batches = [es_events(b) for b in ours_batches]
        before = ours.head().size
        gc.collect()
        self.settle()
        ours_s = self.time_ours(ours, ours_batches)
        rows = self.stored_rows(ours.ledger_id, before, before + count)
        assert len(rows) == count, (len(rows), count)
        rewritten = [(raw_id, row[1], str(uuid4()), *row[3:]) for row in rows]
        raw_batches = chunks(rewritten, batch)
        gc.collect()
        self.settle()
        raw_s = self.time_raw(raw_batches)
        gc.collect()
        self.peer.settle()
        peer_s = self.time_peer(peer_batches)
        figure.add(count, ours_s, raw_s, peer_s)

    def warm_up(self) -> None:
        ours = self.new_ledger("warm-up")
        for batch in (1, 1, 1, 100, 100, 1000):
            new = self.factory.make(batch)
            before = ours.head().size
            self.time_ours(ours, [new])
            rows = self.stored_rows(ours.ledger_id, before, before + batch)
            self.time_raw([[("warm-up-raw", r[1], str(uuid4()), *r[3:]) for r in rows]])
            self.time_peer([es_events(new)])
        with self.engine.connect() as conn:
            assert verify_ledger(conn, ours.ledger_id).ok
        self.time_sha(ours.ledger_id)

    def run_appends(self) -> None:
        for batch in BATCH_SIZES:
            total = self.sizes.events_for(batch)
            ours = self.new_ledger(f"append-{batch}")
            raw_id = f"append-{batch}-raw"
            figure = AppendFigure(batch)
            rounds = max(1, min(self.sizes.rounds, total // batch))
            per_round = [total // rounds // batch * batch] * rounds
            per_round[-1] += total - sum(per_round)
            for count in per_round:
                self.append_round(ours, raw_id, batch, count, figure)
            self.result.appends[batch] = figure

    # verification

    def build_verify_ledger(self) -> str:
        ledger = self.new_ledger("verify")
        remaining = self.sizes.verify
        while remaining:
            count = min(remaining, 10_000)
            new = self.factory.make(count)
            for batch in chunks(new, 1000):
                ledger.append(batch, datetime.now(UTC))
            remaining -= count
        return str(ledger.ledger_id)

    def time_verify(self, ledger_id: str, workers: int = 1) -> float:
        with self.engine.connect() as conn:
            start = time.perf_counter()
            report = verify_ledger(conn, ledger_id, workers=workers)
            elapsed = time.perf_counter() - start
        if not report.ok:
            raise SystemExit(f"{self.backend}: verify_ledger failed at {report.bad_seq}: {report.problem}")
        return elapsed

    def time_sha(self, ledger_id: str) -> float:
        """The baseline: stream the same rows' prev_hash and body, SHA-256 each pair."""
        query = select(events.c.prev_hash, events.c.body).where(events.c.ledger_id == ledger_id).order_by(events.c.seq)
        sha256 = hashlib.sha256
        with self.engine.connect() as conn:
            start = time.perf_counter()
            stream = conn.execution_options(stream_results=True, yield_per=10_000).execute(query)
            last = b""
            for prev_hash, body in stream:
                last = sha256(bytes(prev_hash) + bytes(body)).digest()
            elapsed = time.perf_counter() - start
        assert len(last) == 32 or not last
        return elapsed

    def run_verify(self) -> str:
        ledger_id = self.build_verify_ledger()
        verify_s: list[float] = []
        single_s: list[float] = []
        sha_s: list[float] = []
        workers = default_workers()
        for _ in range(2):
            gc.collect()
            sha_s.append(self.time_sha(ledger_id))
            gc.collect()
            verify_s.append(self.time_verify(ledger_id, workers))
            gc.collect()
            single_s.append(self.time_verify(ledger_id, 1))
        self.result.verify_events = self.sizes.verify
        self.result.verify_workers = workers
        self.result.verify_s = min(verify_s)
        self.result.verify_single_s = min(single_s)
        self.result.sha_s = min(sha_s)
        return ledger_id

    def run_profile(self, count: int, batch: int, verify_ledger_id: str) -> None:
        """cProfile our append path (and verify_ledger) so a missed target can be explained."""
        ours = self.new_ledger(f"profile-{batch}")
        batches = chunks(self.factory.make(count), batch)
        tasks: list[tuple[str, Callable[[], float], tuple[tuple[str, int], ...]]] = [
            (f"Ledger.append, {count} events at batch {batch}", lambda: self.time_ours(ours, batches),
             (("tottime", 25), ("cumulative", 30))),
            (f"verify_ledger, {self.sizes.verify} events", lambda: self.time_verify(verify_ledger_id),
             (("tottime", 20),)),
        ]  # fmt: skip
        for title, work, sorts in tasks:
            gc.collect()
            profiler = cProfile.Profile()
            profiler.enable()
            work()
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            for key, lines in sorts:
                stats.sort_stats(key).print_stats(lines)
            self.result.profile += f"--- {self.backend}: {title}\n{out.getvalue()}"

    def run(self, profile: bool) -> BackendResult:
        self.warm_up()
        gc.collect()
        self.run_appends()
        gc.collect()
        verify_ledger_id = self.run_verify()
        if profile:
            self.run_profile(self.sizes.batched // 2, 100, verify_ledger_id)
        return self.result


# --- backends ------------------------------------------------------------------------------


@contextmanager
def sqlite_bench(sizes: Sizes, seed: int) -> Iterator[Bench]:
    with tempfile.TemporaryDirectory(prefix="habeas-bench-") as tmp:
        path = Path(tmp) / "habeas.db"
        engine = make_engine(f"sqlite:///{path}")
        peer = SQLitePeer(Path(tmp) / "eventsourcing.db")
        try:
            upgrade(engine)
            bench = Bench("sqlite", engine, peer, sizes, seed, sqlite_path=path)
            with engine.connect() as conn:
                synchronous = conn.exec_driver_sql("PRAGMA synchronous").scalar()
                journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            bench.result.settings = {
                "journal_mode": journal,
                "synchronous": SYNCHRONOUS.get(int(synchronous or 0), str(synchronous)),
                "directory": tmp,
            }
            yield bench
        finally:
            peer.close()
            engine.dispose()


@contextmanager
def postgres_bench(base_url: str, sizes: Sizes, seed: int) -> Iterator[Bench]:
    with (
        scratch_postgres_database(base_url, "habeas_bench") as url,
        scratch_postgres_database(base_url, "habeas_bench_es") as es_url,
    ):
        engine = make_engine(url_string(url))
        peer: Peer | None = None
        try:
            upgrade(engine)
            peer = PostgresPeer(es_url)
            bench = Bench("postgresql", engine, peer, sizes, seed)
            with engine.connect() as conn:
                bench.result.settings = {
                    name: conn.exec_driver_sql(f"SHOW {name}").scalar()
                    for name in ("server_version", "synchronous_commit", "fsync", "wal_sync_method")
                }
            yield bench
        finally:
            if peer is not None:
                peer.close()
            engine.dispose()


# --- output --------------------------------------------------------------------------------


def render(console: Console, results: Sequence[BackendResult], sizes: Sizes, quick: bool) -> None:
    append = Table(title=f"Append (events/s){' — quick run' if quick else ''}")
    for name, justify in (
        ("backend", "left"), ("batch", "right"), ("events", "right"), ("ours", "right"),
        ("raw insert", "right"), ("ours/raw", "right"), ("rounds q1–q3", "right"), ("eventsourcing", "right"),
        ("ours/es", "right"),
    ):  # fmt: skip
        append.add_column(name, justify=justify)  # type: ignore[arg-type]
    for result in results:
        for batch, figure in result.appends.items():
            data = figure.as_json()
            append.add_row(
                result.backend,
                f"{batch:,}",
                f"{figure.events:,}",
                fmt_rate(data["ours"]),
                fmt_rate(data["raw"]),
                fmt_ratio(data["ratio"], APPEND_TARGET if batch > 1 else None),
                "{:.2f}–{:.2f}".format(*data["ratio_round_quartiles"]),
                fmt_rate(data["eventsourcing"]),
                fmt_ratio(data["ratio_eventsourcing"], PEER_TARGET if batch == 100 else None, strict=True),
            )
    console.print(append)

    verify = Table(title="Verify (events/s)")
    for name in ("backend", "events", "verify (workers)", "sha256 only", "ours/sha256", "one process", "ratio"):
        verify.add_column(name, justify="left" if name == "backend" else "right")
    for result in results:
        data = result.as_json()["verify"]
        verify.add_row(
            result.backend,
            f"{data['events']:,}",
            f"{fmt_rate(data['ours'])} ({data['workers']})",
            fmt_rate(data["sha256"]),
            fmt_ratio(data["ratio"], VERIFY_TARGET),
            fmt_rate(data["ours_one_process"]),
            fmt_ratio(data["ratio_one_process"], None),
        )
    console.print(verify)

    console.print(
        f"Targets: ours/raw ≥ {APPEND_TARGET} at batch 100 and 1,000; "
        f"ours/sha256 ≥ {VERIFY_TARGET}; "
        f"ours/eventsourcing > {PEER_TARGET} at batch 100.  Batch 1: {sizes.single:,} events, "
        f"batch 100 and 1,000: {sizes.batched:,} each, in {sizes.rounds} alternating rounds."
    )
    for result in results:
        ours = ", ".join(f"{k}={v}" for k, v in result.settings.items() if k != "directory")
        peer = ", ".join(f"{k}={v}" for k, v in result.peer_settings.items())
        console.print(f"{result.backend}: habeas {ours}; eventsourcing {result.peer_name}: {peer}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--events", type=int, default=None,
        help="events appended at batch 100 and again at batch 1,000 (default 20,000; quick 10,000); "
        "batch 1 appends a twentieth of this",
    )  # fmt: skip
    parser.add_argument(
        "--verify-events", type=int, default=None,
        help="events in the verified ledger (default 200,000; quick 50,000)",
    )  # fmt: skip
    parser.add_argument("--postgres-url", default=default_postgres_url())
    parser.add_argument("--quick", action="store_true", help="small sizes: both backends in under about a minute")
    parser.add_argument("--profile", action="store_true", help="also cProfile our append path")
    parser.add_argument("--seed", type=int, default=20261123)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    batched = args.events or (10_000 if args.quick else 20_000)
    sizes = Sizes(
        single=max(50, batched // 20),
        batched=batched,
        verify=args.verify_events or (50_000 if args.quick else 200_000),
        rounds=10,
    )
    console = Console(width=max(160, Console().width), highlight=False)
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    results: list[BackendResult] = []
    started = time.perf_counter()
    for backend in backends:
        context: AbstractContextManager[Bench] = (
            sqlite_bench(sizes, args.seed)
            if backend == "sqlite"
            else postgres_bench(args.postgres_url, sizes, args.seed)
        )
        console.print(f"[dim]{backend}: running …[/dim]")
        backend_started = time.perf_counter()
        with context as bench:
            results.append(bench.run(args.profile))
        console.print(f"[dim]{backend}: {time.perf_counter() - backend_started:.1f} s[/dim]")
    elapsed = time.perf_counter() - started

    for result in results:
        if result.profile:
            console.print(result.profile, markup=False, highlight=False)
    render(console, results, sizes, args.quick)
    summary: dict[str, Any] = {r.backend: r.as_json() for r in results}
    container = references_container().__name__
    if container != "list":
        console.print(
            f"[yellow]note.recorded refuses a JSON-style list for 'references' (strict schema); "
            f"the payloads carry a {container} instead.[/yellow]"
        )
    summary["payload"] = {"type": EVENT_TYPE, "references_as": container}
    summary["machine"] = machine_info(
        quick=args.quick,
        sizes={"batch_1": sizes.single, "batch_100_1000": sizes.batched, "verify": sizes.verify},
        seconds=round(elapsed, 1),
    )
    sys.stdout.flush()
    print(json.dumps(summary, separators=(",", ":")), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
