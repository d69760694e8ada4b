"""``habeas tour``: five minutes with the ledger, in a throwaway database.

It shows what the register promises before there is a register to show: events
are chained and signed, anyone can check a proof offline, the database refuses
edits, and an edit made behind its back is found.
"""

from __future__ import annotations

import json
import tempfile
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

from rich.console import Console
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from habeas.cli.context import now
from habeas.domain.events import REGISTRY, LedgerOpened, NoteRecorded
from habeas.ledger import proofs
from habeas.ledger.checkpoint import Signer, Verifier
from habeas.ledger.envelope import NewEvent
from habeas.ledger.heads import sign_checkpoint
from habeas.ledger.log import Ledger, create_ledger
from habeas.ledger.verify import verify_ledger
from habeas.store import append_only, migrate
from habeas.store.engine import make_engine, write_transaction

NOTES = [  # synthetic log-book entries; no real person is named anywhere in habeas
    ("unit:3", "Night shift began; intake desk open."),
    ("person:A-0001", "Admitted from transport 17; property bag 0001 sealed."),
    ("person:A-0002", "Admitted from transport 17; complains of injury to left wrist, referred to medical."),
    ("unit:3", "Roll call: 62 present, 62 on the register."),
]


def run_tour(console: Console) -> None:
    folder = Path(tempfile.mkdtemp(prefix="habeas-tour-"))
    engine = make_engine(f"sqlite:///{folder / 'tour.db'}")
    migrate.upgrade(engine)
    origin = "habeas.local/tour"
    signer = Signer.generate(origin)
    verifier = Verifier.from_text(signer.verifier_key_text())
    start = now()
    with write_transaction(engine) as conn:
        create_ledger(conn, "tour", origin, start)
    ledger = Ledger(engine, "tour", REGISTRY)

    console.rule("1. Every fact is an event in a hash chain")
    opened = LedgerOpened(origin=origin, description="Tour register", custodian="Records office")
    batch = [NewEvent("ledger.opened", opened, start, "user:records-1", uuid4())]
    for minutes, (subject, note) in enumerate(NOTES, start=1):
        payload = NoteRecorded(subject=subject, text=note)
        batch.append(NewEvent("note.recorded", payload, start + timedelta(minutes=minutes), "user:intake-1", uuid4()))
    stored = ledger.append(batch, start + timedelta(minutes=len(NOTES)))
    for event in stored:
        chain = f"hash {event.hash.hex()[:16]}…  prev {event.prev_hash.hex()[:16]}…"
        console.print(f"  #{event.seq} {event.type:<14} {chain}")
    console.print(f"[dim]database: {folder / 'tour.db'}[/]")

    console.rule("2. A signed checkpoint leaves the building")
    checkpoint = sign_checkpoint(engine, "tour", signer, now())
    console.print(checkpoint.note.rstrip(), highlight=False)
    console.print(f"verifier key: {signer.verifier_key_text()}")

    console.rule("3. Anyone can check that an entry is in the log")
    with engine.connect() as conn:
        proof = proofs.inclusion_proof(conn, "tour", 3, checkpoint.size)
    console.print(json.dumps({k: proof[k] for k in ("seq", "tree_size", "proof")}, indent=1))
    console.print(f"[green]✓[/] {proofs.check_inclusion(proof, verifier.verify(checkpoint.note))}")

    console.rule("4. The database refuses to edit history")
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE events SET actor = 'user:nobody' WHERE seq = 3"))
    except DBAPIError as error:
        console.print(f"[green]✓ refused:[/] {error.orig!s}")

    console.rule("5. An edit made behind its back is found")
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER events_no_update"))  # as someone with file access could
        conn.execute(
            text("UPDATE events SET body = CAST(replace(CAST(body AS TEXT), 'left wrist', 'no injury') AS BLOB) "
                 "WHERE seq = 4")
        )  # fmt: skip
        append_only.install("sqlite", lambda s: conn.execute(text(s)), ("events",))
    with engine.connect() as conn:
        report = verify_ledger(conn, "tour", verifier)
    console.print(f"[bold red]✗ habeas verify:[/] event {report.bad_seq}: {report.problem}")
    console.rule()
    console.print("Next: [bold]habeas init[/] creates your own register; [bold]habeas --help[/] lists the commands.")
    engine.dispose()
