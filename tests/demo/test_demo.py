"""The small demo, built once per backend: the safeguards find what the reports describe.

Each expectation of ``habeas.demo.expected`` (the report's finding, the rule id, the kind of
subject) is checked against the alerts in the demo's ledger; and the register keeps its
promises: one current place for everyone, a ledger that verifies, nothing back-dated (R23),
accounts that sign in with their role.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from habeas.cli.app import app
from habeas.demo.build import ACCOUNTS, DemoResult, build_demo, is_empty
from habeas.demo.expected import EXPECTED, Expectation
from habeas.demo.people import PeopleFactory
from habeas.demo.scenario import END, SIZES
from habeas.domain.custody import HELD
from habeas.ledger.checkpoint import Verifier, load_key_file
from habeas.ledger.verify import verify_ledger
from habeas.services.accounts import AccountService
from habeas.services.safeguarding import BACKDATING_LIMIT
from habeas.store.engine import make_engine
from habeas.store.law_tables import orders
from habeas.store.register_tables import alerts, cells, episodes, people, stays
from habeas.store.tables import events
from habeas.store.transfer_tables import refusals, transferees
from tests.conftest import scratch_postgres_database

# Cheap password hashing: the accounts are checked for their roles, not argon2's cost.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@dataclass
class Demo:
    engine: Engine
    result: DemoResult
    key: Path


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp(f"demo-{request.param}")
    with ExitStack() as stack:
        if request.param == "postgresql":  # the demo needs a database of its own (ledger "main")
            url = stack.enter_context(scratch_postgres_database("habeas_demo"))
        else:
            url = f"sqlite:///{folder / 'demo.db'}"
        engine = make_engine(url)
        stack.callback(engine.dispose)
        result = build_demo(engine, "small", folder / "main.key", hasher=FAST_HASHER)
        yield Demo(engine, result, folder / "main.key")


def _subject_kind(demo: Demo, subject: str) -> str | None:
    with demo.engine.connect() as conn:
        for kind, column in (
            ("person", people.c.person_id), ("cell", cells.c.cell_id), ("order", orders.c.order_id),
            ("refusal", refusals.c.refusal_id),
        ):  # fmt: skip
            if conn.execute(select(func.count()).where(column == subject)).scalar_one():
                return kind
    return None


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda e: f"{e.rule}-{e.says.replace(' ', '-')}")
def test_the_safeguards_raise_what_the_reports_describe(demo: Demo, expected: Expectation) -> None:
    with demo.engine.connect() as conn:
        raised = conn.execute(
            select(alerts.c.subject, alerts.c.resolved_at).where(
                alerts.c.ledger_id == demo.result.ledger_id,
                alerts.c.rule == expected.rule,
                alerts.c.message.contains(expected.says, autoescape=True),
            )
        ).all()
    on_kind = [r for r in raised if _subject_kind(demo, r.subject) == expected.subject]
    assert on_kind, f"no {expected.rule} alert on a {expected.subject}: {expected.finding}"
    still_open = [r for r in on_kind if r.resolved_at is None]
    if expected.open_at_end:
        assert still_open, f"{expected.rule} ({expected.finding}) was resolved before the end"
    else:  # raised, then resolved by what happened later (the people left; the man was handed back)
        assert not still_open


def test_the_alerts_were_raised_by_the_sweep_not_written_by_the_scenario(demo: Demo) -> None:
    """Every alert event is the sweep's (or, for a refusal at the gate, the intake's), never the scenario's."""
    with demo.engine.connect() as conn:
        actors = set(
            conn.execute(
                select(events.c.actor).where(
                    events.c.ledger_id == demo.result.ledger_id, events.c.type == "alert.raised"
                )
            ).scalars()
        )
    assert actors and actors <= {"system:safeguards", "demo.intake"}, actors


def test_gang_labels_without_a_document_are_recorded_as_unsubstantiated(demo: Demo) -> None:
    # No rule of the catalogue covers it (habeas.demo.expected.UNSUBSTANTIATED_LABELS): the record says so.
    with demo.engine.connect() as conn:
        by: dict[bool | None, int] = dict(
            conn.execute(
                select(people.c.group_substantiated, func.count())
                .where(people.c.ledger_id == demo.result.ledger_id, people.c.group_affiliation.is_not(None))
                .group_by(people.c.group_substantiated)
            ).all()
        )
    assert by.get(False, 0) > by.get(True, 0) > 0


def test_everyone_has_exactly_one_current_place_and_status(demo: Demo) -> None:
    ledger = demo.result.ledger_id
    held = [s.value for s in HELD]
    with demo.engine.connect() as conn:
        everyone = conn.execute(select(func.count()).select_from(people).where(people.c.ledger_id == ledger))
        current = conn.execute(
            select(stays.c.person_id, func.count())
            .where(stays.c.ledger_id == ledger, stays.c.valid_to.is_(None))
            .group_by(stays.c.person_id)
        ).all()
        statuses: dict[str, int] = dict(
            conn.execute(
                select(episodes.c.status, func.count())
                .where(episodes.c.ledger_id == ledger)
                .group_by(episodes.c.status)
            ).all()
        )
        open_per_person = max(
            conn.execute(
                select(func.count())
                .where(episodes.c.ledger_id == ledger, episodes.c.status.in_(held))
                .group_by(episodes.c.person_id)
            ).scalars()
        )
        unhoused = conn.execute(
            select(func.count()).where(
                episodes.c.ledger_id == ledger, episodes.c.status.in_(held), episodes.c.cell_id.is_(None)
            )
        ).scalar_one()
    total = everyone.scalar_one()
    assert len(current) == total and all(n == 1 for _, n in current)
    assert open_per_person == 1 and unhoused == 0
    # The story's ends are all there: held, dead, released, flown out.
    assert {"in_cell", "deceased", "released", "transferred"} <= set(statuses)
    scale = SIZES["small"]
    flown_in = scale.flight_venezuelans + scale.flight_salvadorans - 1 + scale.later_venezuelans
    assert total == scale.domestic + flown_in + scale.later_salvadorans  # the protected man was refused
    assert statuses["transferred"] == scale.flight_venezuelans + scale.later_venezuelans  # repatriated


def test_transferees_have_a_custodian_of_record_and_the_ledger_verifies(demo: Demo) -> None:
    with demo.engine.connect() as conn:
        custodians = set(
            conn.execute(
                select(episodes.c.custodian_of_record)
                .join(transferees, transferees.c.episode_id == episodes.c.episode_id)
                .where(episodes.c.ledger_id == demo.result.ledger_id)
            ).scalars()
        )
        verifier = Verifier.from_text(load_key_file(demo.key).verifier_key_text())
        report = verify_ledger(conn, demo.result.ledger_id, verifier)
    assert custodians and all(c.strip() for c in custodians)  # R25: never empty
    assert report.ok, report.problem


def test_nothing_is_back_dated(demo: Demo) -> None:
    """R23: the scenario's clock records every fact just after it happened."""
    with demo.engine.connect() as conn:
        rows = conn.execute(
            select(events.c.occurred_at, events.c.recorded_at).where(events.c.ledger_id == demo.result.ledger_id)
        ).all()
        r23 = conn.execute(select(func.count()).where(alerts.c.rule == "R23")).scalar_one()
    delays = [_instant(r.recorded_at) - _instant(r.occurred_at) for r in rows]
    assert min(delays) >= timedelta(0) and max(delays) < BACKDATING_LIMIT
    assert max(_instant(r.recorded_at) for r in rows) < END + timedelta(hours=1)
    assert r23 == 0


def test_each_demo_account_signs_in_with_its_role(demo: Demo) -> None:
    service = AccountService(demo.engine, demo.result.ledger_id, lambda: END + timedelta(minutes=5), FAST_HASHER)
    assert [a.role for a in demo.result.accounts] == [role for role, _, _, _ in ACCOUNTS]
    for account in demo.result.accounts:
        session = service.sign_in(account.username, account.password, "127.0.0.1")
        principal = service.authenticate(session.token)
        assert (principal.role.value, principal.scope) == (account.role, account.scope)


def test_a_database_that_holds_a_register_is_refused(demo: Demo, tmp_path: Path) -> None:
    assert not is_empty(demo.engine)
    with pytest.raises(Exception, match="already holds a register"):
        build_demo(demo.engine, "small", tmp_path / "other.key", hasher=FAST_HASHER)


def _instant(value: datetime | str) -> datetime:
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_the_command_refuses_a_database_that_holds_a_register(demo: Demo) -> None:
    url = demo.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["demo", "--size", "small", "--no-serve", "--database-url", url])
    assert result.exit_code == 2 and "already holds a register" in result.output, result.output


def test_the_same_seed_gives_the_same_synthetic_people() -> None:
    def people(seed: int) -> list[tuple[str, str, str]]:
        factory = PeopleFactory(seed)
        born = [factory.salvadoran_man(END.date()) for _ in range(50)] + [factory.venezuelan_man(END.date())]
        return [(p.given_names, p.family_names, p.document_number) for p in born]

    assert people(7) == people(7) != people(8)
    assert len(set(people(7))) == 51
