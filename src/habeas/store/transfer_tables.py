"""Read models for transfers between states: agreements, transferees, foreign orders, refusals,
invoices, and the sending state's outbox (F15, F16; standards.md §5)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from habeas.store.tables import ledger_key, metadata
from habeas.store.types import UtcInstant

agreements = Table(
    "transfer_agreements", metadata, ledger_key(),
    Column("agreement_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("sending_state", String(3), nullable=False),
    Column("receiving_state", String(3), nullable=False),
    Column("facility_id", String(64), nullable=False),
    Column("custodian_of_record", String(200), nullable=False),
    Column("custodian_state", String(3), nullable=False),
    Column("effective_from", UtcInstant, nullable=False),
    Column("effective_to", UtcInstant, nullable=True),
    Column("order_policy", String(20), nullable=False),
    Column("terms", Text, nullable=False),  # JSON: the agreement as concluded
    Column("renewals", Text, nullable=False),  # JSON list of renewals
    Column("concluded_seq", BigInteger, nullable=False),
)  # fmt: skip
Index("ix_transfer_agreements_state", agreements.c.ledger_id, agreements.c.sending_state)

# One row per custody episode admitted under an agreement: both states' legal bases (standards §5).
transferees = Table(
    "transferees", metadata, ledger_key(),
    Column("episode_id", String(64), primary_key=True),
    Column("person_id", String(64), nullable=False),
    Column("agreement_id", String(64), nullable=False),
    Column("sending_state", String(3), nullable=False),
    Column("flight", String(64), nullable=False),
    Column("sending_doc_key", String(300), nullable=False),
    Column("sending_basis", Text, nullable=False),  # JSON
    Column("receiving_instrument_id", String(64), nullable=False),
    Column("custodian_of_record", String(200), nullable=False),
    Column("exit_kind", String(40), nullable=True),
    Column("exit_state", String(3), nullable=True),
    Column("admitted_seq", BigInteger, nullable=False),
)  # fmt: skip
Index("ix_transferees_person", transferees.c.ledger_id, transferees.c.person_id)
Index("ix_transferees_agreement", transferees.c.ledger_id, transferees.c.agreement_id)

# What each state said about jurisdiction (R25), per agreement and optionally per person ("" = all).
claims = Table(
    "transfer_claims", metadata, ledger_key(),
    Column("agreement_id", String(64), primary_key=True),
    Column("state", String(3), primary_key=True),
    Column("person_id", String(64), primary_key=True),
    Column("claim", String(10), nullable=False),
    Column("source", Text, nullable=False),
    Column("claimed_at", UtcInstant, nullable=False),
)  # fmt: skip

# Orders recorded before the person is in the register, matched at intake by identifier or flight.
foreign_orders = Table(
    "foreign_orders", metadata, ledger_key(),
    Column("order_id", String(64), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("court", String(200), nullable=False),
    Column("court_state", String(3), nullable=False),
    Column("reference", String(200), nullable=False),
    Column("issued_at", UtcInstant, nullable=False),
    Column("flight", String(64), nullable=True),
    Column("agreement_id", String(64), nullable=True),
    Column("country", String(3), nullable=True),
    Column("deadline", UtcInstant, nullable=True),
    Column("status", String(10), nullable=False),  # active, lifted
)  # fmt: skip
Index("ix_foreign_orders_flight", foreign_orders.c.ledger_id, foreign_orders.c.flight)

foreign_order_documents = Table(
    "foreign_order_documents", metadata, ledger_key(),
    Column("doc_key", String(300), primary_key=True),
    Column("order_id", String(64), primary_key=True),
)  # fmt: skip

refusals = Table(
    "transfer_refusals", metadata, ledger_key(),
    Column("refusal_id", String(64), primary_key=True),
    Column("agreement_id", String(64), nullable=False),
    Column("sending_state", String(3), nullable=False),
    Column("flight", String(64), nullable=False),
    Column("line", Integer, nullable=False),
    Column("name", String(400), nullable=False),
    Column("sending_doc_key", String(300), nullable=True),
    Column("rule", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("order_ids", Text, nullable=False),  # JSON list
    Column("refused_at", UtcInstant, nullable=False),
    Column("handed_back_at", UtcInstant, nullable=True),
    Column("handed_over_to", String(200), nullable=True),
)  # fmt: skip
Index("ix_transfer_refusals_agreement", refusals.c.ledger_id, refusals.c.agreement_id)

invoices = Table(
    "invoices", metadata, ledger_key(),
    Column("invoice_id", String(64), primary_key=True),
    Column("agreement_id", String(64), nullable=False),
    Column("month", String(7), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total", String(40), nullable=False),  # exact decimal text
    Column("lines", Text, nullable=False),  # JSON, as issued
    Column("issued_at", UtcInstant, nullable=False),
    Column("seq", BigInteger, nullable=False),
)  # fmt: skip
Index("ix_invoices_agreement", invoices.c.ledger_id, invoices.c.agreement_id, invoices.c.month)

# The sending state's feed: every event that concerns its agreements or its people, in ledger order.
# ``summary`` is what the liaison may see: never a cell or unit (facility level only).
outbox = Table(
    "transfer_outbox", metadata, ledger_key(),
    Column("state", String(3), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("type", String(80), nullable=False),
    Column("person_id", String(64), nullable=True),
    Column("agreement_id", String(64), nullable=True),
    Column("occurred_at", UtcInstant, nullable=False),
    Column("summary", Text, nullable=False),  # JSON
)  # fmt: skip

TRANSFER_TABLES = (agreements, transferees, claims, foreign_orders, foreign_order_documents, refusals, invoices, outbox)

# Delivery of the outbox to a sending state's webhook: operational state, not a projection (it is not
# derived from the ledger, so ``habeas rebuild`` leaves it alone).  At-least-once: the receiver
# de-duplicates by ``seq``.
webhook_cursors = Table(
    "transfer_webhook_cursors", metadata, ledger_key(),
    Column("state", String(3), primary_key=True),
    Column("url", String(500), primary_key=True),
    Column("delivered_seq", BigInteger, nullable=False),  # the last entry the receiver acknowledged
    Column("attempts", Integer, nullable=False),  # failed attempts since the last success
    Column("last_error", Text, nullable=True),
    Column("last_attempt_at", UtcInstant, nullable=True),
)  # fmt: skip

OPERATIONAL_TABLES = (webhook_cursors,)
