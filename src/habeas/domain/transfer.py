"""Transfers between states: agreements, eligibility, foreign orders recorded before arrival (F15, F16).

standards.md §5: a state pays another to hold the people it sends; flights of hundreds;
a court in the sending state ordered the planes back; a man protected from removal was
sent anyway; each state told courts the other held jurisdiction.  So:

* every agreement names a **custodian of record** (never empty, R25) and the legal
  instrument on each side; every transferee keeps both states' legal bases;
* every person on a flight is checked against the agreement's eligibility rules
  (each refusal names the rule) and against court orders recorded for them, including
  orders of the sending state's courts recorded *before* the person is in the register:
  such an order is recorded against the person's sending-state identifier (an identity
  document, matched by :func:`habeas.domain.identity.document_key`) or against the whole
  flight, and matched at intake (R26: the person is refused and a critical alert names
  the order);
* what happens to the rest of a flight when someone on it is covered by an order is a
  setting of the agreement (``order_policy``).  Default ``refuse_person``: the people the
  order concerns are refused, the others are admitted (the issue's "refuses the
  admission of that person"); ``refuse_flight`` refuses everyone on the flight.  An
  order recorded against the flight itself concerns everyone on it under either policy.

Pure: no I/O, no clock; times come in as arguments.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PlainSerializer, StringConstraints

from habeas.domain.custody import LegalStatus
from habeas.domain.identity import IdentityDocument, document_key
from habeas.domain.types import Code, Day, DecimalText, Identifier, Instant, Name, Payload, Seq, Sha256Hex, Text
from habeas.errors import Problem

Alpha3 = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]  # ISO 3166-1 alpha-3
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]  # ISO 4217
Month = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
NonBlank = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


def _no_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError("give a decimal string such as '54.79', not a float")
    return value


# Money on an invoice line may be negative (an adjustment gives back days billed before).
SignedMoney = Annotated[
    Decimal,
    BeforeValidator(_no_float),
    Field(strict=False, max_digits=24, decimal_places=8),
    PlainSerializer(lambda d: format(d, "f"), return_type=str),
]

OrderPolicy = Literal["refuse_person", "refuse_flight"]
# Orders that forbid admitting the person (R26).  "no_removal": a protection order against
# removal to a country (standards §5, the man protected since 2019).  A produce order does not.
BLOCKING_KINDS = ("release", "no_transfer", "return", "facilitate_return", "no_removal")
ForeignOrderKind = Literal["release", "no_transfer", "return", "facilitate_return", "no_removal"]
ExitKind = Literal["return_to_sending_state", "repatriation", "third_state", "release_to_third_state"]
Claim = Literal["holds", "disclaims"]


# --- agreements ------------------------------------------------------------------------------------


class Instrument(Payload):
    """The legal instrument on one side of an agreement (a treaty, a memorandum, a decree, a proclamation)."""

    reference: Name
    title: Name
    issued_by: Name
    issued_at: Instant
    article: Name | None = None
    document_sha256: Sha256Hex | None = None


class Eligibility(Payload):
    """Who may be sent under the agreement; each rule is checked per person at intake and named when it refuses."""

    excluded_nationalities: Seq[Alpha3] = ()  # citizens of these states are never accepted
    min_age_at_admission: int | None = Field(default=18, ge=0, le=30)  # MR 11(d): no minors; None: no age rule
    max_held: int | None = Field(default=None, ge=1)  # at most this many held under the agreement at once


class FeeTerms(Payload):
    """F16: a rate per person-day, or a lump sum for a period (prorated over a partial one); exact decimals."""

    kind: Literal["per_person_day", "lump_sum"]
    currency: Currency
    rate: DecimalText | None = None
    amount: DecimalText | None = None
    period_start: Day | None = None
    period_end: Day | None = None


class CountingTerms(Payload):
    """Which days are person-days: counted on the calendar of ``time_zone``.

    Default (documented in the README): the day of admission counts, the day of departure does
    not, so a night is billed once and a transfer between two places is never billed twice.
    """

    time_zone: Name = "America/El_Salvador"
    admission_day_counts: bool = True
    departure_day_counts: bool = False


class Duties(Payload):
    """BoP 16, MR 68, VCCR 36: who is told, and within how many hours."""

    notify_sending_state_hours: int = Field(default=24, ge=0, le=720)
    notify_family_hours: int = Field(default=24, ge=0, le=720)
    consular_access: bool = True


class AgreementConcluded(Payload):
    agreement_id: Code
    name: Name
    sending_state: Alpha3
    receiving_state: Alpha3
    sending_instrument: Instrument
    receiving_instrument: Instrument
    effective_from: Instant
    effective_to: Instant | None = None  # None: open-ended (a renewal cannot extend it further)
    facility_id: Code  # where its transferees are held
    custodian_of_record: NonBlank  # never empty (standards §5, R25)
    custodian_state: Alpha3  # whose authority the custodian of record is
    legal_status: LegalStatus = "immigration"
    eligibility: Eligibility = Eligibility()
    fee: FeeTerms
    counting: CountingTerms = CountingTerms()
    duties: Duties = Duties()
    order_policy: OrderPolicy = "refuse_person"


class AgreementRenewed(Payload):
    agreement_id: Code
    effective_to: Instant  # the new end
    instrument_reference: Name  # what renews it
    note: Text | None = None


class JurisdictionClaimed(Payload):
    """What a state told a court or a UN body about who holds jurisdiction (standards §5)."""

    agreement_id: Code
    state: Alpha3
    claim: Claim
    about_person: Identifier | None = None  # None: every transferee of the agreement
    source: Text  # the filing, letter or statement


class DocumentRef(Payload):
    kind: Literal["national_id", "passport", "foreign_registration", "birth_certificate", "other"]
    number: Name
    issuer: Name


class ForeignOrderRecorded(Payload):
    """A court order recorded before the person is in the register (the flight is in the air).

    It names the person by the sending state's identifiers (documents) or the whole flight;
    intake matches it (R26).  Once the person is in the register, orders go through ``order.issued``.
    """

    order_id: Identifier
    kind: ForeignOrderKind
    court: Name
    court_state: Alpha3
    reference: Name
    issued_at: Instant
    documents: Seq[DocumentRef] = ()
    flight: Code | None = None  # the flight it concerns (every person on it)
    agreement_id: Code | None = None
    country: Alpha3 | None = None  # no_removal: removal to this country is forbidden (None: to any)
    deadline: Instant | None = None
    place: Name | None = None
    document_sha256: Sha256Hex | None = None


class ForeignOrderClosed(Payload):
    order_id: Identifier
    status: Literal["lifted"]
    authority: Name
    reason: Text


class SendingBasis(Payload):
    """The sending state's legal basis for this person's removal (e.g. which statute)."""

    reference: Name
    issued_by: Name
    article: Name | None = None


class TransfereeAdmitted(Payload):
    """Links an admission to its agreement: both states' legal bases and the custodian of record."""

    agreement_id: Code
    flight: Code
    person_id: Identifier
    episode_id: Identifier
    sending_state: Alpha3
    sending_identifier: DocumentRef
    sending_basis: SendingBasis
    receiving_instrument_id: Identifier  # the custody.admitted legal basis (kind transfer_instrument)
    custodian_of_record: NonBlank


class AdmissionRefused(Payload):
    """Someone on a flight who was not admitted: still someone's responsibility until handed back."""

    refusal_id: Identifier
    agreement_id: Code
    flight: Code
    line: int
    given_names: Name
    family_names: Name
    sending_identifier: DocumentRef | None = None
    rule: Code  # "R26", "eligibility.no_minors", ...
    reason: Text
    order_ids: Seq[Identifier] = ()


class HandedBack(Payload):
    refusal_id: Identifier
    handed_over_to: Name
    authority: Name


class HandoverRecorded(Payload):
    """ICPPED 17(3)(h): how a transferee left: to whom, which state, under what authority."""

    agreement_id: Code
    person_id: Identifier
    episode_id: Identifier
    kind: ExitKind
    destination_state: Alpha3
    authority: Name
    handed_over_to: Name
    escort: Name | None = None


class InvoiceLinePayload(Payload):
    kind: Literal["person_days", "lump_sum", "adjustment"]
    person_id: Identifier | None = None
    month: Month
    days: int
    unit_price: SignedMoney
    amount: SignedMoney
    note: Annotated[str, StringConstraints(max_length=4000)] = ""
    billed_days: Seq[Day] = ()


class InvoiceIssued(Payload):
    """F16: a month's invoice under an agreement, amounts as decimal text (the ledger refuses floats)."""

    invoice_id: Identifier
    agreement_id: Code
    month: Month
    currency: Currency
    lines: Seq[InvoiceLinePayload]
    total: SignedMoney


CATALOGUE: dict[str, type[Payload]] = {
    "transfer.agreement_concluded": AgreementConcluded,
    "transfer.agreement_renewed": AgreementRenewed,
    "transfer.jurisdiction_claimed": JurisdictionClaimed,
    "transfer.order_recorded": ForeignOrderRecorded,
    "transfer.order_closed": ForeignOrderClosed,
    "transfer.transferee_admitted": TransfereeAdmitted,
    "transfer.admission_refused": AdmissionRefused,
    "transfer.handed_back": HandedBack,
    "transfer.handover_recorded": HandoverRecorded,
    "invoice.issued": InvoiceIssued,
}


def agreement_rules(a: AgreementConcluded) -> list[Problem]:
    """Cross-field rules of an agreement no single field states."""
    out: list[Problem] = []
    if a.sending_state == a.receiving_state:
        out.append(Problem("receiving_state", "must differ from sending_state"))
    if a.effective_to is not None and a.effective_to <= a.effective_from:
        out.append(Problem("effective_to", "must be after effective_from"))
    if a.custodian_state not in (a.sending_state, a.receiving_state):
        out.append(Problem("custodian_state", "R25: the custodian of record is an authority of one of the two parties"))
    fee = a.fee
    if fee.kind == "per_person_day":
        if fee.rate is None:
            out.append(Problem("fee.rate", "a per-person-day fee needs its rate"))
        if fee.amount is not None:
            out.append(Problem("fee.amount", "a per-person-day fee has a rate, not an amount"))
    else:
        if fee.amount is None:
            out.append(Problem("fee.amount", "a lump-sum fee needs its amount"))
        if fee.period_start is None or fee.period_end is None:
            out.append(Problem("fee.period_start", "a lump-sum fee covers a period: give period_start and period_end"))
        elif fee.period_end < fee.period_start:
            out.append(Problem("fee.period_end", "is before period_start"))
    for i, code in enumerate(a.eligibility.excluded_nationalities):
        if code == a.sending_state:
            out.append(Problem(f"eligibility.excluded_nationalities[{i}]", "excludes the sending state's own citizens"))
    return out


# --- eligibility and orders at intake ----------------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    """What intake needs of an agreement as it stands now (renewals applied)."""

    agreement_id: str
    sending_state: str
    receiving_state: str
    effective_from: datetime
    effective_to: datetime | None
    eligibility: Eligibility
    order_policy: OrderPolicy


@dataclass(frozen=True)
class Candidate:
    """One person on a flight, as intake sees them."""

    line: int
    nationalities: tuple[str, ...]
    birth_date: date | None
    admitted_at: datetime
    doc_keys: tuple[str, ...]  # document keys (KIND:ISSUER:NUMBER)
    doc_issuers: tuple[str, ...]


@dataclass(frozen=True)
class PendingOrder:
    order_id: str
    kind: str
    court: str
    court_state: str
    reference: str
    doc_keys: tuple[str, ...] = ()
    flight: str | None = None
    agreement_id: str | None = None
    country: str | None = None
    person_id: str | None = None  # a register order (``order.issued``) of a person already known


@dataclass(frozen=True)
class Decision:
    """Per line: the eligibility problems (fixable only by changing the manifest or the agreement) and the
    orders that forbid the admission."""

    ineligible: dict[int, list[Problem]] = field(default_factory=dict)
    orders: dict[int, list[PendingOrder]] = field(default_factory=dict)
    refused_by_policy: frozenset[int] = frozenset()  # refuse_flight: lines refused because of another's order

    @property
    def refused_lines(self) -> set[int]:
        return set(self.orders) | set(self.refused_by_policy)


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def check_eligibility(terms: Terms, candidates: Sequence[Candidate], held_now: int) -> dict[int, list[Problem]]:
    """Each person against the agreement's rules; every refusal names its rule."""
    out: dict[int, list[Problem]] = {}
    rules = terms.eligibility
    places = None if rules.max_held is None else rules.max_held - held_now
    for c in candidates:
        problems: list[Problem] = []
        if c.admitted_at < terms.effective_from or (
            terms.effective_to is not None and c.admitted_at >= terms.effective_to
        ):
            problems.append(
                Problem("admitted_at", f"agreement.in_force: agreement {terms.agreement_id} is not in force then")
            )
        if terms.sending_state not in c.doc_issuers:
            problems.append(
                Problem(
                    "sending_state_id",
                    f"eligibility.sending_state_id: no identifier issued by {terms.sending_state} (F15)",
                )
            )
        excluded = sorted(set(c.nationalities) & set(rules.excluded_nationalities))
        if excluded:
            problems.append(
                Problem(
                    "nationalities",
                    f"eligibility.excluded_nationalities: citizens of {', '.join(excluded)} are excluded "
                    f"by agreement {terms.agreement_id}",
                )
            )
        if rules.min_age_at_admission is not None:
            if c.birth_date is None:
                problems.append(
                    Problem(
                        "birth_date",
                        f"eligibility.no_minors: birth date unknown, age {rules.min_age_at_admission} "
                        "at admission cannot be verified (MR 11(d))",
                    )
                )
            elif age_on(c.birth_date, c.admitted_at.date()) < rules.min_age_at_admission:
                problems.append(
                    Problem(
                        "birth_date",
                        f"eligibility.no_minors: aged {age_on(c.birth_date, c.admitted_at.date())} at admission, "
                        f"under {rules.min_age_at_admission} (MR 11(d))",
                    )
                )
        if not problems and places is not None:
            if places <= 0:
                problems.append(
                    Problem(
                        "row",
                        f"eligibility.max_held: agreement {terms.agreement_id} allows at most {rules.max_held} "
                        f"held at once ({held_now} held before this flight)",
                    )
                )
            else:
                places -= 1
        if problems:
            out[c.line] = problems
    return out


def match_orders(
    terms: Terms, flight: str, candidates: Sequence[Candidate], orders: Iterable[PendingOrder]
) -> dict[int, list[PendingOrder]]:
    """R26: the orders that forbid admitting each person (by identifier, by person, or for the whole flight)."""
    by_key: dict[str, list[PendingOrder]] = {}
    whole_flight: list[PendingOrder] = []
    for order in orders:
        if order.kind not in BLOCKING_KINDS:
            continue
        if order.kind == "no_removal" and order.country not in (None, terms.receiving_state):
            continue  # protected from removal to somewhere else
        if order.flight is not None and order.flight == flight and order.agreement_id in (None, terms.agreement_id):
            whole_flight.append(order)
        for key in order.doc_keys:
            by_key.setdefault(key, []).append(order)
    out: dict[int, list[PendingOrder]] = {}
    for c in candidates:
        found = {o.order_id: o for o in whole_flight}
        for key in c.doc_keys:
            found.update((o.order_id, o) for o in by_key.get(key, ()))
        if found:
            out[c.line] = sorted(found.values(), key=lambda o: o.order_id)
    return out


def decide(
    terms: Terms, flight: str, candidates: Sequence[Candidate], orders: Iterable[PendingOrder], held_now: int
) -> Decision:
    matched = match_orders(terms, flight, candidates, orders)
    eligible_candidates = [c for c in candidates if c.line not in matched]
    ineligible = check_eligibility(terms, eligible_candidates, held_now)
    by_policy: frozenset[int] = frozenset()
    if matched and terms.order_policy == "refuse_flight":
        by_policy = frozenset(c.line for c in candidates if c.line not in matched)
    return Decision(ineligible, matched, by_policy)


def order_text(o: PendingOrder) -> str:
    return f"{o.kind.replace('_', '-')} order {o.reference} of {o.court} ({o.court_state}), order id {o.order_id}"


# --- the flight manifest -----------------------------------------------------------------------------

SENDING_COLUMNS = ("sending_state_id", "sending_basis")


@dataclass(frozen=True)
class FlightManifest:
    text: str  # the register's manifest format (see habeas.domain.manifest)
    sending_basis: dict[int, str]  # line -> the sending state's basis for that person, when given
    problems: tuple[tuple[int, str, str], ...]  # (line, column, rule)


def prepare_manifest(text: str, sending_state: str) -> FlightManifest:
    """A flight manifest: the register's manifest columns plus ``sending_state_id`` (the sending state's
    identifier for the person, recorded as a ``foreign_registration`` document issued by it) and
    ``sending_basis`` (the sending state's legal basis for this person's removal).

    Returns the text in the register's manifest format with the same line numbers (one record per line;
    a value holding a line break is refused here, since it would shift the numbering).
    """
    text = text.removeprefix("\ufeff")
    lines = text.splitlines()
    records = list(csv.reader(io.StringIO(text)))
    if len(records) != len(lines):
        return FlightManifest("", {}, ((1, "row", "a value holds a line break: one person per line"),))
    if not records:
        return FlightManifest(text, {}, ())
    header = [h.strip().lower() for h in records[0]]
    if not any(n in header for n in SENDING_COLUMNS):
        return FlightManifest(text, {}, ())
    idx = {n: header.index(n) for n in SENDING_COLUMNS if n in header}
    keep = [i for i, n in enumerate(header) if n not in SENDING_COLUMNS]
    doc_cols = ("document_kind", "document_number", "document_issuer")
    has_docs = all(n in header for n in doc_cols)
    out_header = [header[i] for i in keep] + ([] if has_docs else list(doc_cols))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(out_header)
    basis: dict[int, str] = {}
    problems: list[tuple[int, str, str]] = []
    for line, values in enumerate(records[1:], start=2):
        values = values + [""] * (len(header) - len(values))
        row = [values[i] for i in keep]
        sid = values[idx["sending_state_id"]].strip() if "sending_state_id" in idx else ""
        if "sending_basis" in idx and values[idx["sending_basis"]].strip():
            basis[line] = values[idx["sending_basis"]].strip()
        docs = ["", "", ""]
        if has_docs:
            docs = [values[header.index(n)].strip() for n in doc_cols]
        if sid:
            if any(docs):
                problems.append((line, "sending_state_id", "give sending_state_id or the document_* columns, not both"))
            docs = ["foreign_registration", sid, sending_state]
        if has_docs:
            positions = [out_header.index(n) for n in doc_cols]
            for p, v in zip(positions, docs, strict=True):
                row[p] = v
        else:
            row.extend(docs)
        writer.writerow(row)
    return FlightManifest(out.getvalue(), basis, tuple(problems))


def candidate_keys(documents: Iterable[Mapping[str, str]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    keys, issuers = [], []
    for d in documents:
        try:
            keys.append(document_key(IdentityDocument(d.get("kind", ""), d.get("number", ""), d.get("issuer", ""))))
        except ValueError:
            continue
        issuers.append("".join(d.get("issuer", "").split()).upper())
    return tuple(keys), tuple(issuers)


_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$")  # habeas.domain.types.Code


_WITHIN = re.compile(r"\b(unit|cell)s? ([A-Za-z0-9][A-Za-z0-9_.:/-]*)")


def facility_level(text: str) -> str:
    """A message as the sending state may read it: units and cells withheld (location at facility level only)."""
    return _WITHIN.sub(lambda m: f"{m.group(1)} (withheld)", text)


def is_code(text: str) -> bool:
    return bool(_CODE.match(text))


def doc_key_of(d: DocumentRef) -> str:
    return document_key(IdentityDocument(d.kind, d.number, d.issuer))
