"""Transfers between states: agreements, flights, foreign orders, exits, invoices, the sending state's view.

Registered as ``habeas transfers`` (plural): ``habeas transfer PERSON`` is already the register's
command for one transfer out.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from habeas.cli.context import Settings, now
from habeas.cli.output import catch_refusals, console, errors, fail, settings
from habeas.cli.register import When, instant, read_data
from habeas.domain import billing
from habeas.domain import transfer as t
from habeas.ledger.timefmt import format_instant
from habeas.services import liaison, webhooks
from habeas.services.register import parse_request
from habeas.services.transfer_state import load_agreement
from habeas.services.transfers import TransferService

transfer_app = typer.Typer(help="Transfers between states: agreements, flights, exits, invoices (F15, F16).",
                           no_args_is_help=True)  # fmt: skip
agreement_app = typer.Typer(help="Agreements between a sending and a receiving state.", no_args_is_help=True)
order_app = typer.Typer(help="Court orders recorded before the person arrives (R26).", no_args_is_help=True)
transfer_app.add_typer(agreement_app, name="agreement")
transfer_app.add_typer(order_app, name="order")


def service(s: Settings) -> TransferService:
    return TransferService(s.engine, s.ledger, now)


# --- agreements ----------------------------------------------------------------------------------


@agreement_app.command("add")
def agreement_add(ctx: typer.Context, path: Annotated[Path, typer.Argument(help="Agreement (YAML or JSON).")],
                  at: When = None) -> None:  # fmt: skip
    """Conclude an agreement: parties, instruments, dates, eligibility, fee, duties, custodian of record."""
    s = settings(ctx)
    agreement = parse_request(t.AgreementConcluded, read_data(path))
    service(s).conclude(s.who, agreement, instant(at))
    console.print(f"agreement {agreement.agreement_id}: {agreement.sending_state} → {agreement.receiving_state}, "
                  f"custodian of record {agreement.custodian_of_record}")  # fmt: skip


@agreement_app.command("show")
def agreement_show(ctx: typer.Context, agreement_id: str) -> None:
    """An agreement as it stands now (renewals applied), and how many are held under it."""
    s = settings(ctx)
    with s.engine.connect() as conn:
        a = load_agreement(conn, s.ledger, agreement_id)
        held = TransferService(s.engine, s.ledger, now).held_under(conn, agreement_id)
    terms = a.terms
    until = format_instant(a.effective_to) if a.effective_to else "open-ended"
    console.print(f"{terms.agreement_id}: {terms.name}", highlight=False)
    console.print(
        f"  {terms.sending_state} → {terms.receiving_state}, facility {terms.facility_id}; "
        f"in force {format_instant(terms.effective_from)} to {until} ({len(a.renewals)} renewal(s))"
    )
    console.print(f"  custodian of record: {terms.custodian_of_record} ({terms.custodian_state})", highlight=False)
    console.print(f"  instruments: {terms.sending_state} {terms.sending_instrument.reference}; "
                  f"{terms.receiving_state} {terms.receiving_instrument.reference}", highlight=False)  # fmt: skip
    e = terms.eligibility
    console.print(f"  eligibility: excluded {', '.join(e.excluded_nationalities) or 'none'}; "
                  f"minimum age {e.min_age_at_admission}; at most {e.max_held or 'unlimited'} held ({held} now); "
                  f"court orders: {terms.order_policy}")  # fmt: skip
    f = terms.fee
    fee = f"{f.rate} {f.currency} per person-day" if f.kind == "per_person_day" else (
        f"{f.amount} {f.currency} for {f.period_start} to {f.period_end}")  # fmt: skip
    c = terms.counting
    console.print(f"  fee: {fee}; days counted in {c.time_zone} (admission day "
                  f"{'counts' if c.admission_day_counts else 'does not count'}, departure day "
                  f"{'counts' if c.departure_day_counts else 'does not count'})")  # fmt: skip
    d = terms.duties
    console.print(f"  duties: notify {terms.sending_state} within {d.notify_sending_state_hours} h, family within "
                  f"{d.notify_family_hours} h; consular access {'yes' if d.consular_access else 'no'}")  # fmt: skip


@agreement_app.command("renew")
def agreement_renew(
    ctx: typer.Context,
    agreement_id: str,
    until: Annotated[datetime, typer.Option(help="The new end (UTC).")],
    instrument: Annotated[str, typer.Option(help="The instrument that renews it.")],
    note: Annotated[str | None, typer.Option()] = None,
    at: When = None,
) -> None:
    """Renew an agreement: the new end must be later than the current one."""
    s = settings(ctx)
    service(s).renew(s.who, agreement_id, instant(until), instrument, instant(at), note)
    console.print(f"agreement {agreement_id} renewed until {format_instant(instant(until))}")


@agreement_app.command("claim")
def agreement_claim(
    ctx: typer.Context,
    agreement_id: str,
    state: Annotated[str, typer.Option(help="The party (ISO 3166 alpha-3).")],
    claim: Annotated[str, typer.Option(help="holds or disclaims")],
    source: Annotated[str, typer.Option(help="The filing or statement.")],
    person: Annotated[str | None, typer.Option(help="Only this transferee (default: all).")] = None,
    at: When = None,
) -> None:
    """Record what a state said about jurisdiction (R25 watches for contradictions)."""
    if claim not in ("holds", "disclaims"):
        fail("claim: must be holds or disclaims", 2)
    s = settings(ctx)
    service(s).claim(s.who, agreement_id, state, claim, source, instant(at), person)  # type: ignore[arg-type]
    console.print(f"{state} {claim} jurisdiction under {agreement_id}")


# --- orders before arrival -----------------------------------------------------------------------


@order_app.command("add")
def order_add(ctx: typer.Context, path: Annotated[Path, typer.Argument(help="Order (YAML or JSON).")],
              at: When = None) -> None:  # fmt: skip
    """Record a court order against sending-state identifiers or a flight, before the people arrive."""
    s = settings(ctx)
    order = parse_request(t.ForeignOrderRecorded, read_data(path))
    service(s).record_order(s.who, order, instant(at))
    console.print(f"recorded {order.kind} order {order.reference} of {order.court} ({order.court_state})")


@order_app.command("lift")
def order_lift(ctx: typer.Context, order_id: str, authority: Annotated[str, typer.Option()],
               reason: Annotated[str, typer.Option()], at: When = None) -> None:  # fmt: skip
    s = settings(ctx)
    service(s).lift_order(s.who, order_id, authority, reason, instant(at))
    console.print(f"lifted {order_id}")


# --- flights -------------------------------------------------------------------------------------


def import_flight(
    ctx: typer.Context,
    manifest: Annotated[Path, typer.Argument(help="Flight manifest CSV (with sending_state_id per person).")],
    agreement: Annotated[str, typer.Option(help="The agreement the flight comes under.")],
    flight: Annotated[str | None, typer.Option(help="Flight code (default: the file's name).")] = None,
    accept_valid: Annotated[bool, typer.Option(help="Admit the valid rows even if some are refused.")] = False,
    default: Annotated[list[str] | None, typer.Option(help="column=value used where a row leaves it empty.")] = None,
) -> None:
    """Take in a flight: court orders (R26), eligibility, then the register's mass intake."""
    s = settings(ctx)
    code = flight or re.sub(r"[^A-Za-z0-9_.:/-]", "-", manifest.stem)[:64]
    defaults = dict(item.split("=", 1) for item in default or [])
    text = manifest.read_text(encoding="utf-8")
    rows = max(len(text.splitlines()) - 1, 0)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=errors
    ) as bar:
        task = bar.add_task(f"flight {code}", total=rows)
        result = service(s).import_flight(
            s.who, agreement, code, text, accept_valid=accept_valid, defaults=defaults,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )  # fmt: skip
    for refused in result.refused:
        errors.print(f"line {refused.line}: REFUSED ({refused.rule}) {refused.reason}", highlight=False)
    for error in result.errors:
        errors.print(f"line {error.line}, {error.field}: {error.rule}", highlight=False)
    if result.alerts:
        errors.print(f"{len(result.alerts)} critical R26 alert(s) raised")
    if not result.committed or (result.errors and not accept_valid):
        fail(f"nothing admitted from flight {code}: {len(result.errors)} problem(s), "
             f"{len(result.refused)} refused by court order or policy", 2)  # fmt: skip
    console.print(f"flight {code}: {len(result.admitted)} admitted, {len(result.refused)} refused by court order or "
                  f"policy, {len({e.line for e in result.errors})} row(s) refused")  # fmt: skip


def handback(ctx: typer.Context, refusal_id: str, to: Annotated[str, typer.Option(help="Who received them.")],
             authority: Annotated[str, typer.Option()], at: When = None) -> None:  # fmt: skip
    """Record that someone refused at the gate was handed back (closes the R26 alert)."""
    s = settings(ctx)
    service(s).hand_back(s.who, refusal_id, to, authority, instant(at))
    console.print(f"{refusal_id} handed back to {to}")


# --- leaving -------------------------------------------------------------------------------------


def _leave(kind: t.ExitKind) -> Any:
    def command(
        ctx: typer.Context,
        person: str,
        to_state: Annotated[str, typer.Option(help="Destination state (ISO 3166 alpha-3).")],
        authority: Annotated[str, typer.Option(help="Who ordered it.")],
        order: Annotated[str, typer.Option(help="The order's reference.")],
        handed_over_to: Annotated[str, typer.Option(help="Who received the person.")],
        receiving_authority: Annotated[str | None, typer.Option()] = None,
        escort: Annotated[str | None, typer.Option()] = None,
        release: Annotated[bool, typer.Option(help="Released (free) into the third state's hands.")] = False,
        verified_by: Annotated[str | None, typer.Option(help="Release: who verified it (R15).")] = None,
        health_check: Annotated[str | None, typer.Option(help="Release: the health check (R15).")] = None,
        at: When = None,
    ) -> None:
        s = settings(ctx)
        how: t.ExitKind = "release_to_third_state" if release and kind == "third_state" else kind
        service(s).leave(
            s.who, person, how, instant(at), destination_state=to_state, authority=authority, order_reference=order,
            handed_over_to=handed_over_to, receiving_authority=receiving_authority, escort=escort,
            verified_by=verified_by, health_check=health_check,
        )  # fmt: skip
        console.print(f"{person}: {how.replace('_', ' ')} to {to_state}, handed over to {handed_over_to}")

    command.__doc__ = {
        "return_to_sending_state": "Return a transferee to the sending state's custody.",
        "repatriation": "Repatriate a transferee to a state of their nationality.",
        "third_state": "Hand a transferee to a third state (or, with --release, release them into its hands).",
        "release_to_third_state": "",
    }[kind]
    return command


transfer_app.command("out")(_leave("return_to_sending_state"))
transfer_app.command("repatriate")(_leave("repatriation"))
transfer_app.command("third-state")(_leave("third_state"))
transfer_app.command("import")(import_flight)
transfer_app.command("handback")(handback)


# --- invoices, feed, liaison ---------------------------------------------------------------------


@transfer_app.command("invoice")
def invoice(
    ctx: typer.Context,
    agreement_id: str,
    month: Annotated[str, typer.Option(help="YYYY-MM")],
    csv: Annotated[Path | None, typer.Option("--csv", help="Write the invoice as CSV here.")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Write a printable invoice here.")] = None,
    at: When = None,
) -> None:
    """Issue the month's invoice (recorded in the ledger), with adjustment lines for corrected history."""
    s = settings(ctx)
    svc = service(s)
    invoice_id, result = svc.issue_invoice(s.who, agreement_id, month, instant(at))
    with s.engine.connect() as conn:
        a = load_agreement(conn, s.ledger, agreement_id).terms
    table = Table("kind", "person", "month", "days", "unit price", "amount", "note")
    for line in result.lines:
        table.add_row(line.kind, line.person_id or "", f"{line.month:%Y-%m}", str(line.days), f"{line.unit_price:f}",
                      f"{line.amount:f}", line.note)  # fmt: skip
    console.print(table)
    console.print(f"invoice {invoice_id}: {agreement_id} {month} total {result.total:f} {result.currency}")
    if csv is not None:
        csv.write_text(billing.invoice_csv(result), encoding="utf-8")
        errors.print(f"CSV written to {csv}")
    if html is not None:
        html.write_text(billing.invoice_html(result, agreement_name=a.name, sending_state=a.sending_state,
                                             receiving_state=a.receiving_state), encoding="utf-8")  # fmt: skip
        errors.print(f"printable invoice written to {html}")


@transfer_app.command("feed")
def feed(
    ctx: typer.Context,
    state: str,
    after: Annotated[int, typer.Option(help="Cursor: the last sequence number already read.")] = 0,
    limit: Annotated[int, typer.Option()] = 500,
) -> None:
    """The sending state's outbox after a cursor, one JSON object per line (poll with the last seq)."""
    s = settings(ctx)
    with s.engine.connect() as conn:
        entries = liaison.feed(conn, s.ledger, state, after, limit)
    for e in entries:
        print(orjson.dumps({"seq": e.seq, "type": e.type, "person_id": e.person_id, "agreement_id": e.agreement_id,
                            "occurred_at": format_instant(e.occurred_at), "summary": e.summary}).decode())  # fmt: skip
    errors.print(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
                 + (f"; next cursor {entries[-1].seq}" if entries else ""))  # fmt: skip


@transfer_app.command("push")
def push(
    ctx: typer.Context,
    state: str,
    url: Annotated[str, typer.Option(help="The sending state's webhook (http or https).")],
    attempts: Annotated[int, typer.Option(help="Tries per batch before giving up for now.")] = 5,
) -> None:
    """Push the state's outbox to its webhook from the last acknowledged entry (retries with back-off)."""
    s = settings(ctx)
    result = webhooks.deliver(s.engine, s.ledger, state, url, now, attempts=attempts)
    if result.failed:
        fail(f"delivery to {url} failed after {attempts} attempt(s): {result.error}; {result.sent} sent, "
             f"cursor {result.cursor}", 1)  # fmt: skip
    console.print(f"{result.sent} entr{'y' if result.sent == 1 else 'ies'} delivered to {url}; cursor {result.cursor}")


@transfer_app.command("liaison")
def liaison_cmd(ctx: typer.Context, state: str) -> None:
    """What the sending state's liaison sees: its transferees (facility level), alerts, refusals, invoices."""
    s = settings(ctx)
    with s.engine.connect() as conn:
        v = liaison.view(conn, s.ledger, state)
    table = Table("person", "name", "sending id", "agreement", "status", "facility", "since admission")
    for p in v.transferees:
        table.add_row(p.person_id, f"{p.given_names} {p.family_names}", p.sending_identifier, p.agreement_id,
                      p.status, p.facility_name if p.place is None else f"{p.facility_name} ({p.place})",
                      format_instant(p.admitted_at))  # fmt: skip
    console.print(table)
    for alert in v.alerts:
        console.print(f"{alert.severity.upper():8} {alert.rule:4} {alert.subject}  {alert.message}", highlight=False)
    for r in v.refusals:
        back = f"handed back {format_instant(r.handed_back_at)}" if r.handed_back_at else "not yet handed back"
        console.print(f"refused {r.name} ({r.flight}): {r.rule} — {back}", highlight=False)
    for i in v.invoices:
        console.print(f"invoice {i.invoice_id} {i.agreement_id} {i.month}: {i.total:f} {i.currency}")
    errors.print(f"{state}: {len(v.transferees)} transferee(s), {len(v.alerts)} open alert(s), "
                 f"{len(v.refusals)} refusal(s), {len(v.invoices)} invoice(s)")  # fmt: skip


catch_refusals(transfer_app)  # its groups' commands too


def transfer_commands(app: typer.Typer) -> None:
    app.add_typer(transfer_app, name="transfers")
