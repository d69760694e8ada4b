"""Register commands: facilities, admission, housing, movements, counts, people, import, rebuild."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from habeas.cli.context import Settings, now
from habeas.cli.output import console, errors, fail, settings
from habeas.domain.admission import Admission
from habeas.domain.facility import CellRegistered, UnitRegistered
from habeas.domain.layout import load_layout
from habeas.domain.manifest import parse_manifest
from habeas.errors import HabeasError
from habeas.ledger.timefmt import format_instant
from habeas.services import queries
from habeas.services.intake import import_manifest, rejected_csv
from habeas.services.rebuild import rebuild
from habeas.services.register import RegisterService, parse_request

ICRC_SHARED = Decimal("3.4")
facility_app = typer.Typer(help="Facilities, units and cells.", no_args_is_help=True)
person_app = typer.Typer(help="People: their record, a search, their history.", no_args_is_help=True)

When = Annotated[datetime | None, typer.Option("--at", help="When it happened (UTC; default now).")]


def service(s: Settings) -> RegisterService:
    return RegisterService(s.engine, s.ledger, now)


def instant(value: datetime | None) -> datetime:
    if value is None:
        return now()
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def read_data(path: Path) -> Any:
    text = sys.stdin.read() if str(path) == "-" else path.read_text()
    return yaml.safe_load(text)  # YAML is a superset of JSON: both work


# --- facilities --------------------------------------------------------------------------------


@facility_app.command("load")
def facility_load(ctx: typer.Context, layout: Path, at: When = None) -> None:
    """Register a facility with its units and cells from a YAML or CSV layout."""
    s = settings(ctx)
    plan = load_layout(layout)
    service(s).register_facility(s.who, plan.facility, plan.units, plan.cells, instant(at))
    console.print(
        f"registered {plan.facility.facility_id}: {len(plan.units)} units, {len(plan.cells)} cells, "
        f"{plan.total_beds} beds, {plan.total_floor_area_m2} m²"
    )


@facility_app.command("add-cell")
def facility_add_cell(
    ctx: typer.Context,
    facility_id: str,
    unit_id: str,
    cell_id: str,
    beds: Annotated[int, typer.Option(help="Beds (bunks) in the cell.")],
    area: Annotated[str, typer.Option(help="Usable floor area in m², toilets excluded, e.g. 100 or 12.5.")],
    single: Annotated[bool, typer.Option(help="A single cell (stricter space standard).")] = False,
    toilets: Annotated[int, typer.Option()] = 0,
    unit_name: Annotated[str | None, typer.Option(help="Create the unit too, with this name.")] = None,
    at: When = None,
) -> None:
    """Add one cell (and, with --unit-name, its unit) to a registered facility."""
    s = settings(ctx)
    new_units = [UnitRegistered(facility_id=facility_id, unit_id=unit_id, name=unit_name)] if unit_name else []
    cell = parse_request(
        CellRegistered,
        {
            "facility_id": facility_id,
            "unit_id": unit_id,
            "cell_id": cell_id,
            "beds": beds,
            "floor_area_m2": area,
            "single": single,
            "toilets": toilets,
        },
    )
    service(s).add_to_facility(s.who, facility_id, new_units, [cell], instant(at))
    console.print(f"added cell {cell_id} to {facility_id} unit {unit_id}")


@facility_app.command("show")
def facility_show(ctx: typer.Context, facility_id: str) -> None:
    """Population against beds, declared and standards-based capacity (ICRC 3.4 m², CPT 4 m²), by unit."""
    s = settings(ctx)
    with s.engine.connect() as conn:
        total, units = queries.occupancy(conn, s.ledger, facility_id)
        (count,) = queries.headcount(conn, s.ledger, facility_id)
    table = Table(
        "unit",
        "people",
        "beds",
        "m²",
        "m²/person",
        "declared",
        "ICRC cap.",
        "CPT cap.",
        "% of ICRC",
        title=f"{facility_id}: {count.total} held {count.by_status}",
    )
    for o in [*units, total]:
        per = o.m2_per_person
        # R18 below 3 m² per person; R16 below the ICRC's 3.4 m² (standards.md §2).
        style = "red" if per is not None and per < 3 else ("yellow" if per is not None and per < ICRC_SHARED else "")
        table.add_row(
            o.scope,
            str(o.population),
            str(o.beds),
            str(o.floor_area_m2),
            str(per or "–"),
            str(o.declared_capacity or "–"),
            str(o.icrc_capacity),
            str(o.cpt_capacity),
            str(o.rate(o.icrc_capacity) or "–"),
            style=style,
        )
    console.print(table)


# --- admission and housing ---------------------------------------------------------------------


def admit(
    ctx: typer.Context, request: Annotated[Path, typer.Argument(help="Admission as YAML or JSON ('-': stdin).")]
) -> None:
    """Admit one person: every field of MR 7 / ICPPED 17(3), from a file."""
    s = settings(ctx)
    done = service(s).admit(s.who, parse_request(Admission, read_data(request)))
    console.print(
        f"admitted {done.person_id} booking {done.booking_number}" + (" (new person)" if done.new_person else "")
    )


def assign(
    ctx: typer.Context,
    person: Annotated[
        str | None, typer.Argument(help="Person to place (omit: propose cells for everyone in intake).")
    ] = None,
    cell: Annotated[str | None, typer.Argument(help="Cell to place them in.")] = None,
    facility: Annotated[str | None, typer.Option(help="Facility whose intake to house (with no person).")] = None,
    confirm: Annotated[bool, typer.Option(help="Record the proposal instead of only showing it.")] = False,
    override_reason: Annotated[str | None, typer.Option(help="Why a separation rule is overridden.")] = None,
    at: When = None,
) -> None:
    """Place a person in a cell, or propose (and --confirm) cells for a whole intake."""
    s = settings(ctx)
    svc = service(s)
    if person is not None:
        if cell is None:
            fail("cell: give the cell to place the person in", 2)
        svc.place(s.who, person, cell, instant(at), override_reason=override_reason)
        console.print(f"placed {person} in {cell}")
        return
    if facility is None:
        fail("--facility: name the facility whose intake to house", 2)
    proposal = svc.propose_housing(s.who, facility)
    console.print(
        f"{len(proposal.assignments)} placed, {len(proposal.unplaced)} without a cell; "
        f"{proposal.persons_above_standard} above standards-based capacity ({proposal.method})"
    )
    for person_id, reason in sorted(proposal.unplaced.items()):
        errors.print(f"  unplaced {person_id}: {reason}")
    if confirm:
        placed = svc.confirm_housing(s.who, proposal, instant(at))
        console.print(f"recorded {placed} placements")
    else:
        console.print("nothing recorded: run again with --confirm to record this proposal")


def move(
    ctx: typer.Context,
    person: str,
    cell: str,
    reason: Annotated[str, typer.Option(help="Why.")],
    override_reason: Annotated[str | None, typer.Option()] = None,
    at: When = None,
) -> None:
    """Move a person to another cell."""
    s = settings(ctx)
    service(s).place(s.who, person, cell, instant(at), reason=reason, override_reason=override_reason)
    console.print(f"moved {person} to {cell}")


def release(
    ctx: typer.Context,
    person: str,
    authority: Annotated[str, typer.Option(help="Who ordered the release.")],
    order: Annotated[str, typer.Option(help="The order's reference.")],
    verified_by: Annotated[str, typer.Option(help="Who verified identity and order (ICPPED 21).")],
    handed_over_to: Annotated[str, typer.Option(help="To whom the person was handed over.")],
    health_check: Annotated[str, typer.Option(help="Health on release.")],
    at: When = None,
) -> None:
    """Release a person, verifiably (F10, ICPPED 21)."""
    s = settings(ctx)
    service(s).release(
        s.who,
        person,
        instant(at),
        authority=authority,
        order_reference=order,
        verified_by=verified_by,
        handed_over_to=handed_over_to,
        health_check=health_check,
    )
    console.print(f"released {person}")


def transfer(
    ctx: typer.Context,
    person: str,
    destination: Annotated[str, typer.Option(help="Where the person goes.")],
    receiving_authority: Annotated[str, typer.Option(help="Who receives them (ICPPED 17(3)(h)).")],
    authority: Annotated[str, typer.Option(help="Who ordered the transfer.")],
    order: Annotated[str, typer.Option(help="The order's reference.")],
    at: When = None,
) -> None:
    """Transfer a person out of this system (refused while a court order forbids it: R26)."""
    s = settings(ctx)
    service(s).transfer_out(
        s.who,
        person,
        instant(at),
        destination=destination,
        receiving_authority=receiving_authority,
        authority=authority,
        order_reference=order,
    )
    console.print(f"transferred {person} to {destination}")


def death(
    ctx: typer.Context,
    person: str,
    place: Annotated[str, typer.Option()],
    circumstances: Annotated[str, typer.Option()],
    cause: Annotated[str | None, typer.Option()] = None,
    independent_authority: Annotated[str | None, typer.Option(help="Authority notified (MR 71).")] = None,
    remains: Annotated[str | None, typer.Option(help="Destination of the remains.")] = None,
    at: When = None,
) -> None:
    """Record a death in custody (MR 71–72); missing notices raise alerts."""
    s = settings(ctx)
    t = instant(at)
    service(s).record_death(
        s.who,
        person,
        t,
        place=place,
        circumstances=circumstances,
        cause=cause,
        independent_authority=independent_authority,
        independent_authority_notified_at=t if independent_authority else None,
        remains_destination=remains,
    )
    console.print(f"recorded the death of {person}")


def count(
    ctx: typer.Context,
    unit: str,
    present: Annotated[Path, typer.Option(help="File with the person ids seen, one per line ('-': stdin).")],
    at: When = None,
) -> None:
    """Record a roll call; every difference from the register raises an alert naming the person."""
    s = settings(ctx)
    text = sys.stdin.read() if str(present) == "-" else present.read_text()
    seen = [line.strip() for line in text.splitlines() if line.strip()]
    record = service(s).record_count(s.who, unit, seen, instant(at))
    console.print(f"unit {unit}: expected {record.expected}, counted {len(record.present)}")
    for p in record.missing:
        errors.print(f"[red]R13 missing:[/] {p}")
    for p in record.extra:
        errors.print(f"[red]R1 not on the register:[/] {p}")
    if record.missing or record.extra:
        raise typer.Exit(1)


def where(ctx: typer.Context, person: str, at: When = None) -> None:
    """Where the register says a person was at a time."""
    s = settings(ctx)
    t = instant(at)
    with s.engine.connect() as conn:
        found = queries.where_at(conn, s.ledger, person, t)
    if found is None:
        console.print(f"{person} was not in custody at {format_instant(t)}")
        return
    place = found.cell_id or found.place or "intake"
    console.print(
        f"{person} at {format_instant(t)}: {found.status}, {found.facility_id} {place} "
        f"since {format_instant(found.since)}"
    )


def import_cmd(
    ctx: typer.Context,
    manifest: Annotated[Path, typer.Argument(help="Manifest CSV (one person per row).")],
    facility: Annotated[str, typer.Option(help="Receiving facility.")],
    accept_valid: Annotated[bool, typer.Option(help="Commit the valid rows even if some are bad.")] = False,
    rejected: Annotated[Path | None, typer.Option(help="Where to write the rejected rows (CSV).")] = None,
    default: Annotated[list[str] | None, typer.Option(help="column=value used where a row leaves it empty.")] = None,
) -> None:
    """Mass intake from a manifest: validated whole first; nothing is committed while any row is bad."""
    s = settings(ctx)
    defaults = dict(item.split("=", 1) for item in default or [])
    parsed = parse_manifest(manifest.read_text(), facility_id=facility, now=now(), defaults=defaults)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=errors
    ) as bar:
        task = bar.add_task("admitting", total=len(parsed.rows))
        result = import_manifest(
            service(s),
            s.who,
            parsed,
            accept_valid=accept_valid,
            progress=lambda done, total: bar.update(task, completed=done),
        )
    for error in result.errors:
        errors.print(f"line {error.line}, {error.field}: {error.rule}", highlight=False)
    if result.errors and rejected is not None:
        rejected.write_text(rejected_csv(parsed, result))
        errors.print(f"rejected rows written to {rejected}")
    if not result.committed:
        fail(
            f"{len({e.line for e in result.errors})} bad row(s): nothing admitted "
            "(fix them, or use --accept-valid to admit the valid rows)"
        )
    console.print(f"admitted {len(result.admitted)} people from {manifest.name}")
    if result.errors:
        raise typer.Exit(1)


def classify(
    ctx: typer.Context,
    person: str,
    risk: Annotated[str, typer.Option(help="low, medium or high.")],
    group: Annotated[str | None, typer.Option(help="Recorded group affiliation, if any.")] = None,
    evidence: Annotated[
        str | None,
        typer.Option(help="Document the affiliation rests on; without one it is unsubstantiated."),
    ] = None,
    at: When = None,
) -> None:
    """Record a classification; a group label without a document is recorded as unsubstantiated."""
    s = settings(ctx)
    details: dict[str, Any] = {"risk_level": risk, "group_affiliation": group}
    if evidence:
        details["group_evidence"] = {"document_reference": evidence}
    service(s).classify(s.who, person, details, instant(at))
    label = (
        ""
        if group is None
        else (
            f", group {group} (evidence {evidence})" if evidence else f", group {group} (UNSUBSTANTIATED: no document)"
        )
    )
    console.print(f"classified {person}: risk {risk}{label}")


def correct(
    ctx: typer.Context,
    event: Annotated[str, typer.Argument(help="Id of the event to correct.")],
    field: Annotated[list[str], typer.Option(help="field=value to correct (repeatable).")],
    reason: Annotated[str, typer.Option(help="Why the record was wrong.")],
) -> None:
    """Correct an earlier event by recording a correction that names it (nothing is overwritten)."""
    s = settings(ctx)
    fields: dict[str, Any] = {}
    for item in field:
        if "=" not in item:
            fail(f"--field: {item!r} is not field=value", 2)
        key, value = item.split("=", 1)
        fields[key] = value
    service(s).correct(s.who, event, fields, reason, now())
    console.print(f"recorded a correction of {event}")


def rebuild_cmd(ctx: typer.Context) -> None:
    """Regenerate every projection from the ledger (they are caches; the ledger is the truth)."""
    s = settings(ctx)
    with Progress(console=errors) as bar:
        task = bar.add_task("folding events", total=None)
        done = rebuild(s.engine, s.ledger, lambda n, total: bar.update(task, completed=n, total=total))
    console.print(f"rebuilt the projections from {done} events")


# --- people --------------------------------------------------------------------------------------


@person_app.command("show")
def person_show(ctx: typer.Context, person: str) -> None:
    """A person's record: identity, documents, every custody episode."""
    s = settings(ctx)
    with s.engine.connect() as conn:
        record = queries.person_record(conn, s.ledger, person)
    console.print_json(json.dumps(record, default=_json_default, ensure_ascii=False))


@person_app.command("find")
def person_find(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option(help="Part of the name; accents and case ignored.")] = None,
    document: Annotated[str | None, typer.Option(help="Document as KIND:ISSUER:NUMBER, e.g. PASSPORT:VEN:123.")] = None,
    birth_date: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
) -> None:
    """Search people by name, document or birth date."""
    s = settings(ctx)
    with s.engine.connect() as conn:
        found = queries.find_people(
            conn, s.ledger, name=name, document=document, birth_date=birth_date.date() if birth_date else None
        )
    table = Table("person", "given names", "family names", "born")
    for p in found:
        table.add_row(p["person_id"], p["given_names"], p["family_names"], str(p["birth_date"] or "–"))
    console.print(table)


@person_app.command("history")
def person_history(ctx: typer.Context, person: str) -> None:
    """Every event about a person: when it happened, when it was recorded, by whom."""
    s = settings(ctx)
    with s.engine.connect() as conn:
        events = queries.timeline(conn, s.ledger, person)
    table = Table("seq", "happened", "recorded", "event", "by", "details")
    for e in events:
        details = {k: v for k, v in e.payload.items() if k not in ("person_id", "episode_id")}
        table.add_row(
            str(e.seq),
            format_instant(e.occurred_at),
            format_instant(e.recorded_at),
            e.type,
            e.actor,
            json.dumps(details, ensure_ascii=False)[:120],
        )
    console.print(table)


def _json_default(value: Any) -> str:
    return format_instant(value) if isinstance(value, datetime) else str(value)


def register_commands(app: typer.Typer) -> None:
    app.add_typer(facility_app, name="facility")
    app.add_typer(person_app, name="person")
    for fn, name in (
        (admit, "admit"),
        (assign, "assign"),
        (move, "move"),
        (release, "release"),
        (transfer, "transfer"),
        (death, "death"),
        (count, "count"),
        (where, "where"),
        (import_cmd, "import"),
        (rebuild_cmd, "rebuild"),
        (classify, "classify"),
        (correct, "correct"),
    ):
        app.command(name)(fn)


__all__ = ["HabeasError", "register_commands"]
