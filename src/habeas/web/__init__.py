"""The web interface: server-rendered pages in Spanish and English, in the same app as the API.

``api.app.create_app`` calls :func:`install`, which adds the routers of ``web/routes/``,
``/static`` and the pages' error handlers.  Pages are left out of the OpenAPI schema
(``include_in_schema=False`` on every router) so the API's contract tests do not see them.
No page needs JavaScript; every form is a plain POST that redirects or re-renders.

Where things are
----------------
- ``routes/<area>.py``  one module per area, each with ``router = APIRouter(include_in_schema=False)``;
  add the router to ``ROUTERS`` below.  (``account``: sign-in/out and the language switch;
  ``public``: the family locator at ``/`` and ``/statistics``; the others as commented in ``ROUTERS``.)
- ``templates/``  Jinja2; every page ``{% extends "base.html" %}`` and fills ``title`` and ``main``.
  The base layout has the skip link, ``<main id="main">``, the menu, the language switch and sign-out.
  ``_macros.html`` holds the shared macros: ``field_error(errors, name)``/``invalid(errors, name)``
  and ``error_summary`` for forms (``errors`` maps a field to its rule), ``column_heads`` for tables,
  ``severity_figures`` for alert counts.
- ``static/habeas.css``  the one stylesheet (contrast ≥ 7:1, visible focus, fits a phone).
- ``summaries.py``, ``person.py``, ``facility.py``  read models for pages (SQL, no HTML);
  ``charts.py``  server-side SVG bar charts;
  ``words.py``  translated names of the register's codes (roles, statuses, severities, order kinds).

Adding a page (e.g. ``/alerts``)
--------------------------------
1. In ``routes/<area>.py``::

       @router.get("/alerts")
       def alerts_page(request: Request, who: Annotated[Principal, page_guard(Permission.ALERTS_READ)]) -> Response:
           with app_state(request).config.engine.begin() as conn:
               rows = ...                                     # read through services/ or summaries.py
               log_page_reads(request, who, [r.person_id for r in rows], conn=conn)
           return render(request, "alerts.html", {"rows": rows}, who=who)

   ``page_guard(permission)`` (``session.py``) takes one permission from ``domain.access.POLICY``:
   no session (or an expired, revoked or disabled one) redirects to ``/sign-in?next=...``; a role
   without the permission gets the 403 page.  ``signed_in()`` admits any signed-in account.
   Scoped roles (court, liaison: ``domain.access.SCOPED``) must be narrowed as the API does
   (``services/scopes.py``).
2. Every POST route declares ``dependencies=[csrf_protected()]`` and its form contains
   ``{{ csrf_field() }}`` (an HMAC of the session under ``WebConfig.secret``).  A refused token
   renders the 400 page before the route body runs, so nothing changes.
3. Every page that shows a person (a name, a record) calls ``access_log.log_page_reads`` with the
   ids shown, inside the read's transaction when there is one: the access log must list every
   read of a personal record, through the API or a page.
4. Add a ``NavItem`` to ``nav.NAV`` with the same permission, so the menu only offers what opens.

Strings and languages
---------------------
Write English msgids: ``{{ _("Open alerts") }}`` in templates (``%(name)s`` placeholders:
``_("As of %(now)s.", now=...)``), ``_``/``N_`` from ``i18n`` in Python (``N_`` marks a string that is
translated where it is shown).  Then run ``scripts/translations`` (pybabel extract + update of
``translations/{en,es}/LC_MESSAGES/messages.po``) and translate the new Spanish entries;
``tests/web/test_translations.py`` fails while any is missing or a catalog is stale.  The .po
files are compiled in memory at start-up: no build step.  Format with the filters ``|date``,
``|datetime``, ``|month``, ``|number``, ``|percent`` (CLDR per language, facility time zone).
The language is the ``lang`` cookie (the switch), else Accept-Language, else Spanish.

Tests
-----
``tests/web/support.py`` builds a seeded site (CECOT's layout, synthetic people, one account
per role) and ``sign_in``/``csrf_of`` for TestClient tests; ``tests/web/conftest.py``'s ``site``
runs each test on SQLite and PostgreSQL (``support.module_engine`` for a module-scoped register).
``tests/web/browser/conftest.py`` gives the browser fixtures (marker ``browser``): ``server_url``
(live uvicorn, ``browser/live_server.serving``), ``new_page(lang)``,
``page_as(role, lang)`` (signed in through the form) and ``check_page(page, name)``, which saves
``test-artifacts/screenshots/<lang>-<name>.png`` and fails on serious or critical axe-core
violations.  Call ``check_page`` on every new page in both languages, and look at the screenshots.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from habeas.web.config import WebConfig
from habeas.web.render import render
from habeas.web.routes import account, dashboard, public
from habeas.web.routes import alerts as alert_pages
from habeas.web.routes import facility as facility_pages
from habeas.web.routes import intake as intake_pages
from habeas.web.routes import liaison as liaison_pages
from habeas.web.routes import orders as order_pages
from habeas.web.routes import oversight as oversight_pages
from habeas.web.routes import person as person_pages
from habeas.web.session import SESSION_COOKIE, CsrfRefused, PageForbidden, SignInRequired

ROUTERS: tuple[APIRouter, ...] = (account.router, public.router, dashboard.router)
ROUTERS += (intake_pages.router,)  # /intake: the admission form and manifest upload
ROUTERS += (person_pages.router,)  # /people/{id}: the person page
ROUTERS += (facility_pages.router,)  # /facility-map, /facilities/{id}/map
ROUTERS += (order_pages.router,)  # /orders: court orders and their execution (R26)
ROUTERS += (liaison_pages.router,)  # /sending-state: transferees, agreements, invoices (R27)
ROUTERS += (oversight_pages.router,)  # /oversight: ledger checks, proofs, access log, inspections
ROUTERS += (alert_pages.router,)  # /alerts: open alerts, acknowledge and resolve
STATIC = Path(__file__).parent / "static"

__all__ = ["ROUTERS", "WebConfig", "install"]


def install(app: FastAPI, config: WebConfig | None = None) -> None:
    """Add the pages, /static and the pages' error handlers to ``app`` (built by ``api.app.create_app``)."""
    app.state.habeas_web = config or WebConfig()
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(SignInRequired, _to_sign_in)  # type: ignore[arg-type]
    app.add_exception_handler(PageForbidden, _forbidden)  # type: ignore[arg-type]
    app.add_exception_handler(CsrfRefused, _csrf_refused)  # type: ignore[arg-type]


def _to_sign_in(request: Request, exc: SignInRequired) -> Response:
    stale = SESSION_COOKIE in request.cookies  # expired, revoked or disabled: say so on the sign-in page
    target = f"/sign-in?next={quote(exc.next_path, safe='/')}" + ("&expired=1" if stale else "")
    response = RedirectResponse(target, 303)
    if stale:
        response.delete_cookie(SESSION_COOKIE)
    return response


def _forbidden(request: Request, exc: PageForbidden) -> Response:
    return render(request, "error.html", {"kind": "forbidden"}, status=403)


def _csrf_refused(request: Request, exc: CsrfRefused) -> Response:
    return render(request, "error.html", {"kind": "csrf"}, status=400)
