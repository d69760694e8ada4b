"""The person page through the app (TestClient), on SQLite and PostgreSQL.

What it shows (identity, whereabouts, clocks, orders, sentences, the bitemporal timeline,
alerts), what each role may see of it (POLICY: cells, medical detail, scopes), and that
every opening is in the access log.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from habeas.domain import law
from habeas.domain.access import Role
from habeas.safeguards.sweep import sweep
from habeas.services import queries
from habeas.services.legal import LegalService
from habeas.services.register import RegisterService
from habeas.store.account_tables import access_log
from habeas.store.register_tables import people
from tests.conftest import at
from tests.web.support import Site, sign_in


def reader(site: Site, role: Role) -> TestClient:
    client = TestClient(site.app)
    sign_in(client, site.usernames[role])
    return client


def reads(site: Site) -> list[tuple[str, str, str]]:
    with site.engine.connect() as conn:
        rows = conn.execute(select(access_log).where(access_log.c.ledger_id == site.ledger_id)).all()
    return [(r.username, r.person_id, r.action) for r in rows]


def person_named(site: Site, given: str) -> str:
    with site.engine.connect() as conn:
        return str(conn.execute(select(people.c.person_id).where(
            people.c.ledger_id == site.ledger_id, people.c.given_names == given)).scalar_one())  # fmt: skip


def section(html: str, heading_id: str) -> str:
    match = re.search(rf'<section aria-labelledby="{heading_id}".*?</section>', html, re.S)
    assert match, f"no section {heading_id}"
    return match.group(0)


def test_the_page_shows_the_record_and_its_reading_is_logged(site: Site) -> None:
    held = site.held
    page = reader(site, Role.INTAKE).get(f"/people/{held.person_id}")
    assert page.status_code == 200 and held.full_name in page.text
    where = section(page.text, "where-heading")
    assert site.cell_id in where and "Pabellón 1" in where and "en celda" in where
    # R3: no judge yet; the decree in force allows 15 days of administrative detention from the arrest.
    clocks = section(page.text, "clocks-heading")
    assert "detención administrativa antes de ver a un juez" in clocks and "<td>R3</td>" in clocks
    assert "dentro de" in clocks and "plazo vencido" not in clocks
    assert "AR-2025-001" in section(page.text, "bases-heading")
    timeline = section(page.text, "timeline-heading")
    assert "Persona registrada" in timeline and "Ingreso" in timeline and "Asignada a una celda" in timeline
    assert reads(site) == [(site.usernames[Role.INTAKE], held.person_id, "page GET /people/{person_id}")]


def test_medical_detail_only_for_roles_that_may_read_it(site: Site) -> None:
    path = f"/people/{site.held.person_id}"
    officer = reader(site, Role.INTAKE).get(path).text
    assert "bruising" not in officer, "MR 7(d) injuries are medical detail"
    assert "solo visibles para el personal médico y la supervisión" in officer
    for role in (Role.MEDICAL, Role.OVERSIGHT):
        assert "left wrist: bruising" in reader(site, role).get(path).text, role


def test_scoped_roles_see_only_their_people_and_never_a_cell(site: Site) -> None:
    bruno = person_named(site, "Bruno")  # the subject of the court's release order (tests.web.support)
    court = reader(site, Role.COURT)
    assert court.get(f"/people/{site.held.person_id}").status_code == 404, "not on the court's cases or orders"
    page = court.get(f"/people/{bruno}")
    assert page.status_code == 200 and "Bruno Ficticio Sintético" in page.text
    orders = section(page.text, "orders-heading")
    assert "HC-77-2025" in orders and "pendiente" in orders
    assert site.cell_id not in page.text and "Pabellón" not in page.text, "a court sees no cell (no facility.read)"
    liaison = reader(site, Role.LIAISON)
    assert liaison.get(f"/people/{bruno}").status_code == 404, "not one of the liaison's transferees"
    assert TestClient(site.app).get(f"/people/{bruno}", follow_redirects=False).status_code == 303
    assert reads(site) == [(site.usernames[Role.COURT], bruno, "page GET /people/{person_id}")], "refusals log nothing"


def test_a_correction_is_shown_beside_the_fact_it_corrects(site: Site) -> None:
    held = site.held
    with site.engine.connect() as conn:
        registered = next(e for e in queries.timeline(conn, site.ledger_id, held.person_id)
                          if e.type == "person.registered")  # fmt: skip
    RegisterService(site.engine, site.ledger_id, site.clock).correct(
        "user:records", registered.event_id, {"given_names": "Ana Luisa"}, "misread at intake", at(590)
    )
    timeline = section(reader(site, Role.RECORDS).get(f"/people/{held.person_id}").text, "timeline-heading")
    assert f'<tr id="entry-{registered.seq}" class="corrected">' in timeline
    assert "<del>Ana Lucía</del>" in timeline and "<ins>Ana Luisa</ins>" in timeline, "both facts are kept"
    assert "misread at intake" in timeline and f'href="#entry-{registered.seq}"' in timeline


def test_sentences_show_the_release_date_and_why(site: Site) -> None:
    held = site.held
    legal = LegalService(site.engine, site.ledger_id, site.clock)
    legal.open_case("user:records", law.CaseOpened(case_id="c-web-1", court="Tribunal Ficticio", reference="TS-1"),
                    [held.person_id], at(400))  # fmt: skip
    legal.record_sentence(
        "user:records",
        law.SentenceRecorded(
            sentence_id="s-web-1", case_id="c-web-1", person_id=held.person_id, court="Tribunal Ficticio",
            sentenced_on=date(2025, 3, 16),
            counts=(law.CountPayload(count_id="s-web-1-a", offence="agrupaciones ilícitas", article="CP 345",
                                     term=law.TermPayload(years=20)),),
        ),
        at(590),
    )  # fmt: skip
    sentences = section(reader(site, Role.RECORDS).get(f"/people/{held.person_id}").text, "sentences-heading")
    assert "Fecha de libertad" in sentences and "Por qué esta fecha" in sentences
    steps = re.findall(r"<li>(\d+\. [^<]+)</li>", sentences)
    assert len(steps) >= 2 and steps[0].startswith("1. "), steps
    assert re.search(r"<strong>\d+ de [a-z]+ de 20[45]\d</strong>", sentences), "a release date about 20 years on"


def test_open_alerts_are_listed_gravest_first(site: Site) -> None:
    site.clock.now += timedelta(days=3)  # no examination, no family notice: R8 and R10 fall due
    sweep(site.engine, site.ledger_id, site.clock.now, site.clock.now)
    page = reader(site, Role.OVERSIGHT).get(f"/people/{site.held.person_id}")
    alerts = section(page.text, "alerts-heading")
    rules = re.findall(r'<li class="sev-(\w+)"><strong>(R\d+)', alerts)
    assert {"R8", "R10"} <= {rule for _, rule in rules}, rules
    ranks = ["critical", "high", "medium", "info"]
    assert [ranks.index(s) for s, _ in rules] == sorted(ranks.index(s) for s, _ in rules)


def test_english_and_an_unknown_person(site: Site) -> None:
    client = TestClient(site.app, headers={"Accept-Language": "en"})
    sign_in(client, site.usernames[Role.RECORDS])
    page = client.get(f"/people/{site.held.person_id}")
    assert '<html lang="en">' in page.text and "Time limits running" in page.text and "Where now" in page.text
    missing = client.get("/people/no-such-person")
    assert missing.status_code == 404 and "No such person" in missing.text
