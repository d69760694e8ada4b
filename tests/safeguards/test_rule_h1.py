"""H1 (habeas's own rule): someone held under a group (gang) label that no document supports.

The reports describe people labelled gang members without evidence.  Issue #3 records a label with
the document it rests on, or as unsubstantiated; H1 makes the unsubstantiated label an alert that
stays open while the person is held under it.  Breach, non-breach and the edges (evidence recorded
later, the label withdrawn, the person released), through the commands and the sweep, on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.safeguards.test_rules_facility import RELEASE, World, new_world, small

LABEL = {"risk_level": "high", "group_affiliation": "MS"}
HEARSAY = {**LABEL, "group_evidence": {"description": "tattoos, according to the arresting officer"}}
DOCUMENTED = {**LABEL, "group_evidence": {"document_reference": "INF-PNC-2025-0042"}}


class TestGroupLabel:  # on both backends (the engine fixture of tests/conftest.py)
    @pytest.fixture
    def world(self, engine: Engine, ledger_id: str) -> World:
        return new_world(engine, ledger_id)

    def test_a_label_without_a_document_is_found_and_one_with_a_document_is_not(self, world: World) -> None:
        small(world)
        hearsay, documented, unlabelled = world.admit_many(3, 0)
        world.now(10)
        world.svc.classify("user:intake", hearsay, HEARSAY, world.now(10))
        world.svc.classify("user:intake", documented, DOCUMENTED, world.now(11))
        world.svc.classify("user:intake", unlabelled, {"risk_level": "low"}, world.now(12))
        (finding,) = world.find(13, "H1")
        assert (finding.subject, finding.refs) == (hearsay, (hearsay,))
        assert "'MS'" in finding.message and "no documented evidence" in finding.message
        # The classifying command itself raised it (the per-command safeguards), once.
        assert [(a.rule, a.subject, a.severity) for a in world.alerts("H1", open_only=True)] == [
            ("H1", hearsay, "high")
        ]
        assert world.sweep(14).raised == 0

    def test_evidence_recorded_later_or_the_label_withdrawn_clears_it(self, world: World) -> None:
        small(world)
        later, withdrawn = world.admit_many(2, 0)
        world.svc.classify("user:intake", later, HEARSAY, world.now(10))
        world.svc.classify("user:intake", withdrawn, HEARSAY, world.now(11))
        assert world.found(12, "H1") == {("H1", later), ("H1", withdrawn)}
        world.svc.classify("user:records", later, DOCUMENTED, world.now(20))
        world.svc.classify("user:records", withdrawn, {"risk_level": "medium"}, world.now(21))
        assert world.found(22, "H1") == set()
        assert world.alerts("H1", open_only=True) == []  # resolved by the commands that cleared them

    def test_nobody_released_is_flagged(self, world: World) -> None:
        small(world)
        (person,) = world.admit_many(1, 0)
        world.svc.classify("user:intake", person, HEARSAY, world.now(10))
        world.svc.release("user:records", person, world.now(30), **RELEASE)
        assert world.found(31, "H1") == set()
        assert world.alerts("H1", open_only=True) == []


def test_a_classification_without_a_risk_level_is_refused_by_name(sqlite_engine: Engine, ledger_id: str) -> None:
    from habeas.errors import InvalidInput

    world = new_world(sqlite_engine, ledger_id)
    small(world)
    (person,) = world.admit_many(1, 0)
    error = world.refused(InvalidInput, lambda: world.svc.classify("user:intake", person, {"group_affiliation": "MS"},
                                                                   world.now(10)))  # fmt: skip
    assert [p.field for p in error.problems] == ["risk_level"]
