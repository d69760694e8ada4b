"""Read models for the law: instruments, orders, cases, sentences, and the duty clocks of each episode."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, Index, Integer, String, Table, Text

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
)  # fmt: skip
Index("ix_instruments_episode", instruments.c.ledger_id, instruments.c.episode_id)

# The clocks the safeguards read, one row per episode: when each duty was done (NULL: not yet).
duties = Table(
    "duties", metadata, ledger_key(),
    Column("episode_id", String(64), primary_key=True),
    Column("person_id", String(64), nullable=False),
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
)  # fmt: skip
Index("ix_duties_person", duties.c.ledger_id, duties.c.person_id)

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

LAW_TABLES = (instruments, duties, orders, cases, defendants, sentences)
