"""Manifest imports started from the intake page, run in a background thread with their progress.

A manifest of thousands takes longer than a page should wait, so the upload starts
a job and redirects to its status page, which refreshes itself (``<meta refresh>``)
until the job is done: progress without JavaScript.  The work is the CLI's
``habeas import``: ``domain.manifest.parse_manifest`` then
``services.intake.import_manifest`` (all or nothing, or the valid rows with
"accept valid rows").

Jobs live in the server process's memory (a restart forgets the report, never the
admissions, which are in the ledger); each is shown only to the account that
started it.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request

from habeas.api.security import app_state
from habeas.domain.access import Principal
from habeas.domain.manifest import ParsedManifest, RowError, parse_manifest
from habeas.errors import HabeasError
from habeas.services.intake import IntakeResult, import_manifest
from habeas.services.register import RegisterService

MAX_BYTES = 50_000_000  # about 100,000 rows: a night of mass arrivals, not an archive
KEEP = 50  # finished reports kept per server process (oldest forgotten first)


@dataclass
class ImportJob:
    job_id: str
    account_id: str
    filename: str
    facility_id: str
    accept_valid: bool
    started_at: datetime
    phase: str = "reading"  # reading -> checking -> admitting -> done | failed
    total: int = 0  # valid rows to admit
    admitted: int = 0
    parsed: ParsedManifest | None = None
    result: IntakeResult | None = None
    failure: str | None = None

    @property
    def running(self) -> bool:
        return self.phase not in ("done", "failed")

    @property
    def errors(self) -> tuple[RowError, ...]:
        if self.result is not None:
            return self.result.errors
        return self.parsed.errors if self.parsed is not None else ()

    @property
    def bad_lines(self) -> int:
        return len({e.line for e in self.errors})

    @property
    def percent(self) -> int:
        return 100 if not self.running else (100 * self.admitted // self.total if self.total else 0)


class Jobs:
    def __init__(self) -> None:
        self._jobs: OrderedDict[str, ImportJob] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, job: ImportJob) -> None:
        with self._lock:
            self._jobs[job.job_id] = job
            finished = [j for j in self._jobs.values() if not j.running]
            for old in finished[: max(0, len(finished) - KEEP)]:
                del self._jobs[old.job_id]

    def get(self, job_id: str, who: Principal) -> ImportJob | None:
        """The job, if ``who`` started it; another account's job looks absent."""
        job = self._jobs.get(job_id)
        return job if job is not None and job.account_id == who.account_id else None


def jobs(request: Request) -> Jobs:
    registry: Jobs | None = getattr(request.app.state, "habeas_intake_jobs", None)
    if registry is None:
        registry = request.app.state.habeas_intake_jobs = Jobs()
    return registry


def start_import(
    request: Request, who: Principal, text: str, facility_id: str, filename: str, accept_valid: bool
) -> ImportJob:
    state = app_state(request)
    config = state.config
    job = ImportJob(str(uuid.uuid4()), who.account_id, filename, facility_id, accept_valid, config.clock())
    jobs(request).add(job)
    service = RegisterService(config.engine, config.ledger_id, config.clock)

    def progress(done: int, total: int) -> None:
        job.phase, job.total, job.admitted = "admitting", total, done

    def run() -> None:
        try:
            parsed = parse_manifest(text, facility_id=facility_id, now=config.clock())
            job.parsed, job.total, job.phase = parsed, len(parsed.rows), "checking"
            # The register's checks run on every row the form accepted, so the report is whole even when
            # nothing is admitted (services.intake: all or nothing unless accept_valid).
            job.result = import_manifest(service, who.actor, parsed, accept_valid=accept_valid, progress=progress)
            job.phase = "done"
        except HabeasError as error:  # a refusal of the whole manifest: nothing was admitted
            job.failure, job.phase = str(error), "failed"
        except Exception as error:
            job.failure, job.phase = f"unexpected error: {type(error).__name__}", "failed"

    threading.Thread(target=run, name=f"manifest-{job.job_id[:8]}", daemon=True).start()
    return job
