"""A register for the page tests: CECOT's layout, a few synthetic people, one account per role.

Everything is written through the services (as staff would), never by SQL.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

import habeas
from habeas.api.app import create_app
from habeas.api.config import ApiConfig
from habeas.domain import law
from habeas.domain.access import Role
from habeas.domain.layout import load_layout
from habeas.services.legal import LegalService
from habeas.services.register import RegisterService
from habeas.store import migrate
from habeas.store.engine import make_engine
from habeas.web import WebConfig
from tests.api.support import FAST, PASSWORD, SCOPES
from tests.conftest import at
from tests.ledger.support import new_ledger
from tests.register.support import Clock, admission, identity

CECOT = Path(habeas.__file__).parent / "policy" / "layouts" / "cecot.yaml"
NOW = at(600)  # 2025-03-16 08:04 UTC = 02:04 in San Salvador: "today" began at 06:00 UTC
SECRET = b"test-secret-for-csrf-tokens-only"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# Many sign-ins from one test client address: the per-address limits are tested on a site of their own.
GENEROUS_LIMITS = {"sign_in_rate": "1000/minute", "public_rate": "1000/minute"}
RELEASE = {"authority": "Juzgado Primero", "order_reference": "ORD-1", "verified_by": "user:records",
           "handed_over_to": "Madre Sintetica", "health_check": "examined, fit"}  # fmt: skip


@dataclass(frozen=True)
class Someone:
    person_id: str
    full_name: str
    birth_date: date
    dui: str


@dataclass
class Site:
    app: FastAPI
    engine: Engine
    ledger_id: str
    clock: Clock
    usernames: dict[Role, str]
    held: Someone  # in a cell of pavilion 1
    released: Someone  # released today
    cell_id: str  # where ``held`` is


def build_site(engine: Engine, ledger_id: str, **config: object) -> Site:
    new_ledger(engine, ledger_id, at(-10_000))
    clock = Clock(NOW)
    register = RegisterService(engine, ledger_id, clock)
    plan = load_layout(CECOT)
    register.register_facility("user:director", plan.facility, plan.units, plan.cells, at(-9_000))
    people, requests = [], []
    for n, (given, family, born, minutes) in enumerate(
        [("Ana Lucía", "Ejemplo Prueba", date(1991, 4, 2), -60), ("Bruno", "Ficticio Sintético", date(1988, 7, 9), -30),
         ("Carla", "Muestra Inventada", date(1999, 1, 23), 500), ("Diego", "Modelo Simulado", date(1985, 11, 5), 520),
         ("Elena", "Caso Figurado", date(2001, 3, 14), 540), ("Fabio", "Dato Artificial", date(1979, 6, 30), 560)]
    ):  # fmt: skip
        dui = f"0{ledger_id[-6:]}{n}"[-8:] + f"-{n}"
        who = identity(given_names=given, family_names=family, birth_date=born,
                       documents=({"kind": "national_id", "number": dui, "issuer": "SLV"},))  # fmt: skip
        requests.append(admission(minutes, facility_id="cecot", identity=who))
        people.append((f"{given} {family}", born, dui))
    admitted = register.admit_many("user:intake", requests)
    someone = [Someone(a.person_id, *p) for a, p in zip(admitted, people, strict=True)]
    cell = plan.cells[0].cell_id
    register.place_many("user:housing", [(someone[0].person_id, cell), (someone[1].person_id, cell)], at(-20))
    register.release("user:records", someone[2].person_id, at(580), **RELEASE)
    LegalService(engine, ledger_id, clock).issue_order(
        "user:court",
        law.OrderIssued(order_id=str(uuid.uuid4()), person_id=someone[1].person_id, kind="release",
                        court=SCOPES[Role.COURT], court_state="SLV", reference="HC-77-2025", issued_at=at(100),
                        deadline=at(100 + 24 * 60)),
        at(100),
    )  # fmt: skip
    app = create_app(ApiConfig(engine, ledger_id, clock, hasher=FAST, **config))  # type: ignore[arg-type]
    app.state.habeas_web = WebConfig(secret=SECRET, secure_cookies=False, timezone="America/El_Salvador")
    accounts = app.state.habeas.accounts
    usernames = {}
    for role in Role:
        name = f"{role.value}-{ledger_id}"
        accounts.add(None, name, role.value.replace("_", " ").title(), role.value, PASSWORD, scope=SCOPES.get(role))
        usernames[role] = name
    return Site(app, engine, ledger_id, clock, usernames, someone[0], someone[2], cell)


CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> None:
    form = client.get("/sign-in")
    response = client.post(
        "/sign-in", data={"username": username, "password": password, "csrf": csrf_of(form.text), "next": "/dashboard"},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/dashboard"


@contextmanager
def sqlite_engine_in(folder: Path) -> Iterator[Engine]:
    """A migrated SQLite register in ``folder``, disposed of after."""
    engine = make_engine(f"sqlite:///{folder / 'habeas.db'}")
    migrate.upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def module_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, name: str
) -> Iterator[Engine]:
    """For a module-scoped fixture over ``BACKENDS``: a SQLite file of its own, or the session's PostgreSQL."""
    if request.param == "sqlite":
        with sqlite_engine_in(tmp_path_factory.mktemp(name)) as engine:
            yield engine
    else:
        yield request.getfixturevalue("postgres_engine")
