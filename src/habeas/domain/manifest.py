"""Mass intake: a manifest of people to admit, as a CSV file, checked row by row before anything is committed.

A flight manifest of hundreds or a night of thousands arrives as one CSV file.
:func:`parse_manifest` reads the whole file and checks every row against the
form rules of an admission (MR 7, ICPPED 17(3), BoP 12).  Every problem of every
row comes back as a :class:`RowError` naming the line, the column and the rule,
so the people who wrote the file can fix it; the valid rows come back as
:class:`~habeas.domain.admission.Admission` requests.  Committing is not done
here: ``habeas import`` commits only when every row is valid, or, with
``--accept-valid``, commits the valid rows and writes
:meth:`ParsedManifest.rejected_csv` for correction.

Pure domain code: no I/O, no clock (``now`` is an argument), no random
identifiers.  Parsing the same text with the same arguments gives the same result.

The file
--------

UTF-8 text (a leading byte-order mark is ignored), comma-separated, quoted as
RFC 4180 (a value holding a comma, a quote or a line break is put in double
quotes).  Line 1 (the first non-empty line) is the header; column names are
matched ignoring case and surrounding spaces, in any order.  A column that is
not listed below is refused, except ``errors``, which
:meth:`ParsedManifest.rejected_csv` adds and which is ignored on reading, so a
correction file can be imported again as it is.  Empty lines, and lines whose
values are all empty, are skipped.  One line is one person; values are trimmed.

``defaults`` fills every column that is missing from the file or empty in a row,
so the values a whole flight shares (detaining authority, legal basis,
admission time) need not be repeated.  A value in the file wins over a default.

=======================  ========  ========================================================
column                   required  form
=======================  ========  ========================================================
given_names              yes       at most 200 characters
family_names             yes       at most 200 characters
aliases                            ``;``-separated names
birth_date                         ``YYYY-MM-DD``, not in the future
birth_date_estimated               ``yes``/``no`` (also ``true``/``false``, ``1``/``0``)
sex                      yes       ``F``, ``M`` or ``X``
gender_identity                    MR 7(a): self-perceived gender, as stated
nationalities                      ``;``-separated ISO 3166 alpha-3 codes (``VEN;COL``)
document_kind                      national_id, passport, foreign_registration,
                                   birth_certificate, other
document_number                    the three document columns go together: all or none
document_issuer                    ISO 3166 alpha-3 code or the issuing authority
legal_status             yes       untried, convicted, civil, immigration
basis_kind               yes       arrest_record, judicial_order, provisional_detention_order,
                                   sentence, transfer_instrument
basis_reference          yes       the instrument's number
basis_issued_by          yes       the authority that issued it
basis_issued_at          yes       UTC time: ``2025-03-15T22:04:00Z`` (or ``+00:00``)
basis_article                      the law it applies, e.g. ``CPP art. 329``
basis_expires_at                   UTC time, after admitted_at
detaining_authority      yes       ICPPED 17(3)(b)
ordering_authority       yes       ICPPED 17(3)(c)
custodian_of_record                standards §5; empty: the facility's responsible authority
arrested_at              yes       UTC time, not in the future, not after admitted_at
arrest_place             yes       ICPPED 17(3)(b)
admitted_at              yes       UTC time, not in the future
injuries                           ``;``-separated ``body part: description``
ill_treatment_complaint            MR 7(d), at most 4000 characters
property                           ``;``-separated items, optionally counted: ``2x shirt``
contact_name                       MR 7(f): a contact (name and relationship) or
contact_relationship               a no_contact_reason is required
contact_phone
no_contact_reason                  why no contact is recorded, at most 4000 characters
=======================  ========  ========================================================

Every time must be UTC and say so (``Z`` or ``+00:00``): a naive time or
another offset is refused, never converted, because a register entry's time
must be unambiguous.  Free-text values are at most 200 characters (4000 for
ill_treatment_complaint and no_contact_reason).

Rules across columns (the pure part of the register's admission rules, see
``habeas.domain.admission.admission_rules``): arrested_at and admitted_at
not in the future; arrested_at not after admitted_at; the legal basis issued no
later than the admission and not expired by then (R2); a contact or a
no_contact_reason (MR 7(f)).  Within one manifest the same identity document on
two lines is refused on the later line ("same document as line 4"): one person
cannot be admitted twice.  Whether someone is already in the register is not a
question of form: the register asks it when the rows are committed.

Each row's legal basis gets an ``instrument_id`` derived with uuid5 from the
facility, the line number and the row's values (basis_reference among them), so
parsing stays pure and repeatable.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from habeas.domain.admission import Admission
from habeas.domain.custody import CustodyAdmitted, LegalBasis
from habeas.domain.identity import IdentityDocument, document_key
from habeas.domain.person import Document, PersonRegistered
from habeas.errors import InvalidInput, Problem
from habeas.ledger.timefmt import TimeError, require_utc

MANIFEST_COLUMNS: tuple[str, ...] = (
    "given_names",
    "family_names",
    "aliases",
    "birth_date",
    "birth_date_estimated",
    "sex",
    "gender_identity",
    "nationalities",
    "document_kind",
    "document_number",
    "document_issuer",
    "legal_status",
    "basis_kind",
    "basis_reference",
    "basis_issued_by",
    "basis_issued_at",
    "basis_article",
    "basis_expires_at",
    "detaining_authority",
    "ordering_authority",
    "custodian_of_record",
    "arrested_at",
    "arrest_place",
    "admitted_at",
    "injuries",
    "ill_treatment_complaint",
    "property",
    "contact_name",
    "contact_relationship",
    "contact_phone",
    "no_contact_reason",
)

REQUIRED_COLUMNS: frozenset[str] = frozenset(
    {
        "given_names",
        "family_names",
        "sex",
        "legal_status",
        "basis_kind",
        "basis_reference",
        "basis_issued_by",
        "basis_issued_at",
        "detaining_authority",
        "ordering_authority",
        "arrested_at",
        "arrest_place",
        "admitted_at",
    }
)

ERRORS_COLUMN = "errors"  # written by rejected_csv, ignored when read

DOCUMENT_COLUMNS = ("document_kind", "document_number", "document_issuer")
CONTACT_COLUMNS = ("contact_name", "contact_relationship", "contact_phone")

NAME_MAX = 200
TEXT_MAX = 4000
LIST_SEPARATOR = ";"

LEGAL_STATUSES: tuple[str, ...] = ("untried", "convicted", "civil", "immigration")
BASIS_KINDS: tuple[str, ...] = get_args(LegalBasis.model_fields["kind"].annotation)
DOCUMENT_KINDS: tuple[str, ...] = get_args(Document.model_fields["kind"].annotation)

TIME_EXAMPLE = "2025-03-15T22:04:00Z"
RULE_REQUIRED = "is required"
RULE_FUTURE = "is in the future"
RULE_NO_CONTACT = "MR 7(f): give a contact (contact_name and contact_relationship) or no_contact_reason"

_SHARED_WITH_EVENT = tuple(name for name in CustodyAdmitted.model_fields if name in Admission.model_fields)
_ORDER = {name: i for i, name in enumerate(MANIFEST_COLUMNS)}
_INSTRUMENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:habeas:manifest:legal-basis")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_ALPHA3 = re.compile(r"^[A-Z]{3}$")
_COUNTED = re.compile(r"^(\d+)\s*[x×]\s+(\S.*)$", re.IGNORECASE)
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$")  # habeas.domain.types.Code
_ROWS_PREFIX = re.compile(r"^rows\[\d+\]\.")
_TRUE = frozenset({"yes", "y", "true", "1", "si", "sí"})
_FALSE = frozenset({"no", "n", "false", "0"})


@dataclass(frozen=True)
class RowError:
    """One problem in the file: the line it is on, the column, and the rule it breaks."""

    line: int
    field: str
    rule: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.rule}"


@dataclass(frozen=True)
class ManifestRow:
    """A valid row: its line in the file, the admission it asks for, and its values (defaults filled in)."""

    line: int
    admission: Admission
    raw: dict[str, str]


@dataclass(frozen=True)
class ParsedManifest:
    rows: tuple[ManifestRow, ...]  # the valid rows, in file order
    errors: tuple[RowError, ...]  # every problem of every invalid row (and of the header), in file order
    rejected: tuple[dict[str, str], ...]  # the invalid rows' values (defaults filled in) plus an "errors" column
    columns: tuple[str, ...] = ()  # the columns of the correction file, "errors" last

    @property
    def ok(self) -> bool:
        """True when nothing is wrong: every row may be committed."""
        return not self.errors

    def rejected_csv(self) -> str:
        """The correction file: the header, then each rejected row with its problems in an ``errors`` column.

        Fix the values and import it again (with the same defaults, or none: the defaults a row used are
        written into it); the ``errors`` column is ignored on reading.
        """
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self.columns or (*MANIFEST_COLUMNS, ERRORS_COLUMN), lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rejected)
        return out.getvalue()


# ------------------------------------------------------------------------- parsing


def parse_manifest(
    text: str, *, facility_id: str, now: datetime, defaults: Mapping[str, str] | None = None
) -> ParsedManifest:
    """Read a manifest and check every row; see the module docstring for the columns and rules.

    Problems with the file go into the result.  Problems with the arguments (an unknown or malformed default,
    a malformed facility_id, a naive ``now``) raise :class:`~habeas.errors.InvalidInput`: they are the
    caller's, not the file's, and would otherwise repeat on every row.
    """
    now = _check_now(now)
    if not _CODE.match(facility_id):
        raise InvalidInput.one("facility_id", "must be a facility code (letters, digits, _ . : / -)")
    fills = _check_defaults(defaults or {})

    try:
        return _parse(list(_records(text.removeprefix("\ufeff"))), facility_id, now, fills)
    except _Unreadable as exc:
        # Misquoting shifts every value after it: refuse the whole file, so no row is half read or lost.
        return ParsedManifest((), (RowError(exc.line, "row", exc.rule),), ())


def _parse(
    records: list[tuple[int, list[str]]], facility_id: str, now: datetime, fills: dict[str, str]
) -> ParsedManifest:
    records = [(line, values) for line, values in records if any(v.strip() for v in values)]
    if not records:
        return ParsedManifest((), (RowError(1, "header", "the manifest is empty: line 1 must be the header"),), ())
    header_line, header = records[0]
    names = [h.strip().lower() for h in header]
    header_errors = _check_header(header_line, names, fills)
    file_columns = [n for n in names if n != ERRORS_COLUMN]
    columns = (*file_columns, *(c for c in MANIFEST_COLUMNS if c in fills and c not in names), ERRORS_COLUMN)
    if header_errors:
        return ParsedManifest((), tuple(header_errors), (), columns)

    rows: list[ManifestRow] = []
    errors: list[RowError] = []
    rejected: list[dict[str, str]] = []
    seen_documents: dict[str, int] = {}
    for line, values in records[1:]:
        cells = {name: value.strip() for name, value in zip(names, values, strict=False) if name != ERRORS_COLUMN}
        for name in file_columns:
            cells.setdefault(name, "")
        for name, value in fills.items():
            if not cells.get(name):
                cells[name] = value
        raw = {name: cells[name] for name in columns[:-1]}
        if len(values) != len(names):
            problems = [("row", _width_rule(values, names))]
            admission = None
        else:
            admission, problems = _check_row(line, cells, facility_id, now, seen_documents)
        if admission is not None:
            rows.append(ManifestRow(line, admission, raw))
            continue
        row_errors = [RowError(line, f, r) for f, r in _first_per_field(problems)]
        errors.extend(row_errors)
        rejected.append({**raw, ERRORS_COLUMN: "; ".join(f"{e.field}: {e.rule}" for e in row_errors)})
    return ParsedManifest(tuple(rows), tuple(errors), tuple(rejected), columns)


def column_for(path: str | tuple[str | int, ...]) -> str:
    """The manifest column behind a request path: ``"legal_basis.issued_at"`` -> ``"basis_issued_at"``.

    Accepts pydantic error locations and the field names of the register's refusals, with or without their
    ``rows[i].`` prefix, so a refusal at commit time can be reported against the manifest's line and column.
    Paths with no single column (``"identity"``, ``"facility_id"``) come back unchanged.
    """
    if isinstance(path, str):
        path = tuple(_ROWS_PREFIX.sub("", path).split("."))
    parts = [str(p) for p in path if not isinstance(p, int) and not str(p).isdigit()]
    if not parts:
        return "row"
    head, rest = parts[0], parts[1:]
    if head == "identity" and rest:  # Admission.identity.x; PersonRegistered's paths have no prefix
        head, rest = rest[0], rest[1:]
    sub = rest[0] if rest else ""
    if head == "documents":
        return {"kind": "document_kind", "issuer": "document_issuer"}.get(sub, "document_number")
    if head == "legal_basis":
        return f"basis_{sub}" if f"basis_{sub}" in _ORDER else "basis_reference"
    if head == "family_contacts":
        return f"contact_{sub}" if f"contact_{sub}" in _ORDER else "contact_name"
    if head == "injuries_observed":
        return "injuries"
    return head if head in _ORDER else ".".join(str(p) for p in path)


# ------------------------------------------------------------------------- one row


def _check_row(
    line: int, cells: dict[str, str], facility_id: str, now: datetime, seen_documents: dict[str, int]
) -> tuple[Admission | None, list[tuple[str, str]]]:
    problems: list[tuple[str, str]] = []
    values: dict[str, Any] = {}
    for name, text in cells.items():
        if text:
            try:
                values[name] = _CONVERT[name](text)
            except _Bad as bad:
                problems.append((name, bad.rule))
    present = {name for name, text in cells.items() if text}
    problems.extend((name, RULE_REQUIRED) for name in sorted(REQUIRED_COLUMNS - present, key=_ORDER.__getitem__))
    problems.extend(_group_rules(present))
    problems.extend(_time_rules(values, now))
    if not present & set(CONTACT_COLUMNS) and "no_contact_reason" not in present:
        problems.append(("contact_name", RULE_NO_CONTACT))
    if all(name in values for name in DOCUMENT_COLUMNS):
        try:
            key = document_key(IdentityDocument(*(values[n] for n in DOCUMENT_COLUMNS)))
        except ValueError:
            problems.append(("document_number", "must contain letters or digits"))
        else:
            if key in seen_documents:
                problems.append(("document_number", f"same document as line {seen_documents[key]}"))
            else:
                seen_documents[key] = line
    if problems:
        return None, problems
    request = _request(line, cells, values, facility_id)
    try:
        admission = Admission.model_validate(request)
    except ValidationError as exc:
        return None, _validation_problems(exc)
    problems = _register_payload_problems(admission)
    return (None, problems) if problems else (admission, [])


def _group_rules(present: set[str]) -> Iterator[tuple[str, str]]:
    documents = present & set(DOCUMENT_COLUMNS)
    if documents and len(documents) < len(DOCUMENT_COLUMNS):
        for name in DOCUMENT_COLUMNS:
            if name not in documents:
                yield name, "is required when another document_* column is given"
    if "contact_name" in present and "contact_relationship" not in present:
        yield "contact_relationship", "is required when contact_name is given"
    if "contact_name" not in present and present & {"contact_relationship", "contact_phone"}:
        yield "contact_name", "is required when contact_relationship or contact_phone is given"
    if "birth_date_estimated" in present and "birth_date" not in present:
        yield "birth_date_estimated", "is given but birth_date is empty"


def _time_rules(values: Mapping[str, Any], now: datetime) -> Iterator[tuple[str, str]]:
    """The time rules of ``admission.admission_rules``, on column values, plus a birth date in the future."""
    arrested, admitted = values.get("arrested_at"), values.get("admitted_at")
    for name, value in (("arrested_at", arrested), ("admitted_at", admitted)):
        if value is not None and value > now:
            yield name, RULE_FUTURE
    if arrested is not None and admitted is not None and arrested <= now and admitted <= now and arrested > admitted:
        yield "arrested_at", "is after admitted_at"
    if admitted is not None:
        expires, issued = values.get("basis_expires_at"), values.get("basis_issued_at")
        if expires is not None and expires <= admitted:
            yield "basis_expires_at", "R2: the legal basis has expired before admission"
        if issued is not None and issued > admitted:
            yield "basis_issued_at", "R2: the legal basis was issued after the admission"
    born = values.get("birth_date")
    if born is not None and born > now.date():
        yield "birth_date", RULE_FUTURE


def _request(line: int, cells: Mapping[str, str], values: Mapping[str, Any], facility_id: str) -> dict[str, Any]:
    def given(*names: str) -> dict[str, Any]:
        return {name: values[name] for name in names if name in values}

    identity = given("given_names", "family_names", "aliases", "birth_date", "birth_date_estimated", "sex")
    identity |= given("gender_identity", "nationalities")
    if "document_kind" in values:
        identity["documents"] = (
            {"kind": values["document_kind"], "number": values["document_number"], "issuer": values["document_issuer"]},
        )
    basis = {key.removeprefix("basis_"): value for key, value in values.items() if key.startswith("basis_")}
    basis["instrument_id"] = _instrument_id(facility_id, line, cells)
    request = given(
        "legal_status",
        "detaining_authority",
        "ordering_authority",
        "custodian_of_record",
        "arrested_at",
        "arrest_place",
        "admitted_at",
        "ill_treatment_complaint",
        "property",
        "no_contact_reason",
    )
    request |= {"facility_id": facility_id, "identity": identity, "legal_basis": basis}
    if "injuries" in values:
        request["injuries_observed"] = values["injuries"]
    if "contact_name" in values:
        contact = {key.removeprefix("contact_"): value for key, value in values.items() if key in CONTACT_COLUMNS}
        request["family_contacts"] = (contact,)
    return request


def _instrument_id(facility_id: str, line: int, cells: Mapping[str, str]) -> str:
    """Deterministic: the same row on the same line of the same facility's manifest gets the same id."""
    key = "\x1f".join([facility_id, str(line), *(f"{name}={cells.get(name, '')}" for name in MANIFEST_COLUMNS)])
    return str(uuid.uuid5(_INSTRUMENT_NAMESPACE, key))


def _register_payload_problems(admission: Admission) -> list[tuple[str, str]]:
    """Check the row against the event payloads the register will write, so a valid row cannot fail at commit."""
    assert admission.identity is not None
    checks: list[tuple[type[BaseModel], dict[str, Any]]] = [
        (PersonRegistered, {"person_id": "manifest-check", **admission.identity.model_dump()}),
        (
            CustodyAdmitted,
            {
                **{name: getattr(admission, name) for name in _SHARED_WITH_EVENT},
                "episode_id": "manifest-check",
                "person_id": "manifest-check",
                "booking_number": "manifest-check",
                "custodian_of_record": admission.custodian_of_record or "manifest-check",
            },
        ),
    ]
    problems: list[tuple[str, str]] = []
    for model, data in checks:
        try:
            model.model_validate(data)
        except ValidationError as exc:
            problems.extend(_validation_problems(exc))
    return problems


def _validation_problems(exc: ValidationError) -> list[tuple[str, str]]:
    out = []
    for error in exc.errors():
        loc = error["loc"]
        items = [i for i in loc if isinstance(i, int)]
        message = str(error["msg"])
        message = message[:1].lower() + message[1:]
        prefix = f"item {items[0] + 1}: " if items else ""
        out.append((column_for(loc), prefix + message))
    return out


def _first_per_field(problems: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """One problem per column (the most specific comes first), in column order."""
    first: dict[str, str] = {}
    for name, rule in problems:
        first.setdefault(name, rule)
    return sorted(first.items(), key=lambda item: _ORDER.get(item[0], -1))


# ------------------------------------------------------------------------- the file


class _Unreadable(Exception):
    def __init__(self, line: int, rule: str) -> None:
        super().__init__(rule)
        self.line = line
        self.rule = rule


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(the line a record starts on, its values), skipping empty lines; strict about quoting."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    previous = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _Unreadable(previous + 1, f"is not valid CSV ({exc}); check the quotes") from None
        line, previous = previous + 1, reader.line_num
        if values:
            yield line, values


def _check_header(line: int, names: list[str], fills: Mapping[str, str]) -> list[RowError]:
    if len(names) == 1 and LIST_SEPARATOR in names[0]:
        return [RowError(line, "header", "must be comma-separated; this header looks semicolon-separated")]
    errors = []
    seen: set[str] = set()
    for i, name in enumerate(names, start=1):
        if not name:
            errors.append(RowError(line, f"column {i}", "has no name"))
        elif name in seen:
            errors.append(RowError(line, name, "appears twice in the header"))
        elif name not in _ORDER and name != ERRORS_COLUMN:
            close = difflib.get_close_matches(name, MANIFEST_COLUMNS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            errors.append(RowError(line, name, f"is not a manifest column{hint}"))
        seen.add(name)
    for name in MANIFEST_COLUMNS:
        if name in REQUIRED_COLUMNS and name not in seen and name not in fills:
            errors.append(RowError(line, name, "is a required column: add it to the header, or give a default"))
    return errors


def _width_rule(values: list[str], names: list[str]) -> str:
    rule = f"has {len(values)} values but the header has {len(names)} columns"
    if len(values) > len(names):
        extra = ", ".join(f'"{v}"' for v in values[len(names) :])
        return f"{rule} (an unquoted comma?); extra values: {extra}"
    return rule


def _check_now(now: datetime) -> datetime:
    try:
        return require_utc(now, "now")
    except TimeError as exc:
        raise InvalidInput.one(exc.field, exc.rule) from None


def _check_defaults(defaults: Mapping[str, str]) -> dict[str, str]:
    problems: list[Problem] = []
    fills: dict[str, str] = {}
    for name, value in defaults.items():
        key = name.strip().lower()
        if key not in _ORDER:
            problems.append(Problem(f"defaults.{name}", "is not a manifest column"))
        elif value.strip():
            try:
                _CONVERT[key](value.strip())
            except _Bad as bad:
                problems.append(Problem(f"defaults.{name}", bad.rule))
            fills[key] = value.strip()
    if problems:
        raise InvalidInput(problems)
    return fills


# ------------------------------------------------------------------------- one value


class _Bad(ValueError):
    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


def _name(text: str) -> str:
    if len(text) > NAME_MAX:
        raise _Bad(f"must be at most {NAME_MAX} characters")
    return text


def _text(text: str) -> str:
    if len(text) > TEXT_MAX:
        raise _Bad(f"must be at most {TEXT_MAX} characters")
    return text


def _one_of(options: tuple[str, ...]) -> Callable[[str], str]:
    def convert(text: str) -> str:
        if text.lower() not in options:
            raise _Bad(f"must be one of {', '.join(options)}")
        return text.lower()

    return convert


def _sex(text: str) -> str:
    if text.upper() not in ("F", "M", "X"):
        raise _Bad("must be F, M or X")
    return text.upper()


def _date(text: str) -> date:
    try:
        if _DATE.match(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise _Bad("must be YYYY-MM-DD")


def _yes_no(text: str) -> bool:
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise _Bad("must be yes or no")


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text) if _INSTANT.match(text) else None
    except ValueError:
        value = None
    if value is None:
        raise _Bad(f"must be a UTC time such as {TIME_EXAMPLE}")
    offset = value.utcoffset()
    if offset is None:
        raise _Bad(f"must carry a time zone: end it with Z for UTC, e.g. {TIME_EXAMPLE}")
    if offset != timedelta(0):
        shown = value.strftime("%z")
        raise _Bad(f"must be in UTC (Z or +00:00), not {shown[:3]}:{shown[3:5]}: convert it to UTC")
    return require_utc(value, "time")


def _items(text: str) -> list[str]:
    return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]


def _names(text: str) -> tuple[str, ...]:
    out = []
    for i, item in enumerate(_items(text), start=1):
        if len(item) > NAME_MAX:
            raise _Bad(f"item {i} must be at most {NAME_MAX} characters")
        out.append(item)
    return tuple(out)


def _nationalities(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for i, item in enumerate(_items(text), start=1):
        if not _ALPHA3.match(item.upper()):
            raise _Bad(f'item {i} "{item}" must be an ISO 3166 alpha-3 code such as VEN')
        if item.upper() not in out:
            out.append(item.upper())
    return tuple(out)


def _injuries(text: str) -> tuple[dict[str, str], ...]:
    out = []
    for i, item in enumerate(_items(text), start=1):
        part, _, description = (s.strip() for s in item.partition(":"))
        if not part or not description:
            raise _Bad(f'item {i} "{item}" must be "body part: description"')
        if len(part) > NAME_MAX or len(description) > TEXT_MAX:
            raise _Bad(f"item {i} is too long (body part {NAME_MAX}, description {TEXT_MAX} characters)")
        out.append({"body_part": part, "description": description})
    return tuple(out)


def _property(text: str) -> tuple[dict[str, Any], ...]:
    out: list[dict[str, Any]] = []
    for i, item in enumerate(_items(text), start=1):
        counted = _COUNTED.match(item)
        quantity, description = (int(counted[1]), counted[2].strip()) if counted else (1, item)
        if quantity < 1:
            raise _Bad(f'item {i} "{item}": the quantity must be at least 1')
        if len(description) > NAME_MAX:
            raise _Bad(f"item {i} must be at most {NAME_MAX} characters")
        out.append({"description": description, "quantity": quantity})
    return tuple(out)


_CONVERT: dict[str, Callable[[str], Any]] = {
    **{name: _name for name in MANIFEST_COLUMNS},
    "aliases": _names,
    "birth_date": _date,
    "birth_date_estimated": _yes_no,
    "sex": _sex,
    "nationalities": _nationalities,
    "document_kind": _one_of(DOCUMENT_KINDS),
    "legal_status": _one_of(LEGAL_STATUSES),
    "basis_kind": _one_of(BASIS_KINDS),
    "basis_issued_at": _instant,
    "basis_expires_at": _instant,
    "arrested_at": _instant,
    "admitted_at": _instant,
    "injuries": _injuries,
    "ill_treatment_complaint": _text,
    "property": _property,
    "no_contact_reason": _text,
}
