"""Manifest imports' progress and reports, shared by every server worker.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Before, a web upload's job lived in the memory of the worker that received it, so with
``habeas serve --workers N`` its status page, served by another worker, said "not found".
"""

from __future__ import annotations

from alembic import op

from habeas.store.job_tables import JOB_TABLES

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for table in JOB_TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(JOB_TABLES):
        table.drop(bind)
