"""What every command needs: which database, which ledger, which key, and the clock."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine

from habeas.domain.events import REGISTRY
from habeas.ledger.checkpoint import Signer, Verifier, load_key_file
from habeas.ledger.log import Ledger
from habeas.store.engine import data_dir, make_engine, resolve_database_url

LEDGER_ENV = "HABEAS_LEDGER"
KEY_ENV = "HABEAS_SIGNING_KEY"
ACTOR_ENV = "HABEAS_ACTOR"
DEFAULT_LEDGER = "main"


@dataclass
class Settings:
    database_url: str | None = None
    ledger_id: str | None = None
    key_file: Path | None = None
    actor: str | None = None

    @property
    def url(self) -> str:
        return resolve_database_url(self.database_url)

    @property
    def ledger(self) -> str:
        return self.ledger_id or os.environ.get(LEDGER_ENV) or DEFAULT_LEDGER

    @property
    def key_path(self) -> Path:
        if self.key_file:
            return self.key_file
        if os.environ.get(KEY_ENV):
            return Path(os.environ[KEY_ENV])
        return data_dir() / "keys" / f"{self.ledger}.key"

    @property
    def who(self) -> str:
        return self.actor or os.environ.get(ACTOR_ENV) or f"cli:{getpass.getuser()}"

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.url)

    def open_ledger(self) -> Ledger:
        return Ledger(self.engine, self.ledger, REGISTRY)

    def signer(self) -> Signer:
        return load_key_file(self.key_path)

    def verifier(self) -> Verifier | None:
        if not self.key_path.exists():
            return None
        return Verifier.from_text(self.signer().verifier_key_text())


def now() -> datetime:
    """The CLI is the edge of the system: the one place that reads the clock."""
    return datetime.now(UTC)
