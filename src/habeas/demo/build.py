"""Build a demo register: a fresh database, its ledger and key, the demo's accounts, the scenario.

The CLI (``habeas demo``) adds the progress bar and the web server; tests call
:func:`build_demo` directly.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from argon2 import PasswordHasher
from sqlalchemy import Engine, event, func, inspect, select

from habeas.demo.clock import SimulatedClock
from habeas.demo.scenario import END, FACILITY, JUDGE, START, Scenario
from habeas.domain.events import REGISTRY, LedgerOpened
from habeas.errors import HabeasError
from habeas.ledger.checkpoint import Signer, load_key_file, write_new_key_file
from habeas.ledger.envelope import NewEvent
from habeas.ledger.heads import record_verifier_key, sign_checkpoint
from habeas.ledger.log import Ledger, create_ledger
from habeas.services.accounts import AccountService
from habeas.store import migrate
from habeas.store.engine import make_engine, write_transaction
from habeas.store.tables import events

LEDGER = "main"
ORIGIN = "habeas.local/demo-cecot"


@dataclass(frozen=True)
class DemoAccount:
    role: str
    username: str
    password: str  # synthetic, printed once
    scope: str | None
    display_name: str


@dataclass(frozen=True)
class DemoResult:
    ledger_id: str
    accounts: tuple[DemoAccount, ...]
    end: datetime  # the scenario's present: the final sweep ran here
    events: int


# One account per role of the architecture (domain.access); scopes: the sending state, a court's name.
ACCOUNTS: tuple[tuple[str, str, str | None, str], ...] = (
    ("intake_officer", "demo.intake", None, "Oficial de ingreso (demo)"),
    ("housing_officer", "demo.housing", None, "Oficial de alojamiento (demo)"),
    ("records_officer", "demo.records", None, "Oficial de registro (demo)"),
    ("medical", "demo.medical", None, "Médico de turno (demo)"),
    ("facility_director", "demo.director", None, "Dirección del centro (demo)"),
    ("court", "demo.court", JUDGE, "Juzgado (demo)"),
    ("liaison", "demo.liaison", "USA", "Enlace del estado remitente (demo)"),
    ("oversight", "demo.oversight", None, "Inspección independiente (demo)"),
)


def is_empty(engine: Engine) -> bool:
    """No habeas tables, or no events in them: safe to build a demo in."""
    if not inspect(engine).has_table(events.name):
        return True
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one()) == 0


def build_demo(
    engine: Engine,
    size: str,
    key_path: Path,
    *,
    progress: Callable[[str, int, int], None] | None = None,
    hasher: PasswordHasher | None = None,
    seed: int = 2023,
) -> DemoResult:
    """Migrate ``engine``'s database, open the ledger, add the accounts and load the scenario."""
    if not is_empty(engine):
        raise HabeasError("the database already holds a register: the demo needs an empty one")
    migrate.upgrade(engine)
    with _bulk_load(engine) as loading:
        return _build(loading, size, key_path, progress, hasher, seed)


@contextmanager
def _bulk_load(engine: Engine) -> Iterator[Engine]:
    """The build's own engine: on SQLite, commits are not flushed to disk one by one.

    A demo that is cut short is built again, so the build trades the per-commit fsync
    (``synchronous=FULL``, the register's setting) for WAL's ``NORMAL``: every commit is still
    atomic, and closing the last connection checkpoints the WAL to disk.  The register is then
    opened, and served, with the usual settings.
    """
    if engine.dialect.name != "sqlite":
        yield engine
        return
    fast = make_engine(engine.url.render_as_string(hide_password=False))

    @event.listens_for(fast, "connect")
    def _normal(dbapi_connection: Any, _record: Any) -> None:  # after make_engine's own settings
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    try:
        yield fast
    finally:
        fast.dispose()


def _build(
    engine: Engine,
    size: str,
    key_path: Path,
    progress: Callable[[str, int, int], None] | None,
    hasher: PasswordHasher | None,
    seed: int,
) -> DemoResult:
    clock = SimulatedClock(START)
    at = clock.at(START - timedelta(hours=1))
    if key_path.exists():
        signer = load_key_file(key_path)
    else:
        signer = Signer.generate(ORIGIN)
        key_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_new_key_file(key_path, signer)
    with write_transaction(engine) as conn:
        create_ledger(conn, LEDGER, ORIGIN, at)
        record_verifier_key(conn, LEDGER, signer.verifier_key_text())
    opened = LedgerOpened(origin=ORIGIN, description="Demo: CECOT as the reports describe it (synthetic)",
                          custodian="Dirección General de Centros Penales (sintético)")  # fmt: skip
    event_id = uuid5(NAMESPACE_URL, f"habeas-demo/{seed}/ledger")
    Ledger(engine, LEDGER, REGISTRY).append([NewEvent("ledger.opened", opened, at, "demo", event_id)], clock())
    accounts = _accounts(engine, clock, hasher)
    scenario = Scenario(engine, LEDGER, clock, size, seed)
    steps = scenario.steps()
    for done, (name, step) in enumerate(steps):
        if progress:
            progress(name, done, len(steps))
        step()
    if progress:
        progress("done", len(steps), len(steps))
    checkpoint = sign_checkpoint(engine, LEDGER, signer, clock())
    return DemoResult(LEDGER, accounts, END, checkpoint.size)


def _accounts(engine: Engine, clock: SimulatedClock, hasher: PasswordHasher | None) -> tuple[DemoAccount, ...]:
    service = AccountService(engine, LEDGER, clock, hasher)
    out = []
    for role, username, scope, name in ACCOUNTS:
        password = secrets.token_urlsafe(12)  # 16 characters; random on every build, printed once
        service.add(None, username, name, role, password, scope)
        out.append(DemoAccount(role, username, password, scope, name))
    return tuple(out)


__all__ = ["ACCOUNTS", "FACILITY", "LEDGER", "DemoAccount", "DemoResult", "build_demo", "is_empty"]
