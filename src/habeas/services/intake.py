"""Mass intake: a flight manifest of hundreds, a night of thousands, all or nothing.

The manifest is validated whole first (form, by the domain; then against the
register: duplicates, people already held).  Only a manifest with no bad row is
committed, in one transaction; or, when the caller accepts partial intake, the
valid rows are committed and the rejected ones returned for correction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from habeas.domain.manifest import ManifestRow, ParsedManifest, RowError
from habeas.errors import Conflict, HabeasError, InvalidInput, NotFound
from habeas.services.register import Admitted, RegisterService

CHUNK = 500


@dataclass(frozen=True)
class IntakeResult:
    admitted: tuple[Admitted, ...]
    errors: tuple[RowError, ...]  # rows refused (form or register), with line, field and rule
    committed: bool


def import_manifest(
    svc: RegisterService,
    actor: str,
    manifest: ParsedManifest,
    *,
    accept_valid: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> IntakeResult:
    rows = list(manifest.rows)
    errors = list(manifest.errors)
    if not errors and rows:
        # A manifest the form accepts is admitted at once: admit_many makes every register check
        # of every row inside its one transaction, so a refusal commits nothing.  Only then is
        # the manifest checked again, below, to name every bad row (a clean one is read once).
        try:
            admitted = svc.admit_many(actor, [r.admission for r in rows], progress=progress, chunk=CHUNK)
            return IntakeResult(tuple(admitted), (), True)
        except HabeasError:
            pass
    # Register checks row by row (a dry run in a transaction that is rolled back) so every
    # bad row is named, not only the first.
    bad_lines = {e.line for e in errors}
    errors.extend(_register_problems(svc, actor, [r for r in rows if r.line not in bad_lines]))
    bad_lines = {e.line for e in errors}
    good = [r for r in rows if r.line not in bad_lines]
    if errors and not accept_valid:
        return IntakeResult((), tuple(sorted(errors, key=lambda e: e.line)), False)
    admitted = svc.admit_many(actor, [r.admission for r in good], progress=progress, chunk=CHUNK) if good else []
    return IntakeResult(tuple(admitted), tuple(sorted(errors, key=lambda e: e.line)), True)


def _register_problems(svc: RegisterService, actor: str, rows: Sequence[ManifestRow]) -> list[RowError]:
    problems: list[RowError] = []
    if not rows:
        return problems
    try:
        svc.check_admissions(actor, [r.admission for r in rows])
        return problems
    except HabeasError:
        pass
    # Something is wrong: find every row that is, one at a time (rare; a clean manifest skips this).
    for row in rows:
        try:
            svc.check_admissions(actor, [row.admission])
        except InvalidInput as error:
            problems.extend(RowError(row.line, p.field, p.rule) for p in error.problems)
        except (Conflict, NotFound) as error:
            problems.append(RowError(row.line, getattr(error, "field", "row"), str(error)))
    if not problems:  # each row alone is fine: the conflict is between rows (the same person twice)
        try:
            svc.check_admissions(actor, [r.admission for r in rows])
        except HabeasError as error:
            problems.append(RowError(rows[-1].line, getattr(error, "field", "row"), str(error)))
    return problems


def rejected_csv(manifest: ParsedManifest, result: IntakeResult) -> str:
    """The correction file for ``result``: every refused row (form or register) with an ``errors`` column.

    Rows refused by the register passed the form checks, so they are in ``manifest.rows``; their
    problems are joined into the same ``errors`` column the form's rejected rows carry.
    """
    bad: dict[int, list[str]] = {}
    for e in result.errors:
        bad.setdefault(e.line, []).append(f"{e.field}: {e.rule}")
    if set(bad) <= {e.line for e in manifest.errors}:
        return manifest.rejected_csv()
    rows = [dict(r.raw, errors="; ".join(bad[r.line])) for r in manifest.rows if r.line in bad]
    rows += [dict(raw) for raw in manifest.rejected]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
