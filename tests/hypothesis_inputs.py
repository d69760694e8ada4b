"""Hypothesis examples that depend only on the tests, not on which of our modules a run imported.

Hypothesis (6.131 on) now and then draws a literal it found in the project's own imported
modules (src/habeas; it skips test files), re-reading ``sys.modules`` as it goes.  Which
modules are imported depends on which test files pytest collected: a test that imports
``habeas.cli.demo`` pulls in a hundred more.  So one derandomized seed gave different
examples alone and in the whole suite, and the register state machine's coverage
assertions (tests/register/test_rebuild_state_machine.py) passed alone and failed after
``import habeas.cli.demo`` although the register behaved the same.  The suite must give the
same answer however it is selected, so the tests' own strategies alone shape the examples.

Hypothesis offers no setting for this; the pool is an internal function, replaced here.
If a Hypothesis release moves it, :func:`examples_ignore_imported_modules` says so, and
tests/register/test_hypothesis_inputs.py fails if examples follow imports again.
"""

from __future__ import annotations

from hypothesis.internal.conjecture import providers
from hypothesis.internal.constants_ast import Constants

_POOL = "_get_local_constants"  # where Hypothesis collects the literals of imported local modules
_NOTHING = Constants()


def _no_constants() -> Constants:
    return _NOTHING


def examples_ignore_imported_modules() -> None:
    """Draw no literals from the project's imported modules (Hypothesis' own constants stay)."""
    if not callable(getattr(providers, _POOL, None)):
        raise RuntimeError(
            f"hypothesis.internal.conjecture.providers.{_POOL} is gone: find where this Hypothesis "
            "release collects constants from imported modules and update tests/hypothesis_inputs.py"
        )
    setattr(providers, _POOL, _no_constants)
