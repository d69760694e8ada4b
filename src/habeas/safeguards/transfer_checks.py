"""The sweep's checks for transfers between states: R25, R26 (people refused at the gate), R27.

* **R25** (ICPPED 17(3)(d); standards.md §5): a transferee held with no custodian of record, or
  with contradictory jurisdiction claims: both states have told someone they do not hold
  jurisdiction, the custodian's own state disclaims it, or the agreement the person is held
  under has ended while they are still held.  Critical.
* **R26**: someone refused admission because a court order protects them stays an open critical
  alert, naming the order, until they are recorded as handed back (nobody is left at the gate
  in no one's register).
* **R27** (F16): the invoices issued under an agreement do not prove against the register's
  person-days for the months they cover (a day billed that is not a registered day, or a
  registered day never billed).  High.

``checks`` imports this module to list these checks; this module imports ``Finding`` only when
it builds one, so either module may be imported first.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import and_, select

from habeas.domain import billing
from habeas.ledger.timefmt import format_instant
from habeas.services.transfer_state import custody_spans, issued_invoices, load_agreement
from habeas.store.register_tables import episodes
from habeas.store.transfer_tables import agreements, claims, invoices, refusals, transferees

if TYPE_CHECKING:
    from habeas.safeguards.checks import Context, Finding


def _finding(rule: str, subject: str, message: str, refs: tuple[str, ...]) -> Finding:
    # Imported here: ``checks`` imports this module to list its checks.
    from habeas.safeguards.checks import Finding  # noqa: PLC0415

    return Finding(rule, subject, message, refs)


def _held_transferees(ctx: Context) -> list[Any]:
    query = (
        select(
            transferees.c.person_id,
            transferees.c.episode_id,
            transferees.c.agreement_id,
            transferees.c.custodian_of_record.label("link_custodian"),
            episodes.c.custodian_of_record,
            agreements.c.sending_state,
            agreements.c.receiving_state,
            agreements.c.custodian_state,
            agreements.c.effective_to,
        )
        .join(
            episodes,
            and_(episodes.c.ledger_id == transferees.c.ledger_id, episodes.c.episode_id == transferees.c.episode_id),
        )
        .join(
            agreements,
            and_(
                agreements.c.ledger_id == transferees.c.ledger_id,
                agreements.c.agreement_id == transferees.c.agreement_id,
            ),
        )
        .where(transferees.c.ledger_id == ctx.ledger, ctx.held())
    )
    return list(ctx.conn.execute(query))


def check_custodian_and_jurisdiction(ctx: Context) -> Iterable[Finding]:
    """R25: no custodian of record, contradictory jurisdiction claims, or an ended agreement."""
    rows = _held_transferees(ctx)
    if not rows:
        return
    said: dict[tuple[str, str, str], str] = {}
    for r in ctx.conn.execute(
        select(claims).where(
            claims.c.ledger_id == ctx.ledger,
            claims.c.agreement_id.in_(sorted({r.agreement_id for r in rows})),
            claims.c.claimed_at <= ctx.at,
        )
    ):
        said[(r.agreement_id, r.state, r.person_id)] = r.claim
    for r in rows:
        problems = []
        if not (r.custodian_of_record or "").strip() or not (r.link_custodian or "").strip():
            problems.append("no custodian of record")

        def claim(state: str, r: Any = r) -> str | None:
            return said.get((r.agreement_id, state, r.person_id)) or said.get((r.agreement_id, state, ""))

        sending, receiving = claim(r.sending_state), claim(r.receiving_state)
        if sending == "disclaims" and receiving == "disclaims":
            problems.append(f"both {r.sending_state} and {r.receiving_state} disclaim jurisdiction")
        elif claim(r.custodian_state) == "disclaims":
            problems.append(
                f"the custodian of record ({r.custodian_of_record}) is an authority of "
                f"{r.custodian_state}, which disclaims jurisdiction"
            )
        if r.effective_to is not None and r.effective_to <= ctx.at:
            problems.append(
                f"agreement {r.agreement_id} ended {format_instant(r.effective_to)} while the person is still held"
            )
        if problems:
            yield _finding(
                "R25",
                r.person_id,
                f"transferee {r.person_id} under agreement {r.agreement_id}: {'; '.join(problems)} "
                "(ICPPED 17(3)(d): someone must answer for every person held)",
                (r.episode_id, r.agreement_id),
            )


def check_refused_at_gate(ctx: Context) -> Iterable[Finding]:
    """R26: a person refused because a court order protects them, not yet recorded as handed back."""
    if ctx.persons is not None:  # refusals concern no registered person: the full sweep only
        return
    query = select(refusals).where(
        refusals.c.ledger_id == ctx.ledger,
        refusals.c.rule == "R26",
        refusals.c.handed_back_at.is_(None),
        refusals.c.refused_at <= ctx.at,
    )
    for r in ctx.conn.execute(query):
        yield _finding("R26", r.refusal_id, r.reason, (*orjson.loads(r.order_ids), r.refusal_id))


def check_invoices(ctx: Context) -> Iterable[Finding]:
    """R27: invoiced person-days against the register's person-days, over the months invoiced."""
    if ctx.persons is not None:  # an agreement-wide question: the full sweep only
        return
    ids = sorted(
        set(
            ctx.conn.execute(
                select(invoices.c.agreement_id).where(
                    invoices.c.ledger_id == ctx.ledger, invoices.c.issued_at <= ctx.at
                )
            ).scalars()
        )
    )
    for agreement_id in ids:
        agreement = load_agreement(ctx.conn, ctx.ledger, agreement_id)
        issued = issued_invoices(ctx.conn, ctx.ledger, agreement_id)
        months = [invoice.month for _, invoice in issued]
        start = min(months)
        last = max(months)
        end = date(last.year, last.month, calendar.monthrange(last.year, last.month)[1])
        result = billing.reconcile(
            [invoice for _, invoice in issued],
            custody_spans(ctx.conn, ctx.ledger, agreement_id),
            agreement.counting_rule(),
            start,
            end,
        )
        if result.ok:
            continue
        parts = []
        if result.billed_not_registered:
            person, day = result.billed_not_registered[0]
            parts.append(f"{len(result.billed_not_registered)} billed day(s) not registered (first: {person} on {day})")
        if result.registered_not_billed:
            person, day = result.registered_not_billed[0]
            parts.append(f"{len(result.registered_not_billed)} registered day(s) not billed (first: {person} on {day})")
        yield _finding(
            "R27",
            agreement_id,
            f"invoices under agreement {agreement_id} ({start:%Y-%m} to {last:%Y-%m}) differ from the register: "
            + "; ".join(parts),
            (agreement_id, *(invoice_id for invoice_id, _ in issued)),
        )


TRANSFER_CHECKS = (
    ("R25", check_custodian_and_jurisdiction),
    ("R26", check_refused_at_gate),
    ("R27", check_invoices),
)
TRANSFER_RULES = frozenset({"R25", "R27"})  # R26 is swept already
