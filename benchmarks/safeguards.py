"""How long the safeguards sweep takes over a register of up to a million people, and how it grows.

Run::

    uv run python benchmarks/safeguards.py                  # both backends, 100k, 300k and 1M people
    uv run python benchmarks/safeguards.py --quick          # SQLite only, 10k, 30k and 100k (about 2 minutes)
    uv run python benchmarks/safeguards.py --backend sqlite --sizes 100000,1000000
    uv run python benchmarks/safeguards.py --backend postgresql --postgres-url postgresql://...
    uv run python benchmarks/safeguards.py --quick --profile   # + cProfile of find() at the largest size
    uv run python benchmarks/safeguards.py --fill plan         # draw every facility (slow; default: copy two)

Every database is the benchmark's own, one per register: a file in a temporary directory for
SQLite; on PostgreSQL a database ``habeas_bench_<hex>`` created next to ``--postgres-url`` (default
``$HABEAS_TEST_POSTGRES_URL``, else ``postgresql://postgres@127.0.0.1:5432/test``) and dropped at the
end.  So the register of N people is alone in its tables and the figures at N do not depend on the
smaller registers built before it.

The register (jurisdiction "slv", El Salvador's policy file with Decree 333 and its renewals)
==============================================================================================
N people in ceil(N / 40,000) CECOT-like facilities (at least 2, so that transfers have somewhere
to go).  Each facility has pavilions of 32 shared cells of 100 m² (as ``policy/layouts/cecot.yaml``),
as many as it takes to hold its people at about 152 per cell (~145 per 100 m² once people out at court,
in transit, released or dead have left), an intake unit of four 30 m² cells holding 9, 8, 7 and 0
people (R16 / R17 / nothing) and a medical unit of two single cells of 5 and 9 m².  A pavilion cell has
160 beds: the register never houses more people than beds (MR 21, a hard rule of the service), so
R19 (more occupants than beds) cannot arise through the service and the fill does not fake it;
check_space still reads every cell.  Per person, drawn from a seeded generator:

* arrested between 27 Mar 2022 (Decree 333) and early Jan 2026, front-loaded (half in the first
  year, as the reported arrests were); admitted 6 h to 4 days later; the sweep runs at
  ``AT`` = 2026-01-15 18:00 UTC;
* 4% convicted, admitted on a sentence (80% of them with a ``sentence.recorded``: 10 years; 3 counts
  of 20 + 25 + 30 years; 9 counts of 50 years — the last two beyond any enforceable term, R29);
  the others untried, admitted on a police arrest record (half expiring after 15 days), of whom
  92% then get a ``provisional_detention_order`` (serious 70% / less serious 30%; 90% with scope
  "state_of_exception", which Decree 803 and its 2025 successor extend; 2% expiring after 6 months;
  R5, R6), 4% only an initial appearance before a judge with no decision (R4) and 4% nothing (R3);
* 12% of those with an order, and every R4 case, are defendants in group cases of 250 (a quarter
  without counsel, 30% without an individual hearing record: R28);
* duties: rights told to 94% (R7), family told to 94%, 1% with a delay that has expired (R8),
  2% foreign nationals of whom 30% offered consular contact (R9), 95% examined (R10), injuries at
  admission (3%) or at the examination (6%), half of them referred at the examination (R11);
* after placement: 1.5% out at court (a third overdue: R13), 0.8% transferred to another facility
  (70% arrived, half of whose families were told of the new place: R8 again; the rest in transit,
  some overdue), 2% released, 0.1% died (most records lacking a notice, report, cause or the
  destination of the remains: R12); 1% have a court order (release or produce), 40% executed,
  the others mostly past their deadline (R26); every pavilion is above its standards-based capacity
  (R20), and every shared cell of 100 m² is below 3 m² per person (R18);
* one untried pavilion cell in 40 also holds a convicted person.  In every second facility the
  housing assigner keeps legal statuses apart (the default ``HousingPolicy``), so whoever joins a cell
  holding the other status is housed with an officer's recorded override, which R21 accepts as the
  justification; in the others it is configured not to separate them
  (``HousingPolicy(separate_legal_status=False)``), nothing is recorded, and R21 flags the cells.

The projections are filled directly
===================================
The register of N people is written **straight into the projection tables** the sweep reads
(facilities, units, cells, people, episodes, duties, instruments, orders, cases, defendants,
sentences) with bulk inserts (``habeas.store.bulk.insert_rows``: executemany on SQLite, COPY on
PostgreSQL), in the shapes the projection handlers (``habeas.projections``) write — no events.
Building a million people through events would take far longer, and the sweep reads only
projections.  The tables the sweep does not read (stays, population, person_events, person_keys,
person_documents) are left empty.  The fill is timed apart from the sweep, and ``ANALYZE`` runs
after it (untimed), as after any bulk load.  That includes what the projections compute for the
sweep (migration 0004): ``duties.held_in`` (the facility holding the episode, NULL once closed),
the R6 summary of each episode's instruments (``basis_until``, ``basis_issued``), the R3 deadline
stored at admission for whoever no judge's instrument has reached (``admin_deadline``), and on each
provisional detention order its start of detention and the R5 limit as the law stood when it was
issued (``detained_from``, ``limit_deadline``), each computed by the same functions
(``projections.law.stored_deadline`` / ``stored_limit``) from the same policy.

At the measured sizes only facilities 0 and 1 are drawn and filled so (``--fill copy``, the default):
every other facility k is an ``INSERT ... SELECT`` copy of facility k % 2 in the database, under new ids
(uuids get the copy's number as their first two hex digits and "c" as the version digit; units, cells,
cases and bookings the copy's facility id; a transfer's destination becomes facility k + 1's, as the plan
would draw it).  A copy holds the same people (same times, duties, orders, cases and cells) as its
template, in another facility, so its findings are its template's under the copy's ids — per rule, 0.52
per person like the drawn plan — and 1,000,000 people fill in about two minutes instead of seven to
thirteen.  ``--fill plan`` draws every facility as before.  On PostgreSQL the statistics are taken with
``VACUUM ANALYZE`` (autovacuum's work after a bulk insert since PostgreSQL 13; it is off on the development
machines), which also lets the planner read covering indexes alone.

To show the shortcut is representative, a smaller register (``--compare-size``, default 20,000;
quick 5,000) is built from the **same plan** twice in one database: once through the real write
path — ``RegisterService.register_facility``, ``admit_many`` and ``place_many`` (the per-command
safeguards switched off: the sweep is what is measured, and a history recorded all at once would
raise R23 backdating alerts), every other fact as domain events appended through
``unit_of_work`` and folded by the real projection handlers — and once by the direct fill.
``find()`` must then return the very same findings (rule, subject, message, refs) on both ledgers.

What is measured, per backend and size (wall clock, ``time.perf_counter``)
=========================================================================
1. ``find(conn, ledger, AT)``: every check, read-only, on a fresh connection (best of ``--repeat``
   runs, default 1).  Then each check alone, on the Context ``find`` builds, for a breakdown.
2. A first ``sweep(engine, ledger, AT, recorded_at)``: ``find`` plus ``reconcile``, which raises an
   ``alert.raised`` event per finding and appends them to the ledger (validation, canonical
   encoding, hash chain, Merkle nodes, the ``alerts`` projection) in one transaction.  The events
   appended are counted from the ledger head.
3. The steady state: a second sweep at the same instant (nothing new: no event; best of
   ``--repeat``).  It reads every open alert first, then ``find`` (whose findings already open as alerts
   carry no message: only a new alert needs one), and compares.
4. One command's safeguards in that register (``command_check_s``): what every command runs before it
   commits (``services.safeguarding.after_command``: ``find`` and the scoped ``reconcile``) for 1 and
   for 500 held people and their cells, in a write transaction; best of 3.  No target: it shows that a
   command's checks do not grow with the register or its half a million open alerts.

On SQLite each timed stretch starts with an empty WAL.  On PostgreSQL with autovacuum off (as on
the development machines) ``VACUUM ANALYZE`` runs, untimed, after the first sweep, standing in for
autovacuum after 10^5–10^6 new alert rows.

Targets: ``find`` and the steady-state sweep under 10 s at 1,000,000 people on both backends; their
growth from the smallest to the largest size linear or better (time ratio ≤ size ratio: 10 for
100k → 1M; the least-squares exponent over all sizes is shown too).  ``--profile`` adds a cProfile of
``find`` at the largest size.  The machine's load average before and after is recorded: other work on
a shared machine inflates every figure.  A table is printed, then, as the very last line, one JSON
object with every figure and ``targets_met``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import math
import os
import pstats
import random
import signal
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection, Engine, insert, select, text

from _common import default_postgres_url, machine_info, scratch_postgres_database, url_string
from habeas.domain import custody as c
from habeas.domain import law
from habeas.domain.admission import Admission, Identity
from habeas.domain.facility import CellRegistered, FacilityRegistered, UnitRegistered
from habeas.domain.housing import HousingPolicy
from habeas.domain.identity import normalize_name
from habeas.ledger.log import create_ledger, read_head
from habeas.ledger.timefmt import format_instant
from habeas.policy.loader import load_policy
from habeas.projections.law import calculate, death_missing, stored_deadline, stored_limit
from habeas.safeguards import checks as checks_module
from habeas.safeguards.checks import HELD_VALUES, SWEEP_CHECKS, Context, Finding, facilities_policies
from habeas.safeguards.sweep import find, reconcile, sweep
from habeas.services.register import RegisterService
from habeas.services.unit_of_work import unit_of_work
from habeas.store.bulk import insert_rows
from habeas.store.engine import is_sqlite, make_engine, write_transaction
from habeas.store.law_tables import cases, defendants, duties, instruments, orders, sentences
from habeas.store.migrate import upgrade
from habeas.store.register_tables import cells, episodes, facilities, people, units

# The window checks are closures named "check": name each by the module attribute it is bound to.
CHECK_NAMES: dict[Any, str] = {v: k for k, v in vars(checks_module).items() if k.startswith("check_")}
TARGET_S = 10.0  # find and the steady-state sweep at the largest size (1,000,000 people)
FULL_SIZES = (100_000, 300_000, 1_000_000)
QUICK_SIZES = (10_000, 30_000, 100_000)
SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
AT = datetime(2026, 1, 15, 18, 0, tzinfo=UTC)  # the instant every sweep checks
FIRST_ARREST = datetime(2022, 3, 27, 6, 0, tzinfo=UTC)  # Decree 333 in force (00:00 at UTC-6)
LAST_ARREST = AT - 7 * DAY
SPAN_S = (LAST_ARREST - FIRST_ARREST).total_seconds()
WINDOW = 14 * DAY  # people admitted in one fortnight are housed together, a day after it ends
PER_FACILITY = 40_000
PER_CELL = 152  # people assigned to a pavilion cell (some leave later)
BEDS = 160
CASE_SIZE = 250

DIRECTOR = "officer:director"
INTAKE = "officer:intake-07"
MEDIC = "medic:dr-aleman"
REGISTRAR = "clerk:court-liaison"
OVERRIDE = "crowding: no cell with free beds of one legal status; recorded for review"
COURT = "Juzgado Especializado de Instrucción, San Salvador"
SENTENCING_COURT = "Tribunal Especializado de Sentencia, San Salvador"
AUTHORITY = "Dirección General de Centros Penales"
DETAINING = ("Policía Nacional Civil", "Fuerza Armada de El Salvador")
FOREIGN = ("HND", "GTM", "NIC", "MEX", "VEN", "USA")
GIVEN = (
    "José", "Juan", "Carlos", "Luis", "Mario", "Jorge", "Miguel", "Óscar", "Kevin", "Brayan", "Édgar", "Walter",
    "Nelson", "Wilfredo", "Ernesto", "René", "Douglas", "Manuel", "Francisco", "Roberto", "Jonathan", "Alexander",
)  # fmt: skip
FAMILY = (
    "Hernández", "López", "Martínez", "García", "Rodríguez", "Pérez", "Ramírez", "Flores", "Cruz", "Rivera",
    "Gómez", "Mejía", "Portillo", "Alvarado", "Ayala", "Guevara", "Henríquez", "Orellana", "Romero", "Chávez",
)  # fmt: skip
PLACES = ("Soyapango", "Apopa", "Ilopango", "Mejicanos", "San Miguel", "Santa Ana", "Usulután", "Zacatecoluca")
# (counts as (offence, article, years), announced aggregate in years or None); weights 50 / 30 / 20
SENTENCES: tuple[tuple[tuple[tuple[str, str, int], ...], int | None], ...] = (
    ((("Agrupaciones ilícitas", "Penal Code 345", 10),), None),
    (
        (
            ("Agrupaciones ilícitas", "Penal Code 345", 20),
            ("Extorsión agravada", "Penal Code 214", 25),
            ("Homicidio agravado", "Penal Code 129", 30),
        ),
        75,
    ),
    (tuple(("Homicidio agravado", "Penal Code 129", 50) for _ in range(9)), 450),
)


# --- the plan: one register, drawn once, written two ways ------------------------------------------------


@dataclass(slots=True)
class Person:
    """Everything that happens to one person, as plain values; both builders read only this."""

    pid: str
    eid: str
    facility_id: str
    given: str
    family: str
    birth: date
    nationality: str
    convicted: bool
    arrested: datetime
    admitted: datetime
    basis: dict[str, Any]  # LegalBasis fields
    detaining: str
    arrest_place: str
    injured: bool  # injuries observed at admission
    contact: bool
    booking: str = ""
    exam: tuple[datetime, bool, bool, bool] | None = None  # at, injuries, torture indicators, referred
    rights_at: datetime | None = None
    family_at: datetime | None = None
    family_delay: tuple[datetime, datetime] | None = None  # recorded at, delayed until
    consular_at: datetime | None = None
    pdo: dict[str, Any] | None = None  # InstrumentRecorded fields but the episode and person
    in_case: bool = False  # a group-case defendant
    case_id: str | None = None
    counsel: str | None = None
    hearing_at: datetime | None = None
    order: dict[str, Any] | None = None  # OrderIssued fields but the person
    order_executed_at: datetime | None = None
    sentence: tuple[str, str, date, int] | None = None  # sentence id, case id, sentenced on, template
    place_at: datetime | None = None
    unit_id: str | None = None
    cell_id: str | None = None
    override: bool = False  # housed against the separation rule, with an officer's recorded reason
    # ("out", departed, expected) | ("transit", started, deadline, destination, arrived or None)
    # | ("released", at) | ("died", at, details)
    leave: tuple[Any, ...] | None = None
    family_after_move_at: datetime | None = None

    def busy_until(self) -> datetime:
        """The latest instant of anything recorded for the person before they leave."""
        times = [self.admitted, self.place_at or self.admitted]
        if self.exam:
            times.append(self.exam[0])
        for t in (self.rights_at, self.family_at, self.consular_at, self.hearing_at, self.order_executed_at):
            if t is not None:
                times.append(t)
        if self.family_delay:
            times.append(self.family_delay[0])
        if self.pdo:
            times.append(self.pdo["issued_at"])
        if self.order:
            times.append(self.order["issued_at"])
        return max(times)


@dataclass
class FacilityPlan:
    facility: FacilityRegistered
    units: list[UnitRegistered]
    cells: list[CellRegistered]
    people: list[Person]
    cases: list[dict[str, Any]]  # case_id, reference, group_case, opened_at, court
    separates: bool  # the housing assigner keeps untried and convicted apart (MR 11(b))


# One command's safeguards are timed for this many people after the sweeps: one admission or move, and a
# chunk of a mass intake.
COMMAND_PEOPLE = (1, 500)


def facility_count(size: int) -> int:
    return max(2, math.ceil(size / PER_FACILITY))


def facility_id_of(k: int) -> str:
    return f"f{k + 1:02d}"


class Planner:
    """Draws the register facility by facility (so a million people never sit in memory at once)."""

    def __init__(self, seed: int, size: int) -> None:
        self.seed = seed
        self.size = size
        self.count = facility_count(size)
        base, extra = divmod(size, self.count)
        self.sizes = [base + (1 if k < extra else 0) for k in range(self.count)]

    def plans(self) -> Iterator[FacilityPlan]:
        for k in range(self.count):
            yield self.facility(k)

    @staticmethod
    def _uuid(rng: random.Random) -> str:
        """A random id in the form of a UUID (the service path replaces person and episode ids by its own)."""
        h = f"{rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}"

    def facility(self, k: int) -> FacilityPlan:
        rng = random.Random(self.seed * 1_000_003 + k)
        fid = facility_id_of(k)
        uid = self._uuid
        persons: list[Person] = []
        for _ in range(self.sizes[k]):
            u = rng.random()
            arrested = FIRST_ARREST + timedelta(seconds=SPAN_S * u * u)
            admitted = arrested + timedelta(seconds=rng.uniform(6 * 3600, 4 * 86400))
            convicted = rng.random() < 0.04
            if convicted:
                issued = max(arrested + HOUR, admitted - timedelta(seconds=rng.uniform(2 * 3600, 3 * 86400)))
                basis = {
                    "instrument_id": uid(rng), "kind": "sentence", "reference": f"SENT-{rng.randrange(10**6):06d}",
                    "issued_by": SENTENCING_COURT, "issued_at": issued, "article": "Penal Code 345",
                    "expires_at": None,
                }  # fmt: skip
            else:
                basis = {
                    "instrument_id": uid(rng), "kind": "arrest_record", "reference": f"PNC-{rng.randrange(10**7):07d}",
                    "issued_by": "Policía Nacional Civil", "issued_at": arrested, "article": "Cn. 13(2); D.L. 333",
                    "expires_at": arrested + 15 * DAY if rng.random() < 0.5 else None,
                }  # fmt: skip
            foreign = rng.random() < 0.02
            p = Person(
                pid=uid(rng),
                eid=uid(rng),
                facility_id=fid,
                given=rng.choice(GIVEN),
                family=f"{rng.choice(FAMILY)} {rng.choice(FAMILY)}",
                birth=date(1960, 1, 1) + timedelta(days=rng.randrange(45 * 365)),
                nationality=rng.choice(FOREIGN) if foreign else "SLV",
                convicted=convicted,
                arrested=arrested,
                admitted=admitted,
                basis=basis,
                detaining=DETAINING[rng.random() < 0.3],
                arrest_place=rng.choice(PLACES),
                injured=rng.random() < 0.03,
                contact=rng.random() < 0.9,
            )
            if rng.random() < 0.95:
                injuries = rng.random() < 0.06
                torture = injuries and rng.random() < 0.2
                referred = (injuries or p.injured) and rng.random() < 0.5
                p.exam = (admitted + timedelta(seconds=rng.uniform(3600, 20 * 3600)), injuries, torture, referred)
            if rng.random() < 0.94:
                p.rights_at = admitted + timedelta(seconds=rng.uniform(3600, 20 * 3600))
            r = rng.random()
            if r < 0.94:
                p.family_at = admitted + timedelta(seconds=rng.uniform(2 * 3600, 22 * 3600))
            elif r < 0.95:
                p.family_delay = (admitted + 3 * HOUR, admitted + timedelta(seconds=rng.uniform(2 * 86400, 10 * 86400)))
            if foreign and rng.random() < 0.3:
                p.consular_at = admitted + timedelta(seconds=rng.uniform(6 * 3600, 3 * 86400))
            if not convicted:
                r = rng.random()
                if r < 0.92:
                    issued = min(AT - HOUR, admitted + timedelta(seconds=rng.uniform(12 * 3600, 10 * 86400)))
                    p.pdo = {
                        "instrument_id": uid(rng), "kind": "provisional_detention_order",
                        "reference": f"DP-{issued.year}-{rng.randrange(10**6):06d}", "issued_by": COURT,
                        "issued_at": issued, "article": "CPP art. 329",
                        "expires_at": issued + 180 * DAY if rng.random() < 0.02 else None,
                        "offence_class": "serious" if rng.random() < 0.7 else "less_serious",
                        "scope": "state_of_exception" if rng.random() < 0.9 else None,
                    }  # fmt: skip
                    if rng.random() < 0.12:
                        p.in_case = True
                        p.counsel = "Defensoría Pública" if rng.random() < 0.75 else None
                        p.hearing_at = issued - HOUR if rng.random() < 0.7 else None
                elif r < 0.96:  # before a judge, no decision (R4)
                    p.in_case = True
                    p.counsel = "Defensoría Pública" if rng.random() < 0.5 else None
                    p.hearing_at = min(AT - HOUR, admitted + timedelta(seconds=rng.uniform(86400, 5 * 86400)))
            elif rng.random() < 0.8:
                p.sentence = (uid(rng), f"{fid}-sent", p.basis["issued_at"].date(), _template(rng))
            if rng.random() < 0.01:
                issued = admitted + (AT - 3 * DAY - admitted) * rng.random()
                kind = "release" if rng.random() < 0.5 else "produce"
                p.order = {
                    "order_id": uid(rng), "kind": kind, "court": COURT, "court_state": "SLV",
                    "reference": f"OJ-{issued.year}-{rng.randrange(10**5):05d}", "issued_at": issued,
                    "deadline": issued + (2 * DAY if kind == "release" else 3 * DAY),
                    "place": COURT if kind == "produce" else None,
                }  # fmt: skip
                if rng.random() < 0.4:
                    p.order_executed_at = issued + timedelta(seconds=rng.uniform(3600, 86400))
            persons.append(p)
        persons.sort(key=lambda x: x.admitted)
        return self._arrange(k, rng, persons)

    def _arrange(self, k: int, rng: random.Random, persons: list[Person]) -> FacilityPlan:
        """Bookings, group cases, housing and what happened after housing, in admission order."""
        fid = facility_id_of(k)
        bookings: Counter[int] = Counter()
        case_rows: list[dict[str, Any]] = []
        in_case = 0
        for p in persons:
            year = p.admitted.year
            bookings[year] += 1
            p.booking = f"{fid.upper()}-{year}-{bookings[year]:06d}"
            if p.in_case:
                if in_case % CASE_SIZE == 0:
                    n = len(case_rows) + 1
                    case_rows.append({
                        "case_id": f"{fid}-gc-{n:04d}", "reference": f"GC-{fid.upper()}-{n:04d}", "group_case": True,
                        "opened_at": p.admitted, "court": COURT,
                    })  # fmt: skip
                p.case_id = case_rows[-1]["case_id"]
                in_case += 1
            window = int((p.admitted - FIRST_ARREST) / WINDOW)
            place_at = FIRST_ARREST + (window + 1) * WINDOW + DAY
            if place_at <= AT - 2 * DAY:
                p.place_at = place_at
        sentenced = [p for p in persons if p.sentence]
        if sentenced:
            case_rows.append({
                "case_id": f"{fid}-sent", "reference": f"TS-{fid.upper()}", "group_case": False,
                "opened_at": sentenced[0].admitted, "court": SENTENCING_COURT,
            })  # fmt: skip
        for p in persons:
            if p.place_at is None:
                continue
            r = rng.random()
            busy = p.busy_until()
            if r < 0.015:
                departed = max(busy + HOUR, AT - timedelta(seconds=rng.uniform(3600, 12 * 3600)))
                p.leave = ("out", departed, departed + 8 * HOUR)
            elif r < 0.023:
                destination = facility_id_of((k + 1) % self.count)
                if rng.random() < 0.7:
                    started = _between(rng, busy + HOUR, AT - 3 * DAY)
                    arrived = started + timedelta(seconds=rng.uniform(2 * 3600, 10 * 3600))
                    p.leave = ("transit", started, started + 12 * HOUR, destination, arrived)
                    if rng.random() < 0.5:
                        p.family_after_move_at = arrived + timedelta(seconds=rng.uniform(3600, 20 * 3600))
                else:
                    started = max(busy + HOUR, AT - timedelta(seconds=rng.uniform(2 * 3600, 30 * 3600)))
                    p.leave = ("transit", started, started + 12 * HOUR, destination, None)
            elif r < 0.043:
                p.leave = ("released", _between(rng, busy + HOUR, AT - HOUR))
            elif r < 0.044:
                when = _between(rng, busy + HOUR, AT - 2 * DAY)
                notified = rng.random() < 0.6
                reported = rng.random() < 0.4
                details = {
                    "place": f"{fid.upper()} infirmary",
                    "circumstances": "found unresponsive in the cell at the morning count",
                    "cause": "cardiac arrest (preliminary)" if rng.random() < 0.7 else None,
                    "next_of_kin_notified_at": when + 6 * HOUR if notified else None,
                    "independent_authority": "Instituto de Medicina Legal" if reported else None,
                    "independent_authority_notified_at": when + 2 * HOUR if reported else None,
                    "remains_destination": "handed to the family" if rng.random() < 0.6 else None,
                }
                p.leave = ("died", when, details)
        separates = k % 2 == 0
        facility, unit_list, cell_list = self._house(fid, persons, separates)
        return FacilityPlan(facility, unit_list, cell_list, persons, case_rows, separates)

    def _house(
        self, fid: str, persons: list[Person], separates: bool
    ) -> tuple[FacilityRegistered, list[UnitRegistered], list[CellRegistered]]:
        placed = [p for p in persons if p.place_at is not None]
        up = fid.upper()
        facility = FacilityRegistered(
            facility_id=fid,
            name=f"Centro de Confinamiento {up} (modelo sintético según CECOT)",
            responsible_authority=AUTHORITY,
            declared_capacity=PER_FACILITY,
            jurisdiction="slv",
            place="El Salvador",
        )
        unit_list = [
            UnitRegistered(facility_id=fid, unit_id=f"{fid}-int", name="Ingreso", kind="intake", declared_capacity=40),
            UnitRegistered(facility_id=fid, unit_id=f"{fid}-med", name="Clínica", kind="medical"),
        ]
        cell_list = [
            CellRegistered(
                facility_id=fid, unit_id=f"{fid}-int", cell_id=f"{fid}-int-c{n}", beds=10,
                floor_area_m2=Decimal(30), toilets=1,
            )
            for n in range(1, 5)
        ] + [
            CellRegistered(
                facility_id=fid, unit_id=f"{fid}-med", cell_id=f"{fid}-med-c{n}", beds=1,
                floor_area_m2=Decimal(area), single=True, toilets=1,
            )
            for n, area in ((1, 5), (2, 9))
        ]  # fmt: skip
        # The intake and medical cells: untried people who stay put, 9, 8, 7, 0, 1, 1 of them.
        steady = iter([p for p in placed if not p.convicted and p.leave is None])
        for cell, wanted in zip(cell_list, (9, 8, 7, 0, 1, 1), strict=True):
            for _ in range(wanted):
                p = next(steady, None)
                if p is not None:
                    p.unit_id, p.cell_id = cell.unit_id, cell.cell_id
        untried = [p for p in placed if not p.convicted and p.cell_id is None]
        convicted = [p for p in placed if p.convicted]
        n_untried = max(1, math.ceil(len(untried) / PER_CELL))
        # One untried cell in 40 also gets a convicted person who stays (R21).
        mixers = [p for p in convicted if p.leave is None][: len(range(7, n_untried, 40))]
        mixed = {id(p) for p in mixers}
        convicted = [p for p in convicted if id(p) not in mixed]
        n_convicted = math.ceil(len(convicted) / PER_CELL)
        pavilion_cells: list[tuple[str, str]] = []
        for j in range(n_untried + n_convicted):
            unit_id = f"{fid}-p{j // 32 + 1}"
            pavilion_cells.append((unit_id, f"{unit_id}-c{j % 32 + 1:02d}"))
        # Cells fill in admission order, evenly: each fortnight's intake goes to one or two cells.
        per_untried = math.ceil(len(untried) / n_untried) if untried else 1
        for i, p in enumerate(untried):
            p.unit_id, p.cell_id = pavilion_cells[i // per_untried]
        for i, p in enumerate(mixers):
            p.unit_id, p.cell_id = pavilion_cells[7 + 40 * i]
        per_convicted = math.ceil(len(convicted) / n_convicted) if convicted else 1
        for i, p in enumerate(convicted):
            p.unit_id, p.cell_id = pavilion_cells[n_untried + i // per_convicted]
        if separates:
            # As place_many decides, in placement order: whoever joins a cell holding the other
            # legal status breaks MR 11(b) and is housed only with an officer's recorded override.
            statuses: dict[str, set[bool]] = {}
            for p in placed:
                seen = statuses.setdefault(str(p.cell_id), set())
                p.override = bool(seen - {p.convicted})
                seen.add(p.convicted)
        for n in range(1, (len(pavilion_cells) + 31) // 32 + 1):
            unit_list.append(UnitRegistered(facility_id=fid, unit_id=f"{fid}-p{n}", name=f"Pabellón {n}"))
        cell_list += [
            CellRegistered(
                facility_id=fid, unit_id=unit_id, cell_id=cell_id, beds=BEDS, floor_area_m2=Decimal(100), toilets=2
            )
            for unit_id, cell_id in pavilion_cells
        ]
        return facility, unit_list, cell_list


def _template(rng: random.Random) -> int:
    r = rng.random()
    return 0 if r < 0.5 else 1 if r < 0.8 else 2


def _between(rng: random.Random, low: datetime, high: datetime) -> datetime:
    return low if high <= low else low + (high - low) * rng.random()


def sentence_payload(p: Person) -> dict[str, Any]:
    """The ``sentence.recorded`` payload of a sentenced person, as Python values."""
    assert p.sentence is not None
    sentence_id, case_id, sentenced_on, template = p.sentence
    counts, announced = SENTENCES[template]
    return {
        "sentence_id": sentence_id,
        "case_id": case_id,
        "person_id": p.pid,
        "court": SENTENCING_COURT,
        "sentenced_on": sentenced_on,
        "counts": [
            {"count_id": f"c{n}", "offence": o, "article": a, "term": {"years": y}, "runs": "consecutive"}
            for n, (o, a, y) in enumerate(counts, start=1)
        ],
        "announced_aggregate": {"years": announced} if announced else None,
    }


def final_state(p: Person) -> dict[str, Any]:
    """The person's episode as the projection handlers leave it after every event of the plan."""
    last = max(p.admitted, p.exam[0]) if p.exam else p.admitted
    state: dict[str, Any] = {
        "status": "admitted", "facility_id": p.facility_id, "cell_id": None, "unit_id": None, "place": None,
        "expected_by": None, "since": p.admitted, "last_event_at": last, "closed_at": None,
    }  # fmt: skip
    if p.place_at is not None:
        state.update(status="in_cell", cell_id=p.cell_id, unit_id=p.unit_id, since=p.place_at, last_event_at=p.place_at)
    if p.leave is None:
        return state
    kind, when = p.leave[0], p.leave[1]
    state.update(cell_id=None, unit_id=None, since=when, last_event_at=when)
    if kind == "out":
        state.update(status="out", place=COURT, expected_by=p.leave[2])
    elif kind == "transit":
        _, _, deadline, destination, arrived = p.leave
        if arrived is None:
            state.update(status="in_transit", place=destination, expected_by=deadline)
        else:
            state.update(status="admitted", facility_id=destination, since=arrived, last_event_at=arrived)
    elif kind == "released":
        state.update(status="released", closed_at=when)
    else:
        state.update(status="deceased", place=p.leave[2]["place"], closed_at=when)
    return state


# --- the direct fill -----------------------------------------------------------------------------------------

PEOPLE_COLUMNS = (
    "ledger_id", "person_id", "given_names", "family_names", "name_key", "aliases", "birth_date", "sex",
    "gender_identity", "nationalities", "group_affiliation", "group_substantiated", "risk_level", "registered_seq",
)  # fmt: skip
EPISODE_COLUMNS = (
    "ledger_id", "episode_id", "person_id", "facility_id", "booking_number", "status", "legal_status", "cell_id",
    "unit_id", "place", "placement_override", "expected_by", "since", "last_event_at", "admitted_at", "arrested_at",
    "detaining_authority", "ordering_authority", "custodian_of_record", "legal_basis", "closed_at", "admitted_seq",
)  # fmt: skip
DUTY_COLUMNS = (
    "ledger_id", "episode_id", "person_id", "held_in", "admitted_at", "arrested_at", "foreign_national", "judicial_at",
    "appearance_at", "rights_at", "family_at", "family_delay_until", "consular_at", "examined_at", "injury_at",
    "referred_at", "moved_at", "family_after_move_at", "died_at", "death_missing", "death_record", "admin_deadline",
    "basis_until", "basis_issued",
)  # fmt: skip
INSTRUMENT_COLUMNS = (
    "ledger_id", "instrument_id", "episode_id", "person_id", "kind", "reference", "issued_by", "issued_at", "article",
    "expires_at", "offence_class", "scope", "ended_at", "detained_from", "limit_deadline",
)  # fmt: skip
ORDER_COLUMNS = (
    "ledger_id", "order_id", "person_id", "kind", "court", "court_state", "reference", "issued_at", "deadline",
    "place", "status", "closed_at",
)  # fmt: skip
CASE_COLUMNS = ("ledger_id", "case_id", "court", "reference", "group_case", "charges")
DEFENDANT_COLUMNS = ("ledger_id", "case_id", "person_id", "counsel", "hearings", "verdict")
SENTENCE_COLUMNS = (
    "ledger_id", "sentence_id", "person_id", "case_id", "sentenced_on", "aggregate", "enforceable", "release_on",
    "release_at", "explanation", "warnings", "recorded_seq",
)  # fmt: skip
CHARGES = orjson.dumps(
    [{"charge_id": "1", "offence": "Agrupaciones ilícitas", "article": "Penal Code 345", "counts": 1}]
)
FLUSH_EVERY = 20_000  # people
BULK_TABLES = (people, episodes, duties, instruments, orders, defendants, sentences, cells)
JUDICIAL = law.JUDICIAL_KINDS
HELD_STATUSES = frozenset(s.value for s in c.HELD)


class DirectFill:
    """Projection rows for a plan, as ``habeas.projections`` would leave them; no events.

    Sequence numbers (registered_seq, admitted_seq, recorded_seq) are synthetic: nothing reads them here.
    """

    def __init__(self, conn: Connection, ledger: str) -> None:
        self.conn = conn
        self.ledger = ledger
        sqlite = is_sqlite(conn)
        self.t: Callable[[datetime | None], Any] = _sqlite_instant if sqlite else _same
        self.day: Callable[[date], Any] = date.isoformat if sqlite else _same
        self.seq = 0
        self.policy = load_policy("slv")  # every facility of the plan is Salvadoran
        self.names: dict[tuple[str, str], str] = {}
        self.calculations: dict[tuple[int, date], Any] = {}
        self.tables: dict[str, tuple[Any, tuple[str, ...], list[tuple[Any, ...]]]] = {
            "people": (people, PEOPLE_COLUMNS, []),
            "episodes": (episodes, EPISODE_COLUMNS, []),
            "duties": (duties, DUTY_COLUMNS, []),
            "instruments": (instruments, INSTRUMENT_COLUMNS, []),
            "orders": (orders, ORDER_COLUMNS, []),
            "cases": (cases, CASE_COLUMNS, []),
            "defendants": (defendants, DEFENDANT_COLUMNS, []),
            "sentences": (sentences, SENTENCE_COLUMNS, []),
        }
        self.rows = 0

    def flush(self) -> None:
        for table, columns, rows in self.tables.values():
            insert_rows(self.conn, table, columns, rows)
            self.rows += len(rows)
            rows.clear()

    def facility(self, plan: FacilityPlan) -> None:
        conn, ledger = self.conn, self.ledger
        conn.execute(insert(facilities), [{"ledger_id": ledger, **plan.facility.model_dump()}])
        conn.execute(insert(units), [{"ledger_id": ledger, **u.model_dump()} for u in plan.units])
        occupants: Counter[str] = Counter()
        case_people: list[Person] = []
        for n, p in enumerate(plan.people, start=1):
            state = self.person(p)
            if state["cell_id"] is not None:
                occupants[state["cell_id"]] += 1
            if p.case_id is not None or p.sentence is not None:
                case_people.append(p)
            if n % FLUSH_EVERY == 0:
                self.flush()
        conn.execute(
            insert(cells),
            [
                {"ledger_id": ledger, **x.model_dump(), "in_service": True, "occupants": occupants[x.cell_id]}
                for x in plan.cells
            ],
        )
        case_rows = self.tables["cases"][2]
        for case in plan.cases:
            case_rows.append((
                ledger, case["case_id"], case["court"], case["reference"], case["group_case"],
                CHARGES.decode() if case["group_case"] else "[]",
            ))  # fmt: skip
        defendant_rows = self.tables["defendants"][2]
        sentence_rows = self.tables["sentences"][2]
        for p in case_people:
            if p.case_id is not None:
                hearings = 1 if p.hearing_at is not None else 0
                defendant_rows.append((ledger, p.case_id, p.pid, p.counsel, hearings, None))
            if p.sentence is not None:
                defendant_rows.append((ledger, p.sentence[1], p.pid, "Defensoría Pública", 0, None))
                sentence_rows.append(self.sentence(p))
        self.flush()

    def sentence(self, p: Person) -> tuple[Any, ...]:
        assert p.sentence is not None
        sentence_id, case_id, sentenced_on, template = p.sentence
        key = (template, sentenced_on)
        calc = self.calculations.get(key)
        if calc is None:
            payload = sentence_payload(p)
            payload["sentenced_on"] = sentenced_on.isoformat()
            calc = self.calculations[key] = calculate(payload, "slv")
        self.seq += 1
        return (
            self.ledger, sentence_id, p.pid, case_id, self.day(sentenced_on), str(calc.aggregate),
            str(calc.enforceable), self.day(calc.release_on), self.t(calc.release_at),
            orjson.dumps(list(calc.explanation)).decode(), orjson.dumps(list(calc.warnings)).decode(), self.seq,
        )  # fmt: skip

    def person(self, p: Person) -> dict[str, Any]:
        ledger, t = self.ledger, self.t
        key = self.names.get((p.given, p.family))
        if key is None:
            key = self.names[(p.given, p.family)] = normalize_name(f"{p.given} {p.family}")
        self.seq += 1
        nationalities = f'["{p.nationality}"]'
        self.tables["people"][2].append((
            ledger, p.pid, p.given, p.family, key, "[]", self.day(p.birth), "M", None, nationalities, None, None,
            None, self.seq,
        ))  # fmt: skip
        state = final_state(p)
        basis = p.basis
        self.seq += 1
        self.tables["episodes"][2].append((
            ledger, p.eid, p.pid, state["facility_id"], p.booking, state["status"],
            "convicted" if p.convicted else "untried", state["cell_id"], state["unit_id"], state["place"],
            OVERRIDE if p.override and state["cell_id"] is not None else None, t(state["expected_by"]),
            t(state["since"]), t(state["last_event_at"]), t(p.admitted), t(p.arrested), p.detaining,
            "Fiscalía General de la República", AUTHORITY, _basis_json(basis), t(state["closed_at"]), self.seq,
        ))  # fmt: skip
        instrument_rows = self.tables["instruments"][2]
        # The admission's basis is never a provisional detention order here (the plan's bases are arrest
        # records and sentences), so it carries no start of detention nor stored limit (R5).
        instrument_rows.append((
            ledger, basis["instrument_id"], p.eid, p.pid, basis["kind"], basis["reference"], basis["issued_by"],
            t(basis["issued_at"]), basis["article"], t(basis["expires_at"]), None, None, None, None, None,
        ))  # fmt: skip
        judicial = basis["issued_at"] if basis["kind"] in JUDICIAL else None
        # R6: the instruments' summary (none is ended here): the latest expiry, NULL if one has none.
        expiries = [basis["expires_at"]]
        issued = [basis["issued_at"]]
        if p.pdo is not None:
            o = p.pdo
            # R5: as projections.law stores it when the order is recorded (at its issue, in the plan).
            limit = stored_limit(self.policy, o["offence_class"], o["scope"], p.arrested, o["issued_at"])
            instrument_rows.append((
                ledger, o["instrument_id"], p.eid, p.pid, o["kind"], o["reference"], o["issued_by"],
                t(o["issued_at"]), o["article"], t(o["expires_at"]), o["offence_class"], o["scope"], None,
                t(p.arrested), limit,
            ))  # fmt: skip
            judicial = judicial or o["issued_at"]
            expiries.append(o["expires_at"])
            issued.append(o["issued_at"])
        basis_until = None if None in expiries else max(expiries)
        # R3: stored at admission, dropped once a judge's instrument is recorded (projections.law).
        admin = stored_deadline(self.policy, p.arrested) if judicial is None else None
        # injury_at: the first injury or indicator not yet referred; a referral clears it (projections.law).
        injury = p.admitted if p.injured else None
        examined = referred = None
        if p.exam is not None:
            examined, injuries, torture, was_referred = p.exam
            if was_referred:
                injury, referred = None, examined
            elif injury is None and (injuries or torture):
                injury = examined
        died = missing = record = None
        moved = None
        if p.leave is not None and p.leave[0] == "died":
            died, missing = p.leave[1], ",".join(death_missing(p.leave[2])) or None
            record = _death_record(p)
        if p.leave is not None and p.leave[0] == "transit":
            moved = p.leave[4]
        # Telling the family of the new place also fulfils the duty after admission, if still open.
        family = p.family_at or p.family_after_move_at
        held_in = state["facility_id"] if state["status"] in HELD_STATUSES else None
        self.tables["duties"][2].append((
            ledger, p.eid, p.pid, held_in, t(p.admitted), t(p.arrested), p.nationality != "SLV", t(judicial),
            t(p.hearing_at), t(p.rights_at), t(family), t(p.family_delay[1] if p.family_delay else None),
            t(p.consular_at), t(examined), t(injury), t(referred), t(moved), t(p.family_after_move_at), t(died),
            missing, record, admin, t(basis_until), t(max(issued)),
        ))  # fmt: skip
        if p.order is not None:
            o = p.order
            executed = p.order_executed_at
            self.tables["orders"][2].append((
                ledger, o["order_id"], p.pid, o["kind"], o["court"], o["court_state"], o["reference"],
                t(o["issued_at"]), t(o["deadline"]), o["place"], "executed" if executed else "active", t(executed),
            ))  # fmt: skip
        return state


def _sqlite_instant(value: datetime | None) -> str | None:
    """``format_instant`` for the UTC datetimes of the plan, without its checks (the fill's hot path)."""
    if value is None:
        return None
    text = value.isoformat()  # 2025-03-15T22:04:00.123456+00:00, or without the fraction when it is 0
    return text[:26] + "Z" if len(text) == 32 else text[:19] + ".000000Z"


def _same(value: Any) -> Any:
    return value


def _death_record(p: Person) -> str:
    """The ``custody.died`` payload as the projection keeps it (not read by the sweep)."""
    assert p.leave is not None
    details = {k: format_instant(v) if isinstance(v, datetime) else v for k, v in p.leave[2].items()}
    return orjson.dumps({"episode_id": p.eid, "person_id": p.pid, **details}).decode()


def _basis_json(basis: dict[str, Any]) -> str:
    return orjson.dumps({k: format_instant(v) if isinstance(v, datetime) else v for k, v in basis.items()}).decode()


def new_ledger(engine: Engine, ledger: str) -> None:
    with write_transaction(engine) as conn:
        create_ledger(conn, ledger, f"bench.example/{ledger}", FIRST_ARREST - 30 * DAY)


def fill_direct(url: str, ledger: str, plans: Iterator[FacilityPlan], say: Callable[[str], None]) -> tuple[float, int]:
    """Write the plan's projection rows; returns (seconds, rows written).  Plans are drawn inside the clock."""
    engine = make_engine(url)  # its own pool: a big page cache for the load only
    started = time.perf_counter()
    rows = 0
    try:
        new_ledger(engine, ledger)
        with write_transaction(engine) as conn:
            if is_sqlite(conn):
                conn.exec_driver_sql("PRAGMA cache_size=-524288")  # 512 MiB, this connection only
            # Secondary indexes are dropped for the load and built again from the same definitions
            # at the end (in the same transaction): the tables end exactly as the migrations made them.
            dropped = [index for table in BULK_TABLES for index in sorted(table.indexes, key=lambda i: str(i.name))]
            for index in dropped:
                index.drop(conn)
            filler = DirectFill(conn, ledger)
            last_said = started
            for plan in plans:
                filler.facility(plan)
                if time.perf_counter() - last_said > 30:
                    last_said = time.perf_counter()
                    say(f"{ledger}: {filler.rows:,} rows ({last_said - started:.0f} s)")
            for index in dropped:
                index.create(conn)
            rows = filler.rows
    finally:
        engine.dispose()
    return time.perf_counter() - started, rows


# --- the fast fill: two facilities drawn, the others copied in SQL -------------------------------------------

# A copy's ids: uuids get the copy's number as their first two hex digits (and "c" for the version digit);
# facility-local ids (units, cells,
# cases, bookings) the copy's facility id; facility ids map the template's own and its transfer destination.
UUID_COLUMNS = {
    "people": ("person_id",),
    "episodes": ("episode_id", "person_id"),
    "duties": ("episode_id", "person_id"),
    "instruments": ("instrument_id", "episode_id", "person_id"),
    "orders": ("order_id", "person_id"),
    "defendants": ("person_id",),
    "sentences": ("sentence_id", "person_id"),
}
LOCAL_COLUMNS = {
    "units": ("unit_id",),
    "cells": ("unit_id", "cell_id"),
    "episodes": ("unit_id", "cell_id"),
    "cases": ("case_id",),
    "defendants": ("case_id",),
    "sentences": ("case_id",),
}
FACILITY_COLUMNS = {"facilities": ("facility_id",), "units": ("facility_id",), "cells": ("facility_id",),
                    "episodes": ("facility_id",), "duties": ("held_in",)}  # fmt: skip
UPPER_COLUMNS = {"facilities": ("name",), "cases": ("reference",), "episodes": ("booking_number",)}
COPIED_TABLES = (facilities, units, cells, cases, people, episodes, duties, instruments, orders, defendants, sentences)
TEMPLATES = 2  # facility k is a copy of facility k % 2 (every second facility separates legal statuses)


def _copy_expression(table: str, column: str) -> str:
    def text_param(name: str) -> str:
        return f"CAST(:{name} AS VARCHAR(64))"

    if column in UUID_COLUMNS.get(table, ()):
        # The plan's ids have the version digit 4 (15th character); a copy's have "c", so none is a template's.
        return f"{text_param('px')} || substr({column}, 3, 12) || 'c' || substr({column}, 16)"
    if column in LOCAL_COLUMNS.get(table, ()):
        return f"CASE WHEN {column} IS NULL THEN NULL ELSE {text_param('k_fid')} || substr({column}, 4) END"
    if column in FACILITY_COLUMNS.get(table, ()):
        return (
            f"CASE {column} WHEN {text_param('t_fid')} THEN {text_param('k_fid')} "
            f"WHEN {text_param('t_dest')} THEN {text_param('k_dest')} ELSE {column} END"
        )
    if column in UPPER_COLUMNS.get(table, ()):
        return f"replace({column}, {text_param('t_up')}, {text_param('k_up')})"
    if table == "episodes" and column == "place":  # the court, a transfer's destination, or "F01 infirmary"
        return (
            f"CASE WHEN {column} = {text_param('t_dest')} THEN {text_param('k_dest')} "
            f"ELSE replace({column}, {text_param('t_up')}, {text_param('k_up')}) END"
        )
    return column


def fill_replicated(url: str, ledger: str, planner: Planner, say: Callable[[str], None]) -> tuple[float, int, int]:
    """The register of ``planner.size`` people in minutes: facilities 0 and 1 drawn and filled as by
    :func:`fill_direct`, every other facility k an ``INSERT ... SELECT`` copy of facility k % 2 under new ids.

    A copy is the same people (same times, duties, orders, cases, cells) in another facility, so each
    facility's findings are its template's under the copy's ids.  Returns (seconds, rows, people); the people
    differ from ``planner.size`` by at most one per facility (facilities of a plan differ by one person).
    """
    assert planner.count <= 99, "facility ids f01..f99"
    engine = make_engine(url)
    started = time.perf_counter()
    try:
        new_ledger(engine, ledger)
        with write_transaction(engine) as conn:
            sqlite = is_sqlite(conn)
            if sqlite:
                conn.exec_driver_sql("PRAGMA cache_size=-524288")  # 512 MiB, this connection only
            dropped = [index for table in COPIED_TABLES for index in sorted(table.indexes, key=lambda i: str(i.name))]
            for index in dropped:
                index.drop(conn)
            filler = DirectFill(conn, ledger)
            template_people: list[tuple[str, int]] = []
            for t in range(min(TEMPLATES, planner.count)):
                plan = planner.facility(t)
                filler.facility(plan)
                template_people += [(p.pid, t) for p in plan.people]
            say(f"{ledger}: {filler.rows:,} rows of {len(template_people):,} people drawn "
                f"({time.perf_counter() - started:.0f} s); copying")  # fmt: skip
            _snapshot_templates(conn, ledger, template_people)
            for k in range(TEMPLATES, planner.count):
                t = k % TEMPLATES
                params = {
                    "l": ledger, "tmpl": t, "px": f"{k:02x}",
                    "t_fid": facility_id_of(t), "k_fid": facility_id_of(k),
                    "t_up": facility_id_of(t).upper(), "k_up": facility_id_of(k).upper(),
                    "t_dest": facility_id_of((t + 1) % planner.count),
                    "k_dest": facility_id_of((k + 1) % planner.count),
                }  # fmt: skip
                for table in COPIED_TABLES:
                    names = [col.name for col in table.columns]
                    exprs = ", ".join(_copy_expression(table.name, n) for n in names)
                    conn.execute(
                        text(
                            f"INSERT INTO {table.name} ({', '.join(names)}) "
                            f"SELECT {exprs} FROM snap_{table.name} WHERE tmpl = :tmpl"
                        ),
                        params,
                    )
            for table in COPIED_TABLES:
                conn.exec_driver_sql(f"DROP TABLE snap_{table.name}")
            conn.exec_driver_sql("DROP TABLE tmpl_people")
            say(f"{ledger}: copied ({time.perf_counter() - started:.0f} s); building the indexes")
            for index in dropped:
                index.create(conn)
            count = "SELECT count(*) FROM {} WHERE ledger_id = :l"
            counts = {
                t.name: int(conn.execute(text(count.format(t.name)), {"l": ledger}).scalar_one())
                for t in (people, episodes, duties, instruments, orders, cases, defendants, sentences)
            }
            rows, persons = sum(counts.values()), counts["people"]
    finally:
        engine.dispose()
    return time.perf_counter() - started, rows, persons


def _snapshot_templates(conn: Connection, ledger: str, template_people: list[tuple[str, int]]) -> None:
    """Scratch tables ``snap_<table>``: every row of the two template facilities, tagged with its template."""
    conn.exec_driver_sql("CREATE TEMPORARY TABLE tmpl_people (person_id VARCHAR(64) PRIMARY KEY, tmpl INTEGER)")
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(f"INSERT INTO tmpl_people VALUES ({marker}, {marker})", template_people)
    by_facility = f"CASE WHEN {{}} = '{facility_id_of(0)}' THEN 0 ELSE 1 END"
    for table in COPIED_TABLES:
        if "person_id" in table.c:
            source = f"SELECT p.tmpl AS tmpl, x.* FROM {table.name} x JOIN tmpl_people p ON p.person_id = x.person_id"
        elif table.name == "cases":
            source = f"SELECT {by_facility.format('substr(x.case_id, 1, 3)')} AS tmpl, x.* FROM cases x"
        else:
            source = f"SELECT {by_facility.format('x.facility_id')} AS tmpl, x.* FROM {table.name} x"
        snapshot = f"CREATE TEMPORARY TABLE snap_{table.name} AS {source} WHERE x.ledger_id = :l"
        conn.execute(text(snapshot), {"l": ledger})


# --- the same plan through the services and events --------------------------------------------------------


def fixed_clock() -> datetime:
    return AT


def emit(engine: Engine, ledger: str, actor: str, events: Sequence[tuple[str, BaseModel, datetime]]) -> int:
    """Append events (already decided) through unit_of_work, which folds them into the projections."""
    for start in range(0, len(events), 5000):
        with unit_of_work(engine, ledger, actor, AT) as work:
            for type_name, payload, at in events[start : start + 5000]:
                work.add(type_name, payload, at)
    return len(events)


def admission(p: Person) -> Admission:
    identity = Identity(
        given_names=p.given, family_names=p.family, birth_date=p.birth, sex="M", nationalities=(p.nationality,)
    )
    contacts = (c.Contact(name="María " + p.family.split()[0], relationship="mother", phone="+503 7000 0000"),)
    return Admission(
        facility_id=p.facility_id,
        identity=identity,
        confirm_new_person=True,  # the names are synthetic and repeat; the duplicate check is not measured here
        legal_status="convicted" if p.convicted else "untried",
        legal_basis=c.LegalBasis(**p.basis),
        detaining_authority=p.detaining,
        ordering_authority="Fiscalía General de la República",
        arrested_at=p.arrested,
        arrest_place=p.arrest_place,
        admitted_at=p.admitted,
        injuries_observed=(c.Injury(body_part="face", description="bruised left eye"),) if p.injured else (),
        property=(c.PropertyItem(description="wallet"),),
        family_contacts=contacts if p.contact else (),
        no_contact_reason=None if p.contact else "no contact given by the detainee",
    )


def build_through_services(engine: Engine, ledger: str, plans: list[FacilityPlan], say: Callable[[str], None]) -> int:
    """The plan through RegisterService (facilities, admissions, housing) and domain events (the rest).

    Person and episode ids are the service's: they are written back into the plan, so the direct fill
    of the same plan afterwards uses the same ids and ``find`` can be compared finding for finding.
    Returns the number of events appended.
    """
    new_ledger(engine, ledger)
    svc = RegisterService(engine, ledger, fixed_clock)
    # Facilities whose housing assigner does not separate legal statuses (see the module docstring).
    mixing = RegisterService(engine, ledger, fixed_clock, housing_policy=HousingPolicy(separate_legal_status=False))
    for service in (svc, mixing):
        service.safeguards = None  # see the module docstring: the sweep is what is measured
    for plan in plans:
        svc.register_facility(DIRECTOR, plan.facility, plan.units, plan.cells, FIRST_ARREST - 10 * DAY)
    everyone = [p for plan in plans for p in plan.people]
    for plan in plans:
        for start in range(0, len(plan.people), 1000):
            batch = plan.people[start : start + 1000]
            for p, done in zip(batch, svc.admit_many(INTAKE, [admission(p) for p in batch]), strict=True):
                p.pid, p.eid = done.person_id, done.episode_id
                assert done.booking_number == p.booking, (done.booking_number, p.booking)
    say(f"{ledger}: {len(everyone):,} admitted through RegisterService.admit_many")
    analyze(engine)
    notifications = 0

    def note(p: Person, kind: str, recipient: str, at: datetime, **delay: Any) -> tuple[str, BaseModel, datetime]:
        nonlocal notifications
        notifications += 1
        payload = law.NotificationRecorded(
            notification_id=str(uuid.UUID(int=notifications)), person_id=p.pid, episode_id=p.eid, kind=kind,
            recipient=recipient, by=INTAKE, **delay,
        )  # fmt: skip
        return ("notification.recorded", payload, at)

    exams, notes, instruments_, cases_, added, hearings, issued, executed, sentenced = ([] for _ in range(9))
    for plan in plans:
        for case in plan.cases:
            cases_.append((
                "case.opened",
                law.CaseOpened(
                    case_id=case["case_id"], court=case["court"], reference=case["reference"],
                    group_case=case["group_case"],
                    charges=(law.Charge(charge_id="1", offence="Agrupaciones ilícitas", article="Penal Code 345"),)
                    if case["group_case"] else (),
                ),
                case["opened_at"],
            ))  # fmt: skip
    for p in everyone:
        if p.exam is not None:
            at, injuries, torture, referred = p.exam
            exams.append((
                "medical.examined",
                c.MedicalExamined(
                    episode_id=p.eid, person_id=p.pid, examiner="Dra. Alemán",
                    findings="injuries documented" if injuries else "fit for detention",
                    injuries=(c.Injury(body_part="back", description="linear bruises"),) if injuries else (),
                    torture_indicators=torture, referred_to="Instituto de Medicina Legal" if referred else None,
                ),
                at,
            ))  # fmt: skip
        if p.rights_at is not None:
            notes.append(note(p, "rights_informed", "the detainee", p.rights_at))
        if p.family_at is not None:
            notes.append(note(p, "family", "family contact", p.family_at))
        if p.family_delay is not None:
            notes.append(
                note(
                    p, "family", "family contact", p.family_delay[0], delayed_until=p.family_delay[1],
                    delay_authority="Fiscalía General de la República", delay_reason="incommunicado ordered",
                )
            )  # fmt: skip
        if p.consular_at is not None:
            notes.append(note(p, "consulate", f"consulate of {p.nationality}", p.consular_at))
        if p.pdo is not None:
            payload = law.InstrumentRecorded(episode_id=p.eid, person_id=p.pid, **p.pdo)
            instruments_.append(("instrument.recorded", payload, p.pdo["issued_at"]))
        if p.case_id is not None:
            added.append((
                "case.defendant_added", law.DefendantAdded(case_id=p.case_id, person_id=p.pid, counsel=p.counsel),
                p.admitted,
            ))  # fmt: skip
            if p.hearing_at is not None:
                hearing = law.HearingRecorded(
                    case_id=p.case_id, hearing_id=f"h-{p.eid}", person_id=p.pid, kind="initial_appearance",
                    counsel=p.counsel, outcome="provisional detention ordered" if p.pdo else "decision reserved",
                )  # fmt: skip
                hearings.append(("case.hearing_recorded", hearing, p.hearing_at))
        if p.sentence is not None:
            added.append((
                "case.defendant_added",
                law.DefendantAdded(case_id=p.sentence[1], person_id=p.pid, counsel="Defensoría Pública"),
                p.admitted,
            ))  # fmt: skip
            sentenced.append(
                ("sentence.recorded", law.SentenceRecorded.model_validate(sentence_payload(p)), p.admitted + HOUR)
            )
        if p.order is not None:
            issued.append(("order.issued", law.OrderIssued(person_id=p.pid, **p.order), p.order["issued_at"]))
            if p.order_executed_at is not None:
                done_ = law.OrderExecuted(order_id=p.order["order_id"], person_id=p.pid, note="executed as ordered")
                executed.append(("order.executed", done_, p.order_executed_at))
    count = 0
    for actor, events in (
        (MEDIC, exams), (INTAKE, notes), (REGISTRAR, instruments_), (REGISTRAR, cases_), (REGISTRAR, added),
        (REGISTRAR, hearings), (REGISTRAR, issued), (REGISTRAR, executed), (REGISTRAR, sentenced),
    ):  # fmt: skip
        count += emit(engine, ledger, actor, events)
    say(f"{ledger}: {count:,} events of examinations, notifications, instruments, cases, orders, sentences")
    analyze(engine)
    for plan in plans:
        windows: dict[datetime, list[tuple[str, str]]] = {}
        for p in plan.people:
            if p.place_at is not None:
                assert p.cell_id is not None
                windows.setdefault(p.place_at, []).append((p.pid, p.cell_id))
        housing = svc if plan.separates else mixing
        for at, placements in sorted(windows.items()):
            housing.place_many(INTAKE, placements, at, reason="intake housing", override_reason=OVERRIDE)
    say(f"{ledger}: housed through RegisterService.place_many")
    departed, started, arrived, released, died, moved_notes = ([] for _ in range(6))
    for p in everyone:
        if p.leave is None:
            continue
        kind, when = p.leave[0], p.leave[1]
        ids = {"episode_id": p.eid, "person_id": p.pid}
        if kind == "out":
            departed.append((
                "custody.departed",
                c.CustodyDeparted(**ids, purpose="court", destination=COURT, authority=COURT, escort="PNC escort",
                                  expected_return=p.leave[2]),
                when,
            ))  # fmt: skip
        elif kind == "transit":
            _, _, deadline, destination, arrival = p.leave
            started.append((
                "custody.transit_started",
                c.TransitStarted(**ids, destination_facility_id=destination, authority=AUTHORITY,
                                 escort="Fuerza Armada escort", deadline=deadline),
                when,
            ))  # fmt: skip
            if arrival is not None:
                received = c.TransitArrived(**ids, facility_id=destination, received_by="officer on duty")
                arrived.append(("custody.transit_arrived", received, arrival))
            if p.family_after_move_at is not None:
                moved_notes.append(note(p, "family", "family contact", p.family_after_move_at))
        elif kind == "released":
            released.append((
                "custody.released",
                c.CustodyReleased(**ids, authority=COURT, order_reference=f"LIB-{p.booking}", verified_by=AUTHORITY,
                                  handed_over_to="family", health_check="fit"),
                when,
            ))  # fmt: skip
        else:
            died.append(("custody.died", c.CustodyDied(**ids, **p.leave[2]), when))
    for actor, events in (
        (INTAKE, departed), (INTAKE, started), (INTAKE, arrived), (INTAKE, released), (DIRECTOR, died),
        (INTAKE, moved_notes),
    ):  # fmt: skip
        count += emit(engine, ledger, actor, events)
    with engine.connect() as conn:
        return int(read_head(conn, ledger).size)


# --- measuring ------------------------------------------------------------------------------------------------


def analyze(engine: Engine) -> float:
    """Statistics after a bulk load; on PostgreSQL ``VACUUM ANALYZE``, as autovacuum does after many inserts
    (PostgreSQL 13+): it also marks the pages all-visible, so the sweep's covering indexes are read alone."""
    started = time.perf_counter()
    if is_sqlite(engine):
        with write_transaction(engine) as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    return time.perf_counter() - started


def wal_checkpoint(path: Path) -> None:
    """Empty a SQLite file's WAL into the database (from a connection of our own)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.close()
    if busy:
        raise RuntimeError(f"could not checkpoint {path}: a connection holds a read transaction")


@dataclass
class SizeResult:
    people: int
    facilities: int = 0
    cells: int = 0
    fill_s: float = 0.0
    fill_rows: int = 0
    people_filled: int = 0
    analyze_s: float = 0.0
    find_s: list[float] = field(default_factory=list)
    findings: int = 0
    per_rule: dict[str, int] = field(default_factory=dict)
    per_check_s: dict[str, float] = field(default_factory=dict)
    first_sweep_s: float = 0.0
    first_raised: int = 0
    first_resolved: int = 0
    first_events: int = 0
    steady_s: list[float] = field(default_factory=list)
    steady_events: int = 0
    command_check_s: dict[str, float] = field(default_factory=dict)  # people -> one command's checks, best of 3

    def as_json(self) -> dict[str, Any]:
        return {
            "people": self.people,
            "facilities": self.facilities,
            "cells": self.cells,
            "fill_s": round(self.fill_s, 2),
            "fill_rows": self.fill_rows,
            "people_filled": self.people_filled,
            "analyze_s": round(self.analyze_s, 2),
            "find_s": round(min(self.find_s), 3),
            "find_runs_s": [round(s, 3) for s in self.find_s],
            "findings": self.findings,
            "per_rule": self.per_rule,
            "per_check_s": {k: round(v, 4) for k, v in self.per_check_s.items()},
            "first_sweep_s": round(self.first_sweep_s, 3),
            "first_sweep_raised": self.first_raised,
            "first_sweep_resolved": self.first_resolved,
            "first_sweep_events": self.first_events,
            "first_sweep_events_per_s": round(self.first_events / self.first_sweep_s, 1) if self.first_sweep_s else 0,
            "steady_sweep_s": round(min(self.steady_s), 3),
            "steady_sweep_runs_s": [round(s, 3) for s in self.steady_s],
            "steady_sweep_events": self.steady_events,
            "command_check_s": {k: round(v, 4) for k, v in self.command_check_s.items()},
        }


@dataclass
class Comparison:
    people: int
    service_build_s: float = 0.0
    service_events: int = 0
    direct_fill_s: float = 0.0
    service: dict[str, int] = field(default_factory=dict)
    direct: dict[str, int] = field(default_factory=dict)
    only_service: int = 0
    only_direct: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return self.only_service == 0 and self.only_direct == 0

    def as_json(self) -> dict[str, Any]:
        return {
            "people": self.people,
            "service_build_s": round(self.service_build_s, 1),
            "service_events": self.service_events,
            "direct_fill_s": round(self.direct_fill_s, 2),
            "per_rule_service": self.service,
            "per_rule_direct": self.direct,
            "findings_only_service": self.only_service,
            "findings_only_direct": self.only_direct,
            "identical": self.identical,
            "same_rules": set(self.service) == set(self.direct),
            "examples": self.examples,
        }


@dataclass
class BackendResult:
    backend: str
    settings: dict[str, Any] = field(default_factory=dict)
    sizes: dict[int, SizeResult] = field(default_factory=dict)
    comparison: Comparison | None = None
    profile: str = ""

    def growth(self, attribute: str) -> tuple[float, float] | None:
        """(time ratio, size ratio) from the smallest to the largest size."""
        if len(self.sizes) < 2:
            return None
        low, high = self.sizes[min(self.sizes)], self.sizes[max(self.sizes)]
        value = {"find": lambda r: min(r.find_s), "steady": lambda r: min(r.steady_s)}[attribute]
        return value(high) / value(low), high.people / low.people

    def exponent(self, attribute: str) -> float | None:
        """Least-squares slope of log(time) against log(people): 1 is linear."""
        if len(self.sizes) < 2:
            return None
        value = {"find": lambda r: min(r.find_s), "steady": lambda r: min(r.steady_s)}[attribute]
        xs = [math.log(r.people) for r in self.sizes.values()]
        ys = [math.log(value(r)) for r in self.sizes.values()]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"settings": self.settings, "sizes": {str(k): v.as_json() for k, v in self.sizes.items()}}
        targets: dict[str, bool] = {}
        largest = self.sizes.get(max(self.sizes)) if self.sizes else None
        if largest is not None and largest.people >= 1_000_000:
            targets["find_under_10s_at_1m"] = min(largest.find_s) < TARGET_S
            targets["steady_sweep_under_10s_at_1m"] = min(largest.steady_s) < TARGET_S
        for name in ("find", "steady"):
            growth = self.growth(name)
            if growth is not None:
                ratio, people = growth
                out[f"growth_{name}"] = {
                    "time_ratio": round(ratio, 3),
                    "size_ratio": round(people, 3),
                    "exponent": round(self.exponent(name) or 0.0, 3),
                }
                targets[f"{name}_growth_linear_or_better"] = ratio <= people
        if self.comparison is not None:
            out["comparison"] = self.comparison.as_json()
            targets["direct_fill_matches_services"] = self.comparison.identical
        out["targets_met"] = targets
        return out


def rule_counts(findings: Sequence[Finding]) -> dict[str, int]:
    counts = Counter(f.rule for f in findings)
    return {k: counts[k] for k in sorted(counts, key=lambda r: (int(r[1:]), r))}


class Bench:
    def __init__(self, backend: str, base_url: str, seed: int, console: Console, replicate: bool = True) -> None:
        self.backend = backend
        self.replicate = replicate
        self.base_url = base_url
        self.seed = seed
        self.console = console
        self.result = BackendResult(backend)
        self.sqlite_path: Path | None = None

    def say(self, message: str) -> None:
        self.console.print(f"[dim]{self.backend}: {message}[/dim]")

    @contextmanager
    def database(self) -> Iterator[tuple[Engine, str]]:
        """A fresh, migrated database of its own; yields (engine, url)."""
        if self.backend == "sqlite":
            with tempfile.TemporaryDirectory(prefix="habeas-bench-") as tmp:
                path = Path(tmp) / "habeas.db"
                url = f"sqlite:///{path}"
                engine = make_engine(url)
                self.sqlite_path = path
                try:
                    upgrade(engine)
                    if not self.result.settings:
                        with engine.connect() as conn:
                            sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
                            self.result.settings = {
                                "journal_mode": conn.exec_driver_sql("PRAGMA journal_mode").scalar(),
                                "synchronous": SYNCHRONOUS.get(int(sync or 0), str(sync)),
                                "cache_size": conn.exec_driver_sql("PRAGMA cache_size").scalar(),
                            }
                    yield engine, url
                finally:
                    engine.dispose()
                    self.sqlite_path = None
        else:
            with scratch_postgres_database(self.base_url, "habeas_bench") as scratch:
                url = url_string(scratch)
                engine = make_engine(url)
                try:
                    upgrade(engine)
                    if not self.result.settings:
                        with engine.connect() as conn:
                            self.result.settings = {
                                name: conn.exec_driver_sql(f"SHOW {name}").scalar()
                                for name in (
                                    "server_version", "synchronous_commit", "shared_buffers", "work_mem",
                                    "autovacuum", "jit",
                                )
                            }  # fmt: skip
                    yield engine, url
                finally:
                    engine.dispose()

    def settle(self) -> None:
        gc.collect()
        if self.sqlite_path is not None:
            wal_checkpoint(self.sqlite_path)

    def autovacuum_off(self, engine: Engine) -> bool:
        if is_sqlite(engine):
            return False
        with engine.connect() as conn:
            return bool(conn.exec_driver_sql("SHOW autovacuum").scalar() == "off")

    def time_find(self, engine: Engine, ledger: str) -> tuple[float, list[Finding]]:
        self.settle()
        with engine.connect() as conn:
            start = time.perf_counter()
            found = find(conn, ledger, AT)
            elapsed = time.perf_counter() - start
        return elapsed, found

    def time_checks(self, engine: Engine, ledger: str) -> dict[str, float]:
        """Each check alone, on the Context find() builds (policies loaded once, as find does)."""
        out: dict[str, float] = {}
        self.settle()
        with engine.connect() as conn:
            start = time.perf_counter()
            ctx = Context(conn, ledger, AT, facilities_policies(conn, ledger, load_policy))
            out["policies"] = time.perf_counter() - start
            for rule, check in SWEEP_CHECKS:
                start = time.perf_counter()
                for _ in check(ctx):
                    pass
                key = f"{rule} {CHECK_NAMES.get(check, check.__name__).removeprefix('check_')}"
                out[key] = out.get(key, 0.0) + time.perf_counter() - start
        return out

    def head(self, engine: Engine, ledger: str) -> int:
        with engine.connect() as conn:
            return int(read_head(conn, ledger).size)

    def run_size(self, size: int, profile: bool, repeat: int) -> SizeResult:
        planner = Planner(self.seed, size)
        result = SizeResult(size, facilities=planner.count)
        ledger = f"sweep-{size}"
        with self.database() as (engine, url):
            self.say(f"{size:,} people in {planner.count} facilities: filling the projections")
            if self.replicate:
                result.fill_s, result.fill_rows, result.people_filled = fill_replicated(url, ledger, planner, self.say)
            else:
                result.fill_s, result.fill_rows = fill_direct(url, ledger, planner.plans(), self.say)
                result.people_filled = size
            result.analyze_s = analyze(engine)
            with engine.connect() as conn:
                result.cells = int(conn.exec_driver_sql("SELECT count(*) FROM cells").scalar() or 0)
            self.say(f"{size:,}: filled in {result.fill_s:.1f} s ({result.fill_rows:,} rows); find()")
            for _ in range(repeat):
                elapsed, found = self.time_find(engine, ledger)
                result.find_s.append(elapsed)
            result.findings = len(found)
            result.per_rule = rule_counts(found)
            del found
            result.per_check_s = self.time_checks(engine, ledger)
            if profile:
                self.profile_find(engine, ledger, size)
            self.say(f"{size:,}: find {min(result.find_s):.2f} s; first sweep")
            before = self.head(engine, ledger)
            self.settle()
            start = time.perf_counter()
            first = sweep(engine, ledger, AT, AT + timedelta(minutes=1))
            result.first_sweep_s = time.perf_counter() - start
            result.first_raised, result.first_resolved = first.raised, first.resolved
            result.first_events = self.head(engine, ledger) - before
            if self.autovacuum_off(engine):
                analyze(engine)  # standing in for autovacuum after the new alert rows (untimed)
            for n in range(repeat):
                before = self.head(engine, ledger)
                self.settle()
                start = time.perf_counter()
                again = sweep(engine, ledger, AT, AT + timedelta(minutes=2 + n))
                result.steady_s.append(time.perf_counter() - start)
                result.steady_events += self.head(engine, ledger) - before
                if again.raised or again.resolved:
                    raise SystemExit(f"{self.backend}: a second sweep at the same instant raised {again.raised} and "
                                     f"resolved {again.resolved}")  # fmt: skip
            for count in COMMAND_PEOPLE:
                result.command_check_s[str(count)] = self.time_command_check(engine, ledger, count)
            self.say(
                f"{size:,}: first sweep {result.first_sweep_s:.2f} s ({result.first_events:,} events), "
                f"steady {min(result.steady_s):.2f} s; one command's checks "
                + ", ".join(f"{n} people {t * 1000:.0f} ms" for n, t in result.command_check_s.items())
            )
        return result

    def time_command_check(self, engine: Engine, ledger: str, count: int) -> float:
        """What one command's safeguards cost (services.safeguarding.after_command): ``find`` and the scoped
        ``reconcile`` for ``count`` held people and their cells, in a write transaction; best of 3."""
        with engine.connect() as conn:
            rows = conn.execute(
                select(episodes.c.person_id, episodes.c.cell_id)
                .where(episodes.c.ledger_id == ledger, episodes.c.status.in_(HELD_VALUES))
                .order_by(episodes.c.person_id)
                .limit(count)
            ).all()
            persons = [r.person_id for r in rows]
            cell_ids = sorted({r.cell_id for r in rows if r.cell_id})
            unit_ids = sorted(set(conn.execute(select(cells.c.unit_id).where(cells.c.cell_id.in_(cell_ids))).scalars()))
        best = math.inf
        for _ in range(3):
            self.settle()
            with unit_of_work(engine, ledger, "bench:command", AT + timedelta(hours=1)) as work:
                start = time.perf_counter()
                found = find(work.conn, ledger, AT, persons=persons, cell_ids=cell_ids)
                done = reconcile(work, ledger, AT, found, persons=persons, cell_ids=cell_ids, unit_ids=unit_ids)
                best = min(best, time.perf_counter() - start)
                if done.raised or done.resolved:
                    raise SystemExit(f"{self.backend}: a scoped check after the sweep changed {done} alerts")
        return best

    def profile_find(self, engine: Engine, ledger: str, size: int) -> None:
        self.settle()
        profiler = cProfile.Profile()
        with engine.connect() as conn:
            profiler.enable()
            find(conn, ledger, AT)
            profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(20)
        self.result.profile += f"--- {self.backend}: find() over {size:,} people\n{out.getvalue()}"

    def run_comparison(self, size: int) -> Comparison:
        result = Comparison(size)
        planner = Planner(self.seed + 1, size)
        plans = list(planner.plans())
        with self.database() as (engine, url):
            self.say(f"comparison: {size:,} people through the services and events")
            start = time.perf_counter()
            result.service_events = build_through_services(engine, "compare-service", plans, self.say)
            result.service_build_s = time.perf_counter() - start
            # The plan now carries the service's person and episode ids; the direct fill reuses them.
            result.direct_fill_s, _ = fill_direct(url, "compare-direct", iter(plans), self.say)
            analyze(engine)
            with engine.connect() as conn:
                by_service = find(conn, "compare-service", AT)
                by_direct = find(conn, "compare-direct", AT)
        result.service, result.direct = rule_counts(by_service), rule_counts(by_direct)
        service_set = Counter((f.rule, f.subject, f.message, f.refs) for f in by_service)
        direct_set = Counter((f.rule, f.subject, f.message, f.refs) for f in by_direct)
        only_service, only_direct = service_set - direct_set, direct_set - service_set
        result.only_service, result.only_direct = sum(only_service.values()), sum(only_direct.values())
        for side, extra in (("service only", only_service), ("direct only", only_direct)):
            result.examples += [f"{side}: {f[0]} {f[1]}: {f[2]}" for f in sorted(extra)[:3]]
        self.say(
            f"comparison: {len(by_service):,} findings through the services, {len(by_direct):,} by the direct "
            f"fill; {'identical' if result.identical else 'DIFFERENT'}"
        )
        return result

    def run(self, sizes: Sequence[int], compare: int, profile: bool, repeat: int) -> BackendResult:
        if compare:
            self.result.comparison = self.run_comparison(compare)
        for size in sizes:
            self.result.sizes[size] = self.run_size(size, profile and size == max(sizes), repeat)
        return self.result


# --- output ---------------------------------------------------------------------------------------------------


def render(console: Console, results: Sequence[BackendResult], quick: bool) -> None:
    main = Table(title=f"Safeguards sweep at {format_instant(AT)}{' — quick run' if quick else ''}")
    for name in (
        "backend", "people", "facilities", "fill s", "find s", "findings", "1st sweep s", "events", "events/s",
        "steady sweep s",
    ):  # fmt: skip
        main.add_column(name, justify="left" if name == "backend" else "right")
    for r in results:
        for s in r.sizes.values():
            main.add_row(
                r.backend, f"{s.people:,}", str(s.facilities), f"{s.fill_s:.1f}", _mark(min(s.find_s), s.people),
                f"{s.findings:,}", f"{s.first_sweep_s:.2f}", f"{s.first_events:,}",
                f"{s.first_events / s.first_sweep_s:,.0f}" if s.first_sweep_s else "-",
                _mark(min(s.steady_s), s.people),
            )  # fmt: skip
    console.print(main)

    growth = Table(title="Growth from the smallest to the largest register (linear: time ratio = size ratio)")
    for name in ("backend", "figure", "sizes", "time ratio", "size ratio", "exponent", "linear or better"):
        growth.add_column(name, justify="left" if name in ("backend", "figure") else "right")
    for r in results:
        for name, label in (("find", "find()"), ("steady", "steady-state sweep")):
            g = r.growth(name)
            if g is None:
                continue
            sizes = f"{min(r.sizes):,} → {max(r.sizes):,}"
            growth.add_row(
                r.backend, label, sizes, f"{g[0]:.2f}", f"{g[1]:.1f}", f"{r.exponent(name):.2f}",
                "✓" if g[0] <= g[1] else "✗",
            )  # fmt: skip
    console.print(growth)

    columns = [(r, s) for r in results for s in r.sizes.values()]
    rules = Table(title="Findings per rule (find at AT)")
    rule_names = sorted({k for _, s in columns for k in s.per_rule}, key=lambda x: int(x[1:]))
    rules.add_column("rule")
    for r, s in columns:
        rules.add_column(_label(r, s), justify="right")
    for name in rule_names:
        rules.add_row(name, *(f"{s.per_rule.get(name, 0):,}" for _, s in columns))
    rules.add_row("all", *(f"{s.findings:,}" for _, s in columns))
    rules.add_row("per person", *(f"{s.findings / s.people:.2f}" for _, s in columns))
    console.print(rules)

    checks = Table(title="Seconds per check (each alone, on find()'s Context)")
    check_names = list(dict.fromkeys(k for _, s in columns for k in s.per_check_s))
    checks.add_column("check")
    for r, s in columns:
        checks.add_column(_label(r, s), justify="right")
    for name in check_names:
        checks.add_row(name, *(f"{s.per_check_s.get(name, 0.0):.3f}" for _, s in columns))
    checks.add_row("sum", *(f"{sum(s.per_check_s.values()):.2f}" for _, s in columns))
    console.print(checks)

    for r in results:
        cmp = r.comparison
        if cmp is None:
            continue
        table = Table(
            title=f"{r.backend}: {cmp.people:,} people through the services ({cmp.service_events:,} events, "
            f"{cmp.service_build_s:.0f} s) vs the direct fill ({cmp.direct_fill_s:.1f} s) of the same plan"
        )
        names = sorted(set(cmp.service) | set(cmp.direct), key=lambda x: int(x[1:]))
        table.add_column("path")
        for name in names:
            table.add_column(name, justify="right")
        table.add_row("services + events", *(f"{cmp.service.get(k, 0):,}" for k in names))
        table.add_row("direct fill", *(f"{cmp.direct.get(k, 0):,}" for k in names))
        console.print(table)
        verdict = "identical findings (rule, subject, message, refs)" if cmp.identical else (
            f"DIFFERENT: {cmp.only_service} findings only through the services, {cmp.only_direct} only in the fill"
        )  # fmt: skip
        console.print(f"{r.backend}: comparison: {verdict}")
        for line in cmp.examples:
            console.print(f"  {line}", markup=False)

    console.print(
        f"Targets: find() and the steady-state sweep under {TARGET_S:.0f} s at 1,000,000 people; growth linear or "
        "better.  The registers are filled directly into the projection tables (no events): see the docstring."
    )
    for r in results:
        console.print(f"{r.backend}: " + ", ".join(f"{k}={v}" for k, v in r.settings.items()))


def _label(r: BackendResult, s: SizeResult) -> str:
    name = {"postgresql": "pg"}.get(r.backend, r.backend)
    return f"{name} {s.people / 1e6:g}M" if s.people >= 1_000_000 else f"{name} {s.people // 1000:,}k"


def _mark(seconds: float, people: int) -> str:
    if people < 1_000_000:
        return f"{seconds:.2f}"
    return f"{seconds:.2f} {'✓' if seconds < TARGET_S else '✗'}"


def parse_sizes(text: str) -> list[int]:
    sizes = sorted({int(x.replace("_", "")) for x in text.split(",") if x.strip()})
    if not sizes or sizes[0] < 1000:
        raise argparse.ArgumentTypeError("sizes: whole numbers of people, each at least 1000")
    return sizes


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default=None,
                        help="default: both (quick: sqlite)")  # fmt: skip
    parser.add_argument("--sizes", type=parse_sizes, default=None,
                        help="people per register, comma-separated (default 100000,300000,1000000; quick "
                        "10000,30000,100000)")  # fmt: skip
    parser.add_argument("--compare-size", type=int, default=None,
                        help="people in the register built both through the services and directly "
                        "(default 20000; quick 5000; 0: skip)")  # fmt: skip
    parser.add_argument("--postgres-url", default=default_postgres_url())
    parser.add_argument("--quick", action="store_true", help="SQLite, 10k/30k/100k, comparison at 5k: about 2 min")
    parser.add_argument("--profile", action="store_true", help="also cProfile find() at the largest size")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="time find() and the steady-state sweep this many times each; the best is reported",
    )
    parser.add_argument("--seed", type=int, default=20260115)
    parser.add_argument(
        "--fill",
        choices=("copy", "plan"),
        default="copy",
        help="copy: draw facilities 0 and 1 and copy them in SQL under new ids (minutes at 1M); plan: draw and "
        "fill every facility in Python (slow)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # A terminated run still drops its PostgreSQL databases and temporary directories.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sizes = args.sizes or list(QUICK_SIZES if args.quick else FULL_SIZES)
    compare = args.compare_size if args.compare_size is not None else (5_000 if args.quick else 20_000)
    backend = args.backend or ("sqlite" if args.quick else "both")
    backends = ("sqlite", "postgresql") if backend == "both" else (backend,)
    console = Console(width=max(160, Console().width), highlight=False)
    console.print(
        "[dim]The registers are filled directly into the projection tables the sweep reads (no events); "
        f"a {compare:,}-person register is also built through the services to check the fill against.[/dim]"
        if compare
        else "[dim]The registers are filled directly into the projection tables the sweep reads (no events).[/dim]"
    )
    results: list[BackendResult] = []
    load_before = [round(x, 2) for x in os.getloadavg()]
    started = time.perf_counter()
    for name in backends:
        backend_started = time.perf_counter()
        results.append(
            Bench(name, args.postgres_url, args.seed, console, args.fill == "copy").run(
                sizes, compare, args.profile, args.repeat
            )
        )
        console.print(f"[dim]{name}: {time.perf_counter() - backend_started:.1f} s[/dim]")
    elapsed = time.perf_counter() - started
    for r in results:
        if r.profile:
            console.print(r.profile, markup=False, highlight=False)
    render(console, results, args.quick)
    summary: dict[str, Any] = {r.backend: r.as_json() for r in results}
    summary["register"] = {
        "filled": "directly into the projection tables (no events); see the benchmark's docstring",
        "at": format_instant(AT),
        "jurisdiction": "slv",
        "people_per_facility": PER_FACILITY,
        "seed": args.seed,
    }
    summary["targets"] = {"find_s_at_1m": TARGET_S, "steady_sweep_s_at_1m": TARGET_S, "growth": "time/size ratio <= 1"}
    summary["targets_met"] = {f"{r.backend}.{k}": v for r in results for k, v in r.as_json()["targets_met"].items()}
    summary["machine"] = machine_info(
        quick=args.quick,
        sizes=sizes,
        compare_size=compare,
        repeat=args.repeat,
        seconds=round(elapsed, 1),
        load_average_before=load_before,  # 1, 5, 15 min: other work on the machine inflates every figure
        load_average_after=[round(x, 2) for x in os.getloadavg()],
    )
    sys.stdout.flush()
    print(json.dumps(summary, separators=(",", ":"), default=str), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
