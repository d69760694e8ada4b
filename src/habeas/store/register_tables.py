"""The register's read models: current state, kept in step with the ledger in the same transaction.

These are caches (architecture invariant 1): ``habeas rebuild`` drops their rows and
folds the ledger again, and a test checks the result is identical.  Unlike the
ledger they are updated in place.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
)

from habeas.store.tables import ledger_key, metadata
from habeas.store.types import UtcInstant

facilities = Table(
    "facilities", metadata, ledger_key(),
    Column("facility_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("responsible_authority", String(200), nullable=False),
    Column("declared_capacity", Integer, nullable=False),
    Column("jurisdiction", String(64), nullable=False),
    Column("place", String(200), nullable=False),
    Column("country", String(8), nullable=True),
)  # fmt: skip

units = Table(
    "units", metadata, ledger_key(),
    Column("unit_id", String(64), primary_key=True),
    Column("facility_id", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("declared_capacity", Integer, nullable=True),
)  # fmt: skip

cells = Table(
    "cells", metadata, ledger_key(),
    Column("cell_id", String(64), primary_key=True),
    Column("facility_id", String(64), nullable=False),
    Column("unit_id", String(64), nullable=False),
    Column("beds", Integer, nullable=False),
    Column("floor_area_m2", Numeric(14, 4), nullable=False),
    Column("single", Boolean, nullable=False),
    Column("toilets", Integer, nullable=False),
    Column("in_service", Boolean, nullable=False),
    Column("occupants", Integer, nullable=False),
)  # fmt: skip
Index("ix_cells_unit", cells.c.ledger_id, cells.c.unit_id)

people = Table(
    "people", metadata, ledger_key(),
    Column("person_id", String(64), primary_key=True),
    Column("given_names", String(200), nullable=False),
    Column("family_names", String(200), nullable=False),
    Column("name_key", String(400), nullable=False),  # accent-free, lower-case: for search
    Column("aliases", Text, nullable=False),  # JSON list
    Column("birth_date", Date, nullable=True),
    Column("sex", String(1), nullable=False),
    Column("gender_identity", String(200), nullable=True),
    Column("nationalities", Text, nullable=False),  # JSON list
    Column("group_affiliation", String(200), nullable=True),
    Column("group_substantiated", Boolean, nullable=True),
    Column("risk_level", String(10), nullable=True),
    Column("registered_seq", BigInteger, nullable=False),
)  # fmt: skip
Index("ix_people_birth", people.c.ledger_id, people.c.birth_date)
Index("ix_people_name", people.c.ledger_id, people.c.name_key)
# H1's candidates: the few people whose group label rests on no document.
Index("ix_people_unsubstantiated", people.c.ledger_id, people.c.group_substantiated)

person_documents = Table(
    "person_documents", metadata, ledger_key(),
    Column("doc_key", String(300), primary_key=True),  # KIND:ISSUER:NUMBER, normalized
    Column("person_id", String(64), nullable=False),
)  # fmt: skip
# A person's documents, read with every record and every locator answer (without it, a scan per lookup).
Index("ix_person_documents_person", person_documents.c.ledger_id, person_documents.c.person_id)

episodes = Table(
    "episodes", metadata, ledger_key(),
    Column("episode_id", String(64), primary_key=True),
    Column("person_id", String(64), nullable=False),
    Column("facility_id", String(64), nullable=False),
    Column("booking_number", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("legal_status", String(20), nullable=False),
    Column("cell_id", String(64), nullable=True),
    Column("unit_id", String(64), nullable=True),
    Column("place", String(200), nullable=True),  # where, when outside a cell of this facility
    Column("placement_override", Text, nullable=True),  # why an officer housed them against a rule (R21)
    Column("expected_by", UtcInstant, nullable=True),  # return or arrival deadline (R13)
    Column("since", UtcInstant, nullable=False),
    Column("last_event_at", UtcInstant, nullable=False),
    Column("admitted_at", UtcInstant, nullable=False),
    Column("arrested_at", UtcInstant, nullable=False),
    Column("detaining_authority", String(200), nullable=False),
    Column("ordering_authority", String(200), nullable=False),
    Column("custodian_of_record", String(200), nullable=False),
    Column("legal_basis", Text, nullable=False),  # JSON of the admitting instrument
    Column("closed_at", UtcInstant, nullable=True),
    Column("admitted_seq", BigInteger, nullable=False),
)  # fmt: skip
Index("ix_episodes_person", episodes.c.ledger_id, episodes.c.person_id)
# text_pattern_ops: the next booking number counts ``LIKE 'PREFIX-2026-%'`` through this index on
# PostgreSQL whatever the database's collation (a plain index serves LIKE only under "C").
Index(
    "ix_episodes_booking", episodes.c.ledger_id, episodes.c.booking_number, unique=True,
    postgresql_ops={"booking_number": "text_pattern_ops"},
)  # fmt: skip
Index("ix_episodes_status", episodes.c.ledger_id, episodes.c.facility_id, episodes.c.status)
Index("ix_episodes_admitted", episodes.c.ledger_id, episodes.c.facility_id, episodes.c.admitted_at)

# Where each person was, as intervals of valid time [valid_from, valid_to): the answer to
# "where was X at T" and "who was in cell C at T".  ``recorded_seq`` says when we learned it.
stays = Table(
    "stays", metadata, ledger_key(),
    Column("person_id", String(64), primary_key=True),
    Column("valid_from", UtcInstant, primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("episode_id", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("facility_id", String(64), nullable=False),
    Column("unit_id", String(64), nullable=True),
    Column("cell_id", String(64), nullable=True),
    Column("place", String(200), nullable=True),
    Column("expected_by", UtcInstant, nullable=True),
    Column("valid_to", UtcInstant, nullable=True),
)  # fmt: skip
Index("ix_stays_cell", stays.c.ledger_id, stays.c.cell_id, stays.c.valid_from)

# Blocking keys for the duplicate check (domain.identity.blocking_keys): intake looks up
# its probe keys here instead of comparing against every person ever registered.
person_keys = Table(
    "person_keys", metadata, ledger_key(),
    Column("key", String(300), primary_key=True),
    Column("person_id", String(64), primary_key=True),
)  # fmt: skip

# Which events concern which person: the person's timeline, and what a correction replays.
person_events = Table(
    "person_events", metadata, ledger_key(),
    Column("person_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
)  # fmt: skip

# Stock by facility and status, kept as counters so a headcount never scans people.
population = Table(
    "population", metadata, ledger_key(),
    Column("facility_id", String(64), primary_key=True),
    Column("status", String(20), primary_key=True),
    Column("count", BigInteger, nullable=False),
)  # fmt: skip

roll_calls = Table(
    "roll_calls", metadata, ledger_key(),
    Column("count_id", String(64), primary_key=True),
    Column("facility_id", String(64), nullable=False),
    Column("unit_id", String(64), nullable=False),
    Column("counted_at", UtcInstant, nullable=False),
    Column("counted_by", String(200), nullable=False),
    Column("expected", Integer, nullable=False),
    Column("present", Integer, nullable=False),
    Column("missing", Text, nullable=False),
    Column("extra", Text, nullable=False),
)  # fmt: skip

alerts = Table(
    "alerts", metadata, ledger_key(),
    Column("alert_id", String(64), primary_key=True),
    Column("rule", String(16), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("refs", Text, nullable=False),
    Column("raised_at", UtcInstant, nullable=False),
    Column("raised_seq", BigInteger, nullable=False),
    Column("resolved_at", UtcInstant, nullable=True),
    Column("resolution", Text, nullable=True),
)  # fmt: skip
Index("ix_alerts_open", alerts.c.ledger_id, alerts.c.resolved_at, alerts.c.severity)
Index("ix_alerts_subject", alerts.c.ledger_id, alerts.c.subject)

# Each alert's references (its refs JSON list), one row per id named, so that "the alerts naming this person"
# is an index lookup, not a scan of every alert's refs: the safeguards after a command (an R26 alert's
# subject is the order, its refs name the person) and the scoped alert lists of courts and liaisons (0009).
alert_refs = Table(
    "alert_refs", metadata, ledger_key(),
    Column("ref", String(200), primary_key=True),
    Column("alert_id", String(64), primary_key=True),
)  # fmt: skip

# Each acknowledgement of an alert (who, when, what they are doing about it), so an alert's page reads its own
# rows instead of every acknowledgement in the ledger (0011).
alert_acknowledgements = Table(
    "alert_acknowledgements", metadata, ledger_key(),
    Column("alert_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),  # the acknowledgement's event
    Column("actor", String(200), nullable=False),
    Column("acknowledged_at", UtcInstant, nullable=False),
    Column("note", Text, nullable=False),
)  # fmt: skip

PROJECTION_TABLES = (facilities, units, cells, people, person_documents, person_keys, episodes, stays, person_events,
                     population, roll_calls, alerts, alert_refs, alert_acknowledgements)  # fmt: skip
