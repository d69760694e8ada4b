"""Person lookup and admission over HTTP, against a minimal FastAPI endpoint in the same run.

Run::

    uv run python benchmarks/api.py                 # 1,000,000 people in PostgreSQL, 50 clients (long: the fill)
    uv run python benchmarks/api.py --quick         # 40,000 people, shorter runs

What is measured (PostgreSQL only: the issue's target is about production):

1. A scratch database ``habeas_bench_<hex>`` next to ``--postgres-url`` is migrated and
   filled directly into the projection tables with ``--people`` people in CECOT-like
   facilities of 40,000 (the filler of ``benchmarks/register.py``; no events), then
   ``ANALYZE``.  Accounts: one records officer (lookups) and one intake officer (admissions),
   each with an API token.
2. Two servers, each ``uvicorn`` with ``--workers`` processes on loopback, started the same
   way: the **baseline**, a minimal FastAPI app whose one endpoint answers ``{"ok": true}``
   with no database, and **habeas** (``habeas serve``).
3. ``--clients`` concurrent keep-alive clients send requests for ``--duration`` seconds
   after a warm-up; every response must be 2xx.  Throughput is completed requests per
   second; latency is per request, p50 and p99.  The load generator is ``wrk`` (C, one
   thread, ``api_load.lua`` sets the token and each request's path or body) when it is
   installed (Debian: ``apt-get install wrk``), else one asyncio process with httpx
   (``--client python``), which costs the servers far more of the shared CPU.
   * *lookup*: ``GET /api/v1/people/{id}`` for random people: token check, scope, the
     person's record with episodes, and one row written to the read-access log (every read
     of a personal record is recorded);
   * *admission*: ``POST /api/v1/admissions`` of new synthetic people: the full service
     path (duplicate check, ledger append with its hash chain, projections, safeguards) —
     appends to one ledger are serialized by design (architecture invariant 6).
   The baseline runs before and after habeas; the ratio uses their mean.
4. Because the 2 cores are shared (other work moves throughput from run to run), each run
   also reports the CPU time the server used per request (uvicorn's processes, plus the
   PostgreSQL backends serving the scratch database), read from ``/proc``: a ratio of
   those is steadier than a ratio of throughputs on a busy machine.

5. **Database floor**: after habeas's runs (the pages warm), the lookup's own database work —
   the very statements the route runs (the token's owner, the record, the access-log row) and
   the commit, then the same work as one statement in autocommit — is run ``--floor-lookups``
   times in one process straight through psycopg (no HTTP, no FastAPI, no SQLAlchemy), and so
   is a bare ``BEGIN`` + ``SELECT 1`` + ``COMMIT``.  The CPU
   of that process and of its PostgreSQL backend, per lookup, is work a server answering
   this lookup does on top of what the minimal endpoint does, printed beside the baseline's
   whole request as ``floor_vs_baseline_cpu``.  Measured one lookup at a time, so it counts
   each round trip's wake-ups in full, which a loaded server partly shares between
   requests: an estimate of that work, not a strict lower bound (the lean lookup below is
   the measured ceiling).

6. **Lean lookup** (``--skip-lean`` leaves it out): a third server, started like the others,
   whose one endpoint does the lookup's database work and little else — an ``async`` FastAPI
   route on a psycopg async pool (four connections per process, autocommit) running
   :func:`one_statement_lookup` (token check, access-log row and record in one round trip),
   the rows sent back as JSON without a response model; no SQLAlchemy at run time, no thread
   pool, no role or scope check.  Not a way to serve habeas (it drops what the issue and
   the architecture ask of the code); the leanest design tried here, to tell how much of a
   miss is habeas's own and how much this machine's.  One implementation, not a bound.

Targets (issue #6): lookup ≥ 50% of the baseline's throughput, lookup p99 under 50 ms.
The load generator shares the 2 cores with the servers, for the baseline and for habeas alike;
the load average before and after each run is printed with it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql

from _common import default_postgres_url, machine_info, scratch_postgres_database, url_string
from habeas.api.person_view import person_view_query
from habeas.api.security import LOG_READ
from habeas.services.accounts import TOKEN_OWNER, AccountService, token_hash
from habeas.store.engine import make_engine, write_transaction
from habeas.store.migrate import upgrade
from habeas.store.register_tables import people
from register import Filler, cecot_layout, renamed_layout

console = Console(stderr=True)
LUA = Path(__file__).with_name("api_load.lua")
LEDGER = "bench-api"
PER_FACILITY = 40_000
PSYCOPG = postgresql.psycopg.dialect()  # what the bare-driver statements are compiled for
MINIMAL_APP = textwrap.dedent(
    """
    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/ping")
    def ping() -> dict[str, bool]:
        return {"ok": True}
    """
)

# The lookup's database work and nothing else (see 6. in the docstring); HABEAS_DATABASE_URL says where.
LEAN_APP = textwrap.dedent(
    """
    import os
    from contextlib import asynccontextmanager

    import orjson
    from fastapi import FastAPI, Request, Response
    from psycopg_pool import AsyncConnectionPool

    from habeas.services.accounts import token_hash

    LOOKUP = os.environ["HABEAS_LEAN_SQL"]  # benchmarks/api.py: one_statement_lookup()
    LEDGER = os.environ["HABEAS_LEDGER"]
    pool = AsyncConnectionPool(os.environ["HABEAS_DATABASE_URL"], min_size=4, max_size=4, open=False,
                               kwargs={"autocommit": True})


    @asynccontextmanager
    async def lifespan(app):
        await pool.open()
        yield
        await pool.close()


    app = FastAPI(lifespan=lifespan)


    @app.get("/api/v1/people/{person_id}")
    async def person(person_id: str, request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        async with pool.connection() as conn:
            cur = await conn.execute(LOOKUP, {"token_hash": token_hash(token), "ledger": LEDGER,
                                              "person_id": person_id})
            names = [c.name for c in cur.description]
            rows = await cur.fetchall()
        if not rows:
            return Response(status_code=404)
        if rows[0][0] is None:
            return Response(status_code=401)
        return Response(orjson.dumps([dict(zip(names, row)) for row in rows], default=str),
                        media_type="application/json")
    """
)


@dataclass
class LoadResult:
    name: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    load: tuple[float, float] = (float("nan"), float("nan"))  # 1-minute load average before, after
    cpu_ms: float = float("nan")  # server CPU (uvicorn + its PostgreSQL backends) per request

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _proc_stat(pid: int | str) -> tuple[int, float]:
    """A process's parent and CPU seconds (user + system) so far, from Linux's /proc (OSError if gone)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _proc_stats() -> dict[int, tuple[int, float]]:
    """Every process's parent and CPU seconds so far."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = _proc_stat(entry.name)
            except OSError:  # gone meanwhile
                continue
    return stats


def cpu_meter(root: int, database: str | None) -> Callable[[], float]:
    """CPU seconds used so far by process ``root`` with its children and by ``database``'s backends."""
    engine = make_engine(database) if database else None

    def seconds() -> float:
        stats = _proc_stats()
        pids, frontier = {root}, [root]
        while frontier:
            parent = frontier.pop()
            children = [pid for pid, (ppid, _) in stats.items() if ppid == parent and pid not in pids]
            pids.update(children)
            frontier.extend(children)
        if engine is not None:
            with engine.connect() as conn:
                pids.update(conn.execute(text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )).scalars())  # fmt: skip
        return sum(stats[pid][1] for pid in pids if pid in stats)

    return seconds


@contextmanager
def server(args: list[str], port: int, env: dict[str, str], probe: str) -> Iterator[int]:
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=None)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=1).status_code < 500:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"server on port {port} did not answer {probe} within 60 s")
        yield process.pid
    finally:
        process.terminate()
        process.wait(20)


def report(result: LoadResult) -> LoadResult:
    console.print(f"  {result.name}: {result.per_second:,.0f} req/s, p50 {result.p50_ms:.1f} ms, "
                  f"p99 {result.p99_ms:.1f} ms, {result.errors} non-2xx of {result.requests:,}, "
                  f"server CPU {result.cpu_ms:.2f} ms/request, "
                  f"load {result.load[0]:.2f} -> {result.load[1]:.2f}")  # fmt: skip
    return result


def wrk_load(
    name: str, port: int, clients: int, duration: float, warmup: float, cpu: Callable[[], float], mode: str,
    file: Path | None = None, token: str = "",
) -> LoadResult:  # fmt: skip
    """One closed-loop run of ``wrk`` (after a discarded warm-up run of the same load)."""

    def run_wrk(seconds: float) -> dict[str, Any]:
        start = random.getrandbits(40)  # admissions: a fresh range of synthetic people each run
        cmd = ["wrk", "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "30s", "-s", str(LUA),
               f"http://127.0.0.1:{port}", "--", mode, str(file or ""), token, str(start)]  # fmt: skip
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        line = next((x for x in out.splitlines() if x.startswith("RESULT ")), None)
        if line is None:
            raise RuntimeError(f"wrk printed no result:\n{out}")
        figures: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
        return figures

    run_wrk(warmup)
    before, used = os.getloadavg()[0], cpu()
    got = run_wrk(duration)
    used = cpu() - used
    failed = got["non2xx"] + got["timeouts"] + got["socket_errors"]
    return report(LoadResult(name, got["requests"], got["duration_us"] / 1e6, got["p50_us"] / 1000,
                             got["p99_us"] / 1000, failed, (before, os.getloadavg()[0]),
                             1000 * used / max(1, got["requests"])))  # fmt: skip


async def load(
    name: str, port: int, clients: int, duration: float, warmup: float, cpu: Callable[[], float],
    request: Callable[[httpx.AsyncClient, random.Random], Any],
) -> LoadResult:  # fmt: skip
    latencies: list[float] = []
    errors = 0
    stop_at = 0.0
    measuring = False

    async def client(n: int) -> None:
        nonlocal errors
        rng = random.Random(n)
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30) as http:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                try:
                    status = (await request(http, rng)).status_code
                except httpx.TimeoutException:
                    status = 599  # no answer within the client's timeout: counted, with its wait, as an error
                took = time.perf_counter() - started
                if measuring:
                    latencies.append(took)
                    if status >= 300:
                        errors += 1

    start = time.perf_counter()
    stop_at = start + warmup + duration
    before = os.getloadavg()[0]
    tasks = [asyncio.create_task(client(n)) for n in range(clients)]
    await asyncio.sleep(warmup)
    measuring = True
    measured_from, used = time.perf_counter(), cpu()
    await asyncio.gather(*tasks)
    seconds, used = time.perf_counter() - measured_from, cpu() - used
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan")
    p50 = statistics.median(latencies) if latencies else float("nan")
    return report(LoadResult(name, len(latencies), seconds, p50 * 1000, p99 * 1000, errors,
                             (before, os.getloadavg()[0]), 1000 * used / max(1, len(latencies))))  # fmt: skip


def fill(url: str, count: int, seed: int) -> list[str]:
    engine = make_engine(url)
    now = datetime.now(UTC)
    with write_transaction(engine) as conn:
        from habeas.ledger.log import create_ledger

        create_ledger(conn, LEDGER, f"bench.example/{LEDGER}", now - timedelta(days=1200))
    filler = Filler(LEDGER, now, random.Random(seed), count, 0)
    facilities = max(1, -(-count // PER_FACILITY))
    base = cecot_layout()
    started = time.perf_counter()
    for n in range(facilities):
        layout = renamed_layout(base, f"F{n:02d}", prefix=n > 0)
        with write_transaction(engine) as conn:
            filler.facility(conn, layout, min(PER_FACILITY, count - n * PER_FACILITY))
        console.print(f"  {filler.index:,} people filled ({time.perf_counter() - started:.0f} s)")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    with engine.connect() as conn:
        ids = list(
            conn.execute(select(people.c.person_id).where(people.c.ledger_id == LEDGER).order_by(text("random()"))
                         .limit(20_000)).scalars()
        )  # fmt: skip
    engine.dispose()
    return ids


def tokens(url: str) -> dict[str, str]:
    engine = make_engine(url)
    accounts = AccountService(engine, LEDGER, lambda: datetime.now(UTC))
    out = {}
    for role in ("records_officer", "intake_officer"):
        accounts.add(None, f"bench-{role}", role, role, None)
        out[role] = accounts.issue_token(None, f"bench-{role}", "benchmark").token
    engine.dispose()
    return out


def libpq_url(url: str) -> str:
    """The URL as psycopg itself takes it (without SQLAlchemy's driver suffix)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def one_statement_lookup() -> str:
    """The lookup's database work as one statement (PostgreSQL; parameters token_hash, ledger, person_id).

    The token's owner if the token is live (not revoked, not expired, account not disabled), the access-log
    row written for that owner if the person exists, and the record (``person_view_query``, the route's own):
    run in autocommit, the log row commits with the read, before the answer.  ``logged_for`` is NULL when
    the token is not live (the caller answers 401 and shows nothing); no rows when the person is unknown.
    """
    record = str(person_view_query("postgresql").compile(dialect=PSYCOPG))
    return f"""
        WITH who AS (
            SELECT a.account_id, a.username, a.role FROM api_tokens t JOIN accounts a ON a.account_id = t.account_id
            WHERE t.token_hash = %(token_hash)s AND t.revoked_at IS NULL
              AND (t.expires_at IS NULL OR t.expires_at > now()) AND a.disabled_at IS NULL
        ), logged AS (
            INSERT INTO access_log (at, account_id, username, role, ledger_id, person_id, action, reason)
            SELECT now(), account_id, username, role, %(ledger)s::varchar, %(person_id)s::varchar, 'GET lean', NULL
            FROM who
            WHERE EXISTS (SELECT 1 FROM people WHERE ledger_id = %(ledger)s::varchar
                                                 AND person_id = %(person_id)s::varchar)
            RETURNING account_id
        )
        SELECT (SELECT account_id FROM logged) AS logged_for, rec.* FROM ({record}) AS rec
    """


def database_floor(url: str, ids: list[str], token: str, count: int) -> dict[str, float]:
    """The lookup's database work alone, through psycopg: CPU per lookup of this process and of its backend.

    *route statements*: the route's own (``TOKEN_OWNER``, ``person_view_query``, ``LOG_READ``), compiled
    once, run in a transaction and committed as the route does: five round trips (psycopg sends ``BEGIN``
    on its own).  *one statement*: the same work as :func:`one_statement_lookup`, in autocommit: one round
    trip.  *round trip*: ``BEGIN``, ``SELECT 1``, ``COMMIT``.
    """
    import psycopg  # the driver habeas runs on; imported here: only this measurement uses it bare

    token_sql = str(TOKEN_OWNER.compile(dialect=PSYCOPG))
    record_sql = str(person_view_query("postgresql").compile(dialect=PSYCOPG))
    log_columns = ["at", "account_id", "username", "role", "ledger_id", "action", "reason", "person_id"]
    log_sql = str(LOG_READ.compile(dialect=PSYCOPG, column_keys=log_columns))
    engine = make_engine(url)
    with engine.connect() as conn:
        account = conn.execute(TOKEN_OWNER, {"token_hash": token_hash(token)}).one()
    engine.dispose()
    rng = random.Random(7)
    logged = {"account_id": account.account_id, "username": account.username, "role": account.role,
              "ledger_id": LEDGER, "action": "GET /api/v1/people/{person_id}", "reason": None}  # fmt: skip
    one_statement = one_statement_lookup()
    with psycopg.connect(libpq_url(url)) as db, psycopg.connect(libpq_url(url), autocommit=True) as auto:
        pid = db.info.backend_pid
        cur = db.cursor()
        auto_cur = auto.cursor()

        def lookup() -> None:
            person = rng.choice(ids)
            cur.execute(token_sql, {"token_hash": token_hash(token)})
            cur.fetchall()
            cur.execute(record_sql, {"ledger": LEDGER, "person_id": person})
            cur.fetchall()
            cur.execute(log_sql, {**logged, "at": datetime.now(UTC), "person_id": person})
            db.commit()

        def one() -> None:
            auto_cur.execute(one_statement, {"token_hash": token_hash(token), "ledger": LEDGER,
                                             "person_id": rng.choice(ids)})  # fmt: skip
            assert auto_cur.fetchall()[0][0] == account.account_id

        def round_trip() -> None:
            cur.execute("SELECT 1")
            cur.fetchall()
            db.commit()

        out = {}
        for name, work, backend in (("lookup", lookup, pid), ("one_statement", one, auto.info.backend_pid),
                                    ("round_trip", round_trip, pid)):  # fmt: skip
            for _ in range(min(500, count)):  # warm: prepared statements, caches
                work()
            client, server = time.process_time(), _proc_stat(backend)[1]
            for _ in range(count):
                work()
            client, server = time.process_time() - client, _proc_stat(backend)[1] - server
            out[f"{name}_client_cpu_ms"] = round(1000 * client / count, 3)
            out[f"{name}_database_cpu_ms"] = round(1000 * server / count, 3)
            out[f"{name}_cpu_ms"] = round(1000 * (client + server) / count, 3)
    console.print(f"  database floor, CPU per lookup through bare psycopg (client + PostgreSQL): the route's "
                  f"statements {out['lookup_cpu_ms']:.2f} ms ({out['lookup_client_cpu_ms']:.2f} + "
                  f"{out['lookup_database_cpu_ms']:.2f}); as one statement {out['one_statement_cpu_ms']:.2f} ms "
                  f"({out['one_statement_client_cpu_ms']:.2f} + {out['one_statement_database_cpu_ms']:.2f}); "
                  f"BEGIN + SELECT 1 + COMMIT {out['round_trip_cpu_ms']:.2f} ms")  # fmt: skip
    return out


def admission_body(facility_id: str, n: str, instrument_id: str) -> dict[str, Any]:
    """A new synthetic person's admission; ``n`` makes the name and document unique."""
    now = datetime.now(UTC)
    return {
        "facility_id": facility_id,
        "identity": {"given_names": f"Persona{n}", "family_names": f"Sintetica{n} Carga", "sex": "M",
                     "birth_date": "1990-01-01",
                     "documents": [{"kind": "national_id", "number": n, "issuer": "SLV"}]},
        "confirm_new_person": True,
        "legal_status": "untried",
        "legal_basis": {"instrument_id": instrument_id, "kind": "arrest_record",
                        "reference": f"AR-{n}", "issued_by": "Policía Nacional Civil",
                        "issued_at": (now - timedelta(hours=2)).isoformat()},
        "detaining_authority": "Policía Nacional Civil",
        "ordering_authority": "Fiscalía General de la República",
        "arrested_at": (now - timedelta(hours=3)).isoformat(),
        "arrest_place": "Colonia Ejemplo",
        "admitted_at": (now - timedelta(minutes=5)).isoformat(),
        "family_contacts": [{"name": "Contacto Sintetico", "relationship": "mother"}],
    }  # fmt: skip


def random_admission(rng: random.Random, facility_id: str) -> dict[str, Any]:
    return admission_body(facility_id, f"{rng.getrandbits(48):015d}", str(uuid.UUID(int=rng.getrandbits(128))))


def use_wrk(choice: str) -> bool:
    if choice == "wrk" and shutil.which("wrk") is None:
        raise SystemExit("--client wrk: wrk is not installed (Debian: apt-get install wrk)")
    return choice == "wrk" or (choice == "auto" and shutil.which("wrk") is not None)


def run(args: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {"people": args.people, "clients": args.clients, "workers": args.workers}
    with scratch_postgres_database(args.postgres_url, "habeas_bench") as url:
        database = url_string(url)
        upgrade(make_engine(database))
        console.print(f"filling {args.people:,} people ...")
        started = time.perf_counter()
        ids = fill(database, args.people, args.seed)
        figures["fill_s"] = round(time.perf_counter() - started, 1)
        token = tokens(database)
        env = {**os.environ, "HABEAS_DATABASE_URL": database, "HABEAS_LEDGER": LEDGER}
        workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"habeas-bench-api-{os.getpid()}"
        workdir.mkdir(exist_ok=True)
        (workdir / "minimal_app.py").write_text(MINIMAL_APP)
        (workdir / "lean_app.py").write_text(LEAN_APP)
        (workdir / "ids.txt").write_text("\n".join(ids) + "\n")
        # wrk fills in @N@ and @UUID@ per request; the times are relative to now, as in the Python client.
        (workdir / "admission.json").write_text(json.dumps(admission_body("F00", "@N@", "@UUID@")))
        wrk = use_wrk(args.client)
        figures["client"] = "wrk" if wrk else "python"
        console.print(f"load generator: {figures['client']}")
        # The same uvicorn settings for both servers: --workers, no access log (habeas.api.server).
        uvicorn = [sys.executable, "-m", "uvicorn", "--workers", str(args.workers), "--log-level", "warning",
                   "--no-access-log"]  # fmt: skip
        results: list[LoadResult] = []

        def measure(name: str, port: int, cpu: Callable[[], float], mode: str, file: Path | None, bearer: str,
                    python_request: Callable[[httpx.AsyncClient, random.Random], Any]) -> None:  # fmt: skip
            if wrk:
                results.append(wrk_load(name, port, args.clients, args.duration, args.warmup, cpu, mode, file, bearer))
            else:
                results.append(asyncio.run(load(name, port, args.clients, args.duration, args.warmup, cpu,
                                                python_request)))  # fmt: skip

        def baseline(label: str) -> None:
            port = free_port()
            cmd = [*uvicorn, "--app-dir", str(workdir), "--port", str(port), "minimal_app:app"]
            with server(cmd, port, env, "/ping") as pid:
                measure(label, port, cpu_meter(pid, None), "ping", None, "", lambda http, rng: http.get("/ping"))

        baseline("baseline (before)")
        port = free_port()
        cmd = [*uvicorn, "--factory", "--port", str(port), "habeas.api.server:app_from_environment"]
        with server(cmd, port, env, "/api/v1/openapi.json") as pid:
            cpu = cpu_meter(pid, database)
            lookup_headers = {"Authorization": f"Bearer {token['records_officer']}"}
            measure("lookup", port, cpu, "lookup", workdir / "ids.txt", token["records_officer"],
                    lambda http, rng: http.get(f"/api/v1/people/{rng.choice(ids)}",
                                               headers=lookup_headers))  # fmt: skip
            if not args.skip_admission:
                admit_headers = {"Authorization": f"Bearer {token['intake_officer']}"}
                measure("admission", port, cpu, "admit", workdir / "admission.json", token["intake_officer"],
                        lambda http, rng: http.post("/api/v1/admissions", json=random_admission(rng, "F00"),
                                                    headers=admit_headers))  # fmt: skip
        # After habeas's runs: the pages the lookups read are warm, as they are for the servers.
        figures["database_floor"] = database_floor(database, ids, token["records_officer"], args.floor_lookups)
        if not args.skip_lean:
            port = free_port()
            cmd = [*uvicorn, "--app-dir", str(workdir), "--port", str(port), "lean_app:app"]
            lean_env = {**env, "HABEAS_DATABASE_URL": libpq_url(database), "HABEAS_LEAN_SQL": one_statement_lookup()}
            with server(cmd, port, lean_env, "/docs") as pid:
                measure("lean lookup", port, cpu_meter(pid, database), "lookup", workdir / "ids.txt",
                        token["records_officer"], lambda http, rng: http.get(f"/api/v1/people/{rng.choice(ids)}",
                                                                             headers=lookup_headers))  # fmt: skip
        baseline("baseline (after)")
    base = statistics.mean(r.per_second for r in results if r.name.startswith("baseline"))
    for r in results:
        figures[r.name] = {"per_s": round(r.per_second, 1), "p50_ms": round(r.p50_ms, 2), "p99_ms": round(r.p99_ms, 2),
                           "requests": r.requests, "errors": r.errors, "server_cpu_ms": round(r.cpu_ms, 3),
                           "load_before": round(r.load[0], 2), "load_after": round(r.load[1], 2)}  # fmt: skip
    figures["lookup_vs_baseline"] = round(next(r for r in results if r.name == "lookup").per_second / base, 3)
    base_cpu = statistics.mean(r.cpu_ms for r in results if r.name.startswith("baseline"))
    # What the throughput ratio would be if the server's CPU were all that limited it.
    figures["lookup_vs_baseline_cpu"] = round(base_cpu / next(r for r in results if r.name == "lookup").cpu_ms, 3)
    # The lookup's database work alone, in units of the minimal endpoint's whole request.
    floor_cpu = figures["database_floor"]["lookup_cpu_ms"]
    figures["floor_vs_baseline_cpu"] = round(floor_cpu / base_cpu, 2)
    if "lean lookup" in figures:
        figures["lean_vs_baseline"] = round(figures["lean lookup"]["per_s"] / base, 3)
    if "admission" in figures:
        figures["admission_vs_baseline"] = round(figures["admission"]["per_s"] / base, 4)
    table = Table("run", "req/s", "p50 ms", "p99 ms", "requests", "non-2xx", "server CPU ms/req", "load before → after")
    for r in results:
        table.add_row(r.name, f"{r.per_second:,.0f}", f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}", f"{r.requests:,}",
                      str(r.errors), f"{r.cpu_ms:.2f}", f"{r.load[0]:.2f} → {r.load[1]:.2f}")  # fmt: skip
    Console().print(table)
    lookup = figures["lookup"]
    Console().print(
        f"lookup / baseline throughput: {figures['lookup_vs_baseline']:.2f} (target ≥ 0.5; "
        f"by server CPU per request {figures['lookup_vs_baseline_cpu']:.2f}); "
        f"lookup p99 {lookup['p99_ms']:.1f} ms (target < 50 ms); the lookup's database work alone takes "
        f"{floor_cpu:.2f} ms of CPU as the route runs it, {figures['floor_vs_baseline_cpu']:.1f}× the minimal "
        f"endpoint's {base_cpu:.2f} ms, and {figures['database_floor']['one_statement_cpu_ms']:.2f} ms as one statement"
    )
    if "lean lookup" in figures:
        lean = figures["lean lookup"]
        Console().print(f"lean lookup (that one statement in a bare async FastAPI route): "
                        f"{figures['lean_vs_baseline']:.2f} of the baseline, p99 {lean['p99_ms']:.1f} ms")  # fmt: skip
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-url", default=default_postgres_url())
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers, for the baseline and habeas alike")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk when installed (auto), or the Python (httpx) client",
    )
    parser.add_argument("--skip-admission", action="store_true", help="measure the lookup only")
    parser.add_argument("--skip-lean", action="store_true", help="leave out the lean lookup server")
    parser.add_argument("--floor-lookups", type=int, default=5000, help="lookups timed for the database floor")
    parser.add_argument("--quick", action="store_true", help="40,000 people, 10 s runs")
    args = parser.parse_args(argv)
    if args.quick:
        args.people, args.duration, args.warmup = 40_000, 10.0, 2.0
    figures = run(args)
    print(json.dumps({"benchmark": "api", **figures, "machine": machine_info()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
