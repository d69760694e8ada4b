"""Manifest imports started from the web pages: their progress and their report.

Kept in the database, not in a server process's memory: with ``habeas serve --workers N``
the upload and the status page that follows it are served by any worker.  Not a
projection (a report says how an upload went; the admissions themselves are in the
ledger), so ``habeas rebuild`` leaves it alone.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text

from habeas.store.tables import metadata
from habeas.store.types import UtcInstant

import_jobs = Table(
    "import_jobs", metadata,
    Column("job_id", String(36), primary_key=True),
    Column("ledger_id", String(64), nullable=False),
    Column("account_id", String(36), nullable=False),  # shown only to the account that started it
    Column("filename", String(200), nullable=False),
    Column("facility_id", String(64), nullable=False),
    Column("accept_valid", Boolean, nullable=False),
    Column("started_at", UtcInstant, nullable=False),
    Column("updated_at", UtcInstant, nullable=False),  # the last progress written (a stale job's worker stopped)
    Column("phase", String(16), nullable=False),  # reading -> checking -> admitting -> done | failed
    Column("total", Integer, nullable=False),
    Column("admitted", Integer, nullable=False),
    Column("failure", Text, nullable=True),
    Column("committed", Boolean, nullable=True),
    # JSON: {"admitted": [[person_id, booking_number], ...], "errors": [[line, field, rule], ...]}
    Column("report", Text, nullable=True),
    Column("rejected_csv", Text, nullable=True),  # the correction file, when rows were refused
)  # fmt: skip
Index("ix_import_jobs_started", import_jobs.c.started_at)

JOB_TABLES = (import_jobs,)
