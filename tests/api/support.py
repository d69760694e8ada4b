"""An API over a fresh register: one account per role, each with a token, and a settable clock."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from habeas.api.app import create_app
from habeas.api.config import ApiConfig
from habeas.domain.access import Role
from habeas.services.accounts import AccountService
from tests.conftest import at
from tests.ledger.support import new_ledger
from tests.register.support import Clock

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # tests only: argon2id, cheap
PASSWORD = "correct horse battery"
SCOPES = {Role.LIAISON: "USA", Role.COURT: "Juzgado Especializado de Instrucción A"}


@dataclass
class Api:
    client: TestClient
    clock: Clock
    engine: Engine
    ledger_id: str
    tokens: dict[Role, str]
    usernames: dict[Role, str]
    accounts: AccountService

    def as_(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def build_api(engine: Engine, ledger_id: str, **config: object) -> Api:
    new_ledger(engine, ledger_id, at(-10_000))
    clock = Clock(at(600))
    app = create_app(ApiConfig(engine, ledger_id, clock, hasher=FAST, **config))  # type: ignore[arg-type]
    accounts: AccountService = app.state.habeas.accounts
    tokens, usernames = {}, {}
    for role in Role:
        name = f"{role.value}-{ledger_id}"
        accounts.add(None, name, role.value.replace("_", " ").title(), role.value, PASSWORD, scope=SCOPES.get(role))
        # The console cannot touch an oversight account once created; the inspector issues their own.
        manager = accounts.sign_in(name, PASSWORD, "testclient").principal if role is Role.OVERSIGHT else None
        tokens[role] = accounts.issue_token(manager, name, "tests").token
        usernames[role] = name
    return Api(TestClient(app), clock, engine, ledger_id, tokens, usernames, accounts)
