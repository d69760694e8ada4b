"""``habeas``: the command line.  Each command is a thin shell over the ledger and services."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from uuid import uuid4

import typer
from rich.table import Table

from habeas import __version__
from habeas.cli.accounts import account_commands
from habeas.cli.context import Settings, now
from habeas.cli.demo import demo_commands
from habeas.cli.law import law_commands
from habeas.cli.output import catch_refusals, console, errors, fail, settings
from habeas.cli.register import register_commands
from habeas.cli.tour import run_tour
from habeas.cli.transfer import transfer_commands
from habeas.domain.events import LedgerOpened
from habeas.errors import HabeasError
from habeas.ledger import proofs
from habeas.ledger.checkpoint import (
    CheckpointError,
    Signer,
    Verifier,
    write_new_key_file,
)
from habeas.ledger.envelope import NewEvent
from habeas.ledger.heads import (
    first_checkpoint_covering,
    list_checkpoints,
    record_verifier_key,
    sign_checkpoint,
)
from habeas.ledger.log import create_ledger, read_events, read_head
from habeas.ledger.merkle import ProofError
from habeas.ledger.timefmt import format_instant
from habeas.ledger.verify import default_workers, verify_in_snapshot
from habeas.services.ledger_checks import record_or_note
from habeas.store import migrate
from habeas.store.engine import write_transaction
from habeas.store.tables import events

app = typer.Typer(
    help="habeas: a custody register in which nobody disappears.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
proof_app = typer.Typer(help="Print Merkle proofs (RFC 9162) as JSON.", no_args_is_help=True)
app.add_typer(proof_app, name="proof")
register_commands(app)
law_commands(app)
transfer_commands(app)
account_commands(app)
demo_commands(app)


@app.callback()
def main_options(
    ctx: typer.Context,
    database_url: Annotated[
        str | None, typer.Option(help="Database URL (else HABEAS_DATABASE_URL, else a SQLite file).")
    ] = None,
    ledger: Annotated[str | None, typer.Option(help="Ledger id (else HABEAS_LEDGER, else 'main').")] = None,
    key_file: Annotated[
        Path | None, typer.Option(help="Signing key file (else HABEAS_SIGNING_KEY, else in the data folder).")
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Who is acting (else HABEAS_ACTOR).")] = None,
) -> None:
    ctx.obj = Settings(database_url, ledger, key_file, actor)


@app.command()
def init(
    ctx: typer.Context,
    origin: Annotated[
        str | None, typer.Option(help="Name of the log in checkpoints (default habeas.local/<ledger>).")
    ] = None,
    description: Annotated[str, typer.Option(help="What this ledger is the register of.")] = ("Custody register"),
    custodian: Annotated[str, typer.Option(help="The authority that keeps the register.")] = (
        "Facility records office"
    ),
) -> None:
    """Create the database (or bring it up to date), the ledger and its signing key."""
    s = settings(ctx)
    migrate.upgrade(s.engine)
    console.print(
        f"database  {s.engine.url.render_as_string(hide_password=True)} (schema {migrate.current_revision(s.engine)})"
    )
    origin = origin or f"habeas.local/{s.ledger}"
    if s.key_path.exists():
        signer = s.signer()
        console.print(f"key       {s.key_path} exists; kept (habeas never overwrites a signing key)")
    else:
        signer = Signer.generate(origin)
        s.key_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_new_key_file(s.key_path, signer)
        console.print(f"key       {s.key_path} created")
    at = now()
    with write_transaction(s.engine) as conn:
        try:
            head = read_head(conn, s.ledger)
            console.print(f"ledger    {s.ledger} exists ({head.size} events)")
            created = False
        except HabeasError:
            create_ledger(conn, s.ledger, origin, at)
            record_verifier_key(conn, s.ledger, signer.verifier_key_text())
            created = True
    if created:
        s.open_ledger().append(
            [NewEvent("ledger.opened", LedgerOpened(origin=origin, description=description, custodian=custodian),
                      at, s.who, uuid4())],
            at,
        )  # fmt: skip
        console.print(f"ledger    {s.ledger} created, origin {origin}")
    console.print(f"verifier  {signer.verifier_key_text()}")


@app.command()
def tour() -> None:
    """A five-minute tour of the ledger in a throwaway database (your data is not touched)."""
    run_tour(console)


@app.command()
def info(ctx: typer.Context) -> None:
    """Where the database and key are, and the state of the ledger."""
    s = settings(ctx)
    console.print(f"habeas    {__version__}")
    console.print(f"database  {s.engine.url.render_as_string(hide_password=True)}")
    console.print(f"ledger    {s.ledger}")
    console.print(f"key file  {s.key_path}{'' if s.key_path.exists() else ' (missing: run habeas init)'}")
    try:
        revision = migrate.current_revision(s.engine)
    except Exception:
        revision = None
    if revision is None:
        console.print("schema    not initialized (run habeas init)")
        return
    console.print(f"schema    {revision} (latest {migrate.head_revision(s.engine)})")
    with s.engine.connect() as conn:
        try:
            head = read_head(conn, s.ledger)
        except HabeasError:
            console.print("size      no such ledger (run habeas init)")
            return
    console.print(f"origin    {head.origin}")
    console.print(f"size      {head.size} events")
    console.print(f"root      {head.root.hex()}")


@app.command()
def verify(
    ctx: typer.Context,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option("--checkpoint", help="A signed checkpoint kept outside the database (repeatable)."),
    ] = None,
    verifier_key: Annotated[
        str | None, typer.Option(help="Verifier key text (default: derived from the signing key file).")
    ] = None,
    workers: Annotated[
        int, typer.Option(help="Processes for ledgers over 65,536 events (0: one per core). Helps on an idle machine.")
    ] = 1,
    record: Annotated[
        bool, typer.Option(help="Record the result for oversight (--no-record: when checking a backup copy).")
    ] = True,
) -> None:
    """Re-hash the whole chain, rebuild the Merkle tree and check every checkpoint.

    The result is recorded for oversight (their page and ``GET /api/v1/ledger/checks``), pass or fail."""
    s = settings(ctx)
    try:
        verifier = Verifier.from_text(verifier_key) if verifier_key else s.verifier()
    except CheckpointError as error:
        fail(f"--verifier-key: {error}", 2)
    external = [path.read_text() for path in checkpoint or []]
    report = verify_in_snapshot(s.engine, s.ledger, verifier, external, workers=workers or default_workers())
    if record:
        record_or_note(s.engine, report, now(), s.who, "cli")  # a copy that cannot take it: a note, same verdict
    for note in report.notes:
        errors.print(f"[yellow]note:[/] {note}")
    if not report.ok:
        where = f"event {report.bad_seq}: " if report.bad_seq is not None else ""
        fail(f"ledger {s.ledger} is NOT intact: {where}{report.problem}")
    console.print(
        f"ledger {s.ledger} intact: {report.size} events, root {report.root.hex()}, "
        f"{report.checkpoints_checked} checkpoint(s) matched"
    )


@app.command("verifier-key")
def verifier_key_cmd(ctx: typer.Context) -> None:
    """Print the public key that checks this ledger's checkpoints (give it to auditors)."""
    print(settings(ctx).signer().verifier_key_text())


@app.command("checkpoint")
def checkpoint_cmd(ctx: typer.Context) -> None:
    """Sign the current tree head and print it (C2SP tlog-checkpoint signed note)."""
    s = settings(ctx)
    stored = sign_checkpoint(s.engine, s.ledger, s.signer(), now())
    sys.stdout.write(stored.note)


@app.command()
def checkpoints(ctx: typer.Context) -> None:
    """List the stored checkpoints."""
    s = settings(ctx)
    table = Table("size", "root", "signed at")
    with s.engine.connect() as conn:
        for cp in list_checkpoints(conn, s.ledger):
            table.add_row(str(cp.size), cp.root.hex(), format_instant(cp.signed_at))
    console.print(table)


def _seq_of(ctx: typer.Context, event: str) -> int:
    s = settings(ctx)
    if event.isdigit():
        return int(event)
    with s.engine.connect() as conn:
        seq = conn.execute(
            events.select()
            .with_only_columns(events.c.seq)
            .where(events.c.ledger_id == s.ledger, events.c.event_id == event)
        ).scalar()
    if seq is None:
        fail(f"event: no event {event!r} in ledger {s.ledger}", 2)
    return int(seq)


@proof_app.command("inclusion")
def proof_inclusion(
    ctx: typer.Context,
    event: Annotated[str, typer.Argument(help="Event id (UUID) or sequence number.")],
    size: Annotated[int | None, typer.Option(help="Tree size (default: the newest checkpoint's).")] = None,
) -> None:
    """Prove an event is in the log, against a checkpoint's tree size."""
    s = settings(ctx)
    seq = _seq_of(ctx, event)
    with s.engine.connect() as conn:
        if size is None:
            cp = first_checkpoint_covering(conn, s.ledger, seq)
            if cp is None:
                fail(f"no checkpoint covers event {seq} yet: run `habeas checkpoint` first, or give --size", 2)
            size = cp.size
        print(json.dumps(proofs.inclusion_proof(conn, s.ledger, seq, size), indent=2))


@proof_app.command("consistency")
def proof_consistency(ctx: typer.Context, size1: int, size2: int) -> None:
    """Prove the log of size1 is a prefix of the log of size2."""
    s = settings(ctx)
    with s.engine.connect() as conn:
        print(json.dumps(proofs.consistency_proof(conn, s.ledger, size1, size2), indent=2))


def _read_key(text_or_path: str) -> Verifier:
    path = Path(text_or_path)
    text = path.read_text().strip() if path.is_file() else text_or_path
    return Verifier.from_text(text)


@app.command("verify-proof")
def verify_proof(
    proof_file: Annotated[Path, typer.Argument(help="Proof JSON from `habeas proof ...`.")],
    checkpoint: Annotated[Path, typer.Option(help="The signed checkpoint the proof is against.")],
    verifier_key: Annotated[str, typer.Option(help="Verifier key text, or a file holding it.")],
    old_checkpoint: Annotated[
        Path | None, typer.Option(help="For a consistency proof: the older signed checkpoint.")
    ] = None,
) -> None:
    """Check a proof offline, with only the proof, checkpoint(s) and the log's public key."""
    try:
        verifier = _read_key(verifier_key)
        new = verifier.verify(checkpoint.read_text())
        proof = json.loads(proof_file.read_text())
        if proof.get("type") == "consistency":
            if old_checkpoint is None:
                fail("--old-checkpoint: a consistency proof needs the older checkpoint too", 2)
            old = verifier.verify(old_checkpoint.read_text())
            console.print(f"valid: {proofs.check_consistency(proof, old, new)}")
        else:
            console.print(f"valid: {proofs.check_inclusion(proof, new)}")
    except (CheckpointError, ProofError, HabeasError, KeyError, ValueError) as error:
        fail(f"proof NOT valid: {error}")


@app.command()
def log(
    ctx: typer.Context,
    type_: Annotated[list[str] | None, typer.Option("--type", help="Only these event types.")] = None,
    actor: Annotated[str | None, typer.Option(help="Only events by this actor.")] = None,
    since: Annotated[datetime | None, typer.Option(help="Occurred at or after (UTC).")] = None,
    until: Annotated[datetime | None, typer.Option(help="Occurred before (UTC).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many events.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON envelope per line.")] = False,
) -> None:
    """List events, oldest first, filtered by type, actor and time."""
    s = settings(ctx)
    since, until = (_as_utc(v) for v in (since, until))
    with s.engine.connect() as conn:
        found = read_events(conn, s.ledger, types=type_ or (), actor=actor, since=since, until=until, limit=limit)
        if as_json:
            for ev in found:
                sys.stdout.write(ev.body.decode() + "\n")
            return
        table = Table("seq", "occurred at", "recorded at", "type", "actor", "payload")
        for ev in found:
            table.add_row(
                str(ev.seq), format_instant(ev.occurred_at), format_instant(ev.recorded_at), ev.type,
                ev.actor, json.dumps(ev.payload, ensure_ascii=False)[:80],
            )  # fmt: skip
        console.print(table)


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


catch_refusals(app)


def main() -> None:
    try:
        app()
    except HabeasError as error:
        fail(str(error), 2)


if __name__ == "__main__":
    main()
