"""Read models for the law: instruments, orders, cases, sentences, and the duty clocks of each episode."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    case,
    exists,
    func,
    literal,
    null,
    select,
)

from habeas.domain.custody import HELD
from habeas.store.register_tables import alerts, episodes
from habeas.store.tables import ledger_key, metadata
from habeas.store.types import UtcInstant

instruments = Table(
    "instruments", metadata, ledger_key(),
    Column("instrument_id", String(64), primary_key=True),
    Column("episode_id", String(64), nullable=False),
    Column("person_id", String(64), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("reference", String(200), nullable=False),
    Column("issued_by", String(200), nullable=False),
    Column("issued_at", UtcInstant, nullable=False),
    Column("article", String(200), nullable=True),
    Column("expires_at", UtcInstant, nullable=True),
    Column("offence_class", String(20), nullable=True),
    Column("scope", String(64), nullable=True),
    Column("ended_at", UtcInstant, nullable=True),
    # R5, provisional detention orders only (0004): the start of the detention the limit counts from (the
    # episode's arrest, copied so the sweep finds breaches by one index range), and the deadline computed
    # when the order was recorded (JSON, see projections.law.stored_limit), reused for the message while
    # the law it was computed under and its window of validity still hold.
    Column("detained_from", UtcInstant, nullable=True),
    Column("limit_deadline", Text, nullable=True),
)  # fmt: skip
Index("ix_instruments_episode", instruments.c.ledger_id, instruments.c.episode_id)
# R5: orders of one class and scope, by the start of detention (0004).
Index(
    "ix_instruments_limit",
    instruments.c.ledger_id, instruments.c.kind, instruments.c.offence_class, instruments.c.scope,
    instruments.c.detained_from,
)  # fmt: skip

# The clocks the safeguards read, one row per episode: when each duty was done (NULL: not yet).
duties = Table(
    "duties", metadata, ledger_key(),
    Column("episode_id", String(64), primary_key=True),
    Column("person_id", String(64), nullable=False),
    # The facility holding the episode now; NULL once it is closed (released, transferred, dead).  A copy of
    # the episode's status and facility (0004), kept by projections.law on every status change, so that the
    # sweep's checks read duties alone and never join each candidate to its episode.
    Column("held_in", String(64), nullable=True),
    Column("admitted_at", UtcInstant, nullable=False),
    Column("arrested_at", UtcInstant, nullable=False),
    Column("foreign_national", Boolean, nullable=False),
    Column("judicial_at", UtcInstant, nullable=True),  # first instrument from a judge (stops R3)
    Column("appearance_at", UtcInstant, nullable=True),  # first placed before a judge (starts R4)
    Column("rights_at", UtcInstant, nullable=True),  # R7
    Column("family_at", UtcInstant, nullable=True),  # R8
    Column("family_delay_until", UtcInstant, nullable=True),
    Column("consular_at", UtcInstant, nullable=True),  # R9
    Column("examined_at", UtcInstant, nullable=True),  # R10
    Column("injury_at", UtcInstant, nullable=True),  # R11: first injury, complaint or torture indicator
    Column("referred_at", UtcInstant, nullable=True),
    Column("moved_at", UtcInstant, nullable=True),  # last arrival at another facility (R8 again)
    Column("family_after_move_at", UtcInstant, nullable=True),
    Column("died_at", UtcInstant, nullable=True),  # R12
    Column("death_missing", Text, nullable=True),  # what the death record still lacks, comma-separated
    Column("death_record", Text, nullable=True),  # JSON: the death's facts so far (died + completions)
    # R3 (0004): the administrative-detention deadline computed at admission (JSON, see
    # projections.law.stored_deadline), kept while no judicial order has stopped the clock.
    Column("admin_deadline", Text, nullable=True),
    # R6 (0004): the instruments not ended, summed up: the latest expiry (NULL: one has none; NO_BASIS:
    # there is none) and the latest issue.  Held with no basis in force at T is only possible where
    # basis_until <= T or basis_issued > T, so the sweep checks those episodes and no others.
    Column("basis_until", UtcInstant, nullable=True),
    Column("basis_issued", UtcInstant, nullable=True),
)  # fmt: skip
Index("ix_duties_person", duties.c.ledger_id, duties.c.person_id)
# One narrow index per clock the sweep reads (0004): each check reads the range of episodes whose duty is
# not done (NULL, or done after the instant checked) or whose clock ran out, never the whole table.
Index("ix_duties_judicial", duties.c.ledger_id, duties.c.judicial_at, duties.c.appearance_at)  # R3
Index("ix_duties_appearance", duties.c.ledger_id, duties.c.appearance_at, duties.c.judicial_at)  # R4
Index("ix_duties_basis_until", duties.c.ledger_id, duties.c.basis_until)  # R6
Index("ix_duties_basis_issued", duties.c.ledger_id, duties.c.basis_issued)  # R6
Index("ix_duties_rights", duties.c.ledger_id, duties.c.rights_at)  # R7
Index("ix_duties_family", duties.c.ledger_id, duties.c.family_at)  # R8
Index("ix_duties_moved", duties.c.ledger_id, duties.c.moved_at)  # R8 after a transfer
Index("ix_duties_consular", duties.c.ledger_id, duties.c.foreign_national, duties.c.consular_at)  # R9
Index("ix_duties_examined", duties.c.ledger_id, duties.c.examined_at)  # R10
Index("ix_duties_injury", duties.c.ledger_id, duties.c.injury_at)  # R11
Index("ix_duties_died", duties.c.ledger_id, duties.c.died_at)  # R12

orders = Table(
    "orders", metadata, ledger_key(),
    Column("order_id", String(64), primary_key=True),
    Column("person_id", String(64), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("court", String(200), nullable=False),
    Column("court_state", String(8), nullable=False),
    Column("reference", String(200), nullable=False),
    Column("issued_at", UtcInstant, nullable=False),
    Column("deadline", UtcInstant, nullable=True),
    Column("place", String(200), nullable=True),
    Column("status", String(10), nullable=False),  # active, executed, lifted
    Column("closed_at", UtcInstant, nullable=True),
)  # fmt: skip
Index("ix_orders_person", orders.c.ledger_id, orders.c.person_id, orders.c.status)

cases = Table(
    "cases", metadata, ledger_key(),
    Column("case_id", String(64), primary_key=True),
    Column("court", String(200), nullable=False),
    Column("reference", String(200), nullable=False),
    Column("group_case", Boolean, nullable=False),
    Column("charges", Text, nullable=False),
)  # fmt: skip

defendants = Table(
    "defendants", metadata, ledger_key(),
    Column("case_id", String(64), primary_key=True),
    Column("person_id", String(64), primary_key=True),
    Column("counsel", String(200), nullable=True),
    Column("hearings", Integer, nullable=False),  # individual hearing records (R28)
    Column("verdict", String(20), nullable=True),
)  # fmt: skip
Index("ix_defendants_person", defendants.c.ledger_id, defendants.c.person_id)

sentences = Table(
    "sentences", metadata, ledger_key(),
    Column("sentence_id", String(64), primary_key=True),
    Column("person_id", String(64), nullable=False),
    Column("case_id", String(64), nullable=False),
    Column("sentenced_on", Date, nullable=False),
    Column("aggregate", String(100), nullable=False),
    Column("enforceable", String(100), nullable=False),
    Column("release_on", Date, nullable=False),
    Column("release_at", UtcInstant, nullable=False),
    Column("explanation", Text, nullable=False),  # JSON list of steps
    Column("warnings", Text, nullable=False),  # JSON list
    Column("recorded_seq", BigInteger, nullable=False),
)  # fmt: skip
Index("ix_sentences_person", sentences.c.ledger_id, sentences.c.person_id)

# Indexes the sweep needs on the register's episodes (0004; declared here, next to the checks' other
# indexes, because the safeguards are what read them): whether an episode is held, where, and untried or
# not, without reading its row (R5 joins its candidates to this); and each cell's legal statuses (R21).
Index(
    "ix_episodes_held",
    episodes.c.ledger_id, episodes.c.episode_id, episodes.c.status, episodes.c.facility_id, episodes.c.legal_status,
)  # fmt: skip
Index(
    "ix_episodes_cell_status",
    episodes.c.ledger_id, episodes.c.cell_id, episodes.c.legal_status, episodes.c.status,
    sqlite_where=episodes.c.placement_override.is_(None),
    postgresql_where=episodes.c.placement_override.is_(None),
)  # fmt: skip

HELD_VALUES = tuple(sorted(s.value for s in HELD))

# The sweep's reconcile reads every open alert of the swept rules (0004): from this index alone, not
# the alerts' rows, whose messages are most of the table.
Index("ix_alerts_sweep", alerts.c.ledger_id, alerts.c.resolved_at, alerts.c.rule, alerts.c.subject, alerts.c.alert_id)

# "No instrument in force at all" in duties.basis_until: before any instant a sweep checks.
NO_BASIS = datetime(1900, 1, 1, tzinfo=UTC)


def held_in(ledger_id: Any, episode_id: Any) -> Any:
    """SQL for duties.held_in of an episode: its facility while it is held, else NULL."""
    return (
        select(case((episodes.c.status.in_(HELD_VALUES), episodes.c.facility_id), else_=null()))
        .where(episodes.c.ledger_id == ledger_id, episodes.c.episode_id == episode_id)
        .scalar_subquery()
    )


def basis_summary(ledger_id: Any, episode_id: Any) -> tuple[Any, Any]:
    """SQL for duties.basis_until and duties.basis_issued of an episode, from its instruments not ended (R6).

    The latest expiry (NULL if one has none; NO_BASIS if there is none) and the latest issue.  One SQL
    expression each, so the projection (per episode) and the migration (every row) compute the same.
    """
    i = instruments.alias("i")
    mine = and_(i.c.ledger_id == ledger_id, i.c.episode_id == episode_id, i.c.ended_at.is_(None))
    until = case(
        (~exists().where(mine), literal(NO_BASIS, UtcInstant())),
        (exists().where(mine, i.c.expires_at.is_(None)), null()),
        else_=select(func.max(i.c.expires_at)).where(mine).scalar_subquery(),
    )
    issued = select(func.max(i.c.issued_at)).where(mine).scalar_subquery()
    return until, issued


LAW_TABLES = (instruments, duties, orders, cases, defendants, sentences)
