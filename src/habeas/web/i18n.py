"""Languages: gettext catalogs read from the committed .po files, and the choice of language.

The catalogs are compiled in memory at start-up (babel), so running the server needs
no build step.  The language is the ``lang`` cookie set by the switch, else the
browser's Accept-Language negotiated by babel, else Spanish: the facility works in
Spanish, and English is first-class for the sending state's liaison and inspectors.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import dates, numbers
from babel.core import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from starlette.requests import Request

LANGUAGES = ("es", "en")
DEFAULT = "es"
LANG_COOKIE = "lang"
CATALOGS = Path(__file__).parent / "translations"
NAMES = {"es": "Español", "en": "English"}  # each language named in itself, for the switch


@cache
def translations(lang: str) -> gettext.GNUTranslations:
    """The catalog of ``lang`` from ``translations/<lang>/LC_MESSAGES/messages.po``."""
    with (CATALOGS / lang / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=lang)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)  # a fuzzy guess is not a translation
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def negotiate(request: Request) -> str:
    """The cookie set by the switch, else Accept-Language (RFC 9110 §12.5.4), else Spanish."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    header = request.headers.get("accept-language", "")
    wanted = []
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            wanted.append((quality, tag.strip()))
    preferred = [tag for _, tag in sorted(wanted, key=lambda w: -w[0])]
    return negotiate_locale(preferred, LANGUAGES, sep="-") or DEFAULT


class Formatter:
    """Dates, instants and numbers as a reader of ``lang`` writes them (CLDR via babel)."""

    def __init__(self, lang: str, timezone: str) -> None:
        self.lang = lang
        self.tz = ZoneInfo(timezone)

    def date(self, value: date | datetime | None, fmt: str = "medium") -> str:
        if value is None:
            return "—"
        if isinstance(value, datetime):
            value = value.astimezone(self.tz).date()
        return dates.format_date(value, fmt, locale=self.lang)

    def datetime(self, value: datetime | None, fmt: str = "medium") -> str:
        if value is None:
            return "—"
        return dates.format_datetime(value, fmt, tzinfo=self.tz, locale=self.lang)

    def month(self, value: str) -> str:
        """A 'YYYY-MM' month as the reader names it ("marzo de 2025", "March 2025")."""
        year, month = value.split("-")
        return dates.format_skeleton("yMMMM", date(int(year), int(month), 1), locale=self.lang)

    def number(self, value: int | Decimal | float | None) -> str:
        if value is None:
            return "—"
        return numbers.format_decimal(value, locale=self.lang)

    def percent(self, value: Decimal | None) -> str:
        """``value`` is already a percentage (e.g. 132.5 for 132.5 %)."""
        if value is None:
            return "—"
        return numbers.format_percent(value / 100, "#,##0.0 %", locale=self.lang)


def gettext_for(lang: str) -> Callable[[str], str]:
    return translations(lang).gettext


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here (it is translated where shown)."""
    return message
