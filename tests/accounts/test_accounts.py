"""Accounts: argon2id passwords, sessions and API tokens, lockout, and who may manage whom.

Architecture (roles): oversight "may not be disabled by the facility"; the tests
below try every way staff could lock an inspector out.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, func, select

from habeas.domain.access import Role
from habeas.errors import Conflict, Forbidden, InvalidInput, Locked, NotFound, Unauthenticated
from habeas.services.accounts import AccountService
from habeas.store.account_tables import accounts, api_tokens
from habeas.store.tables import events
from tests.conftest import at
from tests.ledger.support import new_ledger
from tests.register.support import Clock

PASSWORD = "correct horse battery"
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # tests only: argon2id, cheap


def ledger_events(engine: Engine, ledger_id: str, type_name: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).where(events.c.ledger_id == ledger_id, events.c.type == type_name)
        ).scalar_one()


class AccountContract:
    @pytest.fixture
    def engine(self) -> Engine:
        raise NotImplementedError

    @pytest.fixture
    def svc(self, engine: Engine, ledger_id: str) -> tuple[AccountService, Clock]:
        new_ledger(engine, ledger_id, at(-100))
        clock = Clock(at())
        return AccountService(engine, ledger_id, clock, hasher=FAST), clock

    @pytest.fixture
    def name(self, ledger_id: str):  # type: ignore[no-untyped-def]
        # Usernames are unique across the database, which PostgreSQL tests share.
        return lambda base: f"{base}-{ledger_id}"

    def test_sign_in_gives_a_session_that_expires(self, svc, name) -> None:  # type: ignore[no-untyped-def]
        accts, clock = svc
        accts.add(None, name("ana"), "Ana Intake", "intake_officer", PASSWORD)
        session = accts.sign_in(name("ana"), PASSWORD, "127.0.0.1")
        assert accts.authenticate(session.token).role is Role.INTAKE
        clock.now = session.expires_at
        with pytest.raises(Unauthenticated, match="expired"):
            accts.authenticate(session.token)

    def test_password_is_stored_as_argon2id(self, engine, svc, name) -> None:  # type: ignore[no-untyped-def]
        accts, _ = svc
        accts.add(None, name("ana"), "Ana", "intake_officer", PASSWORD)
        with engine.connect() as conn:
            stored = conn.execute(select(accounts.c.password_hash).where(accounts.c.username == name("ana"))).scalar()
        assert stored.startswith("$argon2id$") and PASSWORD not in stored

    def test_wrong_password_and_unknown_user_say_the_same(self, svc, name) -> None:  # type: ignore[no-untyped-def]
        accts, _ = svc
        accts.add(None, name("ana"), "Ana", "intake_officer", PASSWORD)
        with pytest.raises(Unauthenticated) as wrong:
            accts.sign_in(name("ana"), "not the password", "c1")
        with pytest.raises(Unauthenticated) as unknown:
            accts.sign_in(name("nobody"), PASSWORD, "c1")
        assert str(wrong.value) == str(unknown.value)

    def test_lockout_after_five_failures_then_unlocks(self, engine, ledger_id, svc, name) -> None:  # type: ignore[no-untyped-def]
        accts, clock = svc
        accts.add(None, name("ana"), "Ana", "intake_officer", PASSWORD)
        for _ in range(5):
            with pytest.raises(Unauthenticated):
                accts.sign_in(name("ana"), "wrong password!", "10.0.0.9")
        # Locked for everyone, wherever they sign in from, even with the right password.
        with pytest.raises(Locked):
            accts.sign_in(name("ana"), PASSWORD, "127.0.0.1")
        assert ledger_events(engine, ledger_id, "account.locked") == 1
        clock.now += timedelta(minutes=15)
        assert accts.sign_in(name("ana"), PASSWORD, "127.0.0.1").principal.username == name("ana")

    def test_failures_outside_the_window_do_not_add_up(self, svc, name) -> None:  # type: ignore[no-untyped-def]
        accts, clock = svc
        accts.add(None, name("ana"), "Ana", "intake_officer", PASSWORD)
        for _ in range(8):
            with pytest.raises(Unauthenticated):
                accts.sign_in(name("ana"), "wrong password!", "c")
            clock.now += timedelta(minutes=16)
        assert accts.sign_in(name("ana"), PASSWORD, "c")

    def test_oversight_cannot_be_locked_out_from_elsewhere(self, svc, name) -> None:  # type: ignore[no-untyped-def]
        accts, _ = svc
        accts.add(None, name("insp"), "Inspector", "oversight", PASSWORD)
        for _ in range(10):
            with pytest.raises((Unauthenticated, Locked)):
                accts.sign_in(name("insp"), "wrong password!", "10.6.6.6")
        with pytest.raises(Locked):  # the attacker's own address is locked ...
            accts.sign_in(name("insp"), PASSWORD, "10.6.6.6")
        # ... the inspector's is not.
        assert accts.sign_in(name("insp"), PASSWORD, "192.0.2.10").principal.role is Role.OVERSIGHT

    def test_staff_cannot_disable_or_change_oversight(self, svc, name) -> None:  # type: ignore[no-untyped-def]
        accts, _ = svc
        accts.add(None, name("dir"), "Director", "facility_director", PASSWORD)
        accts.add(None, name("insp"), "Inspector", "oversight", PASSWORD)
        director = accts.sign_in(name("dir"), PASSWORD, "c").principal
        with pytest.raises(Forbidden, match="only oversight"):
            accts.disable(director, name("insp"), "no reason")
        with pytest.raises(Forbidden, match="only oversight"):
            accts.set_password(director, name("insp"), "a new password here")
        with pytest.raises(Forbidden, match="only oversight"):
            accts.issue_token(director, name("insp"), "steal")
        with pytest.raises(Forbidden, match="only oversight"):  # nor from the server console
            accts.disable(None, name("insp"), "console")
        with pytest.raises(Forbidden, match="only oversight"):
            accts.add(director, name("fake-insp"), "Fake", "oversight", PASSWORD)
        assert accts.sign_in(name("insp"), PASSWORD, "c")

    def test_oversight_manages_oversight_only(self, svc, name) -> None:  # type: ignore[no-untyped-def]
        accts, _ = svc
        accts.add(None, name("insp"), "Inspector", "oversight", PASSWORD)
        accts.add(None, name("insp2"), "Inspector 2", "oversight", PASSWORD)
        accts.add(None, name("ana"), "Ana", "intake_officer", PASSWORD)
        inspector = accts.sign_in(name("insp"), PASSWORD, "c").principal
        accts.disable(inspector, name("insp2"), "left the office")
        with pytest.raises(Unauthenticated, match="disabled"):
            accts.sign_in(name("insp2"), PASSWORD, "c")
        with pytest.raises(Forbidden, match="staff accounts"):
            accts.disable(inspector, name("ana"), "oversight does not run the facility")

    def test_director_manages_staff_and_disabling_ends_sessions(self, engine, ledger_id, svc, name) -> None:  # type: ignore[no-untyped-def]
        accts, _ = svc
        accts.add(None, name("dir"), "Director", "facility_director", PASSWORD)
        director = accts.sign_in(name("dir"), PASSWORD, "c").principal
        accts.add(director, name("ana"), "Ana", "intake_officer", PASSWORD)
        session = accts.sign_in(name("ana"), PASSWORD, "c")
        accts.disable(director, name("ana"), "left the service")
        with pytest.raises(Unauthenticated, match="disabled"):
            accts.authenticate(session.token)
        with pytest.raises(Conflict, match="already disabled"):
            accts.disable(director, name("ana"), "again")
        accts.enable(director, name("ana"), "came back")
        assert accts.authenticate(session.token).username == name("ana")
        assert ledger_events(engine, ledger_id, "account.disabled") == 1
        assert ledger_events(engine, ledger_id, "account.enabled") == 1

    def test_roles_without_account_rights_cannot_manage(self, svc, name) -> None:  # type: ignore[no-untyped-def]
        accts, _ = svc
        accts.add(None, name("ana"), "Ana", "intake_officer", PASSWORD)
        ana = accts.sign_in(name("ana"), PASSWORD, "c").principal
        with pytest.raises(Forbidden, match="does not manage accounts"):
            accts.add(ana, name("bob"), "Bob", "intake_officer", PASSWORD)

    def test_api_token_shown_once_stored_hashed_and_revocable(self, engine, ledger_id, svc, name) -> None:  # type: ignore[no-untyped-def]
        accts, clock = svc
        accts.add(None, name("sys"), "Court system", "court", None, scope="Juzgado Especializado A")
        issued = accts.issue_token(None, name("sys"), "case management system")
        with engine.connect() as conn:
            stored = conn.execute(select(api_tokens.c.token_hash).where(api_tokens.c.token_id == issued.token_id))
            assert issued.token not in str(stored.scalar())
        clock.now += timedelta(days=400)  # long-lived
        principal = accts.authenticate(issued.token)
        assert (principal.role, principal.scope) == (Role.COURT, "Juzgado Especializado A")
        accts.revoke_token(None, issued.token_id, "rotated")
        with pytest.raises(Unauthenticated, match="revoked"):
            accts.authenticate(issued.token)
        assert ledger_events(engine, ledger_id, "account.token_issued") == 1
        assert ledger_events(engine, ledger_id, "account.token_revoked") == 1
        with pytest.raises(Unauthenticated):  # a token-only account has no password to sign in with
            accts.sign_in(name("sys"), "", "c")

    def test_token_with_expiry(self, svc, name) -> None:  # type: ignore[no-untyped-def]
        accts, clock = svc
        accts.add(None, name("sys"), "Liaison system", "liaison", None, scope="USA")
        with pytest.raises(InvalidInput, match="expires_at"):
            accts.issue_token(None, name("sys"), "feed", expires_at=clock.now)
        issued = accts.issue_token(None, name("sys"), "feed", expires_at=clock.now + timedelta(days=1))
        clock.now += timedelta(days=1)
        with pytest.raises(Unauthenticated, match="expired"):
            accts.authenticate(issued.token)

    def test_sign_out_revokes_the_session(self, svc, name) -> None:  # type: ignore[no-untyped-def]
        accts, _ = svc
        accts.add(None, name("ana"), "Ana", "intake_officer", PASSWORD)
        session = accts.sign_in(name("ana"), PASSWORD, "c")
        accts.sign_out(session.token)
        with pytest.raises(Unauthenticated, match="revoked"):
            accts.authenticate(session.token)

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"role": "warden"}, "role"),
            ({"password": "short"}, "password"),
            ({"username": "has space"}, "username"),
            ({"display_name": " "}, "display_name"),
            ({"role": "liaison"}, "scope"),  # a liaison needs its state
            ({"role": "liaison", "scope": "United States"}, "scope"),  # ISO alpha-3
            ({"role": "court"}, "scope"),
            ({"scope": "USA"}, "scope"),  # staff see everything; a scope would mislead
        ],
    )
    def test_bad_input_names_the_field_and_changes_nothing(  # type: ignore[no-untyped-def]
        self, engine, ledger_id, svc, name, fields, field
    ) -> None:
        accts, _ = svc
        args = {"username": name("x"), "display_name": "X", "role": "intake_officer", "password": PASSWORD} | fields
        with pytest.raises(InvalidInput) as refused:
            accts.add(None, **args)
        assert field in [p.field for p in refused.value.problems]
        assert ledger_events(engine, ledger_id, "account.created") == 0

    def test_duplicate_username_and_unknown_account(self, svc, name) -> None:  # type: ignore[no-untyped-def]
        accts, _ = svc
        accts.add(None, name("ana"), "Ana", "intake_officer", PASSWORD)
        with pytest.raises(Conflict, match="already exists"):
            accts.add(None, name("ana"), "Ana 2", "intake_officer", PASSWORD)
        with pytest.raises(NotFound):
            accts.disable(None, name("ghost"), "x")

    def test_unknown_and_malformed_tokens(self, svc) -> None:  # type: ignore[no-untyped-def]
        accts, _ = svc
        with pytest.raises(Unauthenticated):
            accts.authenticate("hbs_" + "x" * 43)
        with pytest.raises(Unauthenticated):
            accts.authenticate("Bearer nonsense")


class TestAccountsOnSQLite(AccountContract):
    @pytest.fixture
    def engine(self, sqlite_engine: Engine) -> Engine:
        return sqlite_engine


@pytest.mark.postgres
class TestAccountsOnPostgreSQL(AccountContract):
    @pytest.fixture
    def engine(self, postgres_engine: Engine) -> Engine:
        return postgres_engine
