"""The catalogs: every string of the pages has a Spanish translation, and the catalogs are up to date.

Fails when a template or module gains a string that ``scripts/translations`` has not
merged into both catalogs, when a Spanish entry is empty or fuzzy, or when a
translation drops or renames a ``%(placeholder)s``.
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.catalog import Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import habeas.web
from habeas.reports.locator import PUBLIC_STATUS
from habeas.web import i18n

WEB = Path(habeas.web.__file__).parent
METHODS = [("templates/**.html", "jinja2"), ("**.py", "python")]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def extracted() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(WEB), METHODS, options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def catalog(lang: str) -> dict[str, Message]:
    with (i18n.CATALOGS / lang / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return {m.id: m for m in read_po(po, locale=lang) if m.id}


def test_the_catalogs_hold_exactly_the_strings_of_the_pages() -> None:
    wanted = extracted()
    assert len(wanted) > 50, "extraction found the templates and modules"
    for lang in i18n.LANGUAGES:
        have = set(catalog(lang))
        assert not wanted - have, f"{lang}: run scripts/translations; missing {sorted(wanted - have)[:5]}"
        assert not have - wanted, f"{lang}: run scripts/translations; obsolete {sorted(have - wanted)[:5]}"


def test_every_string_has_a_spanish_translation_with_the_same_placeholders() -> None:
    for msgid, message in catalog("es").items():
        assert isinstance(message.string, str) and message.string and not message.fuzzy, f"no Spanish for {msgid!r}"
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(message.string)), msgid


def test_what_the_locator_tells_families_is_translated() -> None:
    spanish = i18n.translations("es")
    for status in set(PUBLIC_STATUS.values()):
        assert spanish.gettext(status) != status, status
