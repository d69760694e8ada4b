"""Derandomized examples do not change when a run imports more of the project's modules.

The register state machine (test_rebuild_state_machine.py) met its coverage assertions
alone but not after ``import habeas.cli.demo``: Hypothesis drew literals from whatever
local modules were imported, so the same seed gave other examples (tests/hypothesis_inputs.py).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st


def derandomized_draws() -> list[list[int]]:
    """The examples one fixed derandomized test sees (the same function, so the same seed)."""
    seen: list[list[int]] = []

    @settings(derandomize=True, database=None, max_examples=30, phases=[Phase.generate])
    @given(st.lists(st.integers(0, 10_000), min_size=30, max_size=30))
    def record(values: list[int]) -> None:
        seen.append(values)

    record()
    return seen


def test_importing_a_module_full_of_literals_changes_no_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = derandomized_draws()
    assert len(before) == 30 and len({tuple(v) for v in before}) > 1  # really drawn, not one constant example

    # A local (not site-packages, not a test file) module whose literals are all in range of the
    # strategy above: were they drawn, about one value in forty would come from this module.
    folder = tmp_path / "project"
    folder.mkdir()
    literals = range(1_001, 1_601)
    (folder / "literal_rich_module.py").write_text(f"LITERALS = ({', '.join(map(str, literals))},)\n")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, "literal_rich_module", raising=False)  # removed again after the test
    module = importlib.import_module("literal_rich_module")
    assert len(module.LITERALS) == len(literals)

    after = derandomized_draws()
    assert after == before
