"""Every page through the app (TestClient), on SQLite and PostgreSQL: status, language, sessions, CSRF, roles."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from typing import Annotated

import pytest
from fastapi import Request
from fastapi.responses import Response
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from habeas.domain.access import Permission, Principal, Role
from habeas.store.account_tables import access_log, accounts, api_tokens
from habeas.web import nav
from habeas.web.render import render
from habeas.web.session import page_guard
from tests.api.support import PASSWORD
from tests.web.support import Site, build_site, csrf_of, sign_in

PUBLIC_PAGES = {"/": "Buscar a una persona detenida", "/sign-in": "Acceso del personal",
                "/statistics": "Estadísticas públicas"}  # fmt: skip
ENGLISH = {"/": "Find a person in custody", "/sign-in": "Staff sign-in", "/statistics": "Public statistics"}


def lang_of(html: str) -> str:
    match = re.search(r'<html lang="([a-z]+)">', html)
    assert match, "no <html lang> attribute"
    return match.group(1)


def signed_in(site: Site, role: Role, **headers: str) -> TestClient:
    client = TestClient(site.app, headers=headers)
    sign_in(client, site.usernames[role])
    return client


def sessions(site: Site) -> int:
    """Session tokens issued to this site's accounts (tests share one PostgreSQL database)."""
    mine = select(accounts.c.account_id).where(accounts.c.username.like(f"%-{site.ledger_id}"))
    with site.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(api_tokens).where(
            api_tokens.c.kind == "session", api_tokens.c.account_id.in_(mine))).scalar_one())  # fmt: skip


def test_public_pages_default_to_spanish_and_follow_accept_language(shared_site: Site) -> None:
    client = TestClient(shared_site.app)
    for path, text in PUBLIC_PAGES.items():
        page = client.get(path)
        assert page.status_code == 200, path
        assert lang_of(page.text) == "es" and text in page.text, path
        assert page.headers["content-language"] == "es"
    english = TestClient(shared_site.app, headers={"Accept-Language": "en-GB,en;q=0.9,es;q=0.5"})
    for path, text in ENGLISH.items():
        page = english.get(path)
        assert lang_of(page.text) == "en" and text in page.text, path
    # A language the shared_site lacks falls back to Spanish, the facility's language.
    assert lang_of(TestClient(shared_site.app, headers={"Accept-Language": "fr"}).get("/").text) == "es"


def test_the_language_switch_is_remembered_over_accept_language(shared_site: Site) -> None:
    client = TestClient(shared_site.app, headers={"Accept-Language": "es"})
    form = client.get("/statistics")
    switched = client.post("/language", data={"lang": "en", "next": "/statistics", "csrf": csrf_of(form.text)},
                           follow_redirects=False)  # fmt: skip
    assert switched.status_code == 303 and switched.headers["location"] == "/statistics"
    for path in ("/", "/sign-in", "/statistics"):
        assert lang_of(client.get(path).text) == "en", path
    back = client.post("/language", data={"lang": "es", "next": "//evil.example/", "csrf": csrf_of(form.text)},
                       follow_redirects=False)  # fmt: skip
    assert back.headers["location"] == "/", "an open redirect would send readers off-shared_site"
    assert lang_of(client.get("/").text) == "es"


def test_dates_and_numbers_follow_the_language(shared_site: Site) -> None:
    es = signed_in(shared_site, Role.DIRECTOR).get("/dashboard").text
    en = signed_in(shared_site, Role.DIRECTOR, **{"Accept-Language": "en"}).get("/dashboard").text
    # 08:04 UTC is 02:04 in San Salvador (UTC-6); CLDR writes the date each language's way.
    assert "16 de marzo de 2025, 2:04:00 -0600" in es and "March 16, 2025, 2:04:00\u202fAM CST" in en
    assert ">2.560<" in es and ">2,560<" in en  # beds of a pavilion: grouping per language


def test_unauthenticated_pages_redirect_to_sign_in_and_back(shared_site: Site) -> None:
    client = TestClient(shared_site.app)
    response = client.get("/dashboard", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/sign-in?next=/dashboard"
    form = client.get("/sign-in?next=/dashboard")
    data = {"username": shared_site.usernames[Role.RECORDS], "password": PASSWORD, "next": "/dashboard",
            "csrf": csrf_of(form.text)}  # fmt: skip
    done = client.post("/sign-in", data=data, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/dashboard"
    cookie = done.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.get("/dashboard").status_code == 200
    assert client.get("/", follow_redirects=False).headers["location"] == "/dashboard"


def test_secure_flag_is_set_unless_configured_off(sqlite_engine: Engine, ledger_id: str) -> None:
    from habeas.web import WebConfig

    site = build_site(sqlite_engine, ledger_id)
    site.app.state.habeas_web = WebConfig(secret=b"s", secure_cookies=True)
    client = TestClient(site.app, base_url="https://testserver")
    form = client.get("/sign-in")
    done = client.post("/sign-in", data={"username": site.usernames[Role.RECORDS], "password": PASSWORD,
                                         "csrf": csrf_of(form.text)}, follow_redirects=False)  # fmt: skip
    assert "Secure" in done.headers["set-cookie"]


def test_wrong_password_and_lockout_are_shown_inline(site: Site) -> None:
    client = TestClient(site.app)
    name = site.usernames[Role.INTAKE]
    for _ in range(4):
        form = client.get("/sign-in")
        wrong = client.post("/sign-in", data={"username": name, "password": "not the password",
                                              "csrf": csrf_of(form.text)})  # fmt: skip
        assert wrong.status_code == 401 and "Usuario o contraseña incorrectos." in wrong.text
        assert f'value="{name}"' in wrong.text, "the username is kept in the form"
    form = client.get("/sign-in")
    client.post("/sign-in", data={"username": name, "password": "not the password", "csrf": csrf_of(form.text)})
    locked = client.post("/sign-in", data={"username": name, "password": PASSWORD, "csrf": csrf_of(form.text)})
    assert locked.status_code == 423 and "el acceso está bloqueado hasta el" in locked.text
    assert "habeas_session" not in client.cookies


def test_sign_out_revokes_the_session(site: Site) -> None:
    client = signed_in(site, Role.HOUSING)
    stolen = client.cookies["habeas_session"]
    page = client.get("/dashboard")
    out = client.post("/sign-out", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/sign-in?signed_out=1"
    assert "Ha cerrado la sesión." in client.get("/sign-in?signed_out=1").text
    replay = TestClient(site.app, cookies={"habeas_session": stolen})
    again = replay.get("/dashboard", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].endswith("&expired=1")


def test_expired_and_disabled_sessions_go_back_to_sign_in(site: Site) -> None:
    client = signed_in(site, Role.MEDICAL)
    site.clock.now += timedelta(minutes=31)  # the session lasts 30 minutes
    expired = client.get("/dashboard", follow_redirects=False)
    assert expired.status_code == 303 and "expired=1" in expired.headers["location"]
    assert "Su sesión ha terminado." in client.get(expired.headers["location"]).text
    client = signed_in(site, Role.RECORDS)
    site.app.state.habeas.accounts.disable(None, site.usernames[Role.RECORDS], "left the service")
    assert client.get("/dashboard", follow_redirects=False).status_code == 303
    form = TestClient(site.app).get("/sign-in")
    refused = TestClient(site.app, cookies=dict(form.cookies)).post("/sign-in", data={
        "username": site.usernames[Role.RECORDS], "password": PASSWORD, "csrf": csrf_of(form.text)})  # fmt: skip
    assert refused.status_code == 401 and "Esta cuenta está desactivada." in refused.text


def test_a_post_without_the_right_csrf_token_changes_nothing(shared_site: Site) -> None:
    client = TestClient(shared_site.app)
    client.get("/sign-in")
    before = sessions(shared_site)
    forged = client.post("/sign-in", data={"username": shared_site.usernames[Role.DIRECTOR], "password": PASSWORD,
                                           "csrf": "0" * 64}, follow_redirects=False)  # fmt: skip
    assert forged.status_code == 400 and "Formulario caducado" in forged.text
    assert sessions(shared_site) == before and "habeas_session" not in client.cookies
    assert client.post("/language", data={"lang": "en"}).status_code == 400
    assert lang_of(client.get("/").text) == "es"
    # A token from one session is worthless in another (it is bound to the session by HMAC).
    officer = signed_in(shared_site, Role.DIRECTOR)
    other = signed_in(shared_site, Role.HOUSING)
    token_of_other = csrf_of(other.get("/dashboard").text)
    refused = officer.post("/sign-out", data={"csrf": token_of_other}, follow_redirects=False)
    assert refused.status_code == 400
    assert officer.get("/dashboard").status_code == 200, "the session was not signed out"
    assert client.post("/", data={"by": "name", "full_name": shared_site.held.full_name,
                                  "birth_date": str(shared_site.held.birth_date)}).status_code == 400  # fmt: skip


def test_a_role_without_the_permission_gets_the_403_page(site: Site) -> None:
    # A page as a page author writes one: one permission from POLICY, guarded.
    @site.app.get("/test-access-log", include_in_schema=False)
    def access_log_page(
        request: Request, who: Annotated[Principal, page_guard(Permission.ACCESS_LOG_READ)]
    ) -> Response:
        return render(request, "error.html", {"kind": "too_many"}, who=who)

    court = signed_in(site, Role.COURT).get("/test-access-log")
    assert court.status_code == 403 and "Acceso no permitido" in court.text and lang_of(court.text) == "es"
    assert signed_in(site, Role.OVERSIGHT).get("/test-access-log").status_code == 200
    assert TestClient(site.app).get("/test-access-log", follow_redirects=False).status_code == 303


def test_the_menu_shows_only_what_the_role_may_open(monkeypatch: pytest.MonkeyPatch) -> None:
    guarded = nav.NavItem("/access-log", "Access log", Permission.ACCESS_LOG_READ)
    monkeypatch.setattr(nav, "NAV", (*nav.NAV, guarded))
    assert guarded in nav.menu(Principal("a", "insp", Role.OVERSIGHT))
    assert guarded not in nav.menu(Principal("b", "clerk", Role.RECORDS))
    assert [i.path for i in nav.menu(None)] == ["/", "/statistics"]


def test_the_locator_finds_a_person_and_never_shows_a_cell(shared_site: Site) -> None:
    client = TestClient(shared_site.app)
    form = client.get("/")
    token = csrf_of(form.text)
    by_name = client.post("/", data={"by": "name", "full_name": "ana lucia ejemplo prueba",
                                     "birth_date": str(shared_site.held.birth_date), "csrf": token})  # fmt: skip
    by_document = client.post("/", data={"by": "document", "document_kind": "national_id", "issuer": "slv",
                                         "number": shared_site.held.dui, "csrf": token})  # fmt: skip
    for page in (by_name, by_document):
        assert page.status_code == 200
        assert "Centro de Confinamiento del Terrorismo" in page.text and "<dd>detenida</dd>" in page.text
        held = shared_site.held
        for secret in (shared_site.cell_id, "Pabellón", "AR-2025-001", "bruising", "Policía", held.person_id):
            assert secret not in page.text, secret
    released = client.post("/", data={"by": "document", "document_kind": "national_id", "issuer": "SLV",
                                      "number": shared_site.released.dui, "csrf": token})  # fmt: skip
    assert "<dd>en libertad</dd>" in released.text
    nobody = client.post("/", data={"by": "name", "full_name": "Ana Lucía Ejemplo", "csrf": token,
                                    "birth_date": str(shared_site.held.birth_date)})  # fmt: skip
    assert "Nadie coincide exactamente." in nobody.text, "matching is exact: no browsing by partial name"
    missing = client.post("/", data={"by": "name", "full_name": "", "birth_date": "31/01/1990", "csrf": token})
    assert missing.status_code == 422
    assert 'id="full_name-error"' in missing.text and 'id="birth_date-error"' in missing.text


def test_the_locator_is_rate_limited_per_client(sqlite_engine: Engine, ledger_id: str) -> None:
    site = build_site(sqlite_engine, ledger_id, public_rate="2/minute")
    client = TestClient(site.app)
    token = csrf_of(client.get("/").text)
    data = {"by": "document", "document_kind": "passport", "issuer": "USA", "number": "X1", "csrf": token}
    assert [client.post("/", data=data).status_code for _ in range(3)] == [200, 200, 429]


def test_each_role_gets_the_dashboard_its_permissions_allow(shared_site: Site) -> None:
    for role in (Role.INTAKE, Role.HOUSING, Role.RECORDS, Role.MEDICAL, Role.DIRECTOR, Role.OVERSIGHT):
        page = signed_in(shared_site, role).get("/dashboard")
        assert page.status_code == 200 and lang_of(page.text) == "es", role
        assert re.search(r'<span class="figure">5</span> personas detenidas ahora', page.text), role
        assert re.search(r'<span class="figure">4</span> ingresos hoy', page.text), role
        assert re.search(r'<span class="figure">1</span> excarcelaciones hoy', page.text), role
        assert "Ocupación por sector" in page.text and "Alertas abiertas por gravedad" in page.text, role
    court = signed_in(shared_site, Role.COURT).get("/dashboard").text
    assert "Órdenes de su tribunal" in court and "HC-77-2025" in court and "Bruno Ficticio Sintético" in court
    assert "personas detenidas ahora" not in court and "Ocupación por sector" not in court
    liaison = signed_in(shared_site, Role.LIAISON).get("/dashboard").text
    assert "Sus personas trasladadas" in liaison and "personas detenidas ahora" not in liaison
    assert "Bruno" not in liaison, "a liaison sees only its own state's transferees"


def test_names_shown_on_a_page_are_recorded_in_the_access_log(site: Site) -> None:
    signed_in(site, Role.COURT).get("/dashboard")
    with site.engine.connect() as conn:
        rows = conn.execute(select(access_log).where(access_log.c.ledger_id == site.ledger_id)).all()
    assert [(r.username, r.role, r.action) for r in rows] == [
        (site.usernames[Role.COURT], "court", "page GET /dashboard")
    ]
    signed_in(site, Role.DIRECTOR).get("/dashboard")  # figures only, no names: nothing to log
    with site.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(access_log)
                            .where(access_log.c.ledger_id == site.ledger_id)).scalar_one() == 1  # fmt: skip


def test_statistics_page_and_open_data_suppress_small_numbers(shared_site: Site) -> None:
    client = TestClient(shared_site.app)
    page = client.get("/statistics")
    assert page.status_code == 200 and page.text.count("<svg") == 2 and 'role="img"' in page.text
    assert "no publicada" in page.text  # one release in March 2025: below the small-number threshold
    rows = list(csv.DictReader(io.StringIO(client.get("/statistics.csv").text)))
    release = next(r for r in rows if r["subject"] == "2025-03" and r["measure"] == "releases")
    assert release["value"] == "" and release["suppressed"] == "True"
    admissions = next(r for r in rows if r["subject"] == "2025-03" and r["measure"] == "admissions")
    assert admissions["value"] == "6"
    data = client.get("/statistics.json")
    assert data.headers["content-type"].startswith("application/json")
    body = json.loads(data.text)
    assert body["flows"][0]["releases"] == {"value": None, "suppressed": True}
    assert body["facilities"][0]["population"] == {"value": 5, "suppressed": False}


def test_pages_are_not_in_the_api_schema(shared_site: Site) -> None:
    paths = TestClient(shared_site.app).get("/api/v1/openapi.json").json()["paths"]
    assert not [p for p in paths if not p.startswith("/api/v1/")]
