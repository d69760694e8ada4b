"""Read jurisdiction policies from TOML files: ``habeas/policy/jurisdictions/<code>.toml``.

:func:`parse_policy` is pure (text in, :class:`~habeas.domain.policy.Policy` out);
:func:`load_policy` and :func:`available_jurisdictions` read the files shipped as package data
(through :mod:`importlib.resources`).  Adding a jurisdiction is adding a file.

A bad file raises :class:`~habeas.errors.InvalidInput` listing *every* problem found, each
naming its TOML path — ``decrees[3].in_force_from: must carry a UTC offset …`` (array
indices count from 0, in file order) — and the rule it breaks.  Refused: TOML syntax errors,
unknown keys (a typo must not silently drop a rule), missing keys, wrong types, times
without a UTC offset, bare dates, durations that are not ISO 8601 (or that use months where
elapsed time is meant), a period ending before it starts, a decree number given twice,
overlapping decrees that disagree, a decree suspending the administrative-detention article
without saying its maximum (or a maximum on one that does not), extensions for unknown
offence classes, unknown time zones, rival "pairs" that are not two different groups.

File format
===========
Top level: ``code``, ``name``, ``time_zone`` (IANA), optional ``description``, and the tables
below.  Times are TOML offset date-times (``2022-03-27T00:00:00-06:00``); durations are ISO
8601 strings (``"PT72H"``, ``"P15D"``, ``"P12M"``); areas are TOML numbers, read exactly
(``3.4`` is the decimal 3.4, never a binary float).

``[limits.<name>]`` with ``max`` and ``basis`` (the article, or "policy choice: …") for
``administrative_detention`` (also ``article``, the guarantee whose suspension lifts it, and
optional ``suspended_basis``), ``judicial_decision``, ``family_notification``,
``rights_information``, ``medical_examination``, ``injury_referral``, ``complaint_answer``,
``information_request_answer``, ``oversight_request_answer``; and
``[limits.provisional_detention.<offence class>]`` with ``max`` (may be in months) and ``basis``.

``[space]`` (all optional, ICRC and CPT defaults): ``icrc_shared_m2``, ``icrc_single_m2``,
``cpt_shared_m2``, ``cpt_single_m2``, ``critical_shared_m2``, ``capacity_standard``
("icrc" | "cpt"), ``basis``.  ``[sentencing]``: optional ``single_term_min``,
``single_term_max``, ``aggregate_cap``; ``perpetual_penalties_forbidden``; ``basis``.
``[separation]``: ``separate_legal_status`` (default true), ``rival_groups`` (a list of
two-name lists, default none), ``basis``.

``[[decrees]]``: ``number``, ``title``, ``in_force_from``, optional ``in_force_to`` (the first
instant *not* in force), ``suspended_articles``, ``administrative_max`` (when the decree
suspends the administrative article), ``source``.  ``[[extensions]]``: ``name``, ``applies_to``
("provisional_detention"), ``in_force_from``, optional ``in_force_to``, ``period``,
``counted_from`` ("detention" | "ordinary_limit" | "in_force_from"), optional
``offence_classes`` and ``scope``, ``source``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache, partial
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Final, TypeVar, cast
from zoneinfo import ZoneInfo

from habeas.domain.policy import (
    COUNTED_FROM,
    EXTENSION_TARGETS,
    SPACE_STANDARDS,
    CountedFrom,
    Decree,
    Extension,
    ExtensionTarget,
    Limit,
    Period,
    PeriodLimit,
    Policy,
    SentencingRules,
    SeparationRules,
    SpaceStandard,
    SpaceStandards,
    TimeLimits,
    decree_problems,
)
from habeas.errors import InvalidInput, NotFound, Problem

__all__ = ["available_jurisdictions", "load_policy", "parse_policy"]

_PACKAGE: Final = "habeas.policy"
_DIRECTORY: Final = "jurisdictions"
_CODE: Final = re.compile(r"[a-z][a-z0-9_-]{1,31}")

_REQUIRED_TOP: Final = ("code", "name", "time_zone", "limits", "space", "sentencing", "separation")
_OPTIONAL_TOP: Final = ("description", "decrees", "extensions")
_WINDOW_LIMITS: Final = (
    "judicial_decision",
    "family_notification",
    "rights_information",
    "medical_examination",
    "injury_referral",
    "complaint_answer",
    "information_request_answer",
    "oversight_request_answer",
)
_DECREE_KEYS: Final = ("number", "title", "in_force_from", "suspended_articles", "source")
_DECREE_OPTIONAL: Final = ("in_force_to", "administrative_max")
_EXTENSION_KEYS: Final = ("name", "applies_to", "in_force_from", "period", "counted_from", "source")
_EXTENSION_OPTIONAL: Final = ("in_force_to", "offence_classes", "scope")
_SPACE_DEFAULTS: Final = SpaceStandards()

T = TypeVar("T")


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _kind(value: object) -> str:
    """The TOML name of a value's type, for messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, Decimal | float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, datetime):
        return "a local date-time" if value.utcoffset() is None else "an offset date-time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, time):
        return "a time"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


class _Reader:
    """Typed access to parsed TOML that records every problem with its path instead of stopping."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, path: str, rule: str) -> None:
        self.problems.append(Problem(path, rule))

    def table(self, value: object, path: str) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.fail(path, f"must be a table, not {_kind(value)}")
            return None
        return cast(dict[str, Any], value)

    def keys(self, table: Mapping[str, Any], path: str, required: tuple[str, ...], optional: tuple[str, ...]) -> None:
        known = set(required) | set(optional)
        for key in table:
            if key not in known:
                self.fail(_join(path, key), f"unknown key; expected one of {sorted(known)}")
        for key in required:
            if key not in table:
                self.fail(_join(path, key), "required")

    def get(self, table: Mapping[str, Any], path: str, key: str, convert: Callable[[Any, str], T | None]) -> T | None:
        """``convert(table[key])``, or None when the key is absent (missing keys are reported by :meth:`keys`)."""
        if key not in table:
            return None
        return convert(table[key], _join(path, key))

    def text(self, value: object, path: str) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.fail(path, f"must be a non-empty string, not {_kind(value)}" + (" ''" if value == "" else ""))
            return None
        return value

    def boolean(self, value: object, path: str) -> bool | None:
        if not isinstance(value, bool):
            self.fail(path, f"must be true or false, not {_kind(value)}")
            return None
        return value

    def instant(self, value: object, path: str) -> datetime | None:
        if isinstance(value, datetime):
            if value.utcoffset() is None:
                self.fail(
                    path,
                    f"must carry a UTC offset (e.g. {value.isoformat(timespec='seconds')}-06:00); "
                    "a local time without one is ambiguous",
                )
                return None
            return value
        if isinstance(value, date):
            self.fail(
                path, f"must be a date-time with a UTC offset (e.g. {value.isoformat()}T00:00:00-06:00), not a date"
            )
            return None
        self.fail(path, f"must be a TOML offset date-time such as 2022-03-27T00:00:00-06:00, not {_kind(value)}")
        return None

    def period(self, value: object, path: str, *, exact: bool) -> Period | None:
        if not isinstance(value, str):
            self.fail(
                path, f"must be an ISO 8601 duration string such as 'PT72H', 'P15D' or 'P12M', not {_kind(value)}"
            )
            return None
        try:
            period = Period.parse(value)
        except ValueError as exc:
            self.fail(path, f"must be {exc}")
            return None
        if period.is_zero:
            self.fail(path, f"must be longer than zero, not {value!r}")
            return None
        if exact and not period.is_exact:
            self.fail(path, f"must be elapsed time (weeks, days, hours, minutes), not calendar months: {value!r}")
            return None
        return period

    def exact(self, value: object, path: str) -> timedelta | None:
        period = self.period(value, path, exact=True)
        return None if period is None else period.exact

    def calendar(self, value: object, path: str) -> Period | None:
        return self.period(value, path, exact=False)

    def area(self, value: object, path: str) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self.fail(path, f"must be a number of m² such as 3.4, not {_kind(value)}")
            return None
        number = Decimal(value)
        if not number.is_finite() or number <= 0:
            self.fail(path, f"must be a finite number > 0, not {value}")
            return None
        return number

    def strings(self, value: object, path: str) -> frozenset[str] | None:
        if not isinstance(value, list):
            self.fail(path, f"must be an array of strings, not {_kind(value)}")
            return None
        found: list[str] = []
        ok = True
        for i, item in enumerate(value):
            text = self.text(item, _join(path, i))
            if text is None:
                ok = False
            elif text in found:
                self.fail(_join(path, i), f"{text!r} is given twice")
                ok = False
            else:
                found.append(text)
        return frozenset(found) if ok else None

    def choice(self, value: object, path: str, allowed: frozenset[str]) -> str | None:
        if not isinstance(value, str) or value not in allowed:
            shown = repr(value) if isinstance(value, str) else _kind(value)
            self.fail(path, f"must be one of {sorted(allowed)}, not {shown}")
            return None
        return value

    def array_of_tables(self, value: object, path: str) -> Iterator[tuple[int, str, dict[str, Any]]]:
        if not isinstance(value, list):
            self.fail(path, f"must be an array of tables ([[{path}]]), not {_kind(value)}")
            return
        for i, item in enumerate(value):
            table = self.table(item, _join(path, i))
            if table is not None:
                yield i, _join(path, i), table

    def build(self, path: str, make: Callable[[], T]) -> T | None:
        """Construct a domain value; its own refusals are reported under ``path``."""
        try:
            return make()
        except InvalidInput as exc:
            for problem in exc.problems:
                self.fail(_join(path, problem.field), problem.rule)
            return None


# --- sections -----------------------------------------------------------------------------------------------


def _limit(reader: _Reader, value: object, path: str, extra: tuple[str, ...] = ()) -> Limit | None:
    table = reader.table(value, path)
    if table is None:
        return None
    reader.keys(table, path, ("max", "basis"), extra)
    duration = reader.get(table, path, "max", reader.exact)
    basis = reader.get(table, path, "basis", reader.text)
    if duration is None or basis is None:
        return None
    return reader.build(path, lambda: Limit(duration, basis))


def _limits(reader: _Reader, value: object) -> TimeLimits | None:
    path = "limits"
    table = reader.table(value, path)
    if table is None:
        return None
    reader.keys(table, path, ("administrative_detention", "provisional_detention", *_WINDOW_LIMITS), ())
    admin_path = _join(path, "administrative_detention")
    admin_table = table.get("administrative_detention")
    admin = article = None
    suspended_basis: str | None = ""
    if admin_table is not None:
        admin = _limit(reader, admin_table, admin_path, ("article", "suspended_basis"))
        if isinstance(admin_table, dict):
            if "article" not in admin_table:
                reader.fail(_join(admin_path, "article"), "required")
            article = reader.get(admin_table, admin_path, "article", reader.text)
            if "suspended_basis" in admin_table:
                suspended_basis = reader.get(admin_table, admin_path, "suspended_basis", reader.text)
    windows = {key: reader.get(table, path, key, lambda v, p: _limit(reader, v, p)) for key in _WINDOW_LIMITS}
    provisional: dict[str, PeriodLimit] = {}
    provisional_ok = "provisional_detention" in table
    if provisional_ok:
        classes_path = _join(path, "provisional_detention")
        classes = reader.table(table["provisional_detention"], classes_path)
        provisional_ok = classes is not None
        for name, item in (classes or {}).items():
            class_path = _join(classes_path, name)
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", name):
                reader.fail(class_path, "an offence class is a lowercase name such as 'serious' or 'less_serious'")
            item_table = reader.table(item, class_path)
            if item_table is None:
                provisional_ok = False
                continue
            reader.keys(item_table, class_path, ("max", "basis"), ())
            period = reader.get(item_table, class_path, "max", reader.calendar)
            basis = reader.get(item_table, class_path, "basis", reader.text)
            if period is None or basis is None:
                provisional_ok = False
                continue
            built = reader.build(class_path, partial(PeriodLimit, period, basis))
            if built is not None:
                provisional[name] = built
    if admin is None or article is None or suspended_basis is None or not provisional_ok:
        return None
    if any(limit is None for limit in windows.values()):
        return None
    w = cast(dict[str, Limit], windows)
    return reader.build(
        path,
        lambda: TimeLimits(
            administrative_detention=admin,
            administrative_article=article,
            judicial_decision=w["judicial_decision"],
            provisional_detention=provisional,
            family_notification=w["family_notification"],
            rights_information=w["rights_information"],
            medical_examination=w["medical_examination"],
            injury_referral=w["injury_referral"],
            complaint_answer=w["complaint_answer"],
            information_request_answer=w["information_request_answer"],
            oversight_request_answer=w["oversight_request_answer"],
            administrative_suspended_basis=suspended_basis,
        ),
    )


def _space(reader: _Reader, value: object) -> SpaceStandards | None:
    path = "space"
    table = reader.table(value, path)
    if table is None:
        return None
    areas = ("icrc_shared_m2", "icrc_single_m2", "cpt_shared_m2", "cpt_single_m2", "critical_shared_m2")
    reader.keys(table, path, (), (*areas, "capacity_standard", "basis"))
    values: dict[str, Decimal] = {}
    ok = True
    for key in areas:
        number = reader.get(table, path, key, reader.area)
        if key in table and number is None:
            ok = False
        values[key] = number if number is not None else getattr(_SPACE_DEFAULTS, key)
    standard = _SPACE_DEFAULTS.capacity_standard
    if "capacity_standard" in table:
        chosen = reader.get(table, path, "capacity_standard", lambda v, p: reader.choice(v, p, SPACE_STANDARDS))
        ok = ok and chosen is not None
        standard = cast(SpaceStandard, chosen or standard)
    basis = _SPACE_DEFAULTS.basis
    if "basis" in table:
        given = reader.get(table, path, "basis", reader.text)
        ok = ok and given is not None
        basis = given or basis
    if not ok:
        return None
    return reader.build(path, lambda: SpaceStandards(**values, capacity_standard=standard, basis=basis))


def _sentencing(reader: _Reader, value: object, time_zone: str | None) -> SentencingRules | None:
    path = "sentencing"
    table = reader.table(value, path)
    if table is None:
        return None
    terms = ("single_term_min", "single_term_max", "aggregate_cap")
    reader.keys(table, path, ("perpetual_penalties_forbidden", "basis"), terms)
    periods = {key: reader.get(table, path, key, reader.calendar) for key in terms}
    ok = all(periods[key] is not None for key in terms if key in table)
    forbidden = reader.get(table, path, "perpetual_penalties_forbidden", reader.boolean)
    basis = reader.get(table, path, "basis", reader.text)
    low, high = periods["single_term_min"], periods["single_term_max"]
    comparable = low is not None and high is not None and low.is_exact == high.is_exact
    if comparable and low is not None and high is not None and (low.months, low.exact) >= (high.months, high.exact):
        reader.fail(_join(path, "single_term_max"), f"must be longer than single_term_min ({low})")
        ok = False
    if not ok or forbidden is None or basis is None or time_zone is None:
        return None
    return reader.build(
        path,
        lambda: SentencingRules(
            time_zone=time_zone,
            single_term_min=periods["single_term_min"],
            single_term_max=periods["single_term_max"],
            aggregate_cap=periods["aggregate_cap"],
            perpetual_penalties_forbidden=forbidden,
            basis=basis,
        ),
    )


def _separation(reader: _Reader, value: object) -> SeparationRules | None:
    path = "separation"
    table = reader.table(value, path)
    if table is None:
        return None
    reader.keys(table, path, (), ("separate_legal_status", "rival_groups", "basis"))
    ok = True
    separate = True
    if "separate_legal_status" in table:
        given = reader.get(table, path, "separate_legal_status", reader.boolean)
        ok = given is not None
        separate = bool(given)
    pairs: set[frozenset[str]] = set()
    if "rival_groups" in table:
        groups_path = _join(path, "rival_groups")
        groups = table["rival_groups"]
        if not isinstance(groups, list):
            reader.fail(groups_path, f"must be an array of two-name arrays, not {_kind(groups)}")
            ok = False
        else:
            for i, item in enumerate(groups):
                pair = reader.strings(item, _join(groups_path, i))
                if pair is None:
                    ok = False
                elif len(pair) != 2:
                    reader.fail(_join(groups_path, i), f"must name two different groups, not {len(pair)}")
                    ok = False
                elif pair in pairs:
                    reader.fail(_join(groups_path, i), f"the pair {sorted(pair)} is given twice")
                    ok = False
                else:
                    pairs.add(pair)
    basis = SeparationRules().basis
    if "basis" in table:
        given_basis = reader.get(table, path, "basis", reader.text)
        ok = ok and given_basis is not None
        basis = given_basis or basis
    if not ok:
        return None
    return reader.build(path, lambda: SeparationRules(separate, frozenset(pairs), basis))


def _decree(reader: _Reader, path: str, table: Mapping[str, Any]) -> Decree | None:
    reader.keys(table, path, _DECREE_KEYS, _DECREE_OPTIONAL)
    number = reader.get(table, path, "number", reader.text)
    title = reader.get(table, path, "title", reader.text)
    start = reader.get(table, path, "in_force_from", reader.instant)
    end = reader.get(table, path, "in_force_to", reader.instant)
    articles = reader.get(table, path, "suspended_articles", reader.strings)
    maximum = reader.get(table, path, "administrative_max", reader.exact)
    source = reader.get(table, path, "source", reader.text)
    optional_ok = ("in_force_to" not in table or end is not None) and (
        "administrative_max" not in table or maximum is not None
    )
    if None in (number, title, start, articles, source) or not optional_ok:
        return None
    assert number is not None and title is not None and start is not None and articles is not None
    assert source is not None
    return reader.build(path, lambda: Decree(number, title, start, end, articles, maximum, source))


def _extension(reader: _Reader, path: str, table: Mapping[str, Any]) -> Extension | None:
    reader.keys(table, path, _EXTENSION_KEYS, _EXTENSION_OPTIONAL)
    name = reader.get(table, path, "name", reader.text)
    target = reader.get(table, path, "applies_to", lambda v, p: reader.choice(v, p, EXTENSION_TARGETS))
    start = reader.get(table, path, "in_force_from", reader.instant)
    end = reader.get(table, path, "in_force_to", reader.instant)
    period = reader.get(table, path, "period", reader.calendar)
    counted = reader.get(table, path, "counted_from", lambda v, p: reader.choice(v, p, COUNTED_FROM))
    source = reader.get(table, path, "source", reader.text)
    classes = reader.get(table, path, "offence_classes", reader.strings)
    scope = reader.get(table, path, "scope", reader.text)
    optional_ok = all(
        key not in table or value is not None
        for key, value in (("in_force_to", end), ("offence_classes", classes), ("scope", scope))
    )
    if None in (name, target, start, period, counted, source) or not optional_ok:
        return None
    assert name is not None and start is not None and period is not None and source is not None
    return reader.build(
        path,
        lambda: Extension(
            name=name,
            applies_to=cast(ExtensionTarget, target),
            in_force_from=start,
            in_force_to=end,
            period=period,
            counted_from=cast(CountedFrom, counted),
            source=source,
            offence_classes=classes or frozenset(),
            scope=scope,
        ),
    )


def _time_zone(reader: _Reader, value: object, path: str) -> str | None:
    name = reader.text(value, path)
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ValueError, OSError, LookupError):
        reader.fail(path, f"must be an IANA time zone such as 'America/El_Salvador' or 'UTC', not {name!r}")
        return None
    return name


def parse_policy(text: str) -> Policy:
    """Read a policy from the text of a TOML file.  Pure.  Raises :class:`InvalidInput` listing every problem."""
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput.one("toml", f"not valid TOML: {exc}") from exc
    reader = _Reader()
    reader.keys(data, "", _REQUIRED_TOP, _OPTIONAL_TOP)
    code = reader.get(data, "", "code", reader.text)
    if code is not None and not _CODE.fullmatch(code):
        reader.fail("code", "2–32 characters: a lowercase letter, then lowercase letters, digits, '_' or '-'")
        code = None
    name = reader.get(data, "", "name", reader.text)
    time_zone = reader.get(data, "", "time_zone", lambda v, p: _time_zone(reader, v, p))
    description = reader.get(data, "", "description", reader.text) if "description" in data else ""
    limits = reader.get(data, "", "limits", lambda v, _: _limits(reader, v))
    space = reader.get(data, "", "space", lambda v, _: _space(reader, v))
    sentencing = reader.get(data, "", "sentencing", lambda v, _: _sentencing(reader, v, time_zone))
    separation = reader.get(data, "", "separation", lambda v, _: _separation(reader, v))

    decrees: list[tuple[str, Decree]] = []
    all_decrees_ok = True
    for _, path, table in reader.array_of_tables(data.get("decrees", []), "decrees"):
        decree = _decree(reader, path, table)
        all_decrees_ok = all_decrees_ok and decree is not None
        if decree is not None:
            decrees.append((path, decree))
    extensions: list[tuple[str, Extension]] = []
    all_extensions_ok = True
    for _, path, table in reader.array_of_tables(data.get("extensions", []), "extensions"):
        extension = _extension(reader, path, table)
        all_extensions_ok = all_extensions_ok and extension is not None
        if extension is not None:
            extensions.append((path, extension))

    # checks across records, over every record that could be read (so they are reported with the rest)
    if limits is not None:
        reader.problems.extend(
            decree_problems([d for _, d in decrees], limits.administrative_article, [p for p, _ in decrees])
        )
        classes = set(limits.provisional_detention)
        for path, extension in extensions:
            unknown = sorted(extension.offence_classes - classes)
            if unknown:
                reader.fail(
                    _join(path, "offence_classes"),
                    f"must be classes of limits.provisional_detention ({sorted(classes)}); unknown: {unknown}",
                )
    if reader.problems:
        raise InvalidInput(reader.problems)
    # every part read without a problem (anything missing was reported above)
    assert code is not None and name is not None and time_zone is not None and description is not None
    assert limits is not None and space is not None and sentencing is not None and separation is not None
    assert all_decrees_ok and all_extensions_ok
    policy = reader.build(
        "",
        lambda: Policy(
            code=code,
            name=name,
            time_zone=time_zone,
            limits=limits,
            space=space,
            sentencing=sentencing,
            separation=separation,
            decrees=tuple(d for _, d in decrees),
            extensions=tuple(e for _, e in extensions),
            description=description,
        ),
    )
    if policy is None:
        raise InvalidInput(reader.problems)
    return policy


# --- package data -------------------------------------------------------------------------------------------


def _directory() -> Traversable:
    return resources.files(_PACKAGE).joinpath(_DIRECTORY)


def available_jurisdictions() -> tuple[str, ...]:
    """The codes of the policies shipped with habeas (one ``<code>.toml`` each), sorted."""
    return tuple(
        sorted(
            item.name.removesuffix(".toml")
            for item in _directory().iterdir()
            if item.is_file() and item.name.endswith(".toml")
        )
    )


@cache
def _load(code: str) -> Policy:
    resource = _directory().joinpath(f"{code}.toml")
    if not resource.is_file():
        raise NotFound("jurisdiction policy", code)
    policy = parse_policy(resource.read_text(encoding="utf-8"))
    if policy.code != code:
        raise InvalidInput.one("code", f"the file {code}.toml declares code {policy.code!r}; they must match")
    return policy


def load_policy(code: str) -> Policy:
    """The policy of jurisdiction ``code`` (e.g. "slv", "intl").  Raises :class:`NotFound` if no file
    ``<code>.toml`` is shipped, :class:`InvalidInput` if the code is malformed or the file is bad.
    Policies are immutable, so each file is read once per process."""
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise InvalidInput.one(
            "code", "2–32 characters: a lowercase letter, then lowercase letters, digits, '_' or '-'"
        )
    return _load(code)
