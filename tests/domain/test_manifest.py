"""Tests for habeas.domain.manifest: reading a mass-intake CSV and checking every row before anything is committed.

All names, document numbers, phone numbers and authorities are invented.
"""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, get_args

import pytest

from habeas.domain import manifest
from habeas.domain.admission import Admission, admission_rules
from habeas.domain.custody import Contact, Injury, PropertyItem
from habeas.domain.manifest import (
    ERRORS_COLUMN,
    MANIFEST_COLUMNS,
    REQUIRED_COLUMNS,
    ManifestRow,
    ParsedManifest,
    RowError,
    column_for,
    parse_manifest,
)
from habeas.errors import InvalidInput, Problem

DATA = Path(__file__).parent / "data" / "manifests"
NOW = datetime(2025, 3, 16, 12, 0, tzinfo=UTC)
FACILITY = "cecot"
TIME_RULE = "must be a UTC time such as 2025-03-15T22:04:00Z"
NAIVE_RULE = "must carry a time zone: end it with Z for UTC, e.g. 2025-03-15T22:04:00Z"
REQUIRED_WITH_DOCUMENT = "is required when another document_* column is given"
R2_EXPIRED = "R2: the legal basis has expired before admission"
R2_ISSUED_AFTER = "R2: the legal basis was issued after the admission"
NO_CONTACT = "MR 7(f): give a contact (contact_name and contact_relationship) or no_contact_reason"

# One valid row; each test changes what it is about.
BASE: dict[str, str] = {
    "given_names": "Yorbelis Andreína",
    "family_names": "Marcano Guaregua",
    "birth_date": "1996-10-21",
    "sex": "F",
    "nationalities": "VEN",
    "document_kind": "passport",
    "document_number": "P-SYN-300301",
    "document_issuer": "VEN",
    "legal_status": "immigration",
    "basis_kind": "transfer_instrument",
    "basis_reference": "TI-2025-0315-C",
    "basis_issued_by": "Autoridad de Traslado del Estado Remitente",
    "basis_issued_at": "2025-03-15T18:00:00Z",
    "basis_expires_at": "2026-03-15T00:00:00Z",
    "detaining_authority": "Servicio Migratorio del Estado Remitente",
    "ordering_authority": "Ministerio del Interior del Estado Remitente",
    "arrested_at": "2025-03-12T10:00:00Z",
    "arrest_place": "Centro de Detención Migratoria Este",
    "admitted_at": "2025-03-16T04:15:00Z",
    "contact_name": "Andreína Guaregua (sintética)",
    "contact_relationship": "mother",
    "contact_phone": "+58 000 000 0301",
}


def to_csv(rows: list[dict[str, str]], columns: list[str] | None = None) -> str:
    columns = columns or list(MANIFEST_COLUMNS)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def parse(text: str, defaults: dict[str, str] | None = None, now: datetime = NOW) -> ParsedManifest:
    return parse_manifest(text, facility_id=FACILITY, now=now, defaults=defaults)


def one_row(**changes: str) -> ParsedManifest:
    return parse(to_csv([{**BASE, **changes}]))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# ------------------------------------------------------------------------- a valid file


def test_the_sample_flight_parses_to_admissions_with_the_right_fields() -> None:
    parsed = parse((DATA / "flight-sample.csv").read_text(encoding="utf-8"))

    assert parsed.errors == ()
    assert parsed.ok
    assert parsed.rejected == ()
    assert [r.line for r in parsed.rows] == list(range(2, 12))
    first = parsed.rows[0].admission
    assert isinstance(first, Admission)
    assert first.facility_id == FACILITY
    assert first.identity is not None
    assert first.identity.given_names == "Jhonder Alexis"
    assert first.identity.family_names == "Mavárez Quintero"
    assert first.identity.aliases == ("El Flaco", "Jhon")
    assert first.identity.birth_date == date(1998, 4, 12)
    assert first.identity.birth_date_estimated is False
    assert first.identity.sex == "M"
    assert first.identity.nationalities == ("VEN",)
    assert first.identity.documents == ({"kind": "passport", "number": "P-SYN-100101", "issuer": "VEN"},)
    assert first.legal_status == "immigration"
    basis = first.legal_basis
    assert (basis.kind, basis.reference, basis.article) == (
        "transfer_instrument",
        "TI-2025-0315-A",
        "Acuerdo de custodia, art. 2",
    )
    assert basis.issued_by == "Autoridad de Traslado del Estado Remitente"
    assert basis.issued_at == utc(2025, 3, 15, 18)
    assert basis.expires_at == utc(2026, 3, 15)
    assert first.detaining_authority == "Servicio Migratorio del Estado Remitente"
    assert first.ordering_authority == "Ministerio del Interior del Estado Remitente"
    assert first.custodian_of_record == "Estado Remitente (custodia por acuerdo)"
    assert first.arrested_at == utc(2025, 3, 10, 14, 30)
    assert first.arrest_place == "Centro de Detención Migratoria Norte"
    assert first.admitted_at == utc(2025, 3, 16, 4, 15)
    assert first.injuries_observed == (Injury(body_part="left wrist", description="abrasions from restraints"),)
    assert first.ill_treatment_complaint == "States he was struck during transport"
    assert first.property == (
        PropertyItem(description="shirt", quantity=2),
        PropertyItem(description="wallet", quantity=1),
        PropertyItem(description="rosary", quantity=1),
    )
    assert first.family_contacts == (
        Contact(name="María Quintero (sintética)", relationship="mother", phone="+58 000 000 0001"),
    )
    assert first.no_contact_reason is None

    by_family = {r.admission.identity.family_names: r.admission for r in parsed.rows if r.admission.identity}
    wuilmer = by_family["Castellanos Briceño"]  # estimated birth date, a +00:00 time, no contact
    assert wuilmer.identity is not None
    assert wuilmer.identity.birth_date_estimated is True
    assert wuilmer.identity.documents == ()
    assert wuilmer.arrested_at == utc(2025, 3, 9, 22, 10)
    assert wuilmer.arrested_at.utcoffset() is not None
    assert wuilmer.family_contacts == ()
    assert wuilmer.no_contact_reason == "Declined to name a contact"
    mariangel = by_family["Ferrer Tovar"]  # MR 7(a): self-perceived gender recorded as stated
    assert mariangel.identity is not None
    assert (mariangel.identity.sex, mariangel.identity.gender_identity) == ("X", "non-binary")
    yusmary = by_family["Rondón Ochoa"]
    assert yusmary.identity is not None
    assert yusmary.identity.nationalities == ("VEN", "COL")
    assert yusmary.property == (PropertyItem(description="backpack", quantity=1),)
    darwinson = by_family["Perozo Uzcátegui"]
    assert [i.body_part for i in darwinson.injuries_observed] == ["forehead", "right knee"]
    assert darwinson.family_contacts[0].phone is None


def test_sample_header_is_the_documented_column_list() -> None:
    header = (DATA / "flight-sample.csv").read_text(encoding="utf-8").splitlines()[0]
    assert tuple(header.split(",")) == MANIFEST_COLUMNS
    assert set(MANIFEST_COLUMNS) >= REQUIRED_COLUMNS
    assert len(set(MANIFEST_COLUMNS)) == len(MANIFEST_COLUMNS)
    doc = manifest.__doc__ or ""
    assert all(name in doc for name in MANIFEST_COLUMNS)


def test_the_domain_lists_match_the_request_models() -> None:
    assert set(manifest.LEGAL_STATUSES) == set(get_args(Admission.model_fields["legal_status"].annotation))
    assert manifest.BASIS_KINDS == (
        "arrest_record",
        "judicial_order",
        "provisional_detention_order",
        "sentence",
        "transfer_instrument",
    )
    assert "passport" in manifest.DOCUMENT_KINDS


def test_parsing_is_pure_and_repeatable_with_one_instrument_id_per_row() -> None:
    text = (DATA / "flight-sample.csv").read_text(encoding="utf-8")
    first, second = parse(text), parse(text)
    assert first == second
    ids = [r.admission.legal_basis.instrument_id for r in first.rows]
    assert len(set(ids)) == len(ids)
    # Another facility's manifest, or the same row on another line, is another instrument record.
    other = parse_manifest(text, facility_id="other", now=NOW)
    assert not set(ids) & {r.admission.legal_basis.instrument_id for r in other.rows}
    moved = parse("\n" + text)
    assert [r.line for r in moved.rows] == list(range(3, 13))
    assert not set(ids) & {r.admission.legal_basis.instrument_id for r in moved.rows}


def test_accepted_spellings_are_normalized() -> None:
    parsed = one_row(
        sex="f",
        legal_status="Untried",
        basis_kind="JUDICIAL_ORDER",
        nationalities="ven; col;;VEN",
        property="2 x shirt;3X sock;belt",
        birth_date_estimated="sí",
        arrested_at="2025-03-12 10:00:00.250+00:00",
        admitted_at="2025-03-16T04:15:00-00:00",
        aliases=" La Negra ;",
        custodian_of_record="",
    )
    assert parsed.errors == ()
    (row,) = parsed.rows
    a = row.admission
    assert a.identity is not None
    assert (a.identity.sex, a.legal_status, a.legal_basis.kind) == ("F", "untried", "judicial_order")
    assert a.identity.nationalities == ("VEN", "COL")
    assert a.identity.aliases == ("La Negra",)
    assert a.identity.birth_date_estimated is True
    assert [(p.description, p.quantity) for p in a.property] == [("shirt", 2), ("sock", 3), ("belt", 1)]
    assert a.arrested_at == datetime(2025, 3, 12, 10, 0, 0, 250_000, tzinfo=UTC)
    assert a.admitted_at == utc(2025, 3, 16, 4, 15)
    assert a.custodian_of_record is None  # the register then names the facility's responsible authority


def test_a_file_with_a_bom_crlf_and_quoted_line_breaks_keeps_its_line_numbers() -> None:
    rows = [
        {**BASE, "ill_treatment_complaint": "Struck on the bus.\nAnd again on arrival."},  # lines 2-3
        {**BASE, "document_number": "P-SYN-300302", "sex": "male"},  # line 4
    ]
    text = "\ufeff" + to_csv(rows).replace("\n", "\r\n")
    parsed = parse(text)
    assert [r.line for r in parsed.rows] == [2]
    assert parsed.rows[0].admission.ill_treatment_complaint == "Struck on the bus.\r\nAnd again on arrival."
    assert parsed.errors == (RowError(4, "sex", "must be F, M or X"),)


def test_empty_lines_are_skipped_and_counted() -> None:
    text = to_csv([BASE]).replace("\n", "\n\n,,,\n", 1) + "\n\n"
    lines = text.split("\n")
    assert lines[1] == "" and lines[2].startswith(",,,")
    parsed = parse(text)
    assert parsed.errors == ()
    assert [r.line for r in parsed.rows] == [4]


def test_a_header_alone_is_an_empty_manifest() -> None:
    parsed = parse(",".join(MANIFEST_COLUMNS) + "\n")
    assert parsed == ParsedManifest((), (), (), (*MANIFEST_COLUMNS, ERRORS_COLUMN))
    assert parsed.rejected_csv() == ",".join((*MANIFEST_COLUMNS, ERRORS_COLUMN)) + "\n"


# ------------------------------------------------------------------------- defaults


FLIGHT_DEFAULTS = {
    "legal_status": "immigration",
    "basis_kind": "transfer_instrument",
    "basis_reference": "TI-2025-0315-D",
    "basis_issued_by": "Autoridad de Traslado del Estado Remitente",
    "basis_issued_at": "2025-03-15T18:00:00Z",
    "detaining_authority": "Servicio Migratorio del Estado Remitente",
    "ordering_authority": "Ministerio del Interior del Estado Remitente",
    "arrest_place": "Centro de Detención Migratoria Oeste",
    "arrested_at": "2025-03-14T08:00:00Z",
    "admitted_at": "2025-03-16T04:15:00Z",
    "no_contact_reason": "Not asked at the airstrip; to be asked at intake",
}
SHORT = (
    "given_names,family_names,sex,detaining_authority,admitted_at\n"
    "Yonaiker Jesús,Rangel Quiñónez,M,,\n"
    "Dayana Carolina,Suárez Mijares,F,Policía de Fronteras (sintética),2025-03-16T05:00:00Z\n"
)


def test_defaults_fill_the_columns_a_short_manifest_leaves_out() -> None:
    parsed = parse(SHORT, defaults=FLIGHT_DEFAULTS)
    assert parsed.errors == ()
    first, second = (r.admission for r in parsed.rows)
    # Missing columns and empty cells take the default...
    assert first.legal_basis.reference == "TI-2025-0315-D"
    assert first.legal_basis.issued_at == utc(2025, 3, 15, 18)
    assert first.detaining_authority == "Servicio Migratorio del Estado Remitente"
    assert first.admitted_at == utc(2025, 3, 16, 4, 15)
    assert first.arrest_place == "Centro de Detención Migratoria Oeste"
    assert first.no_contact_reason == "Not asked at the airstrip; to be asked at intake"
    # ...and a value in the file wins.
    assert second.detaining_authority == "Policía de Fronteras (sintética)"
    assert second.admitted_at == utc(2025, 3, 16, 5)
    assert second.legal_basis.reference == "TI-2025-0315-D"
    # raw shows the values the row used: the file's, then the defaults'.
    assert parsed.rows[0].raw["detaining_authority"] == "Servicio Migratorio del Estado Remitente"
    assert parsed.rows[0].raw["basis_reference"] == "TI-2025-0315-D"
    assert list(parsed.rows[0].raw)[:5] == ["given_names", "family_names", "sex", "detaining_authority", "admitted_at"]
    assert parsed.columns[-1] == ERRORS_COLUMN
    assert set(parsed.columns) == {*SHORT.splitlines()[0].split(","), *FLIGHT_DEFAULTS, ERRORS_COLUMN}


def test_without_defaults_a_short_manifest_misses_required_columns() -> None:
    parsed = parse(SHORT)
    rule = "is a required column: add it to the header, or give a default"
    expected = [n for n in MANIFEST_COLUMNS if n in REQUIRED_COLUMNS and n not in SHORT.splitlines()[0].split(",")]
    assert parsed.errors == tuple(RowError(1, name, rule) for name in expected)
    assert parsed.rows == ()


def test_a_default_does_not_hide_an_empty_required_cell_when_there_is_none() -> None:
    defaults = {k: v for k, v in FLIGHT_DEFAULTS.items() if k != "admitted_at"}
    parsed = parse(SHORT, defaults=defaults)
    assert parsed.errors == (RowError(2, "admitted_at", "is required"),)
    assert [r.line for r in parsed.rows] == [3]


@pytest.mark.parametrize(
    ("defaults", "problem"),
    [
        ({"detaining_autority": "x"}, Problem("defaults.detaining_autority", "is not a manifest column")),
        ({"admitted_at": "2025-03-16T04:15:00"}, Problem("defaults.admitted_at", NAIVE_RULE)),
        (
            {"legal_status": "detained"},
            Problem("defaults.legal_status", "must be one of untried, convicted, civil, immigration"),
        ),
    ],
)
def test_a_bad_default_is_the_callers_problem_not_every_rows(defaults: dict[str, str], problem: Problem) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(SHORT, defaults={**FLIGHT_DEFAULTS, **defaults})
    assert caught.value.problems == [problem]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_manifest(SHORT, facility_id=FACILITY, now=datetime(2025, 3, 16, 12))
    assert caught.value.problems[0].field == "now"
    with pytest.raises(InvalidInput) as caught:
        parse_manifest(SHORT, facility_id="no spaces", now=NOW)
    assert caught.value.problems[0].field == "facility_id"


# ------------------------------------------------------------------------- each refusal


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"given_names": ""}, "given_names", "is required"),
        ({"family_names": "   "}, "family_names", "is required"),
        ({"family_names": "x" * 201}, "family_names", "must be at most 200 characters"),
        ({"aliases": "ok;" + "y" * 201}, "aliases", "item 2 must be at most 200 characters"),
        ({"birth_date": "12/04/1998"}, "birth_date", "must be YYYY-MM-DD"),
        ({"birth_date": "1998-13-01"}, "birth_date", "must be YYYY-MM-DD"),
        ({"birth_date": "1998-4-12"}, "birth_date", "must be YYYY-MM-DD"),
        ({"birth_date": "2025-03-17"}, "birth_date", "is in the future"),
        ({"birth_date_estimated": "maybe"}, "birth_date_estimated", "must be yes or no"),
        ({"birth_date": "", "birth_date_estimated": "yes"}, "birth_date_estimated", "is given but birth_date is empty"),
        ({"sex": "H"}, "sex", "must be F, M or X"),
        ({"sex": ""}, "sex", "is required"),
        (
            {"nationalities": "VEN;Venezuela"},
            "nationalities",
            'item 2 "Venezuela" must be an ISO 3166 alpha-3 code such as VEN',
        ),
        ({"nationalities": "VE"}, "nationalities", 'item 1 "VE" must be an ISO 3166 alpha-3 code such as VEN'),
        (
            {"document_kind": "cedula"},
            "document_kind",
            "must be one of national_id, passport, foreign_registration, birth_certificate, other",
        ),
        ({"document_kind": ""}, "document_kind", REQUIRED_WITH_DOCUMENT),
        ({"document_number": ""}, "document_number", REQUIRED_WITH_DOCUMENT),
        ({"document_issuer": ""}, "document_issuer", REQUIRED_WITH_DOCUMENT),
        ({"document_number": "-- .."}, "document_number", "must contain letters or digits"),
        ({"legal_status": "detained"}, "legal_status", "must be one of untried, convicted, civil, immigration"),
        ({"legal_status": ""}, "legal_status", "is required"),
        (
            {"basis_kind": "warrant"},
            "basis_kind",
            "must be one of arrest_record, judicial_order, provisional_detention_order, sentence, transfer_instrument",
        ),
        ({"basis_reference": ""}, "basis_reference", "is required"),
        ({"basis_issued_by": ""}, "basis_issued_by", "is required"),
        ({"basis_issued_at": ""}, "basis_issued_at", "is required"),
        ({"basis_issued_at": "2025-03-15"}, "basis_issued_at", TIME_RULE),
        ({"basis_issued_at": "15/03/2025 18:00"}, "basis_issued_at", TIME_RULE),
        ({"basis_issued_at": "2025-02-30T18:00:00Z"}, "basis_issued_at", TIME_RULE),
        ({"basis_issued_at": "2025-03-15T18:00:00"}, "basis_issued_at", NAIVE_RULE),
        (
            {"basis_issued_at": "2025-03-15T18:00:00+01:00"},
            "basis_issued_at",
            "must be in UTC (Z or +00:00), not +01:00: convert it to UTC",
        ),
        (
            {"arrested_at": "2025-03-12T06:00:00-04:00"},
            "arrested_at",
            "must be in UTC (Z or +00:00), not -04:00: convert it to UTC",
        ),
        ({"basis_issued_at": "2025-03-16T04:16:00Z"}, "basis_issued_at", R2_ISSUED_AFTER),
        ({"basis_expires_at": "2025-03-16T04:15:00Z"}, "basis_expires_at", R2_EXPIRED),
        ({"basis_expires_at": "2025-03-16"}, "basis_expires_at", TIME_RULE),
        ({"detaining_authority": ""}, "detaining_authority", "is required"),
        ({"ordering_authority": ""}, "ordering_authority", "is required"),
        ({"custodian_of_record": "c" * 201}, "custodian_of_record", "must be at most 200 characters"),
        ({"arrested_at": ""}, "arrested_at", "is required"),
        ({"arrested_at": "2025-03-16T04:15:01Z"}, "arrested_at", "is after admitted_at"),
        ({"arrest_place": ""}, "arrest_place", "is required"),
        ({"admitted_at": ""}, "admitted_at", "is required"),
        ({"admitted_at": "2025-03-16T12:00:01Z", "basis_expires_at": ""}, "admitted_at", "is in the future"),
        ({"injuries": "bruise"}, "injuries", 'item 1 "bruise" must be "body part: description"'),
        ({"injuries": "arm: cut;left wrist:"}, "injuries", 'item 2 "left wrist:" must be "body part: description"'),
        ({"injuries": ": cut"}, "injuries", 'item 1 ": cut" must be "body part: description"'),
        ({"ill_treatment_complaint": "t" * 4001}, "ill_treatment_complaint", "must be at most 4000 characters"),
        ({"property": "0x belt"}, "property", 'item 1 "0x belt": the quantity must be at least 1'),
        ({"property": "shirt;" + "p" * 201}, "property", "item 2 must be at most 200 characters"),
        ({"contact_name": ""}, "contact_name", "is required when contact_relationship or contact_phone is given"),
        ({"contact_relationship": ""}, "contact_relationship", "is required when contact_name is given"),
        ({"contact_name": "", "contact_relationship": "", "contact_phone": ""}, "contact_name", NO_CONTACT),
        ({"contact_phone": "9" * 201}, "contact_phone", "must be at most 200 characters"),
        ({"no_contact_reason": "r" * 4001}, "no_contact_reason", "must be at most 4000 characters"),
    ],
)
def test_each_refusal_names_line_field_and_rule(changes: dict[str, str], field: str, rule: str) -> None:
    parsed = one_row(**changes)
    assert parsed.errors == (RowError(2, field, rule),)
    assert parsed.rows == ()
    assert len(parsed.rejected) == 1
    assert parsed.rejected[0][ERRORS_COLUMN] == f"{field}: {rule}"


def test_row_error_reads_as_line_field_rule() -> None:
    assert str(RowError(7, "birth_date", "must be YYYY-MM-DD")) == "line 7, birth_date: must be YYYY-MM-DD"


def test_both_times_in_the_future_are_not_also_out_of_order() -> None:
    parsed = one_row(arrested_at="2025-03-17T10:00:00Z", admitted_at="2025-03-17T09:00:00Z", basis_expires_at="")
    assert parsed.errors == (
        RowError(2, "arrested_at", "is in the future"),
        RowError(2, "admitted_at", "is in the future"),
    )


def test_now_is_an_argument_not_the_clock() -> None:
    row = {**BASE, "admitted_at": "2031-01-01T00:00:00Z", "basis_expires_at": ""}
    assert parse(to_csv([row])).errors == (RowError(2, "admitted_at", "is in the future"),)
    assert parse(to_csv([row]), now=utc(2031, 1, 1)).errors == ()


def test_a_contact_or_a_reason_is_enough() -> None:
    no_contact = {"contact_name": "", "contact_relationship": "", "contact_phone": ""}
    assert one_row(**no_contact, no_contact_reason="Declined to name a contact").errors == ()
    assert one_row(no_contact_reason="Also asked for the consulate").errors == ()


def test_the_same_document_twice_is_refused_on_the_later_lines() -> None:
    rows = [
        BASE,  # line 2
        {**BASE, "given_names": "Otra Persona", "document_number": "P-SYN-300399"},  # line 3
        {**BASE, "given_names": "Yorbelis", "document_number": "psyn 300301", "document_issuer": "ven"},  # line 4
        {**BASE, "given_names": "Tercera", "document_kind": "national_id"},  # another kind: another document
        {**BASE, "given_names": "Cuarta", "document_number": "P.SYN.300399"},  # line 6
    ]
    parsed = parse(to_csv(rows))
    assert parsed.errors == (
        RowError(4, "document_number", "same document as line 2"),
        RowError(6, "document_number", "same document as line 3"),
    )
    assert [r.line for r in parsed.rows] == [2, 3, 5]


def test_an_invalid_first_row_still_claims_its_document() -> None:
    rows = [{**BASE, "sex": "?"}, {**BASE, "given_names": "Otra"}]
    parsed = parse(to_csv(rows))
    assert parsed.errors == (
        RowError(2, "sex", "must be F, M or X"),
        RowError(3, "document_number", "same document as line 2"),
    )


def test_a_row_of_the_wrong_width_is_refused_whole() -> None:
    text = to_csv([BASE]) + "Solo,Dos,Valores\n"
    parsed = parse(text)
    assert parsed.errors == (RowError(3, "row", f"has 3 values but the header has {len(MANIFEST_COLUMNS)} columns"),)
    assert [r.line for r in parsed.rows] == [2]


# ------------------------------------------------------------------------- the header and the file


def test_an_unknown_column_refuses_the_file_at_line_1() -> None:
    text = to_csv([BASE], [*MANIFEST_COLUMNS, "birthdate", "tattoos"]).replace("birthdate", "Birthdate ")
    parsed = parse(text)
    assert parsed.errors == (
        RowError(1, "birthdate", "is not a manifest column (did you mean birth_date?)"),
        RowError(1, "tattoos", "is not a manifest column"),
    )
    assert parsed.rows == ()
    assert parsed.rejected == ()


def test_header_names_ignore_case_and_spaces_but_not_repetition() -> None:
    text = to_csv([BASE])
    header, rest = text.split("\n", 1)
    assert parse(header.upper().replace(",", " , ") + "\n" + rest).errors == ()
    repeated = header + ",sex\n" + rest.rstrip("\n") + ",F\n"
    assert parse(repeated).errors == (RowError(1, "sex", "appears twice in the header"),)
    unnamed = header + ",\n" + rest.rstrip("\n") + ",\n"
    assert parse(unnamed).errors == (RowError(1, f"column {len(MANIFEST_COLUMNS) + 1}", "has no name"),)


def test_the_header_line_is_the_first_non_empty_line() -> None:
    parsed = parse("\n\n" + to_csv([BASE]).replace("given_names", "given_name"))
    assert parsed.errors == (
        RowError(3, "given_name", "is not a manifest column (did you mean given_names?)"),
        RowError(3, "given_names", "is a required column: add it to the header, or give a default"),
    )


def test_a_semicolon_separated_file_is_explained() -> None:
    text = to_csv([BASE]).replace(",", ";")
    assert parse(text).errors == (
        RowError(1, "header", "must be comma-separated; this header looks semicolon-separated"),
    )


def test_an_empty_file_is_refused() -> None:
    rule = "the manifest is empty: line 1 must be the header"
    assert parse("").errors == (RowError(1, "header", rule),)
    assert parse("\n \n").errors == (RowError(1, "header", rule),)


def test_broken_quoting_refuses_the_whole_file() -> None:
    text = to_csv([BASE, {**BASE, "document_number": "P-SYN-300302"}])
    broken = text.replace("Centro de Detención", '"Centro de Detención', 1)  # never closed: swallows line 3
    parsed = parse(broken)
    assert parsed.rows == ()
    assert parsed.rejected == ()
    ((error),) = parsed.errors
    assert (error.line, error.field) == (2, "row")
    assert error.rule.startswith("is not valid CSV (") and error.rule.endswith("check the quotes")


# ------------------------------------------------------------------------- a bad file: everything reported


BAD_ERRORS = (
    RowError(3, "birth_date", "must be YYYY-MM-DD"),
    RowError(3, "sex", "must be F, M or X"),
    RowError(
        4,
        "basis_kind",
        "must be one of arrest_record, judicial_order, provisional_detention_order, sentence, transfer_instrument",
    ),
    RowError(4, "admitted_at", NAIVE_RULE),
    RowError(5, "document_issuer", REQUIRED_WITH_DOCUMENT),
    RowError(5, "arrested_at", "must be in UTC (Z or +00:00), not -04:00: convert it to UTC"),
    RowError(6, "document_number", "same document as line 2"),
    RowError(6, "contact_name", NO_CONTACT),
    RowError(8, "given_names", "is required"),
    RowError(8, "nationalities", 'item 1 "Venezuela" must be an ISO 3166 alpha-3 code such as VEN'),
    RowError(8, "injuries", 'item 1 "bruise" must be "body part: description"'),
    RowError(8, "property", 'item 1 "0x belt": the quantity must be at least 1'),
    RowError(9, "basis_expires_at", R2_EXPIRED),
    RowError(9, "admitted_at", "is in the future"),
    RowError(10, "basis_issued_at", R2_ISSUED_AFTER),
    RowError(10, "arrested_at", "is after admitted_at"),
    RowError(
        11,
        "row",
        'has 25 values but the header has 24 columns (an unquoted comma?); extra values: "Declined to name a contact"',
    ),
)


def test_every_error_of_every_row_is_reported() -> None:
    parsed = parse((DATA / "bad.csv").read_text(encoding="utf-8"))
    assert parsed.errors == BAD_ERRORS
    assert not parsed.ok
    assert [r.line for r in parsed.rows] == [2]
    assert [r["family_names"] for r in parsed.rejected] == [
        "Pacheco Rivas",
        "Montilla Sánchez",
        "Tortolero Linares",
        "Briceño Osorio",
        "Urdaneta Pernía",
        "Camacaro Díaz",
        "Salcedo Aponte",
        "Ochoa Mendoza",
    ]
    assert parsed.rejected[0][ERRORS_COLUMN] == "birth_date: must be YYYY-MM-DD; sex: must be F, M or X"


# Fixes a clerk would make in the correction file, by family name.
FIXES: dict[str, dict[str, str]] = {
    "Pacheco Rivas": {"birth_date": "1998-04-12", "sex": "M"},
    "Montilla Sánchez": {"basis_kind": "transfer_instrument", "admitted_at": "2025-03-16T04:15:00Z"},
    "Tortolero Linares": {"document_issuer": "VEN", "arrested_at": "2025-03-12T10:00:00Z"},
    "Briceño Osorio": {"document_number": "P-SYN-200206", "no_contact_reason": "Declined to name a contact"},
    "Urdaneta Pernía": {
        "given_names": "Jesús Alberto",
        "nationalities": "VEN",
        "injuries": "left arm: bruise",
        "property": "belt",
    },
    "Camacaro Díaz": {"basis_expires_at": "", "admitted_at": "2025-03-16T04:15:00Z"},
    "Salcedo Aponte": {"arrested_at": "2025-03-16T03:00:00Z", "basis_issued_at": "2025-03-15T18:00:00Z"},
}


def test_the_correction_file_round_trips() -> None:
    parsed = parse((DATA / "bad.csv").read_text(encoding="utf-8"))
    correction = parsed.rejected_csv()
    header = correction.splitlines()[0].split(",")
    assert header == [*(DATA / "bad.csv").read_text(encoding="utf-8").splitlines()[0].split(","), ERRORS_COLUMN]

    # Imported again unchanged: the same problems (on the correction file's lines), and the errors column is
    # ignored.  The duplicate of an already valid row is no longer in the file (the register refuses it at
    # commit), and the shifted row now shows its shifted values, so its problems are named column by column.
    again = parse(correction)
    assert again.rows == ()
    shifted = again.errors[-1].line
    assert [(e.field, e.rule) for e in again.errors if e.line != shifted] == [
        (e.field, e.rule) for e in BAD_ERRORS if e.rule != "same document as line 2" and e.field != "row"
    ]
    assert (shifted, "admitted_at", TIME_RULE) in [(e.line, e.field, e.rule) for e in again.errors]
    assert (
        again.rejected_csv().splitlines()[:-1]
        == (correction.replace("document_number: same document as line 2; ", "").splitlines()[:-1])
    )

    # Fixed: every row parses.
    rows = list(csv.DictReader(io.StringIO(correction)))
    for row in rows:
        if row["family_names"] in FIXES:
            row.update(FIXES[row["family_names"]])
        elif row["given_names"] == "Kleiver Jesús":  # the shifted row is typed in again
            row.update(
                {k: v for k, v in BASE.items() if k in row},
                given_names="Kleiver Jesús",
                family_names="Ochoa Mendoza",
                arrest_place="Colonia Ejemplo, Caracas",
                document_number="P-SYN-200211",
            )
    fixed = parse(to_csv(rows, header))
    assert fixed.errors == ()
    assert len(fixed.rows) == 8
    assert {r.admission.identity.family_names for r in fixed.rows if r.admission.identity} == {
        *FIXES,
        "Ochoa Mendoza",
    }
    caracas = next(r for r in fixed.rows if r.raw["family_names"] == "Ochoa Mendoza")
    assert caracas.admission.arrest_place == "Colonia Ejemplo, Caracas"


def test_the_correction_file_carries_the_defaults_it_used() -> None:
    defaults = {**FLIGHT_DEFAULTS, "admitted_at": "2025-03-17T00:00:00Z"}  # a wrong default: every row fails
    parsed = parse(SHORT, defaults=defaults)
    assert parsed.errors == (RowError(2, "admitted_at", "is in the future"),)
    correction = parsed.rejected_csv()
    (row,) = csv.DictReader(io.StringIO(correction))
    assert row["basis_reference"] == "TI-2025-0315-D"
    assert row["admitted_at"] == "2025-03-17T00:00:00Z"
    assert row[ERRORS_COLUMN] == "admitted_at: is in the future"
    fixed = parse(correction.replace("2025-03-17T00:00:00Z", "2025-03-16T04:15:00Z"))  # no defaults now
    assert fixed.errors == ()
    assert fixed.rows[0].admission.legal_basis.reference == "TI-2025-0315-D"


def test_a_valid_file_has_an_empty_correction_file() -> None:
    parsed = parse((DATA / "flight-sample.csv").read_text(encoding="utf-8"))
    assert parsed.rejected_csv() == ",".join((*MANIFEST_COLUMNS, ERRORS_COLUMN)) + "\n"


# ------------------------------------------------------------------------- agreement with the register


def test_column_for_maps_request_paths_back_to_columns() -> None:
    assert column_for("legal_basis.issued_at") == "basis_issued_at"
    assert column_for("rows[3].legal_basis.expires_at") == "basis_expires_at"
    assert column_for("rows[12].identity.documents") == "document_number"
    assert column_for(("identity", "documents", 0, "issuer")) == "document_issuer"
    assert column_for(("identity", "aliases", 1)) == "aliases"
    assert column_for(("nationalities", 0)) == "nationalities"  # PersonRegistered's own paths
    assert column_for("family_contacts") == "contact_name"
    assert column_for(("family_contacts", 0, "relationship")) == "contact_relationship"
    assert column_for(("injuries_observed", 2, "body_part")) == "injuries"
    assert column_for(("property", 0, "quantity")) == "property"
    assert column_for("legal_basis.instrument_id") == "basis_reference"
    assert column_for("arrested_at") == "arrested_at"
    assert column_for("identity") == "identity"
    assert column_for("facility_id") == "facility_id"


def test_model_errors_are_reported_against_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The request model's own refusals, should a value ever get past the column checks, name the column."""
    monkeypatch.setitem(manifest._CONVERT, "family_names", lambda text: "x" * 201)
    assert one_row().errors == (RowError(2, "family_names", "string should have at most 200 characters"),)


def test_rows_are_checked_against_the_events_the_register_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Identity accepts any nationality text; the person.registered payload does not.  A valid row must commit."""
    monkeypatch.setitem(manifest._CONVERT, "nationalities", lambda text: ("VEN", "V E N"))
    ((error),) = one_row().errors
    assert (error.line, error.field) == (2, "nationalities")
    assert error.rule.startswith("item 2: string should match pattern")


def test_every_valid_row_passes_the_registersadmission_rules() -> None:
    for name in ("flight-sample", "bad"):
        for row in parse((DATA / f"{name}.csv").read_text(encoding="utf-8")).rows:
            assert admission_rules(row.admission, NOW) == [], row.line


def _base_admission() -> Admission:
    (row,) = one_row().rows
    return row.admission


@pytest.mark.parametrize(
    ("changes", "update"),
    [
        ({"arrested_at": "2025-03-17T00:00:00Z"}, {"arrested_at": utc(2025, 3, 17)}),
        (
            {"admitted_at": "2025-03-17T00:00:00Z", "basis_expires_at": ""},
            {"admitted_at": utc(2025, 3, 17), "basis_expires_at": None},
        ),
        ({"arrested_at": "2025-03-16T05:00:00Z"}, {"arrested_at": utc(2025, 3, 16, 5)}),
        ({"basis_issued_at": "2025-03-16T05:00:00Z"}, {"basis_issued_at": utc(2025, 3, 16, 5)}),
        ({"basis_expires_at": "2025-03-16T00:00:00Z"}, {"basis_expires_at": utc(2025, 3, 16)}),
        (
            {"contact_name": "", "contact_relationship": "", "contact_phone": ""},
            {"family_contacts": (), "no_contact_reason": None},
        ),
    ],
)
def test_cross_field_rules_agree_with_the_registers(changes: dict[str, str], update: dict[str, Any]) -> None:
    """A drift guard: the manifest's pure rules and ``admission.admission_rules`` refuse the same rows."""
    base = _base_admission()
    basis = {k.removeprefix("basis_"): update.pop(k) for k in list(update) if k.startswith("basis_")}
    request = base.model_copy(update={**update, "legal_basis": base.legal_basis.model_copy(update=basis)})
    theirs = {(column_for(p.field), p.rule) for p in admission_rules(request, NOW)}
    ours = {(e.field, e.rule) for e in one_row(**changes).errors}
    assert theirs, "the case must break a register rule"
    assert {f for f, _ in ours} == {f for f, _ in theirs}
    assert {(f, r) for f, r in ours if f != "contact_name"} == {(f, r) for f, r in theirs if f != "contact_name"}


# ------------------------------------------------------------------------- size


def test_ten_thousand_rows_parse() -> None:
    rows = [
        {
            **BASE,
            "given_names": f"Persona{i}",
            "family_names": f"Sintética{i} Prueba",
            "document_number": f"P-SYN-{i:07d}",
            "injuries": "left wrist: bruising" if i % 7 == 0 else "",
            "property": "2x shirt;wallet",
        }
        for i in range(10_000)
    ]
    rows[9_000]["document_number"] = rows[10]["document_number"]
    started = time.perf_counter()
    parsed = parse(to_csv(rows))
    elapsed = time.perf_counter() - started
    assert len(parsed.rows) == 9_999
    assert parsed.errors == (RowError(9_002, "document_number", "same document as line 12"),)
    assert parsed.rows[-1].line == 10_001
    assert isinstance(parsed.rows[0], ManifestRow)
    print(f"parsed 10,000 manifest rows in {elapsed:.2f} s")
