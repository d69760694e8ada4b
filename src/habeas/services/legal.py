"""The law's commands: instruments, cases and hearings, court orders, sentences, notifications, alerts.

Same shape as the register's commands: one transaction, state read after the ledger
is locked, refusals that name the field and the rule and change nothing, and the
safeguards re-checked for the people touched before the transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Engine, Table, select

from habeas.domain import law
from habeas.domain.alerts import AlertResolved
from habeas.domain.sentencing import CountSentence, CustodyCredit, Term, compute, rules_from_policy
from habeas.errors import Conflict, InvalidInput, NotFound
from habeas.policy.loader import load_policy
from habeas.services import state
from habeas.services.safeguarding import after_command
from habeas.services.unit_of_work import Work, unit_of_work
from habeas.store.law_tables import cases, defendants, instruments, orders, sentences
from habeas.store.register_tables import alerts, episodes, facilities

Clock = Callable[[], datetime]


class LegalService:
    def __init__(self, engine: Engine, ledger_id: str, clock: Clock, new_id: Callable[[], UUID] = uuid4) -> None:
        self.engine = engine
        self.ledger_id = ledger_id
        self.clock = clock
        self.new_id = new_id
        # The safeguards re-checked inside every command's transaction (services.safeguarding); None
        # leaves them to the sweep alone (a bulk load that sweeps as it goes, as RegisterService allows).
        self.safeguards: Callable[[Work], None] | None = after_command

    def _work(self, actor: str) -> AbstractContextManager[Work]:
        return unit_of_work(self.engine, self.ledger_id, actor, self.clock(), after=self.safeguards)

    # --- legal bases ---------------------------------------------------------------------------

    def record_instrument(self, actor: str, person_id: str, details: dict[str, Any], at: datetime) -> str:
        """F1: a new legal basis for the person's current episode (a judicial order, an extension, ...)."""
        with self._work(actor) as work:
            episode = state.require_open_episode(work.conn, self.ledger_id, person_id)
            instrument_id = details.get("instrument_id") or str(self.new_id())
            payload = law.InstrumentRecorded.model_validate(
                {**details, "instrument_id": instrument_id, "episode_id": episode.episode_id, "person_id": person_id}
            )
            if payload.issued_at > at:
                raise InvalidInput.one("issued_at", "is after the time it is recorded as received")
            self._require_new(work, instruments, "instrument_id", instrument_id)
            work.add("instrument.recorded", payload, at)
            return instrument_id

    def end_instrument(self, actor: str, instrument_id: str, reason: str, at: datetime) -> None:
        with self._work(actor) as work:
            row = work.conn.execute(
                select(instruments).where(
                    instruments.c.ledger_id == self.ledger_id, instruments.c.instrument_id == instrument_id
                )
            ).first()
            if row is None:
                raise NotFound("instrument", instrument_id)
            if row.ended_at is not None:
                raise Conflict("instrument_id", f"instrument {row.reference} already ended")
            if at < row.issued_at:
                raise InvalidInput.one("at", f"is before instrument {row.reference} was issued")
            work.add(
                "instrument.ended",
                law.InstrumentEnded(
                    instrument_id=instrument_id, episode_id=row.episode_id, person_id=row.person_id, reason=reason
                ),
                at,
            )

    # --- cases ---------------------------------------------------------------------------------

    def open_case(
        self,
        actor: str,
        case: law.CaseOpened,
        defendant_ids: Sequence[str],
        at: datetime,
        counsel: dict[str, str] | None = None,
    ) -> None:
        """A case with its defendants; a group case keeps each defendant's own record (R28)."""
        with self._work(actor) as work:
            if work.conn.execute(
                select(cases.c.case_id).where(cases.c.ledger_id == self.ledger_id, cases.c.case_id == case.case_id)
            ).first():
                raise Conflict("case_id", f"case {case.case_id} already exists")
            for i, person in enumerate(defendant_ids):
                try:
                    state.person_sex_and_birth(work.conn, self.ledger_id, person)
                except NotFound:
                    raise InvalidInput.one(f"defendants[{i}]", f"no person {person!r}") from None
            if len(set(defendant_ids)) != len(defendant_ids):
                raise InvalidInput.one("defendants", "a person appears twice")
            work.add("case.opened", case, at)
            for person in defendant_ids:
                work.add(
                    "case.defendant_added",
                    law.DefendantAdded(case_id=case.case_id, person_id=person, counsel=(counsel or {}).get(person)),
                    at,
                )

    def record_hearing(self, actor: str, hearing: law.HearingRecorded, at: datetime) -> None:
        with self._work(actor) as work:
            self._require_defendant(work, hearing.case_id, hearing.person_id)
            work.add("case.hearing_recorded", hearing, at)

    def record_verdict(self, actor: str, verdict: law.VerdictRecorded, at: datetime) -> None:
        with self._work(actor) as work:
            self._require_defendant(work, verdict.case_id, verdict.person_id)
            work.add("case.verdict_recorded", verdict, at)

    def _require_defendant(self, work: Work, case_id: str, person_id: str) -> None:
        row = work.conn.execute(
            select(defendants.c.person_id).where(
                defendants.c.ledger_id == self.ledger_id,
                defendants.c.case_id == case_id,
                defendants.c.person_id == person_id,
            )
        ).first()
        if row is None:
            raise NotFound("defendant", f"{person_id} in case {case_id}")

    # --- court orders --------------------------------------------------------------------------

    def issue_order(self, actor: str, order: law.OrderIssued, at: datetime) -> None:
        """R26: record an order (domestic or foreign); its deadline is then watched by the sweep."""
        self.issue_orders(actor, [order], at)

    def issue_orders(self, actor: str, orders_: Sequence[law.OrderIssued], at: datetime) -> None:
        """R26: several orders received together (say one per person a court names), all or none.

        Each is checked as :meth:`issue_order` checks one, in one unit of work; a refusal names the
        order's row (``orders[3].deadline``) and records nothing.
        """
        many = len(orders_) > 1
        if many and len({o.order_id for o in orders_}) != len(orders_):
            raise InvalidInput.one("orders", "an order id appears twice")
        with self._work(actor) as work:
            for i, order in enumerate(orders_):
                where = f"orders[{i}]." if many else ""
                state.person_sex_and_birth(work.conn, self.ledger_id, order.person_id)
                if order.issued_at > at:
                    raise InvalidInput.one(f"{where}issued_at", "is after the time it is recorded as received")
                if order.deadline is not None and order.deadline <= order.issued_at:
                    raise InvalidInput.one(f"{where}deadline", "must be after issued_at")
                if order.kind in ("produce", "return", "facilitate_return") and not order.place:
                    raise InvalidInput.one(f"{where}place", f"a {order.kind} order says where the person must be")
                self._require_new(work, orders, "order_id", order.order_id)
                work.add("order.issued", order, at)

    def execute_order(
        self, actor: str, order_id: str, note: str, at: datetime, execution_event_id: str | None = None
    ) -> None:
        with self._work(actor) as work:
            row = self._active_order(work, order_id, at)
            work.add(
                "order.executed",
                law.OrderExecuted(
                    order_id=order_id, person_id=row.person_id, note=note, execution_event_id=execution_event_id
                ),
                at,
            )

    def lift_order(self, actor: str, order_id: str, authority: str, reason: str, at: datetime) -> None:
        with self._work(actor) as work:
            row = self._active_order(work, order_id, at)
            work.add(
                "order.lifted",
                law.OrderLifted(order_id=order_id, person_id=row.person_id, authority=authority, reason=reason),
                at,
            )

    def _active_order(self, work: Work, order_id: str, at: datetime) -> Any:
        """An order that can still be carried out or lifted at ``at``: known, active, already issued."""
        row = work.conn.execute(
            select(orders).where(orders.c.ledger_id == self.ledger_id, orders.c.order_id == order_id)
        ).first()
        if row is None:
            raise NotFound("order", order_id)
        if row.status != "active":
            raise Conflict("order_id", f"order {row.reference} is already {row.status}")
        if at < row.issued_at:
            raise InvalidInput.one("at", f"is before order {row.reference} was issued")
        return row

    def _require_new(self, work: Work, table: Table, column: str, value: str) -> None:
        """A caller-chosen id names one record for ever: a second record under it is refused, not merged."""
        found = work.conn.execute(
            select(table.c[column]).where(table.c.ledger_id == self.ledger_id, table.c[column] == value)
        ).first()
        if found is not None:
            raise Conflict(column, f"{value!r} is already recorded")

    # --- sentences -----------------------------------------------------------------------------

    def record_sentence(self, actor: str, sentence: law.SentenceRecorded, at: datetime) -> Any:
        """Per-count sentence; the release date is computed (and explained) under the facility's policy."""
        with self._work(actor) as work:
            self._require_defendant(work, sentence.case_id, sentence.person_id)
            self._require_new(work, sentences, "sentence_id", sentence.sentence_id)
            jurisdiction = (
                work.conn.execute(
                    select(facilities.c.jurisdiction)
                    .join(
                        episodes,
                        (episodes.c.ledger_id == facilities.c.ledger_id)
                        & (episodes.c.facility_id == facilities.c.facility_id),
                    )
                    .where(episodes.c.ledger_id == self.ledger_id, episodes.c.person_id == sentence.person_id)
                    .order_by(episodes.c.admitted_seq.desc())
                    .limit(1)
                ).scalar()
                or "intl"
            )
            calc = compute(
                [
                    CountSentence(
                        c.count_id,
                        c.offence,
                        c.article,
                        Term(c.term.years, c.term.months, c.term.days),
                        c.runs,
                        c.concurrent_with,
                    )
                    for c in sentence.counts
                ],
                sentence.sentenced_on,
                [CustodyCredit(c.start, c.end, c.reason) for c in sentence.credits],
                rules_from_policy(load_policy(str(jurisdiction))),
                Term(**sentence.announced_aggregate.model_dump()) if sentence.announced_aggregate else None,
            )  # refuses a count outside Penal Code 45 before anything is recorded
            work.add("sentence.recorded", sentence, at)
            return calc

    # --- notifications and alerts --------------------------------------------------------------

    def notify(
        self,
        actor: str,
        person_id: str,
        kind: law.NotificationKind,
        recipient: str,
        at: datetime,
        delayed_until: datetime | None = None,
        delay_authority: str | None = None,
        delay_reason: str | None = None,
    ) -> None:
        """F5: a notification made (or an authorized, expiring delay of one: R8)."""
        if delayed_until is not None and not (delay_authority and delay_reason):
            raise InvalidInput.one("delay_authority", "a delay needs the authority that ordered it and the reason")
        with self._work(actor) as work:
            episode = state.require_open_episode(work.conn, self.ledger_id, person_id)
            work.add(
                "notification.recorded",
                self._notification(
                    actor, person_id, episode.episode_id, kind, recipient,
                    delayed_until=delayed_until, delay_authority=delay_authority, delay_reason=delay_reason,
                ),
                at,
            )  # fmt: skip

    def notify_many(self, actor: str, notices: Sequence[tuple[str, law.NotificationKind, str, datetime]]) -> None:
        """F5: many notifications made (person, kind, recipient, when) in one unit of work, or none.

        What :meth:`notify` records for each, with one query for every episode; the safeguards run
        once, over the whole batch, before it commits.  A person not held here is refused, naming the row.
        """
        with self._work(actor) as work:
            held = state.open_episodes(work.conn, self.ledger_id, [p for p, _, _, _ in notices])
            many = len(notices) > 1
            for i, (person_id, kind, recipient, at) in enumerate(notices):
                episode = held.get(person_id)
                if episode is None:  # unknown (NotFound) or not held here (Conflict naming the status)
                    try:
                        episode = state.require_open_episode(work.conn, self.ledger_id, person_id)
                    except Conflict as error:
                        raise Conflict(f"notices[{i}].{error.field}" if many else error.field, error.rule) from None
                notice = self._notification(actor, person_id, episode.episode_id, kind, recipient)
                work.add("notification.recorded", notice, at)

    def _notification(
        self, actor: str, person_id: str, episode_id: str, kind: law.NotificationKind, recipient: str, **delay: Any
    ) -> law.NotificationRecorded:
        return law.NotificationRecorded(
            notification_id=str(self.new_id()), person_id=person_id, episode_id=episode_id, kind=kind,
            recipient=recipient, by=actor, **delay,
        )  # fmt: skip

    def acknowledge_alert(self, actor: str, alert_id: str, note: str, at: datetime) -> None:
        with self._work(actor) as work:
            self._open_alert(work, alert_id)
            work.add("alert.acknowledged", law.AlertAcknowledged(alert_id=alert_id, note=note), at)

    def resolve_alert(self, actor: str, alert_id: str, resolution: str, at: datetime) -> None:
        with self._work(actor) as work:
            self._open_alert(work, alert_id)
            work.add("alert.resolved", AlertResolved(alert_id=alert_id, resolution=resolution), at)

    def _open_alert(self, work: Work, alert_id: str) -> None:
        row = work.conn.execute(
            select(alerts.c.resolved_at).where(alerts.c.ledger_id == self.ledger_id, alerts.c.alert_id == alert_id)
        ).first()
        if row is None:
            raise NotFound("alert", alert_id)
        if row.resolved_at is not None:
            raise Conflict("alert_id", f"alert {alert_id} is already resolved")


__all__ = ["LegalService", "date"]
