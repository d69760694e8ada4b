"""The scenario's clock: simulated time that only moves forward, so nothing is back-dated (R23).

Each step of the scenario happens at an instant and is recorded just after it, as a clerk would
record it: ``at(t)`` moves the clock to ``t`` plus the recording delay (never backwards), and the
services read it as their ``recorded_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

RECORDING_DELAY = timedelta(minutes=20)  # well inside R23's limit (safeguarding.BACKDATING_LIMIT)


@dataclass
class SimulatedClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def at(self, occurred: datetime, delay: timedelta = RECORDING_DELAY) -> datetime:
        """Move to just after ``occurred`` (or stay, if already later); return ``occurred``."""
        self.now = max(self.now, occurred + delay)
        return occurred
