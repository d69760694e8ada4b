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
3. ``--clients`` concurrent clients (one asyncio process, httpx, keep-alive) send requests
   for ``--duration`` seconds after a warm-up; every response must be 2xx.  Throughput is
   completed requests per second; latency is per request, p50 and p99.
   * *lookup*: ``GET /api/v1/people/{id}`` for random people: token check, scope, the
     person's record with episodes, and one row written to the read-access log (every read
     of a personal record is recorded);
   * *admission*: ``POST /api/v1/admissions`` of new synthetic people: the full service
     path (duplicate check, ledger append with its hash chain, projections, safeguards) —
     appends to one ledger are serialized by design (architecture invariant 6).
   The baseline runs before and after habeas; the ratio uses their mean.

Targets (issue #6): lookup ≥ 50% of the baseline's throughput, lookup p99 under 50 ms.
The load generator shares the 2 cores with the servers, for the baseline and for habeas alike.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
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

from _common import default_postgres_url, machine_info, scratch_postgres_database, url_string
from habeas.services.accounts import AccountService
from habeas.store.engine import make_engine, write_transaction
from habeas.store.migrate import upgrade
from habeas.store.register_tables import people
from register import Filler, cecot_layout, renamed_layout

console = Console(stderr=True)
LEDGER = "bench-api"
PER_FACILITY = 40_000
MINIMAL_APP = textwrap.dedent(
    """
    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/ping")
    def ping() -> dict[str, bool]:
        return {"ok": True}
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

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(args: list[str], port: int, env: dict[str, str], probe: str) -> Iterator[None]:
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
        yield
    finally:
        process.terminate()
        process.wait(20)


async def load(
    name: str, port: int, clients: int, duration: float, warmup: float,
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
    tasks = [asyncio.create_task(client(n)) for n in range(clients)]
    await asyncio.sleep(warmup)
    measuring = True
    measured_from = time.perf_counter()
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - measured_from
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan")
    p50 = statistics.median(latencies) if latencies else float("nan")
    result = LoadResult(name, len(latencies), seconds, p50 * 1000, p99 * 1000, errors)
    console.print(f"  {name}: {result.per_second:,.0f} req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
                  f"{errors} non-2xx of {len(latencies):,}")  # fmt: skip
    return result


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


def admission_body(rng: random.Random, facility_id: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    n = rng.getrandbits(48)
    return {
        "facility_id": facility_id,
        "identity": {"given_names": f"Persona{n}", "family_names": f"Sintetica{n} Carga", "sex": "M",
                     "birth_date": "1990-01-01",
                     "documents": [{"kind": "national_id", "number": f"{n:015d}", "issuer": "SLV"}]},
        "confirm_new_person": True,
        "legal_status": "untried",
        "legal_basis": {"instrument_id": str(uuid.UUID(int=rng.getrandbits(128))), "kind": "arrest_record",
                        "reference": f"AR-{n}", "issued_by": "Policía Nacional Civil",
                        "issued_at": (now - timedelta(hours=2)).isoformat()},
        "detaining_authority": "Policía Nacional Civil",
        "ordering_authority": "Fiscalía General de la República",
        "arrested_at": (now - timedelta(hours=3)).isoformat(),
        "arrest_place": "Colonia Ejemplo",
        "admitted_at": (now - timedelta(minutes=5)).isoformat(),
        "family_contacts": [{"name": "Contacto Sintetico", "relationship": "mother"}],
    }  # fmt: skip


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
        uvicorn = [sys.executable, "-m", "uvicorn", "--workers", str(args.workers), "--log-level", "warning"]
        results: list[LoadResult] = []

        def baseline(label: str) -> None:
            port = free_port()
            cmd = [*uvicorn, "--app-dir", str(workdir), "--port", str(port), "minimal_app:app"]
            with server(cmd, port, env, "/ping"):
                results.append(asyncio.run(load(label, port, args.clients, args.duration, args.warmup,
                                                lambda http, rng: http.get("/ping"))))  # fmt: skip

        baseline("baseline (before)")
        port = free_port()
        cmd = [*uvicorn, "--factory", "--port", str(port), "habeas.api.server:app_from_environment"]
        with server(cmd, port, env, "/api/v1/openapi.json"):
            lookup_headers = {"Authorization": f"Bearer {token['records_officer']}"}
            results.append(asyncio.run(load(
                "lookup", port, args.clients, args.duration, args.warmup,
                lambda http, rng: http.get(f"/api/v1/people/{rng.choice(ids)}", headers=lookup_headers),
            )))  # fmt: skip
            admit_headers = {"Authorization": f"Bearer {token['intake_officer']}"}
            results.append(asyncio.run(load(
                "admission", port, args.clients, args.duration, args.warmup,
                lambda http, rng: http.post(
                    "/api/v1/admissions", json=admission_body(rng, "F00"), headers=admit_headers
                ),
            )))  # fmt: skip
        baseline("baseline (after)")
    base = statistics.mean(r.per_second for r in results if r.name.startswith("baseline"))
    for r in results:
        figures[r.name] = {"per_s": round(r.per_second, 1), "p50_ms": round(r.p50_ms, 2), "p99_ms": round(r.p99_ms, 2),
                           "requests": r.requests, "errors": r.errors}  # fmt: skip
    figures["lookup_vs_baseline"] = round(next(r for r in results if r.name == "lookup").per_second / base, 3)
    figures["admission_vs_baseline"] = round(next(r for r in results if r.name == "admission").per_second / base, 4)
    table = Table("run", "req/s", "p50 ms", "p99 ms", "requests", "non-2xx")
    for r in results:
        table.add_row(r.name, f"{r.per_second:,.0f}", f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}", f"{r.requests:,}",
                      str(r.errors))  # fmt: skip
    Console().print(table)
    lookup = figures["lookup"]
    Console().print(
        f"lookup / baseline throughput: {figures['lookup_vs_baseline']:.2f} (target ≥ 0.5); "
        f"lookup p99 {lookup['p99_ms']:.1f} ms (target < 50 ms)"
    )
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
    parser.add_argument("--quick", action="store_true", help="40,000 people, 10 s runs")
    args = parser.parse_args(argv)
    if args.quick:
        args.people, args.duration, args.warmup = 40_000, 10.0, 2.0
    figures = run(args)
    print(json.dumps({"benchmark": "api", **figures, "machine": machine_info()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
