"""Facility layouts from YAML and CSV: the CECOT model, both formats, and every refusal with its location."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from decimal import Decimal
from importlib.resources import files
from pathlib import Path

import pytest

from habeas.domain.facility import CellRegistered, FacilityRegistered, UnitRegistered
from habeas.domain.layout import (
    CSV_COLUMNS,
    Layout,
    format_csv_layout,
    load_layout,
    parse_csv_layout,
    parse_yaml_layout,
)
from habeas.errors import InvalidInput, Problem

DATA = Path(__file__).parent / "data"
HEADER = ",".join(CSV_COLUMNS)
FACILITY_ROW = "demo,Centro Demo,Dirección Demo,120,slv,San Salvador"
FACILITY_YAML = """\
facility:
  facility_id: demo
  name: Centro Demo
  responsible_authority: Dirección Demo
  declared_capacity: 120
  jurisdiction: slv
  place: San Salvador
"""


def yaml_doc(units: str) -> str:
    """FACILITY_YAML followed by ``units:`` and the given (dedented) unit list."""
    return FACILITY_YAML + "units:\n" + textwrap.indent(textwrap.dedent(units), "  ")


def csv_doc(*rows: str) -> str:
    """A CSV layout: the header, then rows given as ``unit_id,unit_name,unit_kind,cell_id,beds,area,single,toilets``."""
    return "\n".join([HEADER, *(f"{FACILITY_ROW},{r}" for r in rows)]) + "\n"


def refusal(parse: Callable[[str], Layout], text: str) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as caught:
        parse(text)
    return [(p.field, p.rule) for p in caught.value.problems]


# --- the CECOT model ----------------------------------------------------------------------------------------


def cecot_text() -> str:
    return (files("habeas") / "policy" / "layouts" / "cecot.yaml").read_text(encoding="utf-8")


def test_cecot_model_matches_the_reported_figures() -> None:
    """standards §3: 8 pavilions × 32 cells of ~100 m², 2 toilets, ~80 bunks; declared capacity 40,000."""
    layout = parse_yaml_layout(cecot_text())
    assert layout.facility == FacilityRegistered(
        facility_id="cecot",
        name="Centro de Confinamiento del Terrorismo (modelo sintético)",
        responsible_authority="Dirección General de Centros Penales",
        declared_capacity=40_000,
        jurisdiction="slv",
        place="Tecoluca, San Vicente",
    )
    assert layout.unit_count == 8
    assert [u.unit_id for u in layout.units] == [f"P{n}" for n in range(1, 9)]
    assert {u.kind for u in layout.units} == {"pavilion"}
    assert layout.cell_count == 256
    assert layout.total_beds == 20_480
    assert layout.total_floor_area_m2 == Decimal(25_600)
    assert layout.total_toilets == 512
    assert [c.cell_id for c in layout.cells_of("P3")] == [f"P3-C{n:02d}" for n in range(1, 33)]
    assert layout.cells[0] == CellRegistered(
        facility_id="cecot", unit_id="P1", cell_id="P1-C01", beds=80, floor_area_m2=Decimal(100), toilets=2
    )
    assert layout.cells[-1].cell_id == "P8-C32"
    assert all(not c.single and c.facility_id == "cecot" for c in layout.cells)
    # 0.64 m² per person at declared capacity (standards §3)
    assert layout.total_floor_area_m2 / layout.facility.declared_capacity == Decimal("0.64")


def test_cecot_file_states_its_sources_and_the_area_assumption() -> None:
    text = cecot_text()
    head = text.split("facility:")[0]
    assert "standards.md §3" in head
    assert "not official" in head.lower()
    assert "assumption" in head.lower() and "toilet" in head.lower()
    assert text.count("cell_series:") == 8  # generated, not 256 hand-written cells


def test_load_layout_reads_the_packaged_cecot_file() -> None:
    path = Path(str(files("habeas") / "policy" / "layouts" / "cecot.yaml"))
    assert load_layout(path).cell_count == 256


# --- YAML -----------------------------------------------------------------------------------------------------


MIXED = yaml_doc("""\
    - unit_id: A
      name: Pabellón A
      declared_capacity: 60
      cells:
        - {cell_id: A-X1, beds: 4, floor_area_m2: "12.5", toilets: 1}
        - {cell_id: A-X2, beds: 1, floor_area_m2: 9, single: true}
      cell_series: {count: 3, prefix: "A-", start: 8, digits: 3, beds: 6, floor_area_m2: "20.25", toilets: 1}
    - unit_id: M
      name: Enfermería
      kind: medical
      cell_series:
        - {count: 2, prefix: "M-", beds: 2, floor_area_m2: "10"}
        - {count: 1, prefix: "M-ISO", beds: 1, floor_area_m2: 7, single: true}
    """)


def test_yaml_explicit_cells_and_series_mix() -> None:
    layout = parse_yaml_layout(MIXED)
    assert layout.units == (
        UnitRegistered(facility_id="demo", unit_id="A", name="Pabellón A", declared_capacity=60),
        UnitRegistered(facility_id="demo", unit_id="M", name="Enfermería", kind="medical"),
    )
    assert [c.cell_id for c in layout.cells] == ["A-X1", "A-X2", "A-008", "A-009", "A-010", "M-1", "M-2", "M-ISO1"]
    a_x2 = layout.cells[1]
    assert a_x2 == CellRegistered(
        facility_id="demo", unit_id="A", cell_id="A-X2", beds=1, floor_area_m2=Decimal(9), single=True, toilets=0
    )
    assert all(c.unit_id == "A" for c in layout.cells[:5])
    assert all(c.unit_id == "M" for c in layout.cells[5:])
    assert {c.facility_id for c in layout.cells} == {"demo"}
    assert layout.cells[2].floor_area_m2 == Decimal("20.25")
    assert isinstance(layout.cells[0].floor_area_m2, Decimal)
    assert layout.total_beds == 4 + 1 + 3 * 6 + 2 * 2 + 1
    assert layout.total_floor_area_m2 == Decimal("12.5") + 9 + 3 * Decimal("20.25") + 2 * 10 + 7
    assert layout.payloads() == (layout.facility, *layout.units, *layout.cells)


def test_yaml_merge_keys_work() -> None:
    text = yaml_doc("""\
        - unit_id: A
          name: A
          cells:
            - &base {cell_id: A-1, beds: 4, floor_area_m2: "12"}
            - {<<: *base, cell_id: A-2}
        """)
    assert [(c.cell_id, c.beds) for c in parse_yaml_layout(text).cells] == [("A-1", 4), ("A-2", 4)]


def unit_with_cells(unit_id: str, *cells: str, name: str | None = None) -> str:
    lines = [f"- unit_id: {unit_id}", f"  name: {name if name is not None else 'Unit ' + unit_id}", "  cells:"]
    return "".join(line + "\n" for line in [*lines, *(f"    - {c}" for c in cells)])


def cell(cell_id: str, beds: object = 4, area: str = '"12"') -> str:
    return f"{{cell_id: {cell_id}, beds: {beds}, floor_area_m2: {area}}}"


def test_yaml_bad_beds_is_located_exactly() -> None:
    text = yaml_doc(
        unit_with_cells("P1", cell("P1-01"))
        + unit_with_cells("P2", cell("P2-01"))
        + unit_with_cells("P3", *(cell(f"P3-0{n}") for n in range(5)), cell("P3-05", beds=-1))
    )
    assert refusal(parse_yaml_layout, text) == [("units[2].cells[5].beds", "must be a whole number ≥ 0")]


@pytest.mark.parametrize("beds", ['"80"', "80.0", "true", "x"])
def test_yaml_beds_must_be_a_whole_number(beds: str) -> None:
    text = yaml_doc(unit_with_cells("P1", cell("P1-01", beds=beds)))
    assert refusal(parse_yaml_layout, text) == [("units[0].cells[0].beds", "must be a whole number ≥ 0")]


def test_yaml_float_area_is_refused_with_a_quoting_hint() -> None:
    text = yaml_doc(unit_with_cells("P1", cell("P1-01", area="100.5")))
    [(field, rule)] = refusal(parse_yaml_layout, text)
    assert field == "units[0].cells[0].floor_area_m2"
    assert "float" in rule and 'quote it, e.g. floor_area_m2: "100.5"' in rule


def test_yaml_float_area_in_a_series_is_refused_once() -> None:
    text = yaml_doc("""\
        - unit_id: P1
          name: P1
          cell_series: {count: 32, prefix: P1-C, beds: 80, floor_area_m2: 100.0}
        """)
    [(field, rule)] = refusal(parse_yaml_layout, text)
    assert field == "units[0].cell_series.floor_area_m2"
    assert 'quote it, e.g. floor_area_m2: "100.0"' in rule


@pytest.mark.parametrize(
    ("area", "rule"),
    [
        ('"0"', "must be more than 0"),
        ("0", "must be more than 0"),
        ('"-3.5"', "must be more than 0"),
        ('"abc"', 'must be a decimal number of square metres, such as "100" or "12.5"'),
        ('"NaN"', 'must be a decimal number of square metres, such as "100" or "12.5"'),
        ("true", 'must be a decimal number of square metres, such as "100" or "12.5"'),
        ('"1.23456"', "must have at most 4 decimal places"),
    ],
)
def test_yaml_area_rules(area: str, rule: str) -> None:
    text = yaml_doc(unit_with_cells("P1", cell("P1-01", area=area)))
    assert refusal(parse_yaml_layout, text) == [("units[0].cells[0].floor_area_m2", rule)]


def test_yaml_duplicate_cell_ids_are_refused_within_and_across_units() -> None:
    text = yaml_doc(
        unit_with_cells("P1", cell("P1-01"), cell("P1-02"), cell("P1-01")) + unit_with_cells("P2", cell("P1-02"))
    )
    assert refusal(parse_yaml_layout, text) == [
        ("units[0].cells[2].cell_id", "duplicate cell_id P1-01 (also units[0].cells[0])"),
        ("units[1].cells[0].cell_id", "duplicate cell_id P1-02 (also units[0].cells[1])"),
    ]


def test_yaml_series_colliding_with_cells_is_refused() -> None:
    text = yaml_doc(
        unit_with_cells("P1", cell("P-02"))
        + "- {unit_id: P2, name: P2, cell_series: {count: 3, prefix: P-, digits: 2, beds: 1, floor_area_m2: '6'}}\n"
        + "- {unit_id: P3, name: P3, cell_series: {count: 3, prefix: P-, digits: 2, beds: 1, floor_area_m2: '6'}}\n"
    )
    assert refusal(parse_yaml_layout, text) == [
        ("units[1].cell_series", "duplicate cell_id P-02 (also units[0].cells[0])"),
        ("units[2].cell_series", "duplicate cell_id P-01 (also units[1].cell_series) and 2 more"),
    ]


def test_yaml_duplicate_unit_ids_are_refused() -> None:
    text = yaml_doc(
        unit_with_cells("P1", cell("a")) + unit_with_cells("P2", cell("b")) + unit_with_cells("P1", cell("c"))
    )
    assert refusal(parse_yaml_layout, text) == [("units[2].unit_id", "duplicate unit_id P1 (also units[0])")]


def test_yaml_unit_without_cells_is_refused() -> None:
    text = yaml_doc(
        unit_with_cells("P1", cell("a")) + "- {unit_id: P2, name: P2}\n" + "- {unit_id: P3, name: P3, cells: []}\n"
    )
    assert refusal(parse_yaml_layout, text) == [
        ("units[1].cells", "unit P2 has no cells: give cells, cell_series or both"),
        ("units[2].cells", "unit P3 has no cells: give cells, cell_series or both"),
    ]


@pytest.mark.parametrize("name", ['""', '"   "', None])
def test_yaml_unit_without_name_is_refused(name: str | None) -> None:
    name_line = "" if name is None else f"name: {name}, "
    text = yaml_doc(f"- {{unit_id: P9, {name_line}cells: [{cell('a')}]}}\n")
    assert refusal(parse_yaml_layout, text) == [("units[0].name", "unit P9 has no name")]


def test_yaml_filled_ids_must_be_left_out() -> None:
    text = yaml_doc("""\
        - unit_id: P1
          facility_id: demo
          name: P1
          cells:
            - {cell_id: a, unit_id: P1, beds: 1, floor_area_m2: "6"}
        """)
    assert refusal(parse_yaml_layout, text) == [
        ("units[0].facility_id", "leave it out: it is filled in from the facility"),
        ("units[0].cells[0].unit_id", "leave it out: it is filled in from the facility and the unit"),
    ]


def test_yaml_shape_and_field_rules() -> None:
    text = """\
facility:
  facility_id: "bad id"
  name: X
  responsible_authority: Y
  jurisdiction: 7
  place: Z
  colour: blue
units:
  - unit_id: P1
    name: P1
    kind: dungeon
    cells:
      - {cell_id: a, beds: 1, floor_area_m2: "6", windows: 0}
      - just text
    cell_series: {count: 0, prefix: P1-, beds: 1, floor_area_m2: "6", size: 3}
  - unit_id: P2
    name: P2
    cell_series: {count: 2, prefix: "P 2-", beds: 1, floor_area_m2: "6"}
extra: 1
"""
    got = refusal(parse_yaml_layout, text)
    assert got == [
        ("extra", "unknown field"),
        ("facility.facility_id", "must be a code: 1-64 letters, digits or _ . : / -, starting with a letter or digit"),
        ("facility.declared_capacity", "is required"),
        ("facility.jurisdiction", "must be text (in YAML, quote it)"),
        ("facility.colour", "unknown field"),
        (
            "units[0].kind",
            "must be one of 'pavilion', 'module', 'wing', 'intake', 'medical' or 'other'",
        ),
        ("units[0].cells[0].windows", "unknown field"),
        ("units[0].cells[1]", "must be a mapping"),
        ("units[0].cell_series.size", "unknown field"),
        ("units[0].cell_series.count", "must be a whole number from 1 to 10000"),
        (
            "units[1].cell_series.prefix",
            "makes cell_id 'P 2-1', which must be a code: 1-64 letters, digits or _ . : / -, "
            "starting with a letter or digit",
        ),
    ]


@pytest.mark.parametrize(
    ("text", "where", "rule_start"),
    [
        ("", "document", "is empty"),
        ("- a\n- b\n", "document", "must be a mapping"),
        ("facility: [\n", "line 2", "not valid YAML"),
        (FACILITY_YAML + "  place: again\nunits: []\n", "line 8", "not valid YAML (column 3): duplicate key 'place'"),
    ],
)
def test_yaml_documents_that_cannot_be_read(text: str, where: str, rule_start: str) -> None:
    [(field, rule)] = refusal(parse_yaml_layout, text)
    assert (field, rule[: len(rule_start)]) == (where, rule_start)


def test_yaml_missing_top_level_parts() -> None:
    assert refusal(parse_yaml_layout, "units: []\n") == [
        ("facility", "is required"),
        ("units", "must list at least one unit"),
    ]
    assert refusal(parse_yaml_layout, FACILITY_YAML) == [("units", "is required")]


def test_yaml_every_problem_is_reported_at_once() -> None:
    text = yaml_doc(
        unit_with_cells("P1", cell("a", beds=-1), cell("b"), cell("c", area='"0"'), cell("d"), cell("e", area="2.5"))
    )
    got = refusal(parse_yaml_layout, text)
    assert [f for f, _ in got] == [
        "units[0].cells[0].beds",
        "units[0].cells[2].floor_area_m2",
        "units[0].cells[4].floor_area_m2",
    ]


# --- CSV ------------------------------------------------------------------------------------------------------


def test_csv_fixture_parses() -> None:
    layout = load_layout(DATA / "small_layout.csv")
    assert layout.facility == FacilityRegistered(
        facility_id="demo",
        name="Centro Demo, Norte",
        responsible_authority="Dirección Demo",
        declared_capacity=120,
        jurisdiction="slv",
        place="San Salvador",
    )
    assert layout.units == (
        UnitRegistered(facility_id="demo", unit_id="A", name="Pabellón A"),
        UnitRegistered(facility_id="demo", unit_id="M", name="Enfermería", kind="medical"),
    )
    # grouped by unit, each unit's cells in row order
    assert [c.cell_id for c in layout.cells] == ["A-01", "A-02", "A-03", "M-01"]
    assert layout.cells[3] == CellRegistered(
        facility_id="demo", unit_id="M", cell_id="M-01", beds=1, floor_area_m2=Decimal(9), single=True, toilets=1
    )
    assert layout.total_floor_area_m2 == Decimal("76")
    assert layout.total_beds == 23


def test_csv_round_trip() -> None:
    layout = load_layout(DATA / "small_layout.csv")
    text = format_csv_layout(layout)
    assert text.splitlines()[0] == HEADER
    assert len(text.splitlines()) == 5
    assert parse_csv_layout(text) == layout
    assert format_csv_layout(parse_csv_layout(text)) == text


def test_csv_round_trip_of_a_yaml_layout() -> None:
    layout = parse_yaml_layout(MIXED.replace("    declared_capacity: 60\n", ""))
    assert parse_csv_layout(format_csv_layout(layout)) == layout


def test_csv_cannot_hold_a_unit_declared_capacity() -> None:
    with pytest.raises(ValueError, match="declared capacity"):
        format_csv_layout(parse_yaml_layout(MIXED))


def test_csv_defaults_and_column_order() -> None:
    columns = list(reversed(CSV_COLUMNS))
    values = dict(zip(CSV_COLUMNS, [*FACILITY_ROW.split(","), "A", "A", "", "A-1", "3", "10.50", "", ""], strict=True))
    text = ",".join(columns) + "\n" + ",".join(values[c] for c in columns) + "\n"
    layout = parse_csv_layout(text)
    assert layout.units[0].kind == "pavilion"
    assert layout.cells[0] == CellRegistered(
        facility_id="demo", unit_id="A", cell_id="A-1", beds=3, floor_area_m2=Decimal("10.5")
    )


def test_csv_bad_beds_is_located_by_line() -> None:
    rows = [f"A,A,,A-{n},4,12,false,0" for n in range(1, 6)] + ["A,A,,A-6,four,12,false,0"]
    assert refusal(parse_csv_layout, csv_doc(*rows)) == [("line 7: beds", "must be a whole number ≥ 0")]


def test_csv_line_numbers_count_blank_lines_and_multiline_fields() -> None:
    text = (
        HEADER
        + f'\n\n{FACILITY_ROW},A,"Pabellón\nA",,A-1,4,12,false,0\n'
        + f'{FACILITY_ROW},A,"Pabellón\nA",,A-2,-4,12,false,0\n'
    )
    assert refusal(parse_csv_layout, text) == [("line 5: beds", "must be a whole number ≥ 0")]


def test_csv_duplicate_cell_id_names_the_first_line() -> None:
    text = csv_doc("A,A,,P1-01,4,12,,", "A,A,,P1-02,4,12,,", "B,B,,P1-01,4,12,,")
    assert refusal(parse_csv_layout, text) == [("line 4: cell_id", "duplicate cell_id P1-01 (also line 2)")]


def test_csv_unit_without_name_is_refused() -> None:
    text = csv_doc("A,A,,A-1,4,12,,", "P9,,,P9-1,4,12,,", "P9,,,P9-2,4,12,,")
    assert refusal(parse_csv_layout, text) == [("line 3: unit_name", "unit P9 has no name")]


def test_csv_area_must_be_more_than_zero() -> None:
    text = csv_doc("A,A,,A-1,4,0,,", "A,A,,A-2,4,-1,,", "A,A,,A-3,4,12.5.1,,")
    assert refusal(parse_csv_layout, text) == [
        ("line 2: floor_area_m2", "must be more than 0"),
        ("line 3: floor_area_m2", "must be more than 0"),
        ("line 4: floor_area_m2", 'must be a decimal number of square metres, such as "100" or "12.5"'),
    ]


def test_csv_facility_and_unit_columns_must_agree() -> None:
    text = "\n".join(
        [
            HEADER,
            f"{FACILITY_ROW},A,Pabellón A,pavilion,A-1,4,12,,",
            "demo,Centro Demo,Dirección Demo,121,slv,San Salvador,A,Pabellón A,pavilion,A-2,4,12,,",
            f"{FACILITY_ROW},A,Pabellón B,wing,A-3,4,12,,",
        ]
    )
    assert refusal(parse_csv_layout, text) == [
        ("line 3: declared_capacity", "must be the same on every row: line 2 has '120'"),
        ("line 4: unit_name", "must be the same on every row of unit A: line 2 has 'Pabellón A'"),
        ("line 4: unit_kind", "must be the same on every row of unit A: line 2 has 'pavilion'"),
    ]


def test_csv_field_rules() -> None:
    text = "\n".join(
        [
            HEADER,
            "demo,,Dirección Demo,lots,slv,San Salvador,A,A,cave,A-1,,12,maybe,2",
            "demo,,Dirección Demo,lots,slv,San Salvador,,A,,A-2,1,12,,",
            "demo,,Dirección Demo,lots,slv,San Salvador,A,A,cave,A-3,1,12",
        ]
    )
    assert refusal(parse_csv_layout, text) == [
        ("line 2: declared_capacity", "must be a whole number ≥ 0"),
        ("line 2: facility_name", "is required"),
        ("line 2: unit_kind", "must be one of 'pavilion', 'module', 'wing', 'intake', 'medical' or 'other'"),
        ("line 2: single", "must be true or false"),
        ("line 2: beds", "is required"),
        ("line 3: unit_id", "is required"),
        ("line 4", "has 12 fields; the header has 14"),
    ]


def test_csv_header_problems() -> None:
    header = HEADER.replace(",toilets", ",beds,wc")
    assert refusal(parse_csv_layout, header + "\n") == [
        ("line 1: beds", "column given twice"),
        ("line 1: wc", "unknown column"),
        ("line 1: toilets", "column is missing"),
    ]
    assert refusal(parse_csv_layout, "") == [("line 1", "is empty: expected the header " + HEADER)]
    assert refusal(parse_csv_layout, "\ufeff" + HEADER + "\n") == [
        ("line 2", "no cell rows: a layout needs at least one cell")
    ]


def test_csv_every_problem_is_reported_at_once() -> None:
    text = csv_doc("A,A,,A-1,-1,12,,", "A,A,,A-2,4,12,,", "A,A,,A-3,4,0,,", "A,A,,A-4,4,12,,", "A,A,,A-5,4,12,nope,")
    assert refusal(parse_csv_layout, text) == [
        ("line 2: beds", "must be a whole number ≥ 0"),
        ("line 4: floor_area_m2", "must be more than 0"),
        ("line 6: single", "must be true or false"),
    ]


# --- files and the Layout itself ------------------------------------------------------------------------------


def test_load_layout_dispatches_on_suffix(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(MIXED, encoding="utf-8")
    (tmp_path / "a.YAML").write_text(MIXED, encoding="utf-8")
    (tmp_path / "a.csv").write_text(csv_doc("A,A,,A-1,4,12,,"), encoding="utf-8")
    (tmp_path / "a.txt").write_text(MIXED, encoding="utf-8")
    assert load_layout(tmp_path / "a.yml").cell_count == 8
    assert load_layout(tmp_path / "a.YAML").cell_count == 8
    assert load_layout(tmp_path / "a.csv").cell_count == 1
    with pytest.raises(InvalidInput) as caught:
        load_layout(tmp_path / "a.txt")
    assert caught.value.problems == [Problem("path", "unknown layout format '.txt': use .yaml, .yml or .csv")]


def test_layout_checks_consistency_when_built_directly() -> None:
    f = FacilityRegistered(
        facility_id="f", name="F", responsible_authority="R", declared_capacity=1, jurisdiction="slv", place="P"
    )
    u = UnitRegistered(facility_id="f", unit_id="U", name="U")
    empty = UnitRegistered(facility_id="f", unit_id="E", name="E")
    c = CellRegistered(facility_id="f", unit_id="U", cell_id="c", beds=1, floor_area_m2=Decimal(6))
    assert Layout(f, (u,), (c,)).cell_count == 1
    stray = CellRegistered(facility_id="g", unit_id="X", cell_id="c", beds=1, floor_area_m2=Decimal(0))
    with pytest.raises(InvalidInput) as caught:
        Layout(f, (u, empty), (c, stray))
    assert [p.field for p in caught.value.problems] == [
        "cells[1].facility_id",
        "cells[1].unit_id",
        "cells[1].cell_id",
        "cells[1].floor_area_m2",
        "units[1]",
    ]
