"""The one catalogue of safeguard rules: standards.md §6's R1–R31, then habeas's own (H1).

Each rule names the standard it implements, its severity, and how it acts:
``refuse`` (a command that would break it is refused), ``alert`` (a breach raises an
alert that stays open until an event resolves it), or both.  ``checked`` says where
the check lives, so a reader can find it; rules whose data arrives with later issues
say so instead of pretending.

Rules beyond the standards' table take ids ``H1``, ``H2``, …, so that an R id always means the
row of standards.md with that number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["critical", "high", "medium", "info"]
Mode = Literal["refuse", "alert", "refuse+alert"]
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "info": 3}


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    standard: str
    severity: Severity
    mode: Mode
    checked: str  # "sweep", "roll call", "admission", "command", "verify", or "not yet: <why>"


RULES: tuple[Rule, ...] = (
    Rule(
        "R1",
        "person present at a count but not in the register",
        "MR 7; ICPPED 17(1); APT register checklist",
        "critical",
        "alert",
        "roll call",
    ),
    Rule(
        "R2",
        "admission without a valid commitment order or legal basis",
        "MR 7(1); ICPPED 17(2)(c); F1",
        "critical",
        "refuse",
        "admission",
    ),
    Rule(
        "R3",
        "administrative detention beyond its limit without a judicial order",
        "Cn. 13(2); Cn. 29; BoP 11",
        "critical",
        "alert",
        "sweep",
    ),
    Rule(
        "R4",
        "at a judge's disposal with no judicial decision within the limit",
        "Cn. 13(3)",
        "critical",
        "alert",
        "sweep",
    ),
    Rule(
        "R5",
        "provisional detention beyond its limit without an extension in force",
        "CPP 8; Decree 803",
        "high",
        "alert",
        "sweep",
    ),
    Rule("R6", "held with no legal basis in force", "ICCPR 9(1); ICPPED 17(2); F1", "critical", "alert", "sweep"),
    Rule("R7", "not told the reasons and rights within the window", "BoP 13, 14; Cn. 12(2)", "high", "alert", "sweep"),
    Rule(
        "R8",
        "family not notified within 24 h of admission or transfer",
        "BoP 16(1); MR 68; ICPPED 18",
        "high",
        "alert",
        "sweep",
    ),
    Rule(
        "R9", "foreign national with no consular notification offered", "VCCR 36; BoP 16(2)", "high", "alert", "sweep"
    ),
    Rule("R10", "no medical examination within 24 h of admission", "MR 30; BoP 24", "high", "alert", "sweep"),
    Rule(
        "R11",
        "injury or torture indicator without referral within 24 h",
        "MR 34; Istanbul Protocol",
        "critical",
        "alert",
        "sweep",
    ),
    Rule(
        "R12",
        "death without next-of-kin notice, independent report, cause or destination of remains",
        "MR 71, 72; ICPPED 17(3)(g)",
        "critical",
        "alert",
        "sweep",
    ),
    Rule(
        "R13",
        "unaccounted for at a count, or out or in transit beyond the deadline",
        "ICPPED 17(3); MR 7",
        "critical",
        "alert",
        "sweep and roll call",
    ),
    Rule(
        "R14",
        "transfer without destination, authority, escort or arrival",
        "MR 73; ICPPED 17(3)(h)",
        "high",
        "refuse+alert",
        "command (schema) and sweep (arrival deadline, as R13)",
    ),
    Rule(
        "R15",
        "release without verifier, handover recipient and health check",
        "ICPPED 21; F10",
        "high",
        "refuse",
        "command (schema)",
    ),
    Rule("R16", "cell below 3.4 m² per person shared / 5.4 m² single", "ICRC (2012)", "high", "alert", "sweep"),
    Rule("R17", "cell below 4 m² per person shared / 6 m² single", "CPT/Inf (2015) 44", "medium", "alert", "sweep"),
    Rule("R18", "cell below 3 m² per person", "ECtHR Muršić v. Croatia (2016)", "critical", "alert", "sweep"),
    Rule("R19", "more occupants than beds", "MR 21", "high", "refuse+alert", "command and sweep"),
    Rule(
        "R20",
        "unit above declared capacity, or above standards-based capacity",
        "MR 10; standards.md §2",
        "high",
        "alert",
        "sweep",
    ),
    Rule(
        "R21", "untried held with convicted without recorded justification", "MR 11(b), 112", "medium", "alert", "sweep"
    ),
    Rule(
        "R22",
        "complaint unanswered, torture allegation not forwarded, or complainant sanctioned",
        "MR 56, 57",
        "high",
        "alert",
        "not yet: complaints arrive with a later issue",
    ),
    Rule(
        "R23",
        "register entry back-dated, or chain verification failure",
        "MR 6; APT register checklist",
        "critical",
        "alert",
        "every command (back-dating) and habeas verify (chain)",
    ),
    Rule(
        "R24",
        "relative's or counsel's request unanswered, or restricted without judicial control",
        "ICPPED 18, 20",
        "high",
        "alert",
        "not yet: information requests arrive with the API issue",
    ),
    Rule(
        "R25",
        "transferee with no custodian of record, or contradictory jurisdiction claims",
        "ICPPED 17(3)(d); standards.md §5",
        "critical",
        "refuse+alert",
        "admission (custodian never empty) and transfer import; sweep (claims, ended agreements)",
    ),
    Rule(
        "R26",
        "court order not acted on by its deadline; a command contrary to an active order",
        "ICCPR 9(4); ICPPED 17(2)(f)",
        "critical",
        "refuse+alert",
        "command and sweep",
    ),
    Rule(
        "R27",
        "invoiced person-days differ from register person-days",
        "F16",
        "high",
        "alert",
        "sweep (invoices reconciled with the register's person-days)",
    ),
    Rule(
        "R28",
        "defendant in a group case with no individual hearing record or counsel",
        "ICCPR 14(3)",
        "medium",
        "alert",
        "sweep",
    ),
    Rule(
        "R29",
        "announced aggregate sentence beyond any enforceable term",
        "Penal Code 45; Cn. 27",
        "info",
        "alert",
        "sweep",
    ),
    Rule(
        "R30",
        "oversight request unanswered beyond the deadline",
        "MR 84; OPCAT 20",
        "high",
        "alert",
        "not yet: oversight requests arrive with the API issue",
    ),
    Rule(
        "R31",
        "identifiable images of detainees released publicly",
        "MR 73(1); Geneva III art. 13",
        "high",
        "alert",
        "not yet: media records are not modelled",
    ),
    # habeas's own: the reports' "labelled gang members without evidence" (issue #3 item 4: a classification
    # rests on a document, or it is recorded as unsubstantiated; issue #8 asks the safeguards to say so).
    Rule(
        "H1",
        "person held under a group (gang) label recorded without documented evidence",
        "MR 8 (classification on record, with its grounds); ICCPR 9(1), 14(2); BoP 12",
        "high",
        "alert",
        "sweep",
    ),
)

BY_ID = {rule.id: rule for rule in RULES}


def rule(rule_id: str) -> Rule:
    return BY_ID[rule_id]
