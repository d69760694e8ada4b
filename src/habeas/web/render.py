"""Rendering a page: one Jinja environment per language, the layout's context, the cookies it sets."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from habeas.domain.access import Principal
from habeas.web import i18n
from habeas.web.nav import menu
from habeas.web.session import BROWSER_COOKIE, csrf_token, optional_principal, web_config
from habeas.web.words import GLOBALS

TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment(lang: str, timezone: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "svg"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    # ``_("literal")`` is for the templates' own text: newstyle gettext marks its result safe HTML and
    # %-formats it.  Text chosen at run time (a service's refusal, a stored code) goes through
    # ``message(text)``: translated when the catalog has it, and escaped like any other value.
    env.globals["message"] = i18n.gettext_for(lang)
    fmt = i18n.Formatter(lang, timezone)
    env.globals.update(GLOBALS)
    env.filters.update(date=fmt.date, datetime=fmt.datetime, month=fmt.month, number=fmt.number, percent=fmt.percent)
    return env


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200,
    who: Principal | None = None,
) -> HTMLResponse:  # fmt: skip
    """Render ``template`` in the reader's language inside the base layout's context.

    ``who`` is the signed-in account when the route already has it (guarded pages);
    otherwise the session cookie is read, so public pages show the right menu too.
    """
    config = web_config(request)
    lang = i18n.negotiate(request)
    if who is None:
        who = getattr(request.state, "principal", None) or optional_principal(request)
    token = csrf_token(request)

    def csrf_field() -> Markup:
        return Markup('<input type="hidden" name="csrf" value="{}">').format(token)

    page = environment(lang, config.timezone).get_template(template)
    html = page.render(
        request=request, lang=lang, languages=i18n.NAMES, who=who, menu=menu(who), csrf_field=csrf_field,
        here=request.url.path + (f"?{request.url.query}" if request.url.query else ""), **(context or {}),
    )  # fmt: skip
    response = HTMLResponse(html, status_code=status)
    response.headers["Content-Language"] = lang
    response.headers["Cache-Control"] = "no-store"  # pages may show personal records
    new_browser = getattr(request.state, "new_browser_id", None)
    if new_browser:
        response.set_cookie(BROWSER_COOKIE, new_browser, httponly=True, samesite="strict", secure=config.secure_cookies)
    return response
