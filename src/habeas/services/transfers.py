"""Transfers between states (issue #5; standards.md §5; F15, F16; R25–R27).

Commands: conclude and renew agreements; record what each state claims about jurisdiction;
record a foreign court's order before the person arrives; take in a flight (eligibility,
court orders, then the register's mass intake); hand refused people back; take people out
(return to the sending state, repatriation, a third state, release to a third state); issue
monthly invoices.

Same shape as the register's commands: one transaction per command with the ledger's head
locked first, refusals that name the field and the rule and change nothing, safeguards
re-checked before commit.  Admissions go through ``RegisterService.admit_many`` (and exits
through ``transfer_out`` / ``release``); the transfer's own events (the link to the agreement,
both legal bases, refusals, handovers) are appended by a hook in *the same* transaction, so an
admitted transferee is never without its agreement and custodian of record.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

import orjson
from sqlalchemy import Connection, Engine, Select, and_, func, select

from habeas.domain import billing, law
from habeas.domain import transfer as t
from habeas.domain.alerts import AlertRaised, AlertResolved
from habeas.domain.custody import CLOSED, HELD
from habeas.domain.manifest import ManifestRow, ParsedManifest, RowError, parse_manifest
from habeas.errors import Conflict, InvalidInput, NotFound, Problem
from habeas.ledger.timefmt import format_instant
from habeas.safeguards.sweep import NAMESPACE
from habeas.services import state
from habeas.services.intake import import_manifest
from habeas.services.register import RegisterService
from habeas.services.safeguarding import after_command
from habeas.services.transfer_state import (
    Agreement,
    custody_spans,
    issued_invoices,
    load_agreement,
    parse_month,
)
from habeas.services.unit_of_work import Work, unit_of_work
from habeas.store.law_tables import orders
from habeas.store.register_tables import alerts, episodes, people
from habeas.store.transfer_tables import (
    agreements,
    foreign_order_documents,
    foreign_orders,
    refusals,
    transferees,
)

Clock = Callable[[], datetime]
HELD_VALUES = tuple(s.value for s in HELD)
CLOSED_VALUES = tuple(s.value for s in CLOSED)


@dataclass(frozen=True)
class Refused:
    line: int
    name: str
    rule: str
    reason: str
    order_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class FlightResult:
    agreement_id: str
    flight: str
    admitted: tuple[Any, ...]  # register.Admitted
    errors: tuple[RowError, ...]  # form, register and eligibility problems (line, field, rule)
    refused: tuple[Refused, ...]  # people refused by a court order or by the agreement's policy (recorded)
    committed: bool  # were the admissions committed
    alerts: tuple[str, ...] = ()  # R26 alerts raised (messages)


@dataclass
class _Plan:
    agreement: Agreement
    flight: str
    rows: dict[str, ManifestRow] = field(default_factory=dict)  # instrument id -> row
    basis: dict[int, str] = field(default_factory=dict)
    # (refusal, the R26 alert's message or None, when the person was at the gate)
    refusals: list[tuple[t.AdmissionRefused, str | None, datetime]] = field(default_factory=list)


class TransferService:
    def __init__(self, engine: Engine, ledger_id: str, clock: Clock, new_id: Callable[[], UUID] = uuid4) -> None:
        self.engine = engine
        self.ledger_id = ledger_id
        self.clock = clock
        self.new_id = new_id
        # As RegisterService.safeguards: None leaves the checks to the sweep (the transfer's own events,
        # refusals and their R26 alerts are recorded all the same).
        self.safeguards: Callable[[Work], None] | None = after_command

    def _work(self, actor: str) -> AbstractContextManager[Work]:
        return unit_of_work(self.engine, self.ledger_id, actor, self.clock(), after=self.safeguards)

    def _register(self, extra: Callable[[Work], None]) -> RegisterService:
        """The register's service, with ``extra`` appending the transfer's events in its transaction."""
        svc = RegisterService(self.engine, self.ledger_id, self.clock, new_id=self.new_id)
        checks = self.safeguards

        def hook(work: Work) -> None:
            extra(work)
            work.flush()
            if checks is not None:
                checks(work)

        svc.safeguards = hook
        return svc

    # --- agreements ------------------------------------------------------------------------------

    def conclude(self, actor: str, agreement: t.AgreementConcluded, at: datetime) -> None:
        """An agreement between two states; its custodian of record is never empty (R25)."""
        problems = t.agreement_rules(agreement)
        if problems:
            raise InvalidInput(problems)
        with self._work(actor) as work:
            if work.conn.execute(
                select(agreements.c.agreement_id).where(
                    agreements.c.ledger_id == self.ledger_id, agreements.c.agreement_id == agreement.agreement_id
                )
            ).first():
                raise Conflict("agreement_id", f"agreement {agreement.agreement_id} already exists")
            state.facility(work.conn, self.ledger_id, agreement.facility_id)  # NotFound names it
            work.add("transfer.agreement_concluded", agreement, at)

    def renew(
        self, actor: str, agreement_id: str, effective_to: datetime, instrument_reference: str, at: datetime,
        note: str | None = None,
    ) -> None:  # fmt: skip
        """A renewal extends the agreement: the new end must be later than the current one."""
        with self._work(actor) as work:
            current = load_agreement(work.conn, self.ledger_id, agreement_id)
            if current.effective_to is None:
                raise Conflict("agreement_id", f"agreement {agreement_id} has no end date: nothing to renew")
            if effective_to <= current.effective_to:
                raise InvalidInput.one(
                    "effective_to",
                    f"a renewal extends: must be after the current end {format_instant(current.effective_to)}",
                )
            work.add(
                "transfer.agreement_renewed",
                t.AgreementRenewed(
                    agreement_id=agreement_id, effective_to=effective_to,
                    instrument_reference=instrument_reference, note=note,
                ),
                at,
            )  # fmt: skip

    def claim(
        self, actor: str, agreement_id: str, state_code: str, claim: t.Claim, source: str, at: datetime,
        person_id: str | None = None,
    ) -> None:  # fmt: skip
        """What a state told a court or the UN about jurisdiction (R25 watches for contradictions)."""
        with self._work(actor) as work:
            agreement = load_agreement(work.conn, self.ledger_id, agreement_id)
            if state_code not in (agreement.terms.sending_state, agreement.terms.receiving_state):
                raise InvalidInput.one("state", f"must be a party to agreement {agreement_id}")
            if person_id is not None and not self._is_transferee(work.conn, person_id, agreement_id):
                raise NotFound("transferee", f"{person_id} under {agreement_id}")
            work.add(
                "transfer.jurisdiction_claimed",
                t.JurisdictionClaimed(
                    agreement_id=agreement_id, state=state_code, claim=claim, about_person=person_id, source=source
                ),
                at,
            )

    def _is_transferee(self, conn: Connection, person_id: str, agreement_id: str | None = None) -> bool:
        query = select(transferees.c.episode_id).where(
            transferees.c.ledger_id == self.ledger_id, transferees.c.person_id == person_id
        )
        if agreement_id is not None:
            query = query.where(transferees.c.agreement_id == agreement_id)
        return conn.execute(query.limit(1)).first() is not None

    # --- orders recorded before arrival ------------------------------------------------------------

    def record_order(self, actor: str, order: t.ForeignOrderRecorded, at: datetime) -> None:
        """R26: an order for people not yet in the register, by their sending-state identifiers or by flight.

        A person already in the register has their orders recorded with ``habeas order issue``.
        """
        if not order.documents and order.flight is None:
            raise InvalidInput.one("documents", "name the person (an identifier) or the flight the order concerns")
        if order.issued_at > at:
            raise InvalidInput.one("issued_at", "is after the time it is recorded as received")
        if order.deadline is not None and order.deadline <= order.issued_at:
            raise InvalidInput.one("deadline", "must be after issued_at")
        with self._work(actor) as work:
            if work.conn.execute(
                select(foreign_orders.c.order_id).where(
                    foreign_orders.c.ledger_id == self.ledger_id, foreign_orders.c.order_id == order.order_id
                )
            ).first():
                raise Conflict("order_id", f"order {order.order_id} is already recorded")
            if order.agreement_id is not None:
                load_agreement(work.conn, self.ledger_id, order.agreement_id)
            keys = [t.doc_key_of(d) for d in order.documents]
            known = state.people_by_document(work.conn, self.ledger_id, keys)
            if known:
                key, person = next(iter(sorted(known.items())))
                raise Conflict(
                    "documents",
                    f"document {key} belongs to person {person}, who is in the register: "
                    "record the order with `habeas order issue` so its execution is watched (R26)",
                )
            work.add("transfer.order_recorded", order, at)

    def lift_order(self, actor: str, order_id: str, authority: str, reason: str, at: datetime) -> None:
        with self._work(actor) as work:
            row = work.conn.execute(
                select(foreign_orders.c.status).where(
                    foreign_orders.c.ledger_id == self.ledger_id, foreign_orders.c.order_id == order_id
                )
            ).first()
            if row is None:
                raise NotFound("order", order_id)
            if row.status != "active":
                raise Conflict("order_id", f"order {order_id} is already {row.status}")
            work.add(
                "transfer.order_closed",
                t.ForeignOrderClosed(order_id=order_id, status="lifted", authority=authority, reason=reason),
                at,
            )

    # --- a flight --------------------------------------------------------------------------------

    def import_flight(
        self,
        actor: str,
        agreement_id: str,
        flight: str,
        text: str,
        *,
        accept_valid: bool = False,
        defaults: dict[str, str] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> FlightResult:
        """Take in a flight under an agreement.

        1. The manifest's form (the register's manifest rules) and the agreement's defaults: the legal
           basis is the receiving side's transfer instrument, the custodian of record the agreement's.
        2. Court orders: an active order (recorded before arrival by identifier or flight, or an order of
           a person already in the register) refuses that person (R26) and raises a critical alert naming
           it; under ``order_policy = refuse_flight`` everyone on the flight is refused.  These refusals
           are recorded even when the rest of the manifest is refused: the people are at the gate.
        3. Eligibility: each rule that refuses a person is named (``eligibility.no_minors``, ...).
        4. The rest go through the register's mass intake: all or nothing, or with ``accept_valid`` the
           valid rows (eligibility refusals are then recorded too, so nobody at the gate is unaccounted for).
        """
        now = self.clock()
        if not t.is_code(flight):
            raise InvalidInput.one("flight", "must be a code (letters, digits, _ . : / -), e.g. the flight number")
        with self.engine.connect() as conn:
            agreement = load_agreement(conn, self.ledger_id, agreement_id)
        a = agreement.terms
        prepared = t.prepare_manifest(text, a.sending_state)
        if prepared.problems:
            bad = tuple(RowError(line, col, rule) for line, col, rule in prepared.problems)
            return FlightResult(agreement_id, flight, (), bad, (), False)
        fills = {
            "legal_status": a.legal_status,
            "basis_kind": "transfer_instrument",
            "basis_reference": a.receiving_instrument.reference,
            "basis_issued_by": a.receiving_instrument.issued_by,
            "basis_issued_at": format_instant(a.receiving_instrument.issued_at),
            "ordering_authority": a.receiving_instrument.issued_by,
            "custodian_of_record": a.custodian_of_record,
            **({"basis_article": a.receiving_instrument.article} if a.receiving_instrument.article else {}),
            **(defaults or {}),
        }
        parsed = parse_manifest(prepared.text, facility_id=a.facility_id, now=now, defaults=fills)
        errors: list[RowError] = list(parsed.errors)
        rows: list[ManifestRow] = []
        for row in parsed.rows:
            problems = self._transfer_row_rules(agreement, row)
            errors.extend(RowError(row.line, p.field, p.rule) for p in problems)
            if not problems:
                rows.append(row)
        with self.engine.connect() as conn:
            rows = self._known_people(conn, rows)
            candidates = [_candidate(row) for row in rows]
            pending = self._pending_orders(conn, flight, agreement_id, rows, candidates)
            held_now = self.held_under(conn, agreement_id)
        decision = t.decide(agreement.as_terms(), flight, candidates, pending, held_now)
        plan = _Plan(agreement, flight, basis=prepared.sending_basis)
        by_line = {row.line: row for row in rows}
        refused: list[Refused] = []
        alerts: list[str] = []
        for line, found in sorted(decision.orders.items()):
            names = "; ".join(t.order_text(o) for o in found)
            message = (
                f"R26: {_name(by_line[line])} (line {line}, {_sending_id_text(by_line[line], a.sending_state)}) on "
                f"flight {flight} under agreement {agreement_id} was refused admission: the transfer is contrary "
                f"to the active {names}"
            )
            refusal = self._refusal(plan, by_line[line], "R26", message, tuple(o.order_id for o in found))
            plan.refusals.append((refusal, message, by_line[line].admission.admitted_at))
            refused.append(Refused(line, _name(by_line[line]), "R26", message, refusal.order_ids))
            alerts.append(message)
        for line in sorted(decision.refused_by_policy):
            reason = (
                f"agreement {agreement_id} order_policy refuse_flight: flight {flight} carries people an active "
                "court order protects (R26), so the whole flight is refused"
            )
            refusal = self._refusal(plan, by_line[line], "R26.refuse_flight", reason, ())
            plan.refusals.append((refusal, None, by_line[line].admission.admitted_at))
            refused.append(Refused(line, _name(by_line[line]), "R26.refuse_flight", reason))
        for line, problems in sorted(decision.ineligible.items()):
            errors.extend(RowError(line, p.field, p.rule) for p in problems)
        to_admit = [
            row for row in rows if row.line not in decision.refused_lines and row.line not in decision.ineligible
        ]
        errors.sort(key=lambda e: e.line)
        if errors and not accept_valid:
            # Nothing is admitted; people refused by a court order are recorded all the same (R26).
            self._record_refusals(plan)
            return FlightResult(agreement_id, flight, (), tuple(errors), tuple(refused), False, tuple(alerts))
        if accept_valid:
            for line, problems in sorted(decision.ineligible.items()):
                rule = problems[0].rule.split(":", 1)[0]
                reason = "; ".join(p.rule for p in problems)
                refusal = self._refusal(plan, by_line[line], rule, reason, ())
                plan.refusals.append((refusal, None, by_line[line].admission.admitted_at))
        plan.rows = {row.admission.legal_basis.instrument_id: row for row in to_admit}
        if not to_admit:
            self._record_refusals(plan)
            return FlightResult(agreement_id, flight, (), tuple(errors), tuple(refused), bool(plan.refusals),
                                tuple(alerts))  # fmt: skip
        manifest = ParsedManifest(tuple(to_admit), (), ())
        svc = self._register(lambda work: self._after_admission(work, plan))
        result = import_manifest(svc, actor, manifest, accept_valid=accept_valid, progress=progress)
        all_errors = sorted([*errors, *result.errors], key=lambda e: e.line)
        if not result.committed:
            self._record_refusals(plan)
        return FlightResult(
            agreement_id, flight, result.admitted, tuple(all_errors), tuple(refused), result.committed, tuple(alerts)
        )

    def _transfer_row_rules(self, agreement: Agreement, row: ManifestRow) -> list[Problem]:
        a, r = agreement.terms, row.admission
        out = []
        if r.legal_basis.kind != "transfer_instrument":
            out.append(Problem("basis_kind", "a transferee's legal basis is the agreement's transfer_instrument (F15)"))
        if (r.custodian_of_record or "").strip() != a.custodian_of_record:
            out.append(
                Problem(
                    "custodian_of_record",
                    f"R25: agreement {a.agreement_id} names {a.custodian_of_record!r} as custodian of record",
                )
            )
        return out

    def _known_people(self, conn: Connection, rows: list[ManifestRow]) -> list[ManifestRow]:
        """Someone sent before (returned, then sent again) is admitted as the person already on record."""
        keys = {row.line: t.candidate_keys(row.admission.identity.documents if row.admission.identity else ())[0]
                for row in rows}  # fmt: skip
        known = state.people_by_document(conn, self.ledger_id, [k for ks in keys.values() for k in ks])
        out = []
        for row in rows:
            person = next((known[k] for k in keys[row.line] if k in known), None)
            if person is None:
                out.append(row)
                continue
            out.append(ManifestRow(row.line, _with_person(row, person), row.raw))
        return out

    def _pending_orders(
        self, conn: Connection, flight: str, agreement_id: str, rows: Sequence[ManifestRow],
        candidates: Sequence[t.Candidate],
    ) -> list[t.PendingOrder]:  # fmt: skip
        keys = sorted({k for c in candidates for k in c.doc_keys})
        ids: set[str] = set(
            conn.execute(
                select(foreign_orders.c.order_id).where(
                    foreign_orders.c.ledger_id == self.ledger_id,
                    foreign_orders.c.status == "active",
                    foreign_orders.c.flight == flight,
                )
            ).scalars()
        )
        docs: dict[str, list[str]] = {}
        for start in range(0, len(keys), 500):
            for r in conn.execute(
                select(foreign_order_documents.c.order_id, foreign_order_documents.c.doc_key).where(
                    foreign_order_documents.c.ledger_id == self.ledger_id,
                    foreign_order_documents.c.doc_key.in_(keys[start : start + 500]),
                )
            ):
                ids.add(r.order_id)
                docs.setdefault(r.order_id, []).append(r.doc_key)
        out = []
        if ids:
            for r in conn.execute(
                select(foreign_orders).where(
                    foreign_orders.c.ledger_id == self.ledger_id,
                    foreign_orders.c.order_id.in_(sorted(ids)),
                    foreign_orders.c.status == "active",
                )
            ):
                out.append(
                    t.PendingOrder(
                        r.order_id, r.kind, r.court, r.court_state, r.reference, tuple(docs.get(r.order_id, ())),
                        r.flight, r.agreement_id, r.country,
                    )
                )  # fmt: skip
        # People already in the register: their own active orders (recorded with ``order.issued``).
        person_lines = {row.admission.person_id: c for row, c in zip(rows, candidates, strict=True)
                        if row.admission.person_id}  # fmt: skip
        if person_lines:
            for r in conn.execute(
                select(orders).where(
                    orders.c.ledger_id == self.ledger_id,
                    orders.c.person_id.in_(sorted(person_lines)),
                    orders.c.status == "active",
                    orders.c.kind.in_(t.BLOCKING_KINDS),
                )
            ):
                out.append(
                    t.PendingOrder(
                        r.order_id, r.kind, r.court, r.court_state, r.reference, person_lines[r.person_id].doc_keys,
                        person_id=r.person_id,
                    )
                )  # fmt: skip
        return out

    def held_under(self, conn: Connection, agreement_id: str) -> int:
        query = self._held(select(func.count()).select_from(transferees))
        return int(conn.execute(query.where(transferees.c.agreement_id == agreement_id)).scalar_one())

    def _held(self, query: Select[Any]) -> Select[Any]:
        """``query`` over transferees narrowed to those still held (their episode open) in this ledger."""
        return query.join(
            episodes,
            and_(episodes.c.ledger_id == transferees.c.ledger_id, episodes.c.episode_id == transferees.c.episode_id),
        ).where(transferees.c.ledger_id == self.ledger_id, episodes.c.status.in_(HELD_VALUES))

    def _refusal(
        self, plan: _Plan, row: ManifestRow, rule: str, reason: str, order_ids: tuple[str, ...]
    ) -> t.AdmissionRefused:
        identity = row.admission.identity
        given, family = (
            (identity.given_names, identity.family_names)
            if identity
            else (row.raw.get("given_names", "?"), row.raw.get("family_names", "?"))
        )
        ref = _sending_ref(row, plan.agreement.terms.sending_state)
        # Deterministic: the same person refused on the same flight for the same reason is recorded once,
        # however often the manifest is imported again.
        who = t.doc_key_of(ref) if ref else f"line {row.line}"
        key = f"{self.ledger_id}/{plan.agreement.agreement_id}/{plan.flight}/{who}/{rule}/{','.join(order_ids)}"
        return t.AdmissionRefused(
            refusal_id=str(uuid.uuid5(NAMESPACE, key)),
            agreement_id=plan.agreement.agreement_id,
            flight=plan.flight,
            line=row.line,
            given_names=given or "?",
            family_names=family or "?",
            sending_identifier=ref,
            rule=rule,
            reason=reason[:4000],
            order_ids=order_ids,
        )

    def _add_refusals(self, work: Work, plan: _Plan) -> None:
        wanted = [r.refusal_id for r, _, _ in plan.refusals]
        if not wanted:
            return
        done = set(
            work.conn.execute(
                select(refusals.c.refusal_id).where(
                    refusals.c.ledger_id == self.ledger_id, refusals.c.refusal_id.in_(wanted)
                )
            ).scalars()
        )
        for refusal, message, at in plan.refusals:
            if refusal.refusal_id in done:
                continue
            work.add("transfer.admission_refused", refusal, at)
            if message is not None:
                work.add(
                    "alert.raised",
                    AlertRaised(
                        alert_id=str(uuid.uuid5(NAMESPACE, f"{self.ledger_id}/R26/{refusal.refusal_id}")),
                        rule="R26",
                        severity="critical",
                        subject=refusal.refusal_id,
                        message=message[:4000],
                        refs=(*refusal.order_ids, refusal.refusal_id),
                    ),
                    at,
                )

    def _record_refusals(self, plan: _Plan) -> None:
        if not plan.refusals:
            return
        with unit_of_work(self.engine, self.ledger_id, "system:transfers", self.clock()) as work:
            self._add_refusals(work, plan)

    def _after_admission(self, work: Work, plan: _Plan) -> None:
        """In the admission's transaction: link each admission to the agreement, record refusals and alerts."""
        a = plan.agreement.terms
        for event in list(work.stored):
            if event.type != "custody.admitted":
                continue
            p = event.payload
            row = plan.rows.get(p["legal_basis"]["instrument_id"])
            if row is None:
                continue
            ref = _sending_ref(row, a.sending_state)
            assert ref is not None  # eligibility.sending_state_id
            work.add(
                "transfer.transferee_admitted",
                t.TransfereeAdmitted(
                    agreement_id=a.agreement_id,
                    flight=plan.flight,
                    person_id=p["person_id"],
                    episode_id=p["episode_id"],
                    sending_state=a.sending_state,
                    sending_identifier=ref,
                    sending_basis=t.SendingBasis(
                        reference=plan.basis.get(row.line, a.sending_instrument.reference),
                        issued_by=a.sending_instrument.issued_by,
                        article=a.sending_instrument.article,
                    ),
                    receiving_instrument_id=p["legal_basis"]["instrument_id"],
                    custodian_of_record=p["custodian_of_record"],
                ),
                event.occurred_at,
            )
        self._add_refusals(work, plan)

    def hand_back(self, actor: str, refusal_id: str, handed_over_to: str, authority: str, at: datetime) -> None:
        """Someone refused at the gate, handed back to the sending state's escort: accounted for again."""
        with self._work(actor) as work:
            row = work.conn.execute(
                select(refusals.c.handed_back_at).where(
                    refusals.c.ledger_id == self.ledger_id, refusals.c.refusal_id == refusal_id
                )
            ).first()
            if row is None:
                raise NotFound("refusal", refusal_id)
            if row.handed_back_at is not None:
                raise Conflict("refusal_id", f"{refusal_id} was already handed back")
            work.add(
                "transfer.handed_back",
                t.HandedBack(refusal_id=refusal_id, handed_over_to=handed_over_to, authority=authority),
                at,
            )
            # The R26 alert for a person refused at the gate holds until they are accounted for.
            for alert_id in work.conn.execute(
                select(alerts.c.alert_id).where(
                    alerts.c.ledger_id == self.ledger_id,
                    alerts.c.rule == "R26",
                    alerts.c.subject == refusal_id,
                    alerts.c.resolved_at.is_(None),
                )
            ).scalars():
                work.add(
                    "alert.resolved",
                    AlertResolved(alert_id=alert_id, resolution=f"handed back to {handed_over_to} ({authority})"),
                    at,
                )

    # --- leaving ---------------------------------------------------------------------------------

    def leave(
        self,
        actor: str,
        person_id: str,
        kind: t.ExitKind,
        at: datetime,
        *,
        destination_state: str,
        authority: str,
        order_reference: str,
        handed_over_to: str,
        receiving_authority: str | None = None,
        escort: str | None = None,
        verified_by: str | None = None,
        health_check: str | None = None,
    ) -> None:
        """A transferee leaves: back to the sending state, repatriated, to a third state, or released to one.

        ICPPED 17(3)(h) (time, destination, authority responsible), R14 and R15 (the handover).
        """
        with self.engine.connect() as conn:
            handover = self._handover(conn, person_id, kind, destination_state, authority, handed_over_to, escort)
        svc = self._register(lambda work: work.add("transfer.handover_recorded", handover, at))
        if kind == "release_to_third_state":
            svc.release(
                actor, person_id, at, authority=authority, order_reference=order_reference,
                verified_by=verified_by, handed_over_to=handed_over_to, health_check=health_check,
            )  # fmt: skip
        else:
            svc.transfer_out(
                actor, person_id, at, destination=law.transfer_destination(destination_state, handed_over_to),
                receiving_authority=receiving_authority or handed_over_to, authority=authority,
                order_reference=order_reference,
            )  # fmt: skip

    def leave_many(
        self,
        actor: str,
        person_ids: Sequence[str],
        kind: t.ExitKind,
        at: datetime,
        *,
        destination_state: str,
        authority: str,
        order_reference: str,
        handed_over_to: str,
        receiving_authority: str | None = None,
        escort: str | None = None,
    ) -> None:
        """A flight out: everyone in ``person_ids`` leaves together, each checked as :meth:`leave` checks one.

        All or none, in one unit of work; a refusal names the person's row (``person_ids[3]``).  A release
        to a third state (a verified release each, ICPPED 21) goes one by one through :meth:`leave`.
        """
        if kind == "release_to_third_state":
            raise InvalidInput.one("kind", "a release to a third state is recorded person by person (leave)")
        if len(set(person_ids)) != len(person_ids):
            raise InvalidInput.one("person_ids", "a person appears twice")
        handovers = []
        with self.engine.connect() as conn:
            for i, person_id in enumerate(person_ids):
                try:
                    handovers.append(
                        self._handover(conn, person_id, kind, destination_state, authority, handed_over_to, escort)
                    )
                except (Conflict, InvalidInput) as error:
                    problem = error.problems[0] if isinstance(error, InvalidInput) else error
                    raise Conflict(f"person_ids[{i}].{problem.field}", f"{person_id}: {problem.rule}") from None

        def record(work: Work) -> None:
            for handover in handovers:
                work.add("transfer.handover_recorded", handover, at)

        facts = {
            "destination": law.transfer_destination(destination_state, handed_over_to),
            "receiving_authority": receiving_authority or handed_over_to,
            "authority": authority,
            "order_reference": order_reference,
        }
        self._register(record).transfer_out_many(actor, [(p, at, facts) for p in person_ids])

    def _handover(
        self,
        conn: Connection,
        person_id: str,
        kind: t.ExitKind,
        destination_state: str,
        authority: str,
        handed_over_to: str,
        escort: str | None,
    ) -> t.HandoverRecorded:
        """The checks of a transferee's exit (the agreement's terms, R26's no-removal orders) and its record."""
        link = conn.execute(
            self._held(
                select(transferees.c.agreement_id, transferees.c.episode_id, transferees.c.sending_doc_key)
            ).where(transferees.c.person_id == person_id)
        ).first()
        if link is None:
            raise Conflict("person_id", f"{person_id} is not held under a transfer agreement")
        agreement = load_agreement(conn, self.ledger_id, link.agreement_id)
        nationalities = orjson.loads(
            conn.execute(
                select(people.c.nationalities).where(
                    people.c.ledger_id == self.ledger_id, people.c.person_id == person_id
                )
            ).scalar_one()
        )
        protection = conn.execute(
            select(foreign_orders)
            .join(
                foreign_order_documents,
                and_(
                    foreign_order_documents.c.ledger_id == foreign_orders.c.ledger_id,
                    foreign_order_documents.c.order_id == foreign_orders.c.order_id,
                ),
            )
            .where(
                foreign_orders.c.ledger_id == self.ledger_id,
                foreign_order_documents.c.doc_key == link.sending_doc_key,
                foreign_orders.c.status == "active",
                foreign_orders.c.kind == "no_removal",
                foreign_orders.c.country == destination_state,
            )
        ).first()
        a = agreement.terms
        if kind == "return_to_sending_state" and destination_state != a.sending_state:
            raise InvalidInput.one("destination_state", f"a return goes to the sending state {a.sending_state}")
        if kind == "repatriation" and destination_state not in nationalities:
            raise InvalidInput.one(
                "destination_state",
                f"repatriation is to a state of nationality ({', '.join(nationalities) or 'none recorded'}); "
                "use third_state otherwise",
            )
        if kind in ("third_state", "release_to_third_state") and destination_state in (
            a.sending_state, a.receiving_state,
        ):  # fmt: skip
            raise InvalidInput.one("destination_state", "a third state is neither party to the agreement")
        if protection is not None:
            raise Conflict(
                "destination_state",
                f"R26: removal to {destination_state} is contrary to the active no-removal order "
                f"{protection.reference} of {protection.court} ({protection.court_state}), "
                f"order id {protection.order_id}",
            )
        return t.HandoverRecorded(
            agreement_id=a.agreement_id,
            person_id=person_id,
            episode_id=link.episode_id,
            kind=kind,
            destination_state=destination_state,
            authority=authority,
            handed_over_to=handed_over_to,
            escort=escort,
        )

    # --- billing ---------------------------------------------------------------------------------

    def spans(self, conn: Connection, agreement_id: str) -> list[billing.CustodySpan]:
        return custody_spans(conn, self.ledger_id, agreement_id)

    def issue_invoice(self, actor: str, agreement_id: str, month: str, at: datetime) -> tuple[str, billing.Invoice]:
        """F16: the month's invoice from the register's custody history, with adjustments for earlier months."""
        first = parse_month(month)
        end = date(first.year, first.month, calendar.monthrange(first.year, first.month)[1])
        with self._work(actor) as work:
            agreement = load_agreement(work.conn, self.ledger_id, agreement_id)
            if billing.CountingRule(agreement.terms.counting.time_zone).local_day(at) <= end:
                raise InvalidInput.one("month", f"{month} has not ended yet: invoice a month once it is over")
            issued = issued_invoices(work.conn, self.ledger_id, agreement_id)
            same = [i for i in issued if i[1].month == first]
            if same:
                raise Conflict(
                    "month",
                    f"the invoice for {month} was issued ({same[0][0]}): a later correction appears as an "
                    "adjustment line on a later month's invoice",
                )
            later = [i for i in issued if i[1].month > first]
            if later:
                raise Conflict("month", f"an invoice for a later month ({later[0][1].month:%Y-%m}) is already issued")
            try:
                invoice = billing.monthly_invoice(
                    agreement_id,
                    first,
                    self.spans(work.conn, agreement_id),
                    agreement.fee_model(),
                    agreement.counting_rule(),
                    issued=[i for _, i in issued],
                )
            except ValueError as error:
                field_name, _, rule = str(error).partition(": ")
                raise InvalidInput.one(field_name or "invoice", rule or str(error)) from None
            invoice_id = str(self.new_id())
            work.add("invoice.issued", invoice_payload(invoice_id, invoice), at)
            return invoice_id, invoice


# --- helpers ---------------------------------------------------------------------------------------


def invoice_payload(invoice_id: str, invoice: billing.Invoice) -> t.InvoiceIssued:
    return t.InvoiceIssued(
        invoice_id=invoice_id,
        agreement_id=invoice.agreement_id,
        month=f"{invoice.month:%Y-%m}",
        currency=invoice.currency,
        lines=tuple(
            t.InvoiceLinePayload(
                kind=line.kind, person_id=line.person_id, month=f"{line.month:%Y-%m}", days=line.days,
                unit_price=line.unit_price, amount=line.amount, note=line.note, billed_days=line.billed_days,
            )
            for line in invoice.lines
        ),
        total=invoice.total,
    )  # fmt: skip


def _name(row: ManifestRow) -> str:
    i = row.admission.identity
    if i is not None:
        return f"{i.given_names} {i.family_names}"
    return f"{row.raw.get('given_names', '')} {row.raw.get('family_names', '')}".strip() or f"line {row.line}"


def _sending_ref(row: ManifestRow, sending_state: str) -> t.DocumentRef | None:
    docs = row.admission.identity.documents if row.admission.identity else ()
    if not docs:
        docs = tuple(
            {"kind": row.raw.get(k, ""), "number": row.raw.get(n, ""), "issuer": row.raw.get(i, "")}
            for k, n, i in [("document_kind", "document_number", "document_issuer")]
            if row.raw.get(n)
        )
    for d in docs:
        if "".join(d.get("issuer", "").split()).upper() == sending_state:
            try:
                return t.DocumentRef.model_validate(
                    {"kind": d.get("kind", "other"), "number": d.get("number", ""), "issuer": d.get("issuer", "")}
                )
            except ValueError:
                return None
    return None


def _sending_id_text(row: ManifestRow, sending_state: str) -> str:
    ref = _sending_ref(row, sending_state)
    return f"{ref.issuer} {ref.kind} {ref.number}" if ref else "no sending-state identifier"


def _with_person(row: ManifestRow, person_id: str) -> Any:
    return row.admission.model_copy(update={"person_id": person_id, "identity": None})


def _candidate(row: ManifestRow) -> t.Candidate:
    r = row.admission
    docs = list(r.identity.documents) if r.identity else []
    if not docs and row.raw.get("document_number"):
        docs = [{"kind": row.raw.get("document_kind", ""), "number": row.raw["document_number"],
                 "issuer": row.raw.get("document_issuer", "")}]  # fmt: skip
    keys, issuers = t.candidate_keys(docs)
    nationalities = (
        tuple(r.identity.nationalities)
        if r.identity
        else tuple(n.strip().upper() for n in row.raw.get("nationalities", "").split(";") if n.strip())
    )
    birth = r.identity.birth_date if r.identity else (
        date.fromisoformat(row.raw["birth_date"]) if row.raw.get("birth_date") else None
    )  # fmt: skip
    return t.Candidate(row.line, nationalities, birth, r.admitted_at, keys, issuers)


__all__ = ["Agreement", "FlightResult", "Refused", "TransferService", "custody_spans", "load_agreement"]
