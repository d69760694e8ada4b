"""Law and safeguards commands: legal bases, orders, cases, sentences, notifications, alerts, the sweep."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table
from sqlalchemy import select

from habeas.cli.context import Settings, now
from habeas.cli.output import console, errors, settings
from habeas.cli.register import When, instant, read_data
from habeas.domain import law
from habeas.ledger.timefmt import format_instant
from habeas.safeguards.catalogue import RULES, SEVERITY_ORDER
from habeas.safeguards.sweep import sweep
from habeas.services.legal import LegalService
from habeas.services.register import parse_request
from habeas.store.law_tables import orders, sentences
from habeas.store.register_tables import alerts

safeguards_app = typer.Typer(help="The safeguard rules (R1–R31, H1) and the sweep.", no_args_is_help=True)
alert_app = typer.Typer(help="Acknowledge or resolve an alert.", no_args_is_help=True)
order_app = typer.Typer(help="Court orders, domestic or foreign (R26).", no_args_is_help=True)
instrument_app = typer.Typer(help="Legal bases of a detention (F1).", no_args_is_help=True)
sentence_app = typer.Typer(help="Sentences and release dates.", no_args_is_help=True)
case_app = typer.Typer(help="Cases, defendants and hearings.", no_args_is_help=True)


def legal(s: Settings) -> LegalService:
    return LegalService(s.engine, s.ledger, now)


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else instant(value)


# --- safeguards and alerts -----------------------------------------------------------------------


@safeguards_app.command("check")
def safeguards_check(
    ctx: typer.Context, at: Annotated[datetime | None, typer.Option(help="Check as of this time (UTC).")] = None
) -> None:
    """Run every rule at a time: raise alerts for new breaches, resolve those that no longer hold."""
    s = settings(ctx)
    when = instant(at)
    result = sweep(s.engine, s.ledger, when, now())
    console.print(
        f"swept at {format_instant(when)}: {sum(result.findings.values())} breaches "
        f"({', '.join(f'{r} {n}' for r, n in sorted(result.findings.items())) or 'none'}); "
        f"{result.raised} alerts raised, {result.resolved} resolved"
    )


@safeguards_app.command("rules")
def safeguards_rules() -> None:
    """The catalogue: each rule, the standard it implements, its severity, how it acts, where it is checked."""
    table = Table("rule", "severity", "mode", "what", "standard", "checked")
    for rule in RULES:
        table.add_row(rule.id, rule.severity, rule.mode, rule.title, rule.standard, rule.checked)
    console.print(table)


def alerts_cmd(
    ctx: typer.Context,
    severity: Annotated[str | None, typer.Option(help="Only this severity.")] = None,
    rule: Annotated[str | None, typer.Option(help="Only this rule, e.g. R26.")] = None,
    include_resolved: Annotated[bool, typer.Option("--all", help="Resolved alerts too.")] = False,
    limit: Annotated[int, typer.Option()] = 200,
) -> None:
    """Open alerts, gravest first: rule id, who or what, and the order or limit behind it."""
    s = settings(ctx)
    query = select(alerts).where(alerts.c.ledger_id == s.ledger)
    if not include_resolved:
        query = query.where(alerts.c.resolved_at.is_(None))
    if severity:
        query = query.where(alerts.c.severity == severity)
    if rule:
        query = query.where(alerts.c.rule == rule)
    with s.engine.connect() as conn:
        rows = list(conn.execute(query).all())
    rows.sort(key=lambda r: (SEVERITY_ORDER.get(r.severity, 9), int(r.rule[1:]), r.raised_at))
    for r in rows[:limit]:
        state = f" [resolved {format_instant(r.resolved_at)}: {r.resolution}]" if r.resolved_at else ""
        refs = ", ".join(orjson.loads(r.refs))
        console.print(
            f"{r.severity.upper():8} {r.rule:4} {r.subject}  {r.message}"
            f"{f'  (refs: {refs})' if refs else ''}  [{r.alert_id}]{state}",
            highlight=False,
        )
    errors.print(f"{len(rows)} alert(s)" + (f", first {limit} shown" if len(rows) > limit else ""))


@alert_app.command("ack")
def alert_ack(ctx: typer.Context, alert_id: str, note: Annotated[str, typer.Option()]) -> None:
    """Acknowledge an alert (it stays open until an event resolves it)."""
    s = settings(ctx)
    legal(s).acknowledge_alert(s.who, alert_id, note, now())
    console.print(f"acknowledged {alert_id}")


@alert_app.command("resolve")
def alert_resolve(ctx: typer.Context, alert_id: str, reason: Annotated[str, typer.Option()]) -> None:
    """Resolve an alert with the reason (the sweep re-raises it if the breach still holds)."""
    s = settings(ctx)
    legal(s).resolve_alert(s.who, alert_id, reason, now())
    console.print(f"resolved {alert_id}")


# --- orders --------------------------------------------------------------------------------------


@order_app.command("issue")
def order_issue(
    ctx: typer.Context,
    person: str,
    kind: Annotated[str, typer.Option(help="release, produce, no_transfer, facilitate_return or return.")],
    court: Annotated[str, typer.Option()],
    reference: Annotated[str, typer.Option()],
    state: Annotated[str, typer.Option(help="ISO 3166 alpha-3 of the court's state, e.g. SLV, USA.")] = "SLV",
    issued_at: Annotated[datetime | None, typer.Option(help="When the court issued it (UTC).")] = None,
    deadline: Annotated[datetime | None, typer.Option(help="By when it must be executed (UTC).")] = None,
    place: Annotated[str | None, typer.Option(help="Where to produce or return the person.")] = None,
    at: When = None,
) -> None:
    """Record a court order; a command contrary to it is then refused, and its deadline watched."""
    s = settings(ctx)
    order_id = f"{state.lower()}-{reference}".replace(" ", "-")[:64]
    order = parse_request(
        law.OrderIssued,
        {
            "order_id": order_id,
            "person_id": person,
            "kind": kind,
            "court": court,
            "court_state": state,
            "reference": reference,
            "issued_at": _iso(instant(issued_at or at)),
            "deadline": _iso(_utc(deadline)),
            "place": place,
        },
    )
    legal(s).issue_order(s.who, order, instant(at))
    console.print(f"recorded order {order_id}")


@order_app.command("execute")
def order_execute(ctx: typer.Context, order_id: str, note: Annotated[str, typer.Option()], at: When = None) -> None:
    """Record that an order was carried out."""
    s = settings(ctx)
    legal(s).execute_order(s.who, order_id, note, instant(at))
    console.print(f"order {order_id} executed")


@order_app.command("lift")
def order_lift(
    ctx: typer.Context,
    order_id: str,
    authority: Annotated[str, typer.Option()],
    reason: Annotated[str, typer.Option()],
    at: When = None,
) -> None:
    """Record that a court lifted an order."""
    s = settings(ctx)
    legal(s).lift_order(s.who, order_id, authority, reason, instant(at))
    console.print(f"order {order_id} lifted")


@order_app.command("list")
def order_list(ctx: typer.Context, person: Annotated[str | None, typer.Option()] = None) -> None:
    """Orders and whether each was executed in time."""
    s = settings(ctx)
    query = select(orders).where(orders.c.ledger_id == s.ledger).order_by(orders.c.issued_at)
    if person:
        query = query.where(orders.c.person_id == person)
    table = Table("order", "person", "kind", "court", "deadline", "status", "in time")
    with s.engine.connect() as conn:
        for r in conn.execute(query):
            closed = r.closed_at or now()
            in_time = "–" if r.deadline is None else ("yes" if closed <= r.deadline else "NO")
            table.add_row(
                r.order_id,
                r.person_id,
                r.kind,
                f"{r.court} ({r.court_state})",
                format_instant(r.deadline) if r.deadline else "–",
                r.status,
                in_time,
            )
    console.print(table)


# --- instruments, notifications ------------------------------------------------------------------


@instrument_app.command("add")
def instrument_add(
    ctx: typer.Context,
    person: str,
    kind: Annotated[str, typer.Option(help="judicial_order, provisional_detention_order, sentence, ...")],
    reference: Annotated[str, typer.Option()],
    issued_by: Annotated[str, typer.Option()],
    issued_at: Annotated[datetime, typer.Option()],
    article: Annotated[str | None, typer.Option()] = None,
    expires_at: Annotated[datetime | None, typer.Option()] = None,
    offence_class: Annotated[str | None, typer.Option(help="serious or less_serious (CPP 8).")] = None,
    scope: Annotated[str | None, typer.Option(help="e.g. state_of_exception (Decree 803).")] = None,
    at: When = None,
) -> None:
    """Record a legal basis for a person's current detention."""
    s = settings(ctx)
    details = {
        "kind": kind,
        "reference": reference,
        "issued_by": issued_by,
        "issued_at": instant(issued_at),
        "article": article,
        "expires_at": _utc(expires_at),
        "offence_class": offence_class,
        "scope": scope,
    }
    instrument_id = legal(s).record_instrument(s.who, person, details, instant(at))
    console.print(f"recorded instrument {instrument_id}")


def notify(
    ctx: typer.Context,
    person: str,
    kind: Annotated[str, typer.Option(help="family, counsel, consulate, sending_state, rights_informed, ...")],
    recipient: Annotated[str, typer.Option(help="Who was told.")],
    at: When = None,
) -> None:
    """Record a notification (F5): family, counsel, consulate, the sending state; or rights explained."""
    s = settings(ctx)
    legal(s).notify(s.who, person, kind, recipient, instant(at))  # type: ignore[arg-type]
    console.print(f"recorded {kind} notification for {person}")


# --- cases and sentences -------------------------------------------------------------------------


@case_app.command("open")
def case_open(ctx: typer.Context, case_file: Path, at: When = None) -> None:
    """Open a case from a file: the case fields plus `defendants` (person ids) and optional `counsel`."""
    s = settings(ctx)
    data: dict[str, Any] = read_data(case_file)
    people = list(data.pop("defendants", []))
    counsel = dict(data.pop("counsel", {}) or {})
    legal(s).open_case(s.who, parse_request(law.CaseOpened, data), people, instant(at), counsel)
    console.print(f"opened case {data.get('case_id')} with {len(people)} defendant(s)")


@case_app.command("hearing")
def case_hearing(
    ctx: typer.Context,
    case_id: str,
    person: str,
    kind: Annotated[str, typer.Option(help="initial_appearance, review, trial, sentencing, other.")],
    outcome: Annotated[str, typer.Option()],
    counsel: Annotated[str | None, typer.Option()] = None,
    at: When = None,
) -> None:
    """Record one defendant's hearing (each defendant of a group case has their own)."""
    s = settings(ctx)
    hearing = parse_request(
        law.HearingRecorded,
        {
            "case_id": case_id,
            "hearing_id": f"{case_id}-{person}-{kind}",
            "person_id": person,
            "kind": kind,
            "counsel": counsel,
            "outcome": outcome,
        },
    )
    legal(s).record_hearing(s.who, hearing, instant(at))
    console.print(f"recorded {kind} of {person} in {case_id}")


@sentence_app.command("record")
def sentence_record(ctx: typer.Context, sentence_file: Path, at: When = None) -> None:
    """Record a sentence (per-count terms) and print its release date and why."""
    s = settings(ctx)
    sentence = parse_request(law.SentenceRecorded, read_data(sentence_file))
    calc = legal(s).record_sentence(s.who, sentence, instant(at))
    console.print(f"aggregate {calc.aggregate}; enforceable {calc.enforceable}; release on {calc.release_on}")
    for step in calc.explanation:
        console.print(f"  {step}")
    for warning in calc.warnings:
        errors.print(f"[yellow]warning:[/] {warning}")


@sentence_app.command("show")
def sentence_show(ctx: typer.Context, person: str) -> None:
    """A person's sentences, release dates, and the explanation of each."""
    s = settings(ctx)
    with s.engine.connect() as conn:
        rows = conn.execute(
            select(sentences).where(sentences.c.ledger_id == s.ledger, sentences.c.person_id == person)
        ).all()
    for r in rows:
        console.print(
            f"{r.sentence_id}: aggregate {r.aggregate}; enforceable {r.enforceable}; release on {r.release_on}"
        )
        for step in orjson.loads(r.explanation):
            console.print(f"  {step}")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else format_instant(value)


def law_commands(app: typer.Typer) -> None:
    for sub, name in (
        (safeguards_app, "safeguards"),
        (alert_app, "alert"),
        (order_app, "order"),
        (instrument_app, "instrument"),
        (sentence_app, "sentence"),
        (case_app, "case"),
    ):
        app.add_typer(sub, name=name)
    app.command("alerts")(alerts_cmd)
    app.command("notify")(notify)
