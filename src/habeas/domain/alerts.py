"""Alerts: a safeguard's finding, kept in the ledger until an event resolves it."""

from __future__ import annotations

from typing import Literal

from habeas.domain.types import Code, Identifier, Payload, Seq, Text

Severity = Literal["critical", "high", "medium", "info"]


class AlertRaised(Payload):
    alert_id: Identifier
    rule: Code  # the safeguard's id, e.g. "R13"
    severity: Severity
    subject: Identifier  # a person id, cell id or unit id
    message: Text
    refs: Seq[Identifier] = ()  # the orders, limits or events it rests on


class AlertResolved(Payload):
    alert_id: Identifier
    resolution: Text
