"""``habeas demo``: build the demo register (CECOT as the reports describe it) and serve it on loopback."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url

from habeas.api.app import create_app
from habeas.api.config import ApiConfig
from habeas.cli.output import console, fail, settings
from habeas.demo.build import DemoResult, build_demo, is_empty
from habeas.store import account_tables, law_tables, register_tables, transfer_tables
from habeas.store.engine import data_dir, make_engine
from habeas.store.tables import metadata
from habeas.web.config import prepare_environment


class Size(StrEnum):
    small = "small"
    full = "full"


def demo_folder() -> Path:
    return data_dir() / "demo"


def demo(
    ctx: typer.Context,
    size: Annotated[Size, typer.Option(help="small: a few hundred people; full: the reported ~15,000.")] = Size.full,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Start the web server when built.")] = True,
    database_url: Annotated[
        str | None, typer.Option(help="Where to build it (default: a new SQLite file in the demo folder).")
    ] = None,
    replace: Annotated[bool, typer.Option(help="Replace a demo database that already holds a register.")] = False,
    host: Annotated[str, typer.Option(help="Loopback by default.")] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
) -> None:
    """Build a demo register of CECOT as the reports describe it (synthetic people) and serve it.

    The scenario runs on its own clock from January 2023 to its present, 30 November 2025; the
    served app's clock continues from there in real time (so a sweep run from the web shows that
    instant, and sessions expire as usual).
    """
    folder = demo_folder()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    url = database_url or settings(ctx).database_url or f"sqlite:///{folder / 'habeas-demo.db'}"
    engine = make_engine(url)
    if not is_empty(engine):
        if not replace:
            fail(f"{_shown(url)} already holds a register; give --replace to build the demo there again", 2)
        engine = _emptied(url, engine)
    key = folder / "keys" / "main.key"
    console.print(f"database  {_shown(url)}")
    started = datetime.now(UTC)
    with Progress(
        TextColumn("{task.description:<52}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=False,
    ) as bar:  # fmt: skip
        task = bar.add_task("building", total=None)

        def progress(name: str, done: int, total: int) -> None:
            bar.update(task, description=name, completed=done, total=total)

        result = build_demo(engine, size.value, key, progress=progress)
    seconds = (datetime.now(UTC) - started).total_seconds()
    console.print(
        f"built     {result.events:,} events in {seconds:.1f} s; the final sweep ran at {result.end:%Y-%m-%d %H:%M} UTC"
    )
    console.print(f"key       {key}")
    console.print(
        f"use the CLI on it: HABEAS_DATABASE_URL='{_shown(url)}' HABEAS_SIGNING_KEY='{key}' habeas alerts",
        highlight=False,
    )
    if not serve:
        return
    _print_accounts(result)
    console.print(f"\nhabeas demo on [bold]http://{host}:{port}/[/] (the API's documentation at /api/v1/docs)")
    console.print("Ctrl-C stops it; `habeas serve` with the variables above serves it again (on the real clock)")
    prepare_environment(host)  # plain cookies only on loopback (habeas.web.config)
    offset = datetime.now(UTC)
    app = create_app(ApiConfig(engine, result.ledger_id, clock=lambda: result.end + (datetime.now(UTC) - offset)))
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _print_accounts(result: DemoResult) -> None:
    table = Table(title="demo accounts (synthetic; shown once)")
    for column in ("role", "username", "password", "scope"):
        table.add_column(column)
    for a in result.accounts:
        table.add_row(a.role, a.username, a.password, a.scope or "")
    console.print(table)


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _emptied(url: str, engine: Engine) -> Engine:
    """--replace: a SQLite file is deleted; on a server, habeas's tables are dropped (its ledger cannot be
    migrated down, by design), leaving anything else in the database alone."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.database + suffix).unlink(missing_ok=True)
        return make_engine(url)
    existing = set(inspect(engine).get_table_names())
    ours = [t.name for t in reversed(metadata.sorted_tables)] + ["alembic_version"]
    with engine.begin() as conn:
        for name in ours:
            if name in existing:
                conn.execute(text(f'DROP TABLE "{name}" CASCADE'))
    return engine


# Every table of the register is in ``metadata`` once these modules are imported.
TABLE_MODULES = (account_tables, law_tables, register_tables, transfer_tables)


def demo_commands(app: typer.Typer) -> None:
    app.command("demo")(demo)
