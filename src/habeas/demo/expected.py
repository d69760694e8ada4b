"""What the reports say went wrong, and the safeguard rule that must find each in the demo.

The one place this mapping lives: the scenario (``habeas.demo.scenario``) records the facts
without raising any alert itself, the safeguards (per command and the sweep) raise them, and
``tests/demo`` checks each expectation below against the alerts in the demo's ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Subject = Literal["person", "cell", "order", "refusal"]


@dataclass(frozen=True)
class Expectation:
    finding: str  # as the reports put it (standards.md §3–5)
    rule: str  # the catalogue's rule id (habeas.safeguards.catalogue)
    subject: Subject  # what the alert is about
    says: str  # words of the alert's message that tell this finding from others under the same rule
    open_at_end: bool  # still open after the final sweep (else raised, then resolved by later events)


EXPECTED: tuple[Expectation, ...] = (
    # Detention past legal limits (Cn. 13, Cn. 29 and the decrees, CPP 8).
    Expectation(
        "administrative detention beyond the decree's maximum, no judge", "R3", "person", "with no judicial order", True
    ),
    Expectation("before a judge, no decision within 72 hours (Cn. 13(3))", "R4", "person", "no decision", True),
    Expectation(
        "provisional detention beyond CPP 8 with no extension reaching it",
        "R5",
        "person",
        "in provisional detention",
        True,
    ),
    Expectation("held after the last legal basis expired", "R6", "person", "no legal basis in force", True),
    # Space per person far below 3.4 m² (about 1.3–1.7 m² at 60–75 people in 100 m²).
    Expectation("cell below the ICRC's 3.4 m² per person", "R16", "cell", "below the ICRC's 3.4 m²", True),
    Expectation("cell below 3 m² per person (presumed degrading)", "R18", "cell", "presumed degrading", True),
    # Deaths in custody without an independent report.
    Expectation("death without independent report, cause or notice", "R12", "person", "independent report", True),
    # The return order ignored: not executed by its deadline.  Flying the people to Venezuela in July 2025
    # did not carry it out (it ordered a return to the United States), so the alert stays open.
    Expectation("return order not executed by its deadline", "R26", "order", "return order", True),
    # The man protected from removal here: refused at the gate, the alert open until handed back.
    Expectation("admission contrary to a no-removal order", "R26", "refusal", "no-removal order", False),
    # Release orders a judge gave and nobody carried out.
    Expectation("release order not executed by its deadline", "R26", "order", "release order", True),
    # Families not told (transferees' families learned from videos).
    Expectation("family not notified within 24 hours of admission", "R8", "person", "family not notified", True),
    # People labelled gang members without evidence: the label is kept, recorded as unsubstantiated, and
    # habeas's own rule H1 (beyond standards.md's R1–R31) keeps an alert open while they are held under it.
    Expectation("gang label recorded without evidence", "H1", "person", "no documented evidence", True),
)
