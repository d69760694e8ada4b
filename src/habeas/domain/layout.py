"""Facility layouts: a whole facility — its units and cells — read from a YAML or CSV file (F7).

A layout is what :meth:`habeas.services.register.Register.register_facility` takes: one
:class:`~habeas.domain.facility.FacilityRegistered`, its :class:`UnitRegistered` and its
:class:`CellRegistered` payloads.  Every value goes through those (strict) pydantic models, so
a layout file is held to the same rules as any other input.

The parsers are pure (:func:`parse_yaml_layout`, :func:`parse_csv_layout` take text and return
a :class:`Layout`); only :func:`load_layout` reads a file.  Bad input raises
:class:`~habeas.errors.InvalidInput` listing *every* problem found, each naming where it is —
``units[2].cells[5].beds`` in YAML, ``line 7: beds`` in CSV (lines count from 1, the header
being line 1) — and the rule it breaks.

Rules common to both formats
============================
* ``facility_id`` of units and cells, and ``unit_id`` of cells, are filled in from the
  facility and the unit; a YAML file must leave them out.
* unit ids and cell ids are unique within the layout (cell ids are unique across units,
  as the register requires); every unit has at least one cell.
* ``floor_area_m2`` is the *usable* area of the cell, excluding a partitioned toilet
  (CPT/Inf (2015) 44; standards §2).  It must be more than 0 and exact: a decimal string
  such as ``"100.5"`` or a whole number.  A YAML float (``100.5`` unquoted) is refused with a
  hint to quote it, because the ledger never stores floats.
* ``beds``, ``toilets`` and ``declared_capacity`` are whole numbers ≥ 0; ``single`` is true
  or false (default false); ``toilets`` defaults to 0; a unit's ``kind`` is one of
  ``pavilion`` (default), ``module``, ``wing``, ``intake``, ``medical``, ``other``.

YAML
====
A mapping with ``facility`` and ``units``.  A unit lists its cells explicitly under
``cells``, generates them with ``cell_series`` (one mapping, or a list of them), or both;
explicit cells come first.  A series makes ``count`` cells with ids ``prefix`` followed by
the numbers ``start`` (default 1) … ``start + count - 1``, zero-padded to ``digits``
(default 1, i.e. no padding), each with the same ``beds``, ``floor_area_m2``, ``toilets``
and ``single``.  Duplicate keys in a mapping are refused (they would silently override);
YAML merge keys (``<<: *defaults``) work::

    facility:
      facility_id: cecot
      name: Centro de Confinamiento del Terrorismo (modelo sintético)
      responsible_authority: Dirección General de Centros Penales
      declared_capacity: 40000
      jurisdiction: slv
      place: Tecoluca, San Vicente
    units:
      - unit_id: P1
        name: Pabellón 1
        kind: pavilion            # optional
        declared_capacity: 5000   # optional
        cells:
          - {cell_id: P1-01, beds: 80, floor_area_m2: "100", toilets: 2, single: false}
        cell_series: {count: 32, prefix: "P1-C", start: 1, digits: 2, beds: 80, floor_area_m2: "100", toilets: 2}

CSV
===
One row per cell, with this header (columns in any order, all present)::

    facility_id,facility_name,responsible_authority,declared_capacity,jurisdiction,place,unit_id,unit_name,unit_kind,cell_id,beds,floor_area_m2,single,toilets

The facility columns must be the same on every row, and ``unit_name``/``unit_kind`` the
same on every row of one unit.  An empty value means "not given": an error for a required
field, the default for ``unit_kind``, ``single`` and ``toilets``.  ``single`` is ``true`` or
``false`` (also ``yes``/``no``, ``1``/``0``).  Values are stripped of surrounding blanks;
blank lines are skipped; a leading byte-order mark is ignored.  There is no column for a
unit's declared capacity: use YAML for that.  Units come in order of first appearance and
each unit's cells in row order.  :func:`format_csv_layout` writes this format.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from habeas.domain.facility import CellRegistered, FacilityRegistered, UnitRegistered
from habeas.errors import InvalidInput, Problem

__all__ = [
    "CSV_COLUMNS",
    "Layout",
    "format_csv_layout",
    "load_layout",
    "parse_csv_layout",
    "parse_yaml_layout",
]

CSV_COLUMNS: Final = (
    "facility_id",
    "facility_name",
    "responsible_authority",
    "declared_capacity",
    "jurisdiction",
    "place",
    "unit_id",
    "unit_name",
    "unit_kind",
    "cell_id",
    "beds",
    "floor_area_m2",
    "single",
    "toilets",
)
_FACILITY_COLUMNS: Final = CSV_COLUMNS[:6]
# model field -> CSV column, where they differ
_FACILITY_FIELD_COLUMN: Final = {"name": "facility_name"}
_UNIT_FIELD_COLUMN: Final = {"name": "unit_name", "kind": "unit_kind"}

MAX_SERIES_COUNT: Final = 10_000
_SERIES_KEYS: Final = ("count", "prefix", "start", "digits", "beds", "floor_area_m2", "toilets", "single")
_WHOLE: Final = re.compile(r"[0-9]+")
_TRUE: Final = frozenset({"true", "yes", "1"})
_FALSE: Final = frozenset({"false", "no", "0"})
_AREA_RULE: Final = 'must be a decimal number of square metres, such as "100" or "12.5"'

M = TypeVar("M", bound=BaseModel)


# --- the layout ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """One facility with its units and cells, checked for consistency (ids unique, every unit has cells)."""

    facility: FacilityRegistered
    units: tuple[UnitRegistered, ...]
    cells: tuple[CellRegistered, ...]

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        fid = self.facility.facility_id
        unit_ids: set[str] = set()
        for i, u in enumerate(self.units):
            if u.facility_id != fid:
                problems.append(Problem(f"units[{i}].facility_id", f"must be {fid}"))
            if u.unit_id in unit_ids:
                problems.append(Problem(f"units[{i}].unit_id", f"duplicate unit_id {u.unit_id}"))
            unit_ids.add(u.unit_id)
        cell_ids: set[str] = set()
        with_cells: set[str] = set()
        for i, c in enumerate(self.cells):
            if c.facility_id != fid:
                problems.append(Problem(f"cells[{i}].facility_id", f"must be {fid}"))
            if c.unit_id not in unit_ids:
                problems.append(Problem(f"cells[{i}].unit_id", f"no unit {c.unit_id} in this layout"))
            if c.cell_id in cell_ids:
                problems.append(Problem(f"cells[{i}].cell_id", f"duplicate cell_id {c.cell_id}"))
            if c.floor_area_m2 <= 0:
                problems.append(Problem(f"cells[{i}].floor_area_m2", "must be more than 0"))
            cell_ids.add(c.cell_id)
            with_cells.add(c.unit_id)
        for i, u in enumerate(self.units):
            if u.unit_id not in with_cells:
                problems.append(Problem(f"units[{i}]", f"unit {u.unit_id} has no cells"))
        if problems:
            raise InvalidInput(problems)

    @property
    def unit_count(self) -> int:
        return len(self.units)

    @property
    def cell_count(self) -> int:
        return len(self.cells)

    @property
    def total_beds(self) -> int:
        return sum(c.beds for c in self.cells)

    @property
    def total_floor_area_m2(self) -> Decimal:
        """Usable floor area of all cells (toilets excluded, as recorded per cell)."""
        return sum((c.floor_area_m2 for c in self.cells), Decimal(0))

    @property
    def total_toilets(self) -> int:
        return sum(c.toilets for c in self.cells)

    def cells_of(self, unit_id: str) -> tuple[CellRegistered, ...]:
        return tuple(c for c in self.cells if c.unit_id == unit_id)

    def payloads(self) -> tuple[FacilityRegistered | UnitRegistered | CellRegistered, ...]:
        """The payloads in the order they are registered: facility, units, cells."""
        return (self.facility, *self.units, *self.cells)


# --- shared validation ----------------------------------------------------------------------------------------


def _rule(err: ErrorDetails) -> str:
    """A pydantic error as a rule a person can act on."""
    kind = err["type"]
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    value = err.get("input")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return "must be a whole number ≥ 0"
    if kind == "greater_than_equal":
        return f"must be a whole number ≥ {ctx.get('ge')}" if isinstance(value, int) else f"must be ≥ {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if kind == "string_type":
        return "must be text (in YAML, quote it)"
    if kind == "string_pattern_mismatch":
        return "must be a code: 1-64 letters, digits or _ . : / -, starting with a letter or digit"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind in {"bool_type", "bool_parsing"}:
        return "must be true or false"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}"
    if kind == "decimal_max_digits":
        return f"must have at most {ctx.get('max_digits')} digits"
    if kind == "decimal_max_places":
        return f"must have at most {ctx.get('decimal_places')} decimal places"
    if kind == "decimal_whole_digits":
        return f"must have at most {ctx.get('whole_digits')} digits before the decimal point"
    if kind in {"decimal_type", "decimal_parsing", "finite_number"}:
        return _AREA_RULE
    return str(err["msg"])


def _build(
    model: type[M],
    data: Mapping[str, Any],
    where: Callable[[str], str],
    problems: list[Problem],
    *,
    pre: Mapping[str, str] | None = None,
    ignore: frozenset[str] = frozenset(),
    empty: Mapping[str, str] | None = None,
) -> M | None:
    """Validate ``data`` as ``model``; add every problem, located by ``where(field)``.

    ``pre`` holds problems already found for some fields (their values were left out of
    ``data``): they are reported instead of whatever pydantic says about those fields.
    Errors on fields in ``ignore`` (values filled in by the parser) are not reported.
    ``empty`` overrides the rule for a missing or empty field.
    """
    pre = pre or {}
    empty = empty or {}
    for name, rule in pre.items():
        problems.append(Problem(where(name), rule))
    try:
        built = model.model_validate(dict(data))
    except ValidationError as exc:
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else ""
            if name in pre or name in ignore:
                continue
            if name in empty and err["type"] in {"missing", "string_too_short"}:
                problems.append(Problem(where(name), empty[name]))
            else:
                problems.append(Problem(where(name), _rule(err)))
        return None
    return None if pre else built


def _area(value: object) -> Decimal | str:
    """A floor area as an exact, positive Decimal, or the rule it breaks."""
    if isinstance(value, bool):
        return _AREA_RULE
    if isinstance(value, float):
        return (
            f'{value!r} is a float: quote it, e.g. floor_area_m2: "{value}" '
            "(the ledger stores exact decimals, never floats)"
        )
    if isinstance(value, int):
        area = Decimal(value)
    elif isinstance(value, str):
        try:
            area = Decimal(value.strip())
        except InvalidOperation:
            return _AREA_RULE
        if not area.is_finite():
            return _AREA_RULE
    else:
        return _AREA_RULE
    if area <= 0:
        return "must be more than 0"
    return area


def _fail_if(problems: list[Problem]) -> None:
    if problems:
        raise InvalidInput(problems)


# --- YAML -----------------------------------------------------------------------------------------------------

_MERGE_TAG: Final = "tag:yaml.org,2002:merge"


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping (PyYAML keeps the last silently)."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG:
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
        except TypeError:  # an unhashable key; construct_mapping reports it
            continue
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _load_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}" if mark is not None else "document"
        col = f" (column {mark.column + 1})" if mark is not None else ""
        raise InvalidInput.one(where, f"not valid YAML{col}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise InvalidInput.one("document", f"not valid YAML: {exc}") from None


def parse_yaml_layout(text: str) -> Layout:
    """Parse a YAML layout (format in the module docstring).  Raises InvalidInput listing every problem."""
    doc = _load_yaml(text)
    if doc is None:
        raise InvalidInput.one("document", "is empty: expected facility and units")
    if not isinstance(doc, dict):
        raise InvalidInput.one("document", "must be a mapping with facility and units")
    return _YamlParser().parse(doc)


class _YamlParser:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.unit_at: dict[str, str] = {}  # unit_id -> where first given
        self.cell_at: dict[str, str] = {}  # cell_id -> where first given

    def problem(self, where: str, rule: str) -> None:
        self.problems.append(Problem(where, rule))

    def parse(self, doc: dict[Any, Any]) -> Layout:
        for key in doc:
            if key not in {"facility", "units"}:
                self.problem(str(key), "unknown field")

        facility: FacilityRegistered | None = None
        raw_facility = doc.get("facility")
        if raw_facility is None:
            self.problem("facility", "is required")
        elif not isinstance(raw_facility, dict):
            self.problem("facility", "must be a mapping")
        else:
            facility = _build(FacilityRegistered, raw_facility, lambda f: f"facility.{f}", self.problems)
        fid = facility.facility_id if facility else "?"

        units: list[UnitRegistered] = []
        cells: list[CellRegistered] = []
        raw_units = doc.get("units")
        if raw_units is None:
            self.problem("units", "is required")
        elif not isinstance(raw_units, list):
            self.problem("units", "must be a list of units")
        elif not raw_units:
            self.problem("units", "must list at least one unit")
        else:
            for i, raw in enumerate(raw_units):
                unit, unit_cells = self.unit(i, raw, fid)
                if unit is not None:
                    units.append(unit)
                cells.extend(unit_cells)

        _fail_if(self.problems)
        assert facility is not None
        return Layout(facility, tuple(units), tuple(cells))

    def unit(self, i: int, raw: object, fid: str) -> tuple[UnitRegistered | None, list[CellRegistered]]:
        at = f"units[{i}]"
        if not isinstance(raw, dict):
            self.problem(at, "must be a mapping")
            return None, []
        raw_id = raw.get("unit_id")
        label = raw_id if isinstance(raw_id, str) and raw_id.strip() else at
        fields = {k: v for k, v in raw.items() if k not in {"cells", "cell_series", "facility_id"}}
        if "facility_id" in raw:
            self.problem(f"{at}.facility_id", "leave it out: it is filled in from the facility")
        unit = _build(
            UnitRegistered,
            {**fields, "facility_id": fid},
            lambda f: f"{at}.{f}",
            self.problems,
            ignore=frozenset({"facility_id"}),
            empty={"name": f"unit {label} has no name"},
        )
        if isinstance(raw_id, str):
            if raw_id in self.unit_at:
                self.problem(f"{at}.unit_id", f"duplicate unit_id {raw_id} (also {self.unit_at[raw_id]})")
            else:
                self.unit_at[raw_id] = at
        uid = unit.unit_id if unit else "?"

        cells: list[CellRegistered] = []
        given = 0
        malformed = False
        raw_cells = raw.get("cells")
        if raw_cells is not None:
            if isinstance(raw_cells, list):
                given += len(raw_cells)
                for j, raw_cell in enumerate(raw_cells):
                    cell = self.cell(f"{at}.cells[{j}]", raw_cell, fid, uid)
                    if cell is not None:
                        cells.append(cell)
            else:
                self.problem(f"{at}.cells", "must be a list of cells")
                malformed = True
        raw_series = raw.get("cell_series")
        if raw_series is not None:
            if isinstance(raw_series, dict):
                given += 1
                cells.extend(self.series(f"{at}.cell_series", raw_series, fid, uid))
            elif isinstance(raw_series, list):
                given += len(raw_series)
                for k, one in enumerate(raw_series):
                    if isinstance(one, dict):
                        cells.extend(self.series(f"{at}.cell_series[{k}]", one, fid, uid))
                    else:
                        self.problem(f"{at}.cell_series[{k}]", "must be a mapping")
            else:
                self.problem(f"{at}.cell_series", "must be a mapping, or a list of them")
                malformed = True
        if not given and not malformed:
            self.problem(f"{at}.cells", f"unit {label} has no cells: give cells, cell_series or both")
        return unit, cells

    def cell(self, at: str, raw: object, fid: str, uid: str) -> CellRegistered | None:
        if not isinstance(raw, dict):
            self.problem(at, "must be a mapping")
            return None
        pre: dict[str, str] = {}
        data: dict[str, Any] = {}
        for key, value in raw.items():
            if key in {"facility_id", "unit_id"}:
                pre[str(key)] = "leave it out: it is filled in from the facility and the unit"
            elif key == "floor_area_m2":
                area = _area(value)
                if isinstance(area, str):
                    pre["floor_area_m2"] = area
                else:
                    data[key] = area
            else:
                data[key] = value
        data |= {"facility_id": fid, "unit_id": uid}
        ignore = frozenset({"facility_id", "unit_id"})
        cell = _build(CellRegistered, data, lambda f: f"{at}.{f}", self.problems, pre=pre, ignore=ignore)
        cid = raw.get("cell_id")
        if isinstance(cid, str):
            if cid in self.cell_at:
                self.problem(f"{at}.cell_id", f"duplicate cell_id {cid} (also {self.cell_at[cid]})")
            else:
                self.cell_at[cid] = at
        return cell

    def series(self, at: str, raw: dict[Any, Any], fid: str, uid: str) -> list[CellRegistered]:
        before = len(self.problems)
        for key in raw:
            if key not in _SERIES_KEYS:
                self.problem(f"{at}.{key}", "unknown field")

        def whole(name: str, default: int | None, low: int, high: int) -> int | None:
            value = raw.get(name, default)
            if value is None:
                self.problem(f"{at}.{name}", "is required")
                return None
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                self.problem(f"{at}.{name}", f"must be a whole number from {low} to {high}")
                return None
            return value

        count = whole("count", None, 1, MAX_SERIES_COUNT)
        start = whole("start", 1, 0, 10_000_000)
        digits = whole("digits", 1, 1, 9)
        prefix = raw.get("prefix")
        if prefix is None:
            self.problem(f"{at}.prefix", "is required")
        elif not isinstance(prefix, str):
            self.problem(f"{at}.prefix", "must be text (in YAML, quote it)")
            prefix = None

        pre: dict[str, str] = {}
        template: dict[str, Any] = {k: raw[k] for k in ("beds", "toilets", "single") if k in raw}
        if "floor_area_m2" in raw:
            area = _area(raw["floor_area_m2"])
            if isinstance(area, str):
                pre["floor_area_m2"] = area
            else:
                template["floor_area_m2"] = area
        filled = {"facility_id": fid, "unit_id": uid}
        ignore = frozenset({"facility_id", "unit_id"})
        if count is None or start is None or digits is None or prefix is None or pre:
            # still check the per-cell values once, so every problem is reported together
            _build(
                CellRegistered,
                {**template, **filled, "cell_id": "x"},
                lambda f: f"{at}.{f}",
                self.problems,
                pre=pre,
                ignore=ignore | {"cell_id"},
            )
            return []

        cells: list[CellRegistered] = []
        found: dict[str, Problem] = {}  # one problem per field, not one per generated cell
        duplicates: list[str] = []
        for n in range(start, start + count):
            cid = f"{prefix}{n:0{digits}d}"
            errs: list[Problem] = []
            cell = _build(CellRegistered, {**template, **filled, "cell_id": cid}, lambda f: f, errs, ignore=ignore)
            for p in errs:
                if p.field == "cell_id":
                    p = Problem(f"{at}.prefix", f"makes cell_id {cid!r}, which {p.rule}")
                else:
                    p = Problem(f"{at}.{p.field}", p.rule)
                found.setdefault(p.field, p)
            if cid in self.cell_at:
                duplicates.append(cid)
            else:
                self.cell_at[cid] = at
            if cell is not None:
                cells.append(cell)
        self.problems.extend(found.values())
        if duplicates:
            first = duplicates[0]
            more = f" and {len(duplicates) - 1} more" if len(duplicates) > 1 else ""
            self.problem(at, f"duplicate cell_id {first} (also {self.cell_at[first]}){more}")
        return cells if len(self.problems) == before else []


# --- CSV ------------------------------------------------------------------------------------------------------


def _rows(text: str) -> list[tuple[int, list[str]]]:
    """Non-blank CSV records with the (1-based) line each starts on."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    out: list[tuple[int, list[str]]] = []
    end = 0
    while True:
        start = end + 1
        try:
            row = next(reader)
        except StopIteration:
            return out
        except csv.Error as exc:
            raise InvalidInput.one(f"line {reader.line_num}", f"not valid CSV: {exc}") from None
        end = reader.line_num
        if any(cell.strip() for cell in row):
            out.append((start, row))


def _csv_value(column: str, text: str) -> tuple[object, str | None]:
    """A CSV cell as the value the model expects, or the rule it breaks."""
    if column in {"declared_capacity", "beds", "toilets"}:
        return (int(text), None) if _WHOLE.fullmatch(text) else (None, "must be a whole number ≥ 0")
    if column == "floor_area_m2":
        area = _area(text)
        return (None, area) if isinstance(area, str) else (area, None)
    if column == "single":
        low = text.lower()
        if low in _TRUE:
            return True, None
        if low in _FALSE:
            return False, None
        return None, "must be true or false"
    return text, None


def _csv_fields(values: Mapping[str, str], columns: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Model data and pre-found problems for ``columns`` (model field -> CSV column); blanks are left out."""
    data: dict[str, Any] = {}
    pre: dict[str, str] = {}
    for name, column in columns.items():
        text = values[column]
        if not text:
            continue
        value, rule = _csv_value(column, text)
        if rule is None:
            data[name] = value
        else:
            pre[name] = rule
    return data, pre


def parse_csv_layout(text: str) -> Layout:
    """Parse a CSV layout, one row per cell (format in the module docstring).  Raises InvalidInput."""
    rows = _rows(text)
    if not rows:
        raise InvalidInput.one("line 1", "is empty: expected the header " + ",".join(CSV_COLUMNS))
    problems: list[Problem] = []
    header_line, raw_header = rows[0]
    header = [h.strip() for h in raw_header]
    for k, name in enumerate(header):
        if name not in CSV_COLUMNS:
            problems.append(Problem(f"line {header_line}: {name or f'column {k + 1}'}", "unknown column"))
        elif name in header[:k]:
            problems.append(Problem(f"line {header_line}: {name}", "column given twice"))
    problems.extend(Problem(f"line {header_line}: {c}", "column is missing") for c in CSV_COLUMNS if c not in header)
    _fail_if(problems)
    if len(rows) == 1:
        raise InvalidInput.one(f"line {header_line + 1}", "no cell rows: a layout needs at least one cell")

    # The CSV carries the required facility facts; optional ones (country) are for YAML layouts.
    facility_fields = {
        f: _FACILITY_FIELD_COLUMN.get(f, f) for f, info in FacilityRegistered.model_fields.items() if info.is_required()
    }
    unit_fields = {f: _UNIT_FIELD_COLUMN.get(f, f) for f in ("unit_id", "name", "kind")}
    cell_fields = {f: f for f in ("cell_id", "beds", "floor_area_m2", "single", "toilets")}
    filled = frozenset({"facility_id", "unit_id"})

    facility: FacilityRegistered | None = None
    fid = "?"
    first: tuple[int, dict[str, str]] | None = None
    unit_first: dict[str, tuple[int, dict[str, str]]] = {}
    units: dict[str, UnitRegistered | None] = {}
    cells: dict[str, list[CellRegistered]] = {}
    cell_line: dict[str, int] = {}

    for line, row in rows[1:]:
        if len(row) != len(header):
            problems.append(Problem(f"line {line}", f"has {len(row)} fields; the header has {len(header)}"))
            continue
        values = {name: cell.strip() for name, cell in zip(header, row, strict=True)}

        def at(column: str, line: int = line) -> str:
            return f"line {line}: {column}"

        if first is None:
            first = (line, values)
            data, pre = _csv_fields(values, facility_fields)
            facility = _build(
                FacilityRegistered, data, lambda f: at(_FACILITY_FIELD_COLUMN.get(f, f)), problems, pre=pre
            )
            fid = facility.facility_id if facility else "?"
        else:
            first_line, first_values = first
            for column in _FACILITY_COLUMNS:
                if values[column] != first_values[column]:
                    was = first_values[column]
                    problems.append(
                        Problem(at(column), f"must be the same on every row: line {first_line} has {was!r}")
                    )

        uid = values["unit_id"]
        if not uid:
            problems.append(Problem(at("unit_id"), "is required"))
            continue
        if uid not in unit_first:
            unit_first[uid] = (line, values)
            data, pre = _csv_fields(values, unit_fields)
            units[uid] = _build(
                UnitRegistered,
                {**data, "facility_id": fid},
                lambda f: at(_UNIT_FIELD_COLUMN.get(f, f)),
                problems,
                pre=pre,
                ignore=frozenset({"facility_id"}),
                empty={"name": f"unit {uid} has no name"},
            )
            cells[uid] = []
        else:
            first_line, first_values = unit_first[uid]
            for column in ("unit_name", "unit_kind"):
                if values[column] != first_values[column]:
                    was = first_values[column]
                    rule = f"must be the same on every row of unit {uid}: line {first_line} has {was!r}"
                    problems.append(Problem(at(column), rule))

        data, pre = _csv_fields(values, cell_fields)
        cell = _build(
            CellRegistered, {**data, "facility_id": fid, "unit_id": uid}, at, problems, pre=pre, ignore=filled
        )
        cid = values["cell_id"]
        if cid:
            if cid in cell_line:
                problems.append(Problem(at("cell_id"), f"duplicate cell_id {cid} (also line {cell_line[cid]})"))
            else:
                cell_line[cid] = line
        if cell is not None:
            cells[uid].append(cell)

    _fail_if(problems)
    assert facility is not None
    built_units = tuple(u for u in units.values() if u is not None)
    return Layout(facility, built_units, tuple(c for u in built_units for c in cells[u.unit_id]))


def format_csv_layout(layout: Layout) -> str:
    """Write ``layout`` in the CSV format :func:`parse_csv_layout` reads (cells grouped by unit).

    Raises ValueError if a unit has a declared capacity: the CSV format has no column for it.
    """
    for i, u in enumerate(layout.units):
        if u.declared_capacity is not None:
            raise ValueError(f"units[{i}] ({u.unit_id}) has a declared capacity; the CSV format cannot hold it")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    f = layout.facility
    units = {u.unit_id: u for u in layout.units}
    for u in layout.units:
        for c in layout.cells_of(u.unit_id):
            writer.writerow(
                (
                    f.facility_id,
                    f.name,
                    f.responsible_authority,
                    f.declared_capacity,
                    f.jurisdiction,
                    f.place,
                    c.unit_id,
                    units[c.unit_id].name,
                    units[c.unit_id].kind,
                    c.cell_id,
                    c.beds,
                    format(c.floor_area_m2.normalize(), "f"),
                    "true" if c.single else "false",
                    c.toilets,
                )
            )
    return out.getvalue()


# --- files ----------------------------------------------------------------------------------------------------


def load_layout(path: Path) -> Layout:
    """Read a layout file: ``.yaml``/``.yml`` as YAML, ``.csv`` as CSV.  Raises InvalidInput (or OSError)."""
    suffix = path.suffix.lower()
    if suffix in {".yaml", ".yml"}:
        return parse_yaml_layout(path.read_text(encoding="utf-8"))
    if suffix == ".csv":
        return parse_csv_layout(path.read_text(encoding="utf-8"))
    raise InvalidInput.one("path", f"unknown layout format {suffix or '(no suffix)'!r}: use .yaml, .yml or .csv")
