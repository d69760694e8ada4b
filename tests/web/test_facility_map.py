"""The facility map through the app (TestClient), on SQLite and PostgreSQL.

Standards §2: each cell's m² per person against ICRC 3.4 / 5.4 (R16), CPT 4 / 6 (R17) and
the 3 m² floor (R18), the gravest shown; figures and a text band in every cell, so colour
is never the only signal.
"""

from __future__ import annotations

import re
from decimal import Decimal

from fastapi.testclient import TestClient

from habeas.domain.access import Role
from habeas.domain.facility import CellRegistered, FacilityRegistered, UnitRegistered
from habeas.domain.policy import SpaceStandards
from habeas.services.register import RegisterService
from habeas.web.facility import band
from tests.conftest import at
from tests.register.support import admission
from tests.web.support import Site, sign_in

# (cell, m², single, occupants) -> the band the map must show
CELLS = [("S-1", "6", False, 3), ("S-2", "10", False, 3), ("S-3", "11", False, 3), ("S-4", "12", False, 3),
         ("S-5", "5", True, 1), ("S-6", "8", False, 0)]  # fmt: skip
EXPECTED = {"S-1": ("2 m² por persona", "bajo 3 m² (R18)"), "S-2": ("3,33 m² por persona", "bajo el CICR (R16)"),
            "S-3": ("3,67 m² por persona", "bajo el CPT (R17)"), "S-4": ("4 m² por persona", "cumple CICR y CPT"),
            "S-5": ("5 m² por persona", "bajo el CICR (R16)"), "S-6": ("0 personas, 3 camas", "vacía")}  # fmt: skip


def small_facility(site: Site) -> None:
    """A facility of six small cells, crowded on purpose, admitted and housed through the services."""
    register = RegisterService(site.engine, site.ledger_id, site.clock)
    register.register_facility(
        "user:director",
        FacilityRegistered(facility_id="anexo", name="Anexo Sintético", responsible_authority="Dirección Ficticia",
                           declared_capacity=20, jurisdiction="slv", place="Lugar Ficticio"),
        [UnitRegistered(facility_id="anexo", unit_id="A1", name="Ala Norte", kind="wing")],
        [CellRegistered(facility_id="anexo", unit_id="A1", cell_id=c, beds=3, floor_area_m2=Decimal(m2),
                        single=single)
         for c, m2, single, _ in CELLS],
        at(-8_000),
    )  # fmt: skip
    total = sum(n for *_, n in CELLS)
    admitted = register.admit_many("user:intake", [admission(300, facility_id="anexo") for _ in range(total)])
    people = iter(a.person_id for a in admitted)
    placements = [(next(people), cell) for cell, _, _, n in CELLS for _ in range(n)]
    register.place_many("user:housing", placements, at(310), override_reason="test: crowded on purpose")


def cell_text(html: str, cell: str) -> str:
    match = re.search(rf'<li class="map-cell band-(\w+)">\s*<strong>{cell}</strong>(.*?)</li>', html, re.S)
    assert match, f"no tile for {cell}"
    return match.group(1) + " " + re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(2)))


def test_every_cell_shows_its_figures_and_the_gravest_standard_it_falls_below(site: Site) -> None:
    small_facility(site)
    client = TestClient(site.app)
    sign_in(client, site.usernames[Role.HOUSING])
    page = client.get("/facilities/anexo/map")
    assert page.status_code == 200
    for cell, (figure, label) in EXPECTED.items():
        text = cell_text(page.text, cell)
        assert figure in text and label in text, (cell, text)
    assert cell_text(page.text, "S-1").startswith("r18") and "alerta abierta: R18" in cell_text(page.text, "S-1")
    assert "individual" in cell_text(page.text, "S-5")
    legend = re.search(r'<ul class="map-legend">(.*?)</ul>', page.text, re.S)
    assert legend and all(label in legend.group(1) for _, label in EXPECTED.values())
    # The unit row: 13 people in 52 m² and how many cells fall below each standard.
    row = re.search(r'<th scope="row"><a href="#unit-A1">Ala Norte</a></th>(.*?)</tr>', page.text, re.S)
    assert row and re.findall(r">([\d,.]+)<", row.group(1)) == ["13", "52", "4", "11", "10", "1", "2", "1"]


def test_the_map_needs_facility_read_and_logs_no_names(site: Site) -> None:
    for role, status in ((Role.HOUSING, 303), (Role.OVERSIGHT, 303), (Role.COURT, 403), (Role.LIAISON, 403)):
        client = TestClient(site.app)
        sign_in(client, site.usernames[role])
        assert client.get("/facility-map", follow_redirects=False).status_code == status, role
    client = TestClient(site.app, headers={"Accept-Language": "en"})
    sign_in(client, site.usernames[Role.DIRECTOR])
    page = client.get("/facility-map")  # one facility: straight to its map
    assert page.url.path == "/facilities/cecot/map" and "Facility map" in page.text
    assert 'href="/facility-map"' in page.text, "the menu offers the map"
    assert "meets ICRC and CPT" in page.text and "below 3 m² (R18)" in page.text
    assert client.get("/facilities/nowhere/map").status_code == 404


def test_bands_follow_the_policys_thresholds_at_their_boundaries() -> None:
    space = SpaceStandards()
    assert band(Decimal("2.99"), False, True, space) == "r18" and band(Decimal("3"), False, True, space) == "r16"
    assert band(Decimal("3.4"), False, True, space) == "r17" and band(Decimal("4"), False, True, space) == "ok"
    assert band(Decimal("5.39"), True, True, space) == "r16" and band(Decimal("5.4"), True, True, space) == "r17"
    assert band(Decimal("6"), True, True, space) == "ok" and band(None, False, True, space) == "empty"
    assert band(Decimal("1"), False, False, space) == "closed"
