"""Manifest imports started from the intake page, run in a background thread with their progress.

A manifest of thousands takes longer than a page should wait, so the upload starts
a job and redirects to its status page, which refreshes itself until the job is
done: progress without JavaScript.  The work is the CLI's ``habeas import``:
``domain.manifest.parse_manifest`` then ``services.intake.import_manifest`` (all or
nothing, or the valid rows with "accept valid rows").

A job's phase and report are kept in the database (``store.job_tables``), so any
server worker can show them (``habeas serve --workers N``); each is shown only to the
account that started it.  The count of people admitted so far is written there too on
PostgreSQL; on SQLite the import holds the database's one write lock until it commits,
so the count lives in the memory of the process running it (SQLite means one worker).
A job that stops reporting for ``STALE`` (its worker stopped mid-import) is shown as
failed: an import commits in one transaction, so nothing of it was admitted.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import orjson
from fastapi import Request
from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from habeas.api.security import app_state
from habeas.domain.access import Principal
from habeas.domain.manifest import RowError, parse_manifest
from habeas.errors import HabeasError
from habeas.services.intake import IntakeResult, import_manifest, rejected_csv
from habeas.services.register import RegisterService
from habeas.store.job_tables import import_jobs

MAX_BYTES = 50_000_000  # about 100,000 rows: a night of mass arrivals, not an archive
KEEP = 50  # finished reports kept per ledger (oldest forgotten first; the admissions stay in the ledger)
# No progress for this long: the worker running the job stopped.  Progress is written after every chunk of
# 500 admissions, and reading and checking 100,000 rows takes a few minutes at most.
STALE = timedelta(minutes=15)


@dataclass(frozen=True)
class AdmittedRef:
    person_id: str
    booking_number: str


@dataclass(frozen=True)
class JobReport:
    committed: bool
    admitted: tuple[AdmittedRef, ...]
    errors: tuple[RowError, ...]


@dataclass(frozen=True)
class ImportJob:
    """A job as its status page shows it."""

    job_id: str
    filename: str
    phase: str  # reading -> checking -> admitting -> done | failed
    total: int  # valid rows to admit
    admitted: int
    failure: str | None
    result: JobReport | None

    @property
    def running(self) -> bool:
        return self.phase not in ("done", "failed")

    @property
    def errors(self) -> tuple[RowError, ...]:
        return self.result.errors if self.result is not None else ()

    @property
    def bad_lines(self) -> int:
        return len({e.line for e in self.errors})

    @property
    def percent(self) -> int:
        return 100 if not self.running else (100 * self.admitted // self.total if self.total else 0)


def _live(request: Request) -> dict[str, tuple[int, int]]:
    """This process's running jobs: job id -> (total, admitted so far)."""
    live: dict[str, tuple[int, int]] | None = getattr(request.app.state, "habeas_import_progress", None)
    if live is None:
        live = request.app.state.habeas_import_progress = {}
    return live


def load_job(request: Request, job_id: str, who: Principal) -> ImportJob | None:
    """The job, if ``who`` started it; another account's job looks absent."""
    config = app_state(request).config
    progress = _live(request).get(job_id)
    # A job running in this process is alive whatever its row says (on SQLite its row is not written mid-import).
    job = read_job(config.engine, config.ledger_id, job_id, who, None if progress else config.clock())
    if job is not None and job.running and progress is not None:
        total, admitted = progress
        job = replace(job, phase="admitting", total=total, admitted=admitted)
    return job


def read_job(engine: Engine, ledger: str, job_id: str, who: Principal, now: datetime | None) -> ImportJob | None:
    """The job as the database has it (any worker's), if ``who`` started it; stale at ``now`` (None: never)."""
    # Not the correction file: the status page is read every two seconds, the file once at most.
    shown = [c for c in import_jobs.c if c is not import_jobs.c.rejected_csv]
    with engine.connect() as conn:
        row = conn.execute(select(*shown).where(*_owned(ledger, job_id, who))).first()
    if row is None:
        return None
    phase, failure = row.phase, row.failure
    if phase not in ("done", "failed") and now is not None and now - row.updated_at > STALE:
        phase = "failed"
        failure = "the import stopped without finishing (the server stopped during it); nothing of it was admitted"
    result = None
    if row.report is not None:
        report = orjson.loads(row.report)
        result = JobReport(
            bool(row.committed),
            tuple(AdmittedRef(p, b) for p, b in report["admitted"]),
            tuple(RowError(line, field, rule) for line, field, rule in report["errors"]),
        )
    return ImportJob(row.job_id, row.filename, phase, row.total, row.admitted, failure, result)


def _owned(ledger: str, job_id: str, who: Principal) -> tuple[Any, ...]:
    """The job, only for the account that started it (another account's job looks absent)."""
    return (
        import_jobs.c.job_id == job_id,
        import_jobs.c.ledger_id == ledger,
        import_jobs.c.account_id == who.account_id,
    )


def load_rejected(engine: Engine, ledger: str, job_id: str, who: Principal) -> tuple[str, str] | None:
    """(file name, correction file) of ``who``'s job, if rows were refused."""
    with engine.connect() as conn:
        row = conn.execute(
            select(import_jobs.c.filename, import_jobs.c.rejected_csv).where(*_owned(ledger, job_id, who))
        ).first()
    if row is None or row.rejected_csv is None:
        return None
    return row.filename, row.rejected_csv


def start_import(
    request: Request, who: Principal, text: str, facility_id: str, filename: str, accept_valid: bool
) -> str:
    """Record the job, start it in a thread, and return its id."""
    config = app_state(request).config
    engine, ledger, clock = config.engine, config.ledger_id, config.clock
    job_id = str(uuid.uuid4())
    now = clock()
    with engine.begin() as conn:
        _forget_old(conn, ledger)
        conn.execute(
            insert(import_jobs).values(
                job_id=job_id, ledger_id=ledger, account_id=who.account_id, filename=filename[:200],
                facility_id=facility_id, accept_valid=accept_valid, started_at=now, updated_at=now, phase="reading",
                total=0, admitted=0,
            )
        )  # fmt: skip
    service = RegisterService(engine, ledger, clock)
    live = _live(request)
    shared_progress = engine.dialect.name != "sqlite"  # see the module docstring

    def record(**values: Any) -> None:
        with engine.begin() as conn:
            conn.execute(update(import_jobs).where(import_jobs.c.job_id == job_id).values(updated_at=clock(), **values))

    def progress(done: int, total: int) -> None:
        # Called inside the import's transaction: never let the progress report fail the import.
        live[job_id] = (total, done)
        if shared_progress:
            with suppress(SQLAlchemyError):
                record(phase="admitting", total=total, admitted=done)

    def run() -> None:
        try:
            _run(record, progress, service, who, text, facility_id, accept_valid)
        finally:
            live.pop(job_id, None)

    threading.Thread(target=run, name=f"manifest-{job_id[:8]}", daemon=True).start()
    return job_id


def _run(
    record: Callable[..., None],
    progress: Callable[[int, int], None],
    service: RegisterService,
    who: Principal,
    text: str,
    facility_id: str,
    accept_valid: bool,
) -> None:
    try:
        parsed = parse_manifest(text, facility_id=facility_id, now=service.clock())
        record(phase="checking", total=len(parsed.rows))
        # The register's checks run on every row the form accepted, so the report is whole even when
        # nothing is admitted (services.intake: all or nothing unless accept_valid).
        result = import_manifest(service, who.actor, parsed, accept_valid=accept_valid, progress=progress)
        record(
            phase="done", committed=result.committed, report=_report(result),
            rejected_csv=rejected_csv(parsed, result) if result.errors else None,
        )  # fmt: skip
    except HabeasError as error:  # a refusal of the whole manifest: nothing was admitted
        record(phase="failed", failure=str(error))
    except Exception as error:
        record(phase="failed", failure=f"unexpected error: {type(error).__name__}")


def _report(result: IntakeResult) -> str:
    return orjson.dumps(
        {
            "admitted": [[a.person_id, a.booking_number] for a in result.admitted],
            "errors": [[e.line, e.field, e.rule] for e in result.errors],
        }
    ).decode()


def _forget_old(conn: Connection, ledger: str) -> None:
    """Keep the newest ``KEEP`` finished jobs of the ledger."""
    finished = (
        select(import_jobs.c.job_id)
        .where(import_jobs.c.ledger_id == ledger, import_jobs.c.phase.in_(("done", "failed")))
        .order_by(import_jobs.c.started_at.desc())
        .offset(KEEP)
    )
    old = list(conn.execute(finished).scalars())
    if old:
        conn.execute(delete(import_jobs).where(import_jobs.c.job_id.in_(old)))
