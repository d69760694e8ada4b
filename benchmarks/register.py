"""How fast the register takes in a mass intake and answers its questions, at CECOT scale.

Run::

    uv run python benchmarks/register.py                       # both backends, full sizes (20-40 min each)
    uv run python benchmarks/register.py --quick               # both backends, small sizes (~4 min)
    uv run python benchmarks/register.py --backend sqlite      # one backend
    uv run python benchmarks/register.py --quick --profile     # + cProfile of one intake batch
    uv run python benchmarks/register.py --quick --no-safeguards   # the service without its after-command checks
    uv run python benchmarks/register.py --intake-only --skip-exam-each   # only the target's intake figure

The facility is the CECOT layout shipped in ``src/habeas/policy/layouts/cecot.yaml``
(standards.md §3: 8 pavilions × 32 cells of 100 m², 80 bunks each: 256 cells, 20,480 beds,
declared capacity 40,000).  Every database is the benchmark's own: a file in a temporary
directory for SQLite; on PostgreSQL a database ``habeas_bench_<hex>`` created next to
``--postgres-url`` (default ``$HABEAS_TEST_POSTGRES_URL``, else
``postgresql://postgres@127.0.0.1:5432/test``) and dropped at the end.

What is measured, per backend (wall clock, ``time.perf_counter``):

1. **Mass intake** of ``--intake`` people (default 10,000; quick 2,000), in batches of 500,
   into an empty CECOT: each person admitted with identity, legal basis, arrest facts,
   property and family contacts (``RegisterService.admit_many``, duplicate check on), then
   medically examined, then housed (``propose_housing`` for the batch, then
   ``confirm_housing``, which is ``place_many``).  Four events per person —
   ``person.registered``, ``custody.admitted``, ``medical.examined``, ``custody.placed`` —
   plus the alerts the service's safeguards raise or resolve after each command (R17:
   cells above the space standard, R11: a referral, ...).  The night is recorded as it
   happens: everyone arrives over the eight hours before the run, so no 24-hour duty is
   overdue and nothing is backdated (recording a night two days late raises R7, R8 and
   R10 for every person, and every later command slows down: the safeguards read every
   open alert of the ledger on every command).
   Two variants, each in a ledger of its own:

   * *exam each*: ``RegisterService.examine`` once per person, as the service offers it
     today: one write transaction (one fsync) per examination;
   * *exams batched*: ``RegisterService.examine_many``: the same checks ``examine`` makes
     (open episode, allowed transition, time order) for the whole batch in one unit of
     work, the safeguards once for the batch.  This is the figure the target is about.

   Every command runs the service's safeguards before it commits
   (``RegisterService.safeguards``, ``services.safeguarding.after_command``: the sweep's
   checks for the people and cells the command touched, once per chunk of an
   ``admit_many``); ``--no-safeguards`` switches them off everywhere to show what they
   cost.  With the safeguards on, the per-person examinations of *exam each* dominate
   the run time.

   *Raw*: after each service batch, the events it stored are read back from the
   ``events`` table (type, schema version, payload, occurred_at, actor) and appended
   again to a fresh ledger in the same database through ``Ledger.append``, in the same
   batch size (500 people: the batch's admissions in one append, its examinations in
   one, its placements in one), with no projections and no state checks.  (The stored
   JSON payload is turned back into its schema's model with ``model_validate_json``
   before the clock starts: the strict schemas refuse a JSON-decoded dict with instants
   as strings.  The service never hands the ledger such a dict, so this costs it
   nothing: its payloads are models built from typed values.)  Each timed stretch
   starts with an empty WAL on SQLite, as in ``benchmarks/ledger.py``.  On PostgreSQL
   with autovacuum off (as on the development machines), ``ANALYZE`` runs, untimed,
   before each batch, standing in for autovacuum: with statistics from an empty table
   the duplicate check's query was planned as a nested loop over every person in the
   ledger and the intake turned quadratic (150-190 s for the second batch of 500,
   against under a second).  The service now looks the keys up first, and
   ``admit_many`` refreshes stale statistics itself after an intake of ``MASS_INTAKE``
   people or more (inside the timed stretch).

   *Append + project*: the same events again, into a third ledger (given the facility
   first), through ``append_and_project``: the ledger append and the projection
   handlers in one transaction per group, with none of the service's reads, checks,
   duplicate search, housing or safeguards.  No service that keeps its read models in
   the transaction of its events (architecture invariant: projections updated with the
   events) can be faster than this, so its ratio to *raw* is the ceiling of the target's
   ratio, and the gap between it and the service's is what the service's own work costs.

   *Append + rows* (the floor): at the end, every projection row the intake left in the
   *append + project* ledger (rows already there after the facility was registered
   excluded) is read back as the driver returns it; then the intake's events are appended
   once more, to a fresh ledger, each group in one transaction together with an equal share
   of those rows, inserted by ``store.bulk.insert_rows`` (``COPY`` on PostgreSQL,
   ``executemany`` on SQLite): as many commits as the raw append, the WAL emptied before
   each batch as for it, no projection code.  A service that keeps these rows in the
   transactions of its events, writing one statement after another through this project's
   bulk path, takes no less, whatever its Python costs: ``raw / (append + rows)`` bounds its
   ratio, and ``2 × raw − (append + rows)`` is what is left, at the target, for every line
   of Python the service runs beyond the append (validation, duplicate check, housing,
   projection handlers, safeguards).  It is a bound for this schema and this write path,
   not for any conceivable one: fewer rows or indexes, or a client that overlaps its Python
   with the server's work, could do better.  Rows updated rather than inserted count once.
   Beside it, ``payloads_ms_per_person``: every stored event's payload built again from its
   field values through its schema (pydantic validates on construction), part of that
   Python which no service using these schemas escapes.
   Target: service/raw people per second ≥ 0.5.
2. **Headcount and occupancy**: ``queries.headcount`` (every facility of the ledger) and
   ``queries.occupancy`` (one facility), median of ``--runs`` (default 50) calls, each on a
   connection taken from the pool for the call (checkout, BEGIN, query, ROLLBACK: what a
   request pays).  At 40,000 people (one CECOT; built through the service in batches of
   500 — admissions and housing, no examinations — or, with ``--facility-build direct``
   and in quick runs, by the projection fill below) and at 1,000,000 people (25 CECOT-like
   facilities × 40,000; quick 80,000), which is *filled directly into the projection
   tables* (facilities, units, cells, people, episodes, stays, population) with rows of
   the shapes the projection handlers write, without events: building a million people
   through the service takes hours, and these queries read projections only.  The person
   key, document and timeline tables, which these queries do not read, are left empty.
   A CECOT cell has 80 bunks and the register never houses more people than beds
   (MR 21, a hard rule the service will not override), so at 40,000 a facility has 20,480
   people in cells and 19,520 admitted and waiting for a bed — the register shows them
   rather than squeezing 156 into a cell.  ``ANALYZE`` runs after each build, as after any
   bulk load.  Targets (SQLite): under 10 ms at 40,000 and under 100 ms at 1,000,000.
3. **Where was X at T**: ``queries.where_at`` for ``--lookups`` (default 1,000) random
   people of the 1,000,000 at random instants from a week before their admission to now
   (so some answers are "not yet in custody"), each timed alone; median and p99, target
   under 2 ms.  The same lookups run three times: the figures are the first round's, and
   the p99 of each lookup's best round is shown beside them, to tell the query's own tail
   from the machine's (a busy, shared 2-CPU machine preempts a call for a time slice).
   Every answer is checked against the history the fill generated.  Also
   reported at 40,000 (the service-built facility), checked against admission times.
4. **Housing assignment**: ``habeas.domain.housing.propose`` (pure) for a 2,000-person
   intake into the 256 cells, empty (the first night, Feb 2023) and holding 12,114
   (the reported population of Aug 2023, themselves placed by ``propose``); men,
   untried 88% / convicted 12%, recorded in MS-13, Barrio 18 Sureños, Barrio 18
   Revolucionarios (rival to each other in the policy) or no group.  Median of
   5 runs (quick 3); target under 1 s.  Then every assignment is replayed into its cell
   through ``check_placement`` (the domain's own hard-rule check: bed, service, MR 11
   separation, rival groups); the count of rules broken must be 0.

A table is printed, then, as the very last line, one JSON object with every figure and
``targets_met``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from itertools import combinations, pairwise
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection, Engine, insert, select, text

import habeas
from _common import (
    default_postgres_url,
    fmt_rate,
    fmt_ratio,
    machine_info,
    per_second,
    ratio,
    scratch_postgres_database,
    url_string,
)
from habeas.domain.admission import Admission, Identity
from habeas.domain.custody import Contact, Injury, LegalBasis, PropertyItem
from habeas.domain.events import REGISTRY
from habeas.domain.housing import Cell, HousingPolicy, LegalStatus, Occupant, Proposal, check_placement, propose
from habeas.domain.identity import KnownPerson, find_duplicates, normalize_name
from habeas.domain.layout import Layout, load_layout
from habeas.ledger.envelope import NewEvent
from habeas.ledger.log import Ledger, create_ledger, read_events, read_head
from habeas.ledger.timefmt import format_instant
from habeas.projections.fold import ALL_TABLES
from habeas.services import queries
from habeas.services.register import RegisterService
from habeas.services.unit_of_work import append_and_project
from habeas.store.bulk import insert_rows, instant_converter
from habeas.store.engine import is_sqlite, make_engine, write_transaction
from habeas.store.migrate import upgrade
from habeas.store.register_tables import cells, episodes, facilities, people, population, stays, units

LAYOUT_PATH = Path(habeas.__file__).parent / "policy" / "layouts" / "cecot.yaml"
INTAKE_TARGET = 0.5  # service/raw, people per second
HEADCOUNT_TARGET_MS = {"facility": 10.0, "register": 100.0}  # headcount and occupancy, each
WHERE_AT_TARGET_MS = 2.0
PROPOSE_TARGET_S = 1.0
SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
# where_at asks the same questions this many times; the figure is the first round, and the
# per-lookup best of all rounds shows what is left once the machine's own noise (a shared,
# busy 2-CPU machine preempts a 0.3 ms call now and then for a whole time slice) is taken out.
LOOKUP_ROUNDS = 3

BUILD_BATCH = 500  # people per admit_many when building the 40,000-person facility through the service
INTAKE_ACTOR = "officer:intake-07"
MEDIC_ACTOR = "medic:dr-aleman"
DIRECTOR_ACTOR = "officer:director"
COURT = "Juzgado Especializado de Instrucción, San Salvador"


@dataclass(frozen=True)
class Sizes:
    intake: int  # people in each intake variant
    intake_batch: int  # people per admit_many / examination batch / place_many
    facility: int  # people in the one-facility register
    facility_build: str  # "service" or "direct"
    register_facilities: int  # facilities of 40,000 in the big register
    per_facility: int
    runs: int  # headcount / occupancy calls per figure
    lookups: int  # where_at calls
    propose_people: int
    propose_existing: int
    propose_runs: int

    @property
    def register(self) -> int:
        return self.register_facilities * self.per_facility


# --- synthetic people ------------------------------------------------------------------------------

GIVEN = (
    "José", "Juan", "Carlos", "Luis", "Mario", "Jorge", "Miguel", "Óscar", "Kevin", "Brayan", "Édgar", "Walter",
    "Nelson", "Wilfredo", "Ernesto", "René", "Douglas", "Manuel", "Francisco", "Roberto", "Jonathan", "Alexander",
    "Marvin", "Wilber", "Henry", "Rafael", "Salvador", "Antonio", "Fredy", "Elmer", "Josué", "Dimas", "Ricardo",
    "Cristian", "Geovanny", "Yeferson", "Balmore", "Noé", "Santos", "Ismael",
)  # fmt: skip
FAMILY = (
    "Hernández", "López", "Martínez", "García", "Rodríguez", "Pérez", "Ramírez", "Flores", "Cruz", "Rivera",
    "Gómez", "Mejía", "Portillo", "Alvarado", "Ayala", "Guevara", "Henríquez", "Orellana", "Romero", "Chávez",
    "Méndez", "Vásquez", "Aguilar", "Argueta", "Escobar", "Castillo", "Ventura", "Rosales", "Serrano", "Sorto",
    "Lemus", "Menjívar", "Quintanilla", "Bonilla", "Deras", "Amaya", "Zelaya", "Linares", "Mendoza", "Palacios",
)  # fmt: skip
ALIASES = ("El Chino", "El Flaco", "Diablito", "El Negro", "Sombra", "El Gato", "Cholo", "Payaso", "Smokey", "Zurdo")
PLACES = (
    "Soyapango, San Salvador", "Apopa, San Salvador", "Ilopango, San Salvador", "Mejicanos, San Salvador",
    "San Miguel, San Miguel", "Santa Ana, Santa Ana", "Ahuachapán, Ahuachapán", "Usulután, Usulután",
    "Colón, La Libertad", "Zacatecoluca, La Paz", "Cojutepeque, Cuscatlán", "Sonsonate, Sonsonate",
)  # fmt: skip
DETAINING = ("Policía Nacional Civil", "Fuerza Armada de El Salvador")
DOCTORS = ("Dra. Alemán", "Dr. Funes", "Dra. Rivas", "Dr. Umaña")
PROPERTY = ("wallet", "mobile phone", "belt", "wristwatch", "keys", "cash (USD)", "rosary")
FINDINGS_FIT = "fit for detention; no acute illness; vital signs within normal limits"
GROUPS = ("MS-13", "Barrio 18 Sureños", "Barrio 18 Revolucionarios")


def dob_block(birth: date) -> str:
    low, high = sorted((birth.month, birth.day))
    return f"{birth.year:04d}-{low:02d}-{high:02d}"


class People:
    """Admission requests for distinct synthetic people, and their examinations.

    Names come from Salvadoran given and family names; birth dates are adults'.  Every
    new identity is run through the domain's own ``find_duplicates`` against the people
    already made with a birth date in the same block (the service's blocking key), and
    redrawn on a match, so the service's duplicate check runs on every admission and
    never refuses one.
    """

    def __init__(self, seed: int, facility_id: str) -> None:
        self.rng = random.Random(seed)
        self.facility_id = facility_id
        self.blocks: dict[str, list[KnownPerson]] = {}
        self.count = 0
        self.dui = self.rng.randrange(1_000_000, 5_000_000)

    def identity(self) -> Identity:
        rng = self.rng
        while True:
            given = " ".join(rng.sample(GIVEN, rng.choice((1, 2, 2))))
            family = " ".join(rng.sample(FAMILY, 2))
            aliases = (rng.choice(ALIASES),) if rng.random() < 0.15 else ()
            birth = date(1965, 1, 1) + timedelta(days=rng.randrange(40 * 365))
            block = self.blocks.setdefault(dob_block(birth), [])
            if not find_duplicates(given, family, birth, (), block):
                break
        self.count += 1
        self.dui += rng.randrange(1, 50)
        number = f"{self.dui:08d}-{self.dui % 10}"
        block.append(KnownPerson(f"made-{self.count}", given, family, aliases, birth, ()))
        return Identity(
            given_names=given,
            family_names=family,
            aliases=aliases,
            birth_date=birth,
            sex="M",
            nationalities=("SLV",),
            documents=({"kind": "national_id", "number": number, "issuer": "SLV"},),
        )

    def admission(self, admitted_at: datetime) -> Admission:
        rng = self.rng
        convicted = rng.random() < 0.12
        arrested = admitted_at - timedelta(seconds=rng.uniform(2 * 3600, 30 * 86400))
        issued = admitted_at - timedelta(seconds=rng.uniform(600, (admitted_at - arrested).total_seconds()))
        basis = LegalBasis(
            instrument_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            kind="sentence" if convicted else "provisional_detention_order",
            reference=f"{'SENT' if convicted else 'DP'}-{admitted_at.year}-{rng.randrange(1, 999_999):06d}",
            issued_by="Tribunal Especializado de Sentencia" if convicted else "Juzgado Especializado de Instrucción",
            issued_at=issued,
            article=None if convicted else "CPP art. 329; D.L. 333 (régimen de excepción)",
            expires_at=None if convicted else issued + timedelta(days=730),
        )
        injured = rng.random() < 0.1
        contacts = rng.random() < 0.85
        return Admission(
            facility_id=self.facility_id,
            identity=self.identity(),
            legal_status="convicted" if convicted else "untried",
            legal_basis=basis,
            detaining_authority=rng.choice(DETAINING),
            ordering_authority="Fiscalía General de la República",
            arrested_at=arrested,
            arrest_place=rng.choice(PLACES),
            admitted_at=admitted_at,
            injuries_observed=(Injury(body_part="left forearm", description="abrasion, 3 cm"),) if injured else (),
            property=tuple(PropertyItem(description=d) for d in rng.sample(PROPERTY, rng.randint(1, 3))),
            family_contacts=(self.contact(),) if contacts else (),
            no_contact_reason=None if contacts else "no contact given by the detainee",
        )

    def contact(self) -> Contact:
        rng = self.rng
        return Contact(
            name=f"{rng.choice(('María', 'Ana', 'Rosa', 'Marta'))} {rng.choice(FAMILY)}",
            relationship=rng.choice(("mother", "partner", "sister")),
            phone=f"+503 7{rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}",
        )

    def exam(self) -> dict[str, Any]:
        rng = self.rng
        if rng.random() < 0.1:
            return {
                "examiner": rng.choice(DOCTORS),
                "findings": "abrasion on the left forearm, consistent with the account given; otherwise fit",
                "injuries": (Injury(body_part="left forearm", description="abrasion, 3 cm"),),
                "torture_indicators": False,
                "referred_to": "Hospital Nacional Santa Gertrudis" if rng.random() < 0.3 else None,
            }
        return {"examiner": rng.choice(DOCTORS), "findings": FINDINGS_FIT}


def examine_batch(svc: RegisterService, actor: str, exams: Sequence[tuple[str, dict[str, Any], datetime]]) -> None:
    """The batch's examinations in one unit of work: ``RegisterService.examine_many``."""
    svc.examine_many(actor, exams)


# --- layouts ----------------------------------------------------------------------------------------


def cecot_layout() -> Layout:
    return load_layout(LAYOUT_PATH)


def renamed_layout(layout: Layout, facility_id: str, prefix: bool) -> Layout:
    """The layout as another facility: new facility id, unit and cell ids prefixed when ``prefix``."""
    p = f"{facility_id}-" if prefix else ""
    return Layout(
        layout.facility.model_copy(update={"facility_id": facility_id}),
        tuple(u.model_copy(update={"facility_id": facility_id, "unit_id": p + u.unit_id}) for u in layout.units),
        tuple(
            x.model_copy(update={"facility_id": facility_id, "unit_id": p + x.unit_id, "cell_id": p + x.cell_id})
            for x in layout.cells
        ),
    )


class SimulatedClock:
    """The service's "now" while a register is built as it would have been, day by day.

    Recording three years of admissions today would make every event "backdated" (R23:
    recorded more than 72 hours after it happened) and raise an alert for each.
    """

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def replace_id(event: NewEvent) -> NewEvent:
    """The same event under a new id (an event id is unique across ledgers)."""
    return replace(event, event_id=uuid.uuid4())


def chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def wal_checkpoint(path: Path) -> None:
    """Empty a SQLite file's WAL into the database (from a connection of our own)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.close()
    if busy:
        raise RuntimeError(f"could not checkpoint {path}: a connection holds a read transaction")


def quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


# --- results -----------------------------------------------------------------------------------------


@dataclass
class IntakeFigure:
    variant: str
    people: int = 0
    events: int = 0
    stages: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("admit", "examine", "propose", "place"), 0.0)
    )
    raw_s: float = 0.0
    projected_s: float = 0.0  # the same events appended and folded into the projections, nothing else
    rows: int = 0  # projection rows the intake left (the rows floor)
    rows_s: float = 0.0  # the events appended again, each group with its share of those rows (driver inserts)
    payloads_s: float = 0.0  # every stored event's payload built again from its field values, nothing else
    batch_ratios: list[float] = field(default_factory=list)

    @property
    def service_s(self) -> float:
        return sum(self.stages.values())

    def as_json(self) -> dict[str, Any]:
        ours = per_second(self.people, self.service_s)
        raw = per_second(self.people, self.raw_s)
        low, high = (
            statistics.quantiles(self.batch_ratios, n=4)[::2]
            if len(self.batch_ratios) >= 4
            else (min(self.batch_ratios), max(self.batch_ratios))
        )
        return {
            "people": self.people,
            "events": self.events,
            "service": {
                "seconds": round(self.service_s, 3),
                "people_per_s": round(ours, 1),
                "events_per_s": round(per_second(self.events, self.service_s), 1),
                "stages_s": {k: round(v, 3) for k, v in self.stages.items()},
                "stages_ms_per_person": {k: round(1000 * v / self.people, 3) for k, v in self.stages.items()},
            },
            "raw": {
                "seconds": round(self.raw_s, 3),
                "people_per_s": round(raw, 1),
                "events_per_s": round(per_second(self.events, self.raw_s), 1),
            },
            "projected": {
                "seconds": round(self.projected_s, 3),
                "people_per_s": round(per_second(self.people, self.projected_s), 1),
                "ratio_to_raw": round(ratio(per_second(self.people, self.projected_s), raw), 4),
            },
            "rows_floor": {
                "rows": self.rows,
                "rows_per_person": round(self.rows / self.people, 1) if self.people else 0.0,
                "append_and_rows_seconds": round(self.rows_s, 3),
                # No service writing these events and these rows in the same transactions, one statement after
                # another through this project's bulk path, passes this ratio, whatever its Python costs.
                "ratio_bound": round(self.raw_s / self.rows_s, 4) if self.rows_s else None,
                # Per person, what is left at the target for the service's Python (negative: nothing).
                "python_budget_ms_per_person": round(1000 * (2 * self.raw_s - self.rows_s) / self.people, 4)
                if self.people
                else None,
                # Part of that Python no service building these events through their schemas escapes.
                "payloads_ms_per_person": round(1000 * self.payloads_s / self.people, 4) if self.people else None,
                "ratio_bound_with_payloads": round(self.raw_s / (self.rows_s + self.payloads_s), 4)
                if self.rows_s
                else None,
            },
            "ratio": round(ratio(ours, raw), 4),
            "ratio_batch_quartiles": [round(low, 4), round(high, 4)],
        }


@dataclass
class Lookups:
    seconds: list[float] = field(default_factory=list)  # the first round: the figure
    best: list[float] = field(default_factory=list)  # per lookup, the fastest of all rounds
    rounds: int = 0
    not_yet: int = 0  # answers "not yet in custody then"
    wrong: int = 0  # answers that disagree with the history the data was built from

    def as_json(self) -> dict[str, Any]:
        return {
            "lookups": len(self.seconds),
            "median_ms": ms(statistics.median(self.seconds)),
            "p99_ms": ms(quantile(self.seconds, 0.99)),
            "max_ms": ms(max(self.seconds)),
            f"median_best_of_{self.rounds}_ms": ms(statistics.median(self.best)),
            f"p99_best_of_{self.rounds}_ms": ms(quantile(self.best, 0.99)),
            "not_yet_in_custody": self.not_yet,
            "wrong_answers": self.wrong,
        }


@dataclass
class ScaleFigure:
    name: str  # "facility" or "register"
    people: int = 0
    facilities: int = 0
    build: str = ""
    build_s: float = 0.0
    headcount_s: list[float] = field(default_factory=list)
    occupancy_s: list[float] = field(default_factory=list)
    headcount_total: int = 0
    where_at: Lookups | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "people": self.people,
            "facilities": self.facilities,
            "build": self.build,
            "build_s": round(self.build_s, 1),
            "headcount_ms": ms(statistics.median(self.headcount_s)),
            "headcount_p90_ms": ms(quantile(self.headcount_s, 0.9)),
            "occupancy_ms": ms(statistics.median(self.occupancy_s)),
            "occupancy_p90_ms": ms(quantile(self.occupancy_s, 0.9)),
            "runs": len(self.headcount_s),
            "headcount_total": self.headcount_total,
        }
        if self.where_at is not None:
            out["where_at"] = self.where_at.as_json()
        return out


@dataclass
class BackendResult:
    backend: str
    settings: dict[str, Any] = field(default_factory=dict)
    intake: dict[str, IntakeFigure] = field(default_factory=dict)
    scales: dict[str, ScaleFigure] = field(default_factory=dict)
    profile: str = ""

    def as_json(self) -> dict[str, Any]:
        intake = {k: v.as_json() for k, v in self.intake.items()}
        scales = {k: v.as_json() for k, v in self.scales.items()}
        targets: dict[str, bool] = {}
        if "exam_each" in intake:
            targets["intake_ratio"] = intake["exam_each"]["ratio"] >= INTAKE_TARGET
        if "exams_batched" in intake:
            targets["intake_ratio_exams_batched"] = intake["exams_batched"]["ratio"] >= INTAKE_TARGET
        for name, figure in scales.items():
            limit = HEADCOUNT_TARGET_MS[name]
            targets[f"headcount_{name}"] = figure["headcount_ms"] < limit
            targets[f"occupancy_{name}"] = figure["occupancy_ms"] < limit
        if "register" in scales:
            lookups = scales["register"]["where_at"]
            targets["where_at_median"] = lookups["median_ms"] < WHERE_AT_TARGET_MS
            targets["where_at_p99"] = lookups["p99_ms"] < WHERE_AT_TARGET_MS
            targets[f"where_at_p99_best_of_{LOOKUP_ROUNDS}"] = (
                lookups[f"p99_best_of_{LOOKUP_ROUNDS}_ms"] < WHERE_AT_TARGET_MS
            )
            targets["where_at_correct"] = lookups["wrong_answers"] == 0
        return {"settings": self.settings, "intake": intake, **scales, "targets_met": targets}


# --- the benchmark, per backend ------------------------------------------------------------------------


class Bench:
    def __init__(
        self, backend: str, engine: Engine, url: str, sizes: Sizes, seed: int, sqlite_path: Path | None
    ) -> None:
        self.backend = backend
        self.engine = engine
        self.url = url
        self.sizes = sizes
        self.seed = seed
        self.sqlite_path = sqlite_path
        self.layout = cecot_layout()
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.result = BackendResult(backend)
        self.console: Console | None = None
        self.autovacuum_off = False
        self.safeguards = True  # the service's after-command safeguards, as shipped
        self.skip: set[str] = set()  # "exam_each", "scales": parts left out of this run
        if not is_sqlite(engine):
            with engine.connect() as conn:
                self.autovacuum_off = conn.exec_driver_sql("SHOW autovacuum").scalar() == "off"

    def say(self, message: str) -> None:
        if self.console is not None:
            self.console.print(f"[dim]{self.backend}: {message}[/dim]")

    def settle(self) -> None:
        """On SQLite, start each timed stretch with an empty WAL (see benchmarks/ledger.py, Bench.settle)."""
        if self.sqlite_path is not None:
            wal_checkpoint(self.sqlite_path)

    def clock(self) -> datetime:
        return datetime.now(UTC)

    def new_ledger(self, ledger_id: str) -> None:
        with write_transaction(self.engine) as conn:
            create_ledger(conn, ledger_id, f"bench.example/{ledger_id}", self.now - timedelta(days=1200))

    def size(self, ledger_id: str) -> int:
        with self.engine.connect() as conn:
            return int(read_head(conn, ledger_id).size)

    def service(
        self, ledger_id: str, layout: Layout, registered_at: datetime, clock: Callable[[], datetime] | None = None
    ) -> RegisterService:
        self.new_ledger(ledger_id)
        svc = RegisterService(self.engine, ledger_id, clock or self.clock)
        if not self.safeguards:
            svc.safeguards = None
        svc.register_facility(DIRECTOR_ACTOR, layout.facility, layout.units, layout.cells, registered_at)
        return svc

    def analyze(self) -> None:
        with write_transaction(self.engine) as conn:
            conn.exec_driver_sql("ANALYZE")

    def stand_in_for_autovacuum(self) -> None:
        """On PostgreSQL with autovacuum off, ANALYZE (untimed) before each batch; see the module docstring.

        Without fresh statistics the duplicate check's query (people whose id is in the
        person_keys matching the probe) is planned as a nested loop over every person of
        the ledger, and a mass intake turns quadratic: measured 150-190 s for the second
        batch of 500 on a fresh database, against 0.8 s with statistics.
        """
        if self.autovacuum_off:
            self.analyze()

    # 1. mass intake ------------------------------------------------------------------------------

    def stored_as_new(self, ledger_id: str, after: int, upto: int) -> list[NewEvent]:
        """The events stored in (after, upto], as NewEvents again: same type, payload, times, actor; new ids."""
        out = []
        with self.engine.connect() as conn:
            for e in read_events(conn, ledger_id, after_seq=after, limit=upto - after):
                model = REGISTRY.schema(e.type, e.schema_version).model
                payload = model.model_validate_json(orjson.dumps(orjson.loads(e.body)["payload"]))
                out.append(NewEvent(e.type, payload, e.occurred_at, e.actor, uuid.uuid4(), e.schema_version))
        assert len(out) == upto - after, (len(out), upto - after)
        return out

    @staticmethod
    def time_payloads(events: Sequence[NewEvent]) -> float:
        """Seconds to build these events' payloads again from their field values, as the service builds them.

        Pydantic validates on construction (nested models are taken as they are); this is Python that no
        service writing these events through their schemas escapes.
        """
        fields = [(type(e.payload), dict(e.payload)) for e in events]
        start = time.perf_counter()
        for model, values in fields:
            model(**values)
        return time.perf_counter() - start

    def intake_batch(
        self, svc: RegisterService, factory: People, batched_exams: bool, count: int, start: datetime, step: timedelta
    ) -> tuple[dict[str, float], list[int]]:
        """One batch through the service; returns stage seconds and the head sizes between stages."""
        requests = [factory.admission(start + i * step) for i in range(count)]
        exams = [factory.exam() for _ in range(count)]
        exam_at = [r.admitted_at + timedelta(minutes=20) for r in requests]
        place_at = max(exam_at) + timedelta(minutes=10)
        marks = [self.size(svc.ledger_id)]
        self.stand_in_for_autovacuum()
        gc.collect()
        self.settle()
        t0 = time.perf_counter()
        admitted = svc.admit_many(INTAKE_ACTOR, requests)
        t1 = time.perf_counter()
        marks.append(self.size(svc.ledger_id))
        t1b = time.perf_counter()
        if batched_exams:
            examine_batch(
                svc, MEDIC_ACTOR, [(a.person_id, e, t) for a, e, t in zip(admitted, exams, exam_at, strict=True)]
            )
        else:
            for a, e, t in zip(admitted, exams, exam_at, strict=True):
                svc.examine(MEDIC_ACTOR, a.person_id, e, t)
        t2 = time.perf_counter()
        marks.append(self.size(svc.ledger_id))
        t2b = time.perf_counter()
        proposal = svc.propose_housing(INTAKE_ACTOR, factory.facility_id, [a.person_id for a in admitted])
        t3 = time.perf_counter()
        if proposal.unplaced:
            raise SystemExit(f"{self.backend}: intake left {len(proposal.unplaced)} people without a bed")
        svc.confirm_housing(INTAKE_ACTOR, proposal, place_at)
        t4 = time.perf_counter()
        marks.append(self.size(svc.ledger_id))
        stages = {"admit": t1 - t0, "examine": t2 - t1b, "propose": t3 - t2b, "place": t4 - t3}
        return stages, marks

    def run_intake_variant(self, name: str, batched_exams: bool) -> IntakeFigure:
        sizes = self.sizes
        ledger_id = f"intake-{name.replace('_', '-')}"
        svc = self.service(ledger_id, self.layout, self.now - timedelta(days=400))
        raw_id = f"{ledger_id}-raw"
        self.new_ledger(raw_id)
        raw = Ledger(self.engine, raw_id, REGISTRY)
        # The ceiling: the same events appended and folded into the projections in the same transaction
        # (append_and_project), with none of the service's reads, checks or safeguards.  Its ledger gets
        # the facility first, as the service's did.
        projected_id = f"{ledger_id}-projected"
        self.new_ledger(projected_id)
        setup = self.size(ledger_id)
        append_and_project(self.engine, projected_id, self.stored_as_new(ledger_id, 0, setup), datetime.now(UTC))
        before_intake = self.driver_rows(projected_id)
        replayed: list[list[list[NewEvent]]] = []  # per batch, its groups of events (for the rows floor)
        factory = People(self.seed + (1 if batched_exams else 2), self.layout.facility.facility_id)
        figure = IntakeFigure(name)
        # One night, recorded as it happens: the whole intake arrives over the eight hours
        # before the run (admissions, examinations and placements recorded within hours of
        # happening, so no 24-hour duty is overdue yet and nothing is backdated).
        night = self.now - timedelta(hours=9)
        step = timedelta(hours=8) / max(1, sizes.intake)
        done = 0
        while done < sizes.intake:
            count = min(sizes.intake_batch, sizes.intake - done)
            stages, marks = self.intake_batch(svc, factory, batched_exams, count, night + done * step, step)
            groups = [self.stored_as_new(ledger_id, lo, hi) for lo, hi in pairwise(marks)]
            replayed.append(groups)
            figure.payloads_s += sum(self.time_payloads(group) for group in groups)
            gc.collect()
            self.settle()
            start = time.perf_counter()
            for group in groups:
                raw.append(group, datetime.now(UTC))
            raw_s = time.perf_counter() - start
            gc.collect()
            self.settle()
            start = time.perf_counter()
            for group in groups:
                append_and_project(self.engine, projected_id, [replace_id(e) for e in group], datetime.now(UTC))
            figure.projected_s += time.perf_counter() - start
            for k, v in stages.items():
                figure.stages[k] += v
            figure.raw_s += raw_s
            figure.people += count
            figure.events += marks[-1] - marks[0]
            figure.batch_ratios.append(raw_s / sum(stages.values()))
            done += count
        figure.rows, figure.rows_s = self.time_append_and_rows(projected_id, before_intake, replayed)
        return figure

    def driver_rows(self, ledger_id: str) -> dict[str, list[tuple[Any, ...]]]:
        """Every projection row of a ledger, as the driver hands it back (ready to be inserted again).

        On PostgreSQL every column is read as text (``COPY`` parses it back into its type), so JSON
        columns come back as their text rather than decoded into dicts.
        """
        out = {}
        with self.engine.connect() as conn:
            cast = "{}" if is_sqlite(conn) else "{}::text"
            for table in ALL_TABLES:
                columns = ", ".join(cast.format(c.name) for c in table.c)
                query = text(f"SELECT {columns} FROM {table.name} WHERE ledger_id = :ledger")
                out[table.name] = [tuple(r) for r in conn.execute(query, {"ledger": ledger_id})]
        return out

    def time_append_and_rows(
        self, projected_id: str, before: dict[str, list[tuple[Any, ...]]], batches: list[list[list[NewEvent]]]
    ) -> tuple[int, float]:
        """The intake's events appended again, each group with its share of the projection rows: (rows, seconds).

        The rows are those the intake left in ``projected_id`` (those there before it excluded), inserted
        under a fresh ledger id by the driver (``insert_rows``), no projection code.  Each group of events
        goes in one transaction with an equal share of every table's rows, so there are exactly as many
        commits as the raw append makes, and the WAL is emptied before each batch, untimed, as for the raw
        append.  Timed: the append (``prepare`` included, as in ``Ledger.append``) and the inserts.
        """
        floor_id = f"{projected_id}-rows"
        self.new_ledger(floor_id)
        ledger = Ledger(self.engine, floor_id, REGISTRY)
        after = self.driver_rows(projected_id)
        plan = []
        for table in ALL_TABLES:
            names = tuple(c.name for c in table.c)
            at = names.index("ledger_id")
            old = Counter(before[table.name])
            new = []
            for row in after[table.name]:
                if old[row]:
                    old[row] -= 1
                else:
                    new.append((*row[:at], floor_id, *row[at + 1 :]))
            plan.append((table, names, new))
        parts = max(1, sum(len(groups) for groups in batches))
        part = 0
        seconds = 0.0
        for groups in batches:
            fresh = [[replace_id(e) for e in group] for group in groups]
            gc.collect()
            self.settle()
            start = time.perf_counter()
            for group in fresh:
                recorded_at = datetime.now(UTC)
                prepared = ledger.prepare(group, recorded_at)
                with write_transaction(self.engine) as conn:
                    ledger.append_prepared(conn, prepared, recorded_at)
                    for table, names, rows in plan:
                        size = -(-len(rows) // parts)
                        insert_rows(conn, table, names, rows[part * size : (part + 1) * size])
                part += 1
            seconds += time.perf_counter() - start
        return sum(len(rows) for _, _, rows in plan), seconds

    def warm_up(self) -> None:
        """Compile schemas, fill caches and pools: one small batch of each kind, untimed."""
        svc = self.service("warm-up", self.layout, self.now - timedelta(days=400))
        factory = People(self.seed, self.layout.facility.facility_id)
        self.new_ledger("warm-up-raw")
        raw = Ledger(self.engine, "warm-up-raw", REGISTRY)
        for batched in (False, True):
            start = self.now - timedelta(hours=10)
            _, marks = self.intake_batch(svc, factory, batched, 20, start, timedelta(seconds=30))
            raw.append(self.stored_as_new("warm-up", marks[0], marks[-1]), datetime.now(UTC))

    def run_profile(self) -> None:
        """cProfile one intake batch (exam each) so a missed target can be explained."""
        svc = self.service("profile", self.layout, self.now - timedelta(days=400))
        factory = People(self.seed + 9, self.layout.facility.facility_id)
        profiler = cProfile.Profile()
        count = self.sizes.intake_batch
        gc.collect()
        profiler.enable()
        stages, _ = self.intake_batch(svc, factory, False, count, self.now - timedelta(hours=9), timedelta(seconds=20))
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(25)
        shown = ", ".join(f"{k} {v:.2f} s" for k, v in stages.items())
        self.result.profile += f"--- {self.backend}: one intake batch of {count}, exam each ({shown})\n{out.getvalue()}"

    # 2-3. a register of 40,000 and of 1,000,000 ------------------------------------------------------

    def build_facility_service(self, ledger_id: str, people_count: int) -> float:
        """CECOT through the service: admit_many in batches of 500, housed by proposal while beds last.

        Batches of 500, not more: on PostgreSQL the first big batch into an empty ledger
        meets the duplicate-check plan made for empty tables (see stand_in_for_autovacuum);
        a first admit_many of 2,000 did not finish in 10 minutes.
        """
        opened = self.now - timedelta(days=1000)
        clock = SimulatedClock(opened - timedelta(days=99))
        svc = self.service(ledger_id, self.layout, opened - timedelta(days=100), clock)
        factory = People(self.seed + 3, self.layout.facility.facility_id)
        batches = -(-people_count // BUILD_BATCH)
        nights = timedelta(days=995) / batches  # one transfer night per batch, spread over the years
        facility_id = self.layout.facility.facility_id
        started = time.perf_counter()
        done = 0
        beds_left = self.layout.total_beds
        while done < people_count:
            count = min(BUILD_BATCH, people_count - done)
            night = opened + (done // BUILD_BATCH) * nights
            requests = [factory.admission(night + i * timedelta(hours=8) / count) for i in range(count)]
            clock.now = requests[-1].admitted_at + timedelta(hours=1)
            self.stand_in_for_autovacuum()
            admitted = svc.admit_many(INTAKE_ACTOR, requests)
            if beds_left:
                proposal = svc.propose_housing(INTAKE_ACTOR, facility_id, [a.person_id for a in admitted])
                if proposal.assignments:
                    clock.now = requests[-1].admitted_at + timedelta(hours=3)
                    svc.confirm_housing(INTAKE_ACTOR, proposal, requests[-1].admitted_at + timedelta(hours=2))
                beds_left -= len(proposal.assignments)
            done += count
            if done % 5_000 == 0 or done == people_count:
                self.say(f"{ledger_id}: {done:,} admitted ({time.perf_counter() - started:.0f} s)")
        self.analyze()
        return time.perf_counter() - started

    def fill_direct(
        self, ledger_id: str, layouts: Sequence[Layout], per_facility: int, lookups: int
    ) -> tuple[float, list[Sample]]:
        """Projection rows for ``per_facility`` people in each layout, without events (see the module docstring)."""
        started = time.perf_counter()
        filler_engine = make_engine(self.url)  # its own pool: a big page cache for the load only
        try:
            self.new_ledger(ledger_id)
            filler = Filler(ledger_id, self.now, random.Random(self.seed + 4), len(layouts) * per_facility, lookups)
            for layout in layouts:
                with write_transaction(filler_engine) as conn:
                    if is_sqlite(conn):
                        conn.exec_driver_sql("PRAGMA cache_size=-524288")  # 512 MiB, this connection only
                    filler.facility(conn, layout, per_facility)
                if len(layouts) > 1:
                    self.say(f"{ledger_id}: {filler.index:,} people filled ({time.perf_counter() - started:.0f} s)")
        finally:
            filler_engine.dispose()
        self.analyze()
        return time.perf_counter() - started, filler.samples

    def time_queries(self, figure: ScaleFigure, ledger_id: str, facility_ids: Sequence[str]) -> None:
        rng = random.Random(self.seed + 5)
        engine = self.engine
        with engine.connect() as conn:  # untimed: the answer, to check it
            figure.headcount_total = sum(h.total for h in queries.headcount(conn, ledger_id))
            queries.occupancy(conn, ledger_id, facility_ids[0])
        gc.collect()
        for _ in range(self.sizes.runs):
            start = time.perf_counter()
            with engine.connect() as conn:
                queries.headcount(conn, ledger_id)
            figure.headcount_s.append(time.perf_counter() - start)
            facility_id = rng.choice(facility_ids)
            start = time.perf_counter()
            with engine.connect() as conn:
                queries.occupancy(conn, ledger_id, facility_id)
            figure.occupancy_s.append(time.perf_counter() - start)

    def time_where_at(self, ledger_id: str, samples: Sequence[Sample]) -> Lookups:
        rng = random.Random(self.seed + 6)
        end = self.now
        asks = []
        for s in samples:
            earliest = s.admitted_at - timedelta(days=7)
            asks.append((s, earliest + (end - earliest) * rng.random()))
        result = Lookups(rounds=LOOKUP_ROUNDS)
        engine = self.engine
        where_at = queries.where_at
        for round_ in range(LOOKUP_ROUNDS):
            gc.collect()
            seconds = []
            for s, at in asks:
                start = time.perf_counter()
                with engine.connect() as conn:
                    found = where_at(conn, ledger_id, s.person_id, at)
                seconds.append(time.perf_counter() - start)
                if round_ == 0:
                    result.not_yet += found is None
                    result.wrong += not s.agrees(found, at)
            if round_ == 0:
                result.seconds = seconds
                result.best = list(seconds)
            else:
                result.best = [min(a, b) for a, b in zip(result.best, seconds, strict=True)]
        return result

    def samples_from_db(self, ledger_id: str, count: int) -> list[Sample]:
        """People of a service-built register, with only their admission time known."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(episodes.c.person_id, episodes.c.admitted_at).where(episodes.c.ledger_id == ledger_id)
            ).all()
        rng = random.Random(self.seed + 7)
        return [Sample(r.person_id, r.admitted_at, None) for r in rng.sample(rows, min(count, len(rows)))]

    def run_facility(self) -> None:
        sizes = self.sizes
        ledger_id = "cecot-40k"
        figure = ScaleFigure("facility", people=sizes.facility, facilities=1)
        facility_id = self.layout.facility.facility_id
        if sizes.facility_build == "service":
            figure.build = (
                f"service: admit_many in batches of {BUILD_BATCH}, propose_housing + confirm_housing while beds last"
            )
            figure.build_s = self.build_facility_service(ledger_id, sizes.facility)
            samples = self.samples_from_db(ledger_id, sizes.lookups)
        else:
            figure.build = "direct projection fill (no events)"
            figure.build_s, samples = self.fill_direct(ledger_id, [self.layout], sizes.facility, sizes.lookups)
        self.say(f"{ledger_id}: built in {figure.build_s:.1f} s; timing queries")
        self.time_queries(figure, ledger_id, [facility_id])
        figure.where_at = self.time_where_at(ledger_id, samples)
        self.result.scales["facility"] = figure

    def run_register(self) -> None:
        sizes = self.sizes
        ledger_id = "register-1m"
        facility_ids = ["cecot", *(f"cp-{k:02d}" for k in range(2, sizes.register_facilities + 1))]
        layouts = [renamed_layout(self.layout, f, prefix=True) for f in facility_ids]
        figure = ScaleFigure("register", people=sizes.register, facilities=len(layouts))
        figure.build = "direct projection fill (no events)"
        figure.build_s, samples = self.fill_direct(ledger_id, layouts, sizes.per_facility, sizes.lookups)
        self.say(f"{ledger_id}: built in {figure.build_s:.1f} s; timing queries")
        self.time_queries(figure, ledger_id, facility_ids)
        figure.where_at = self.time_where_at(ledger_id, samples)
        self.result.scales["register"] = figure

    def run(self, profile: bool) -> BackendResult:
        self.say("warming up")
        self.warm_up()
        for name, batched in (("exam_each", False), ("exams_batched", True)):
            if name in self.skip:
                continue
            self.say(f"intake of {self.sizes.intake:,}, {name.replace('_', ' ')}")
            self.result.intake[name] = self.run_intake_variant(name, batched)
        if profile:
            self.run_profile()
        if "scales" in self.skip:
            return self.result
        self.say(f"a facility of {self.sizes.facility:,} ({self.sizes.facility_build})")
        self.run_facility()
        self.say(f"a register of {self.sizes.register:,} (direct fill)")
        self.run_register()
        return self.result


# --- the projection fill --------------------------------------------------------------------------------

PEOPLE_COLUMNS = (
    "ledger_id", "person_id", "given_names", "family_names", "name_key", "aliases", "birth_date", "sex",
    "gender_identity", "nationalities", "group_affiliation", "group_substantiated", "risk_level", "registered_seq",
)  # fmt: skip
EPISODE_COLUMNS = (
    "ledger_id", "episode_id", "person_id", "facility_id", "booking_number", "status", "legal_status", "cell_id",
    "unit_id", "place", "expected_by", "since", "last_event_at", "admitted_at", "arrested_at", "detaining_authority",
    "ordering_authority", "custodian_of_record", "legal_basis", "closed_at", "admitted_seq",
)  # fmt: skip
STAY_COLUMNS = (
    "ledger_id", "person_id", "valid_from", "seq", "episode_id", "status", "facility_id", "unit_id", "cell_id",
    "place", "expected_by", "valid_to",
)  # fmt: skip
FLUSH_EVERY = 10_000  # people


@dataclass(frozen=True)
class Sample:
    """A person looked up by where_at, with what the register must answer."""

    person_id: str
    admitted_at: datetime
    # (valid_from, status, cell_id) in time order; None when only the admission time is known
    history: tuple[tuple[datetime, str, str | None], ...] | None

    def agrees(self, found: queries.Whereabouts | None, at: datetime) -> bool:
        if at < self.admitted_at:
            return found is None
        if found is None:
            return False
        if self.history is None:
            return found.since <= at and (found.until is None or at < found.until)
        current = [h for h in self.history if h[0] <= at][-1]
        return (found.since, found.status, found.cell_id) == current


class Filler:
    """Rows for the projection tables, as the handlers in habeas.projections.register write them.

    Per facility of the CECOT layout: people admitted over the last ~3 years; the first
    20,480 in admission order housed, 80 to a cell (cells hold one legal status each),
    2-12 hours after admission; of those, 20% made one past court trip (out, then back in
    the cell 6 hours later) and 2% are out at court now; everyone else is admitted and
    waiting for a bed.  Sequence numbers are synthetic (no events are written).
    """

    def __init__(self, ledger_id: str, now: datetime, rng: random.Random, total: int, lookups: int) -> None:
        self.ledger_id = ledger_id
        self.now = now
        self.rng = rng
        self.seq = 0
        self.index = 0
        self.wanted = set(rng.sample(range(total), min(lookups, total)))
        self.samples: list[Sample] = []
        self.names: dict[tuple[str, str], str] = {}

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def facility(self, conn: Connection, layout: Layout, count: int) -> None:
        rng, ledger, now = self.rng, self.ledger_id, self.now
        sqlite = is_sqlite(conn)
        instant = instant_converter(conn)
        day: Callable[[date], Any] = date.isoformat if sqlite else (lambda d: d)
        fac = layout.facility
        fid = fac.facility_id
        conn.execute(insert(facilities), [{"ledger_id": ledger, **fac.model_dump()}])
        conn.execute(insert(units), [{"ledger_id": ledger, **u.model_dump()} for u in layout.units])
        beds: list[tuple[str, str, str]] = []  # (unit, cell, legal status of the cell), one per bed
        for k, cell in enumerate(layout.cells):
            status = "convicted" if k % 8 == 7 else "untried"
            beds.extend([(cell.unit_id, cell.cell_id, status)] * cell.beds)
        occupants: Counter[str] = Counter()
        counts: Counter[str] = Counter()
        opened = now - timedelta(days=1050 + rng.randrange(60))
        last = now - timedelta(days=1)
        span = (last - opened).total_seconds()
        offsets = sorted(rng.random() for _ in range(count))
        bookings: Counter[int] = Counter()
        rows_p: list[tuple[Any, ...]] = []
        rows_e: list[tuple[Any, ...]] = []
        rows_s: list[tuple[Any, ...]] = []
        hour = timedelta(hours=1)
        for i, offset in enumerate(offsets):
            admitted = opened + timedelta(seconds=span * offset)
            pid, eid = self._uuid(), self._uuid()
            given = " ".join(rng.sample(GIVEN, rng.choice((1, 2, 2))))
            family = " ".join(rng.sample(FAMILY, 2))
            key = self.names.get((given, family))
            if key is None:
                key = self.names[(given, family)] = normalize_name(f"{given} {family}")
            birth = date(1965, 1, 1) + timedelta(days=rng.randrange(40 * 365))
            # the history: (valid_from, status, unit, cell, place, expected_by)
            history: list[tuple[datetime, str, str | None, str | None, str | None, datetime | None]] = [
                (admitted, "admitted", None, None, None, None)
            ]
            if i < len(beds):
                unit_id, cell_id, legal_status = beds[i]
                placed = admitted + timedelta(seconds=rng.uniform(2 * 3600, 12 * 3600))
                history.append((placed, "in_cell", unit_id, cell_id, None, None))
                r = rng.random()
                if r < 0.02:
                    out = now - timedelta(seconds=rng.uniform(3600, 5 * 3600))
                    history.append((out, "out", None, None, COURT, out + 8 * hour))
                elif r < 0.22:
                    out = placed + (last - placed) * rng.random()
                    history.append((out, "out", None, None, COURT, out + 8 * hour))
                    history.append((out + 6 * hour, "in_cell", unit_id, cell_id, None, None))
            else:
                legal_status = "convicted" if rng.random() < 0.12 else "untried"
            self.seq += 1
            registered_seq = self.seq
            rows_p.append((
                ledger, pid, given, family, key, "[]", day(birth), "M", None, '["SLV"]', None, None, None,
                registered_seq,
            ))  # fmt: skip
            seqs = []
            for n, (valid_from, h_status, h_unit, h_cell, h_place, h_expected) in enumerate(history):
                self.seq += 1
                seqs.append(self.seq)
                valid_to = history[n + 1][0] if n + 1 < len(history) else None
                rows_s.append((
                    ledger, pid, instant(valid_from), self.seq, eid, h_status, fid, h_unit, h_cell, h_place,
                    instant(h_expected) if h_expected else None, instant(valid_to) if valid_to else None,
                ))  # fmt: skip
            since, status, now_unit, now_cell, place, expected = history[-1]
            counts[status] += 1
            if now_cell is not None:
                occupants[now_cell] += 1
            bookings[admitted.year] += 1
            arrested = admitted - timedelta(seconds=rng.uniform(2 * 3600, 20 * 86400))
            basis = orjson.dumps({
                "instrument_id": self._uuid(), "kind": "provisional_detention_order",
                "reference": f"DP-{admitted.year}-{rng.randrange(1, 999_999):06d}",
                "issued_by": "Juzgado Especializado de Instrucción", "issued_at": format_instant(arrested + hour),
            }).decode()  # fmt: skip
            rows_e.append((
                ledger, eid, pid, fid, f"{fid.upper()}-{admitted.year}-{bookings[admitted.year]:06d}", status,
                legal_status, now_cell, now_unit, place, instant(expected) if expected else None, instant(since),
                instant(since), instant(admitted), instant(arrested), rng.choice(DETAINING),
                "Fiscalía General de la República", fac.responsible_authority, basis, None, seqs[0],
            ))  # fmt: skip
            if self.index in self.wanted:
                self.samples.append(Sample(pid, admitted, tuple((h[0], h[1], h[3]) for h in history)))
            self.index += 1
            if len(rows_p) >= FLUSH_EVERY:
                self._flush(conn, rows_p, rows_e, rows_s)
        self._flush(conn, rows_p, rows_e, rows_s)
        conn.execute(
            insert(cells),
            [
                {"ledger_id": ledger, **x.model_dump(), "in_service": True, "occupants": occupants[x.cell_id]}
                for x in layout.cells
            ],
        )
        insert_rows(conn, population, ("ledger_id", "facility_id", "status", "count"),
                    [(ledger, fid, s, n) for s, n in sorted(counts.items())])  # fmt: skip

    @staticmethod
    def _flush(conn: Connection, rows_p: list[Any], rows_e: list[Any], rows_s: list[Any]) -> None:
        insert_rows(conn, people, PEOPLE_COLUMNS, rows_p)
        insert_rows(conn, episodes, EPISODE_COLUMNS, rows_e)
        insert_rows(conn, stays, STAY_COLUMNS, rows_s)
        rows_p.clear()
        rows_e.clear()
        rows_s.clear()


# --- 4. housing (pure) -----------------------------------------------------------------------------------


def housing_people(rng: random.Random, count: int, prefix: str) -> list[Occupant]:
    out = []
    for i in range(count):
        r = rng.random()
        group = GROUPS[0] if r < 0.45 else GROUPS[1] if r < 0.70 else GROUPS[2] if r < 0.85 else None
        status: LegalStatus = "convicted" if rng.random() < 0.12 else "untried"
        out.append(Occupant(f"{prefix}-{i:06d}", "M", status, False, group))
    return out


def broken_rules(proposal: Proposal, intake: Sequence[Occupant], start: Sequence[Cell], policy: HousingPolicy) -> int:
    """Replay the proposal into its cells through check_placement; count every hard rule it would break."""
    by_id = {p.person_id: p for p in intake}
    assigned, unplaced = set(proposal.assignments), set(proposal.unplaced)
    problems = 0 if assigned | unplaced == set(by_id) and not assigned & unplaced else 1
    current = {x.cell_id: x for x in start}
    for person_id, cell_id in proposal.assignments.items():
        cell = current[cell_id]
        problems += len(check_placement(by_id[person_id], cell, policy))
        current[cell_id] = replace(cell, occupants=(*cell.occupants, by_id[person_id]))
    return problems


def run_housing(sizes: Sizes, seed: int) -> dict[str, Any]:
    layout = cecot_layout()
    policy = HousingPolicy(rival_groups=frozenset(frozenset(pair) for pair in combinations(GROUPS, 2)))
    rng = random.Random(seed + 8)
    empty = [Cell(x.cell_id, x.unit_id, x.beds, x.floor_area_m2, x.single, True, ()) for x in layout.cells]
    intake = housing_people(rng, sizes.propose_people, "intake")
    existing = housing_people(rng, sizes.propose_existing, "held")
    placed = propose(existing, empty, policy)
    by_id = {p.person_id: p for p in existing}
    inside: dict[str, list[Occupant]] = {}
    for person_id, cell_id in placed.assignments.items():
        inside.setdefault(cell_id, []).append(by_id[person_id])
    occupied = [replace(x, occupants=tuple(inside.get(x.cell_id, ()))) for x in empty]
    out: dict[str, Any] = {
        "people": sizes.propose_people,
        "cells": len(empty),
        "beds": layout.total_beds,
        "policy": "ICRC 3.4 m² shared; legal statuses apart; "
        "MS-13, Barrio 18 Sureños, Barrio 18 Revolucionarios rivals",
    }
    for name, cells_now in (("first_night", empty), ("occupied", occupied)):
        seconds = []
        proposal: Proposal | None = None
        for _ in range(sizes.propose_runs):
            gc.collect()
            start = time.perf_counter()
            proposal = propose(intake, cells_now, policy)
            seconds.append(time.perf_counter() - start)
        assert proposal is not None
        out[name] = {
            "existing": sum(len(x.occupants) for x in cells_now),
            "seconds": round(statistics.median(seconds), 4),
            "runs": len(seconds),
            "placed": len(proposal.assignments),
            "unplaced": len(proposal.unplaced),
            "persons_above_standard": proposal.persons_above_standard,
            "total_above_standard": proposal.total_above_standard,
            "standards_capacity": proposal.standards_capacity,
            "min_m2_per_person": str(proposal.min_m2_per_person),
            "rules_broken": broken_rules(proposal, intake, cells_now, policy),
        }
    out["targets_met"] = {
        "propose_first_night": out["first_night"]["seconds"] < PROPOSE_TARGET_S,
        "propose_occupied": out["occupied"]["seconds"] < PROPOSE_TARGET_S,
        "no_rule_broken": out["first_night"]["rules_broken"] == 0 and out["occupied"]["rules_broken"] == 0,
    }
    return out


# --- backends --------------------------------------------------------------------------------------------


@contextmanager
def sqlite_bench(sizes: Sizes, seed: int) -> Iterator[Bench]:
    with tempfile.TemporaryDirectory(prefix="habeas-bench-register-") as tmp:
        path = Path(tmp) / "habeas.db"
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        try:
            upgrade(engine)
            bench = Bench("sqlite", engine, url, sizes, seed, sqlite_path=path)
            with engine.connect() as conn:
                synchronous = conn.exec_driver_sql("PRAGMA synchronous").scalar()
                journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
                cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
            bench.result.settings = {
                "journal_mode": journal,
                "synchronous": SYNCHRONOUS.get(int(synchronous or 0), str(synchronous)),
                "cache_size": cache,
                "directory": tmp,
            }
            yield bench
            bench.result.settings["database_mb"] = round(sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6, 1)
        finally:
            engine.dispose()


@contextmanager
def postgres_bench(base_url: str, sizes: Sizes, seed: int) -> Iterator[Bench]:
    with scratch_postgres_database(base_url, "habeas_bench") as url:
        engine = make_engine(url_string(url))
        try:
            upgrade(engine)
            bench = Bench("postgresql", engine, url_string(url), sizes, seed, sqlite_path=None)
            with engine.connect() as conn:
                bench.result.settings = {
                    name: conn.exec_driver_sql(f"SHOW {name}").scalar()
                    for name in ("server_version", "synchronous_commit", "fsync", "shared_buffers", "autovacuum")
                }
            yield bench
            with engine.connect() as conn:
                size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
            bench.result.settings["database_mb"] = round(int(size or 0) / 1e6, 1)
        finally:
            engine.dispose()


# --- output ----------------------------------------------------------------------------------------------


def check(value: float, limit: float) -> str:
    return f"{value:,.2f} {'✓' if value < limit else '✗'}"


def render(
    console: Console, results: Sequence[BackendResult], housing: dict[str, Any], sizes: Sizes, quick: bool
) -> None:
    intake = Table(title=f"1. Mass intake into an empty CECOT, batches of {sizes.intake_batch}"
                         f"{' — quick run' if quick else ''}")  # fmt: skip
    for name, justify in (
        ("backend", "left"), ("exams", "left"), ("people", "right"), ("service people/s", "right"),
        ("service events/s", "right"), ("raw people/s", "right"), ("raw events/s", "right"),
        ("service/raw", "right"), ("batches q1–q3", "right"), ("admit · examine · propose · place (s)", "right"),
        ("append+project/raw", "right"), ("rows/person", "right"), ("bound: raw/(append+rows)", "right"),
        ("… + payloads", "right"),
    ):  # fmt: skip
        intake.add_column(name, justify=justify)  # type: ignore[arg-type]
    for result in results:
        for name, figure in result.intake.items():
            data = figure.as_json()
            stages = data["service"]["stages_s"]
            intake.add_row(
                result.backend,
                "each its own transaction" if name == "exam_each" else "batched (one unit of work)",
                f"{data['people']:,}",
                fmt_rate(data["service"]["people_per_s"]),
                fmt_rate(data["service"]["events_per_s"]),
                fmt_rate(data["raw"]["people_per_s"]),
                fmt_rate(data["raw"]["events_per_s"]),
                fmt_ratio(data["ratio"], INTAKE_TARGET),
                "{:.2f}–{:.2f}".format(*data["ratio_batch_quartiles"]),
                " · ".join(f"{stages[k]:.1f}" for k in ("admit", "examine", "propose", "place")),
                f"{data['projected']['ratio_to_raw']:.2f}",
                f"{data['rows_floor']['rows_per_person']:.1f}",
                f"{data['rows_floor']['ratio_bound']:.2f}" if data["rows_floor"]["ratio_bound"] else "",
                f"{data['rows_floor']['ratio_bound_with_payloads']:.2f}"
                if data["rows_floor"]["ratio_bound_with_payloads"]
                else "",
            )
    console.print(intake)

    scales = Table(title="2–3. Headcount, occupancy (median of runs, ms) and where_at (ms)")
    for name, justify in (
        ("backend", "left"), ("people", "right"), ("facilities", "right"), ("built by", "left"), ("build s", "right"),
        ("headcount", "right"), ("occupancy", "right"), ("where_at median", "right"), ("where_at p99", "right"),
        ("not yet / wrong", "right"),
    ):  # fmt: skip
        scales.add_column(name, justify=justify)  # type: ignore[arg-type]
    for result in results:
        for name, scale in result.scales.items():
            data = scale.as_json()
            limit = HEADCOUNT_TARGET_MS[name]
            lookups = data.get("where_at")
            scales.add_row(
                result.backend,
                f"{data['people']:,}",
                str(data["facilities"]),
                "service" if data["build"].startswith("service") else "direct fill",
                f"{data['build_s']:.0f}",
                check(data["headcount_ms"], limit),
                check(data["occupancy_ms"], limit),
                check(lookups["median_ms"], WHERE_AT_TARGET_MS) if lookups else "",
                (
                    f"{check(lookups['p99_ms'], WHERE_AT_TARGET_MS)} "
                    f"(best of {LOOKUP_ROUNDS}: {lookups[f'p99_best_of_{LOOKUP_ROUNDS}_ms']:.2f})"
                )
                if lookups
                else "",
                f"{lookups['not_yet_in_custody']} / {lookups['wrong_answers']}" if lookups else "",
            )
    console.print(scales)

    house = Table(title=f"4. Housing proposal for {housing['people']:,} people into CECOT's "
                        f"{housing['cells']} cells ({housing['beds']:,} beds), pure function")  # fmt: skip
    for name in ("cells hold", "seconds", "placed", "unplaced", "added above standard", "min m²/person",
                 "rules broken"):  # fmt: skip
        house.add_column(name, justify="right")
    for name in ("first_night", "occupied"):
        data = housing[name]
        house.add_row(
            f"{data['existing']:,}",
            check(data["seconds"], PROPOSE_TARGET_S),
            f"{data['placed']:,}",
            f"{data['unplaced']:,}",
            f"{data['persons_above_standard']:,}",
            data["min_m2_per_person"],
            str(data["rules_broken"]),
        )
    console.print(house)
    console.print(
        f"Targets: intake service/raw ≥ {INTAKE_TARGET}; headcount and occupancy < "
        f"{HEADCOUNT_TARGET_MS['facility']:.0f} ms at one facility, < {HEADCOUNT_TARGET_MS['register']:.0f} ms "
        f"at the register of {sizes.register:,}; where_at < {WHERE_AT_TARGET_MS} ms (median and p99); "
        f"propose < {PROPOSE_TARGET_S} s with no hard rule broken.  The register of {sizes.register:,} is a direct "
        f"projection fill (no events); the facility of {sizes.facility:,} was built by "
        f"{'the service' if sizes.facility_build == 'service' else 'the same direct fill'}."
    )
    for result in results:
        shown = ", ".join(f"{k}={v}" for k, v in result.settings.items() if k != "directory")
        console.print(f"{result.backend}: {shown}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="small sizes (~4 min for both backends)")
    parser.add_argument("--intake", type=int, default=None, help="people per intake variant (10,000; quick 2,000)")
    parser.add_argument(
        "--facility-build", choices=("service", "direct"), default=None,
        help="how the 40,000-person facility is built (default: service; quick: direct)",
    )  # fmt: skip
    parser.add_argument(
        "--register-facilities", type=int, default=None,
        help="facilities of 40,000 in the big register (default 25 = 1,000,000; quick 2)",
    )  # fmt: skip
    parser.add_argument("--runs", type=int, default=50, help="headcount / occupancy calls per figure")
    parser.add_argument("--lookups", type=int, default=1000, help="where_at calls")
    parser.add_argument("--postgres-url", default=default_postgres_url())
    parser.add_argument("--profile", action="store_true", help="also cProfile one intake batch (exam each)")
    parser.add_argument(
        "--no-safeguards", action="store_true",
        help="build every RegisterService with safeguards=None (no after-command checks), to see what they cost",
    )  # fmt: skip
    parser.add_argument("--intake-only", action="store_true", help="only 1. (mass intake): no headcount or where_at")
    parser.add_argument(
        "--skip-exam-each", action="store_true",
        help="leave out the exam-each intake variant (one transaction per examination: the slow one)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=20230224)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = Sizes(
        intake=args.intake or (2_000 if args.quick else 10_000),
        intake_batch=500,
        facility=40_000,
        facility_build=args.facility_build or ("direct" if args.quick else "service"),
        register_facilities=args.register_facilities or (2 if args.quick else 25),
        per_facility=40_000,
        runs=args.runs,
        lookups=args.lookups,
        propose_people=2_000,
        propose_existing=12_114,
        propose_runs=3 if args.quick else 5,
    )
    console = Console(width=max(160, Console().width), highlight=False)
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    results: list[BackendResult] = []
    started = time.perf_counter()
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    console.print("[dim]housing: proposing …[/dim]")
    housing = run_housing(sizes, args.seed)
    for backend in backends:
        context: AbstractContextManager[Bench] = (
            sqlite_bench(sizes, args.seed)
            if backend == "sqlite"
            else postgres_bench(args.postgres_url, sizes, args.seed)
        )
        backend_started = time.perf_counter()
        with context as bench:
            bench.console = console
            bench.safeguards = not args.no_safeguards
            bench.skip = {"exam_each"} if args.skip_exam_each else set()
            if args.intake_only:
                bench.skip.add("scales")
            bench.result.settings["service_safeguards"] = "off" if args.no_safeguards else "after every command"
            results.append(bench.run(args.profile))
        console.print(f"[dim]{backend}: {time.perf_counter() - backend_started:.1f} s[/dim]")
    elapsed = time.perf_counter() - started

    for result in results:
        if result.profile:
            console.print(result.profile, markup=False, highlight=False)
    render(console, results, housing, sizes, args.quick)
    summary: dict[str, Any] = {r.backend: r.as_json() for r in results}
    summary["housing"] = housing
    summary["targets"] = {
        "intake_ratio": INTAKE_TARGET,
        "headcount_occupancy_ms": HEADCOUNT_TARGET_MS,
        "where_at_ms": WHERE_AT_TARGET_MS,
        "propose_s": PROPOSE_TARGET_S,
    }
    summary["machine"] = machine_info(
        quick=args.quick,
        sizes={
            "intake": sizes.intake, "intake_batch": sizes.intake_batch, "facility": sizes.facility,
            "facility_build": sizes.facility_build, "register": sizes.register, "runs": sizes.runs,
            "lookups": sizes.lookups, "propose_people": sizes.propose_people,
            "propose_existing": sizes.propose_existing,
        },
        seconds=round(elapsed, 1),
        loadavg_start=load_at_start,
        loadavg_end=[round(x, 2) for x in os.getloadavg()],
    )  # fmt: skip
    sys.stdout.flush()
    print(json.dumps(summary, separators=(",", ":")), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
