"""The intake pages through the app (TestClient), on SQLite and PostgreSQL: the admission form, manifests.

MR 7 / ICPPED 17(3): every refusal names its field beside it, keeps what was typed, and
changes nothing; an admission opens the person's page.
"""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from habeas.api.app import create_app
from habeas.api.config import ApiConfig
from habeas.domain.access import Role
from habeas.store.job_tables import import_jobs
from habeas.store.register_tables import episodes, people
from habeas.store.tables import events
from habeas.web.intake_jobs import STALE
from tests.api.support import FAST
from tests.web.roles_support import main_of
from tests.web.support import Site, csrf_of, sign_in

# The site's clock is 2025-03-16 08:04 UTC = 02:04 in San Salvador (UTC-6): form times are local.
FORM = {
    "facility_id": "cecot", "admitted_at": "2025-03-16T01:30", "given_names": "Gerardo Andrés",
    "family_names": "Sintético Ejemplar", "birth_date": "1993-08-21", "sex": "M", "gender_identity": "hombre",
    "nationalities": "SLV\nGTM", "aliases": "", "document_kind": "national_id", "document_number": "99887766-5",
    "document_issuer": "SLV", "legal_status": "untried", "basis_kind": "arrest_record",
    "basis_reference": "AR-2025-0777", "basis_issued_by": "Policía Nacional Civil", "basis_article": "CPP art. 323",
    "basis_issued_at": "2025-03-15T21:00", "basis_expires_at": "", "detaining_authority": "Policía Nacional Civil",
    "ordering_authority": "Fiscalía General", "custodian_of_record": "", "arrested_at": "2025-03-15T20:00",
    "arrest_place": "Colonia Inventada, Soyapango", "injuries": "left forearm: abrasion\nforehead: swelling",
    "ill_treatment_complaint": "says he was struck during the arrest", "property": "wallet\n2x shirt",
    "contact_name": "Madre Ficticia", "contact_relationship": "mother", "contact_phone": "+503 0000 1111",
    "no_contact_reason": "",
}  # fmt: skip


def officer(site: Site, role: Role = Role.INTAKE) -> TestClient:
    client = TestClient(site.app)
    sign_in(client, site.usernames[role])
    return client


def post_form(client: TestClient, **changes: str) -> tuple[int, str, str]:
    token = csrf_of(client.get("/intake").text)
    response = client.post("/intake", data={**FORM, **changes, "csrf": token}, follow_redirects=False)
    return response.status_code, response.text, response.headers.get("location", "")


def ledger_size(site: Site) -> int:
    with site.engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(events.c.ledger_id == site.ledger_id)).scalar_one())


def field_error(html: str, name: str) -> str:
    match = re.search(rf'<p class="field-error" id="{name}-error">([^<]*)</p>', html)
    assert match, f"no inline error for {name}"
    return match.group(1)


def test_the_form_admits_a_person_and_opens_their_page(site: Site) -> None:
    client = officer(site)
    form = client.get("/intake")
    assert form.status_code == 200 and 'name="contact_name"' in form.text and 'name="gender_identity"' in form.text
    status, _, location = post_form(client)
    assert status == 303 and location.startswith("/people/"), location
    person_id = location.split("/")[2].split("?")[0]
    page = client.get(location)
    assert page.status_code == 200 and "Gerardo Andrés Sintético Ejemplar" in page.text
    assert "Ingreso registrado. Número de registro: CECOT-2025-" in page.text
    with site.engine.connect() as conn:
        episode = conn.execute(select(episodes).where(episodes.c.ledger_id == site.ledger_id,
                                                      episodes.c.person_id == person_id)).one()  # fmt: skip
        person = conn.execute(select(people).where(people.c.ledger_id == site.ledger_id,
                                                   people.c.person_id == person_id)).one()  # fmt: skip
    # Local times (UTC-6) are stored as UTC instants.
    assert episode.arrested_at == datetime(2025, 3, 16, 2, 0, tzinfo=UTC)
    assert episode.admitted_at == datetime(2025, 3, 16, 7, 30, tzinfo=UTC)
    assert episode.detaining_authority == "Policía Nacional Civil" and episode.facility_id == "cecot"
    assert person.gender_identity == "hombre" and person.nationalities == '["SLV","GTM"]'
    assert episode.booking_number in location, "the booking number is announced on the person page"


def test_a_missing_field_is_shown_inline_with_the_values_kept_and_nothing_recorded(site: Site) -> None:
    client = officer(site)
    before = ledger_size(site)
    status, html, _ = post_form(client, arrest_place="", contact_name="", contact_relationship="", contact_phone="")
    assert status == 422
    assert field_error(html, "arrest_place") == "Este dato es obligatorio."
    assert "RM 7(f)" in field_error(html, "contact_name")
    assert 'id="arrest_place" name="arrest_place" type="text" value=""' in html
    assert 'aria-invalid="true"' in html and 'href="#arrest_place"' in html, "the summary links to the field"
    assert 'value="Gerardo Andrés"' in html and "says he was struck during the arrest</textarea>" in html
    assert ledger_size(site) == before, "a refusal changes nothing"


def test_the_services_rules_are_shown_beside_the_field_they_name(site: Site) -> None:
    client = officer(site)
    before = ledger_size(site)
    # R2: no legal basis issued after the admission; ICPPED 17(3)(b): arrest before admission.
    status, html, _ = post_form(client, basis_issued_at="2025-03-16T01:45", arrested_at="2025-03-16T01:40")
    assert status == 422
    assert "R2" in field_error(html, "basis_issued_at") and "admitted_at" in field_error(html, "arrested_at")
    status, html, _ = post_form(client, admitted_at="2025-03-16T09:00")  # after now (02:04 local)
    assert status == 422 and field_error(html, "admitted_at") == "is in the future"
    status, html, _ = post_form(client, nationalities="Salvadoran")
    assert status == 422 and "ISO 3166" in field_error(html, "nationalities")
    status, html, _ = post_form(client, arrested_at="yesterday")
    assert status == 422 and field_error(html, "arrested_at")
    assert ledger_size(site) == before


def test_a_possible_duplicate_is_shown_and_admitted_only_when_confirmed(site: Site) -> None:
    client = officer(site)
    released = site.released  # released today: the same name and birth date may be the same person
    given, family = "Carla", "Muestra Inventada"
    assert released.full_name == f"{given} {family}"
    same = {"given_names": given, "family_names": family, "birth_date": released.birth_date.isoformat(),
            "document_kind": "", "document_number": "", "document_issuer": "", "sex": "F"}  # fmt: skip
    before = ledger_size(site)
    status, html, _ = post_form(client, **same)
    assert status == 409 and f'href="/people/{released.person_id}"' in html
    assert 'name="confirm_new_person"' in html and ledger_size(site) == before
    status, _, location = post_form(client, **same, confirm_new_person="yes")
    assert status == 303 and location.startswith("/people/") and released.person_id not in location


def test_a_document_already_on_the_register_is_refused_beside_the_document_number(site: Site) -> None:
    client = officer(site)
    before = ledger_size(site)
    status, html, _ = post_form(client, document_number=site.held.dui)
    assert status == 409 and f"belongs to person {site.held.person_id}" in field_error(html, "document_number")
    assert ledger_size(site) == before


def test_only_roles_that_admit_see_the_form_and_a_forged_post_changes_nothing(site: Site) -> None:
    before = ledger_size(site)
    housing = officer(site, Role.HOUSING)
    assert housing.get("/intake").status_code == 403
    token = csrf_of(housing.get("/dashboard").text)
    assert housing.post("/intake", data={**FORM, "csrf": token}).status_code == 403
    director = officer(site, Role.DIRECTOR)
    assert director.get("/intake").status_code == 200
    assert director.post("/intake", data={**FORM, "csrf": "0" * 64}).status_code == 400
    assert "/intake" in officer(site).get("/dashboard").text, "the menu offers the form to an intake officer"
    assert 'href="/intake"' not in housing.get("/dashboard").text
    assert ledger_size(site) == before


MANIFEST_HEAD = ("given_names,family_names,sex,birth_date,document_kind,document_number,document_issuer,"
                 "legal_status,basis_kind,basis_reference,basis_issued_by,basis_issued_at,detaining_authority,"
                 "ordering_authority,arrested_at,arrest_place,admitted_at,no_contact_reason")  # fmt: skip


def manifest_row(n: int, **changes: str) -> str:
    row = {"given_names": f"Persona{n}", "family_names": "Lista Sintética", "sex": "M", "birth_date": f"1990-01-0{n}",
           "document_kind": "passport", "document_number": f"VX{n:06d}", "document_issuer": "VEN",
           "legal_status": "immigration", "basis_kind": "transfer_instrument", "basis_reference": f"TR-{n}",
           "basis_issued_by": "Ministerio Ficticio", "basis_issued_at": "2025-03-16T01:00:00Z",
           "detaining_authority": "Autoridad Ficticia", "ordering_authority": "Autoridad Ficticia",
           "arrested_at": "2025-03-15T20:00:00Z", "arrest_place": "Aeropuerto Ficticio", "admitted_at":
           "2025-03-16T03:00:00Z", "no_contact_reason": "no contact given on the flight manifest"}  # fmt: skip
    row.update(changes)
    return ",".join(row[c] for c in MANIFEST_HEAD.split(","))


def upload(client: TestClient, text: str, accept_valid: bool = False) -> str:
    token = csrf_of(client.get("/intake/manifest").text)
    data = {"facility_id": "cecot", "csrf": token, **({"accept_valid": "yes"} if accept_valid else {})}
    response = client.post("/intake/manifest", data=data, files={"manifest": ("flight.csv", text.encode(), "text/csv")},
                           follow_redirects=False)  # fmt: skip
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def finished(client: TestClient, location: str) -> str:
    """Follow the status page as a browser would (it sends Refresh while running) until the job is done."""
    deadline = time.monotonic() + 60
    while True:
        page = client.get(location)
        assert page.status_code == 200
        if "refresh" not in page.headers:
            return page.text
        assert page.headers["refresh"] == "2"
        assert time.monotonic() < deadline, "the import did not finish"
        time.sleep(0.1)


def test_a_manifest_with_a_bad_row_admits_nobody_and_reports_every_problem(site: Site) -> None:
    client = officer(site)
    before = ledger_size(site)
    bad = manifest_row(3, sex="Q", basis_issued_at="2025-03-16 01:00")
    text = "\n".join([MANIFEST_HEAD, manifest_row(1), manifest_row(2), bad]) + "\n"
    report = finished(client, upload(client, text))
    assert "No se admitió a nadie" in report
    assert re.search(r'<td class="num">4</td><th scope="row">sex</th><td>must be F, M or X</td>', report)
    assert re.search(r'<td class="num">4</td><th scope="row">basis_issued_at</th><td>must carry a time zone', report)
    assert ledger_size(site) == before, "all or nothing: no row was admitted"


def test_accept_valid_rows_admits_them_and_offers_the_rejected_rows_as_csv(site: Site) -> None:
    client = officer(site)
    text = "\n".join([MANIFEST_HEAD, manifest_row(1), manifest_row(2, sex="Q"), manifest_row(3)]) + "\n"
    location = upload(client, text, accept_valid=True)
    report = finished(client, location)
    assert "Personas ingresadas: 2." in report and "Líneas no admitidas: 1." in report
    with site.engine.connect() as conn:
        names = set(conn.execute(select(people.c.given_names).where(people.c.ledger_id == site.ledger_id)).scalars())
    assert {"Persona1", "Persona3"} <= names and "Persona2" not in names
    download = client.get(f"{location}/rejected.csv")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [(r["given_names"], r["errors"]) for r in rows] == [("Persona2", "sex: must be F, M or X")]
    # Another account cannot read this officer's report.
    assert officer(site, Role.DIRECTOR).get(location).status_code == 404
    # The progress count went into the job's row on PostgreSQL (any worker shows it); on SQLite the import holds
    # the write lock until it commits, so the count stayed in this process (and the import did not wait on it).
    with site.engine.connect() as conn:
        counted = conn.execute(select(import_jobs.c.admitted).where(import_jobs.c.job_id == location.rsplit("/")[-1]))
        assert counted.scalar_one() == (0 if site.engine.dialect.name == "sqlite" else 2)


def _set_job(site: Site, location: str, **values: object) -> None:
    with site.engine.begin() as conn:
        conn.execute(update(import_jobs).where(import_jobs.c.job_id == location.rsplit("/", 1)[1]).values(**values))


def test_a_running_import_shows_its_progress_and_asks_the_browser_to_refresh(site: Site) -> None:
    client = officer(site)
    location = upload(client, MANIFEST_HEAD + "\n" + manifest_row(1) + "\n")
    finished(client, location)
    # As the progress callback leaves it mid-way (the job's row is what every worker reads).
    _set_job(site, location, phase="admitting", total=10, admitted=3, updated_at=site.clock())
    page = client.get(location)
    assert page.headers["refresh"] == "2" and "Ingresando: 3 de 10 personas." in page.text
    assert 'value="30"' in page.text, "the <progress> bar"


def test_another_server_worker_shows_the_job_and_its_rejected_rows(site: Site) -> None:
    """``habeas serve --workers N``: the status page and the correction file may come from another process."""
    client = officer(site)
    text = "\n".join([MANIFEST_HEAD, manifest_row(1), manifest_row(2, sex="Q")]) + "\n"
    location = upload(client, text, accept_valid=True)
    report = finished(client, location)
    other = create_app(ApiConfig(site.engine, site.ledger_id, site.clock, hasher=FAST))
    other.state.habeas_web = site.app.state.habeas_web  # the same secret, as habeas serve gives every worker
    elsewhere = TestClient(other, cookies=client.cookies)
    page = elsewhere.get(location)
    assert page.status_code == 200 and main_of(page.text) == main_of(report)
    rows = list(csv.DictReader(io.StringIO(elsewhere.get(f"{location}/rejected.csv").text)))
    assert [(r["given_names"], r["errors"]) for r in rows] == [("Persona2", "sex: must be F, M or X")]


def test_a_job_whose_worker_stopped_is_shown_as_failed_not_running_forever(site: Site) -> None:
    client = officer(site)
    location = upload(client, MANIFEST_HEAD + "\n" + manifest_row(1) + "\n")
    finished(client, location)
    _set_job(site, location, phase="admitting", updated_at=site.clock() - STALE + timedelta(seconds=1))
    assert "refresh" in client.get(location).headers  # still within STALE: running
    _set_job(site, location, phase="admitting", updated_at=site.clock() - STALE - timedelta(seconds=1))
    page = client.get(location)
    assert "refresh" not in page.headers and "the server stopped during it" in page.text


def test_a_manifest_upload_refuses_a_file_that_is_not_utf8_text(site: Site) -> None:
    client = officer(site)
    token = csrf_of(client.get("/intake/manifest").text)
    latin1 = "nombre,años\n".encode("latin-1")
    refused = client.post("/intake/manifest", data={"facility_id": "cecot", "csrf": token},
                          files={"manifest": ("flight.csv", latin1, "text/csv")})  # fmt: skip
    assert refused.status_code == 422 and 'id="manifest-error"' in refused.text
