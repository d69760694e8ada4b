"""Synthetic people for the demo: Faker in Spanish locales, seeded, never a real person.

Names are combined at random from pools Faker draws once (two given names, two family names:
nobody's whole name except by chance).  Salvadoran detainees get names from Faker's es_ES and
es_MX locales and a made-up DUI number (the national identity document) from a range no real DUI
uses; Venezuelan transferees get Venezuelan-style names (see VENEZUELAN_LOCALES) and a made-up
sending-state identifier.  The same seed gives the same people.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from faker import Faker

SALVADORAN_LOCALES = ("es_ES", "es_MX")
# Faker's es_VE has no person names (it falls back to English ones): Colombian and Spanish names,
# with given names in the style common in Venezuela mixed in (names alone, nobody's whole name).
VENEZUELAN_LOCALES = ("es_CO", "es_ES")
VENEZUELAN_STYLE = (
    "Yorbis", "Wilmer", "Andry", "Yeferson", "Jhonny", "Deivis", "Yorman", "Jhoan", "Wuilliams", "Yonaiker",
    "Darwin", "Frankelis", "Yohander", "Keiber", "Jeiber", "Anyelo", "Yeison", "Wilker", "Neiker", "Eudis",
)  # fmt: skip


@dataclass(frozen=True)
class SyntheticPerson:
    given_names: str
    family_names: str
    birth_date: date
    document_number: str  # synthetic: a DUI for Salvadorans, the sending state's number for transferees
    contact_name: str
    contact_relationship: str


class _Names:
    """Pools drawn once from Faker (seeded), combined at random: Faker's per-call cost, paid once."""

    def __init__(self, fake: Faker, rng: random.Random, styled: tuple[str, ...] = ()) -> None:
        self.male = [fake.first_name_male() for _ in range(POOL)] + list(styled) * (POOL // 4 // max(1, len(styled)))
        self.female = [fake.first_name_female() for _ in range(POOL)]
        self.family = [fake.last_name() for _ in range(POOL)]
        self.rng = rng

    def given(self) -> str:
        return f"{self.rng.choice(self.male)} {self.rng.choice(self.male)}"

    def surnames(self) -> str:
        return f"{self.rng.choice(self.family)} {self.rng.choice(self.family)}"


POOL = 800  # names per pool: 800² pairs of given names times 800² of family names


class PeopleFactory:
    """Reproducible people: names from seeded Faker pools, one per population."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)  # noqa: S311 -- reproducible synthetic data, not secrets
        salvadoran = Faker(list(SALVADORAN_LOCALES))
        salvadoran.seed_instance(seed)
        venezuelan = Faker(list(VENEZUELAN_LOCALES))
        venezuelan.seed_instance(seed + 1)
        self.salvadoran = _Names(salvadoran, self.random)
        self.venezuelan = _Names(venezuelan, self.random, VENEZUELAN_STYLE)
        self.serial = 0

    def _person(self, names: _Names, on: date, number: str) -> SyntheticPerson:
        # Two given names and two family names, as both countries write them.
        age_days = self.random.randint(18 * 366, 50 * 365)
        relative = self.random.choice(("madre", "esposa", "hermana", "padre", "hermano", "compañera"))
        first = self.random.choice(names.male if relative in ("padre", "hermano") else names.female)
        contact = f"{first} {self.random.choice(names.family)}"
        born = on - timedelta(days=age_days)
        return SyntheticPerson(names.given(), names.surnames(), born, number, contact, relative)

    def salvadoran_man(self, on: date) -> SyntheticPerson:
        """A Salvadoran man of 18–50 on ``on``, with a synthetic DUI (9xxxxxxx-d, a range not issued)."""
        self.serial += 1
        number = f"9{self.serial:07d}-{self.serial % 10}"
        return self._person(self.salvadoran, on, number)

    def venezuelan_man(self, on: date) -> SyntheticPerson:
        """A Venezuelan man of 18–50 on ``on``, with a synthetic number (the sending state's: SYN-A9xxxxxxxx)."""
        self.serial += 1
        return self._person(self.venezuelan, on, f"9{self.serial:08d}")
