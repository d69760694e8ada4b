"""The demo's scenario: CECOT as the reports describe it (standards.md §3–5), built through the services.

Every fact goes in as the services' commands (events in the ledger, the read models folded from
them, the safeguards checked in every command), at its own instant on a simulated clock that only
moves forward: each fact is recorded just after it happens, so nothing is back-dated (R23).  The
scenario never raises an alert itself: the breaches the reports describe are recorded as facts
(no judge, an expired basis, a death without a report, an order not carried out, a family never
told, 60–75 people in 100 m²) and the safeguards find them (``habeas.demo.expected``).

Everything is synthetic: the people come from :mod:`habeas.demo.people`; the references of
courts, decrees and orders are marked SYN; El Salvador's civil time is UTC-06:00.
"""

from __future__ import annotations

import csv
import io
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from importlib import resources
from typing import Any

from sqlalchemy import Engine, select

from habeas.demo.clock import SimulatedClock
from habeas.demo.people import PeopleFactory, SyntheticPerson
from habeas.domain import law
from habeas.domain import transfer as t
from habeas.domain.admission import Admission, Identity
from habeas.domain.layout import parse_yaml_layout
from habeas.ledger.timefmt import format_instant
from habeas.safeguards.sweep import sweep
from habeas.services.legal import LegalService
from habeas.services.register import RegisterService
from habeas.services.transfers import TransferService
from habeas.store.transfer_tables import refusals

FACILITY = "cecot"
AGREEMENT = "SYN-AGR-USA-SLV-2025"
START = datetime(2023, 1, 31, 18, 0, tzinfo=UTC)  # presented 31 Jan 2023 (12:00 local)
FIRST_NIGHT = datetime(2023, 2, 24, 6, 0, tzinfo=UTC)  # the night of 23–24 Feb 2023 (00:00 local)
WAVES_FROM = date(2023, 3, 15)
WAVES_TO = date(2025, 10, 15)
AGREEMENT_AT = datetime(2025, 3, 14, 16, 0, tzinfo=UTC)
FLIGHT_DEPARTS = datetime(2025, 3, 15, 21, 0, tzinfo=UTC)
RETURN_ORDER_ISSUED = datetime(2025, 3, 15, 22, 46, tzinfo=UTC)  # while the planes are in the air
FLIGHT_LANDS = datetime(2025, 3, 16, 4, 0, tzinfo=UTC)
LATER_FLIGHT = datetime(2025, 4, 12, 5, 0, tzinfo=UTC)
HANDED_BACK = datetime(2025, 6, 6, 15, 0, tzinfo=UTC)  # returned to the sending state in June 2025
REPATRIATION = datetime(2025, 7, 18, 14, 0, tzinfo=UTC)  # 252 flown to Caracas
END = datetime(2025, 11, 30, 18, 0, tzinfo=UTC)  # the scenario's present: the final sweep runs here

# Who acts (synthetic officers; the actor names how the demo's accounts are called).
INTAKE, HOUSING, RECORDS, MEDICAL, DIRECTOR = (
    "demo.intake", "demo.housing", "demo.records", "demo.medical", "demo.director",
)  # fmt: skip
POLICE = "Policía Nacional Civil (PNC), sintético"
AUTHORITY = "Dirección General de Centros Penales"
JUDGE = "Juzgado Especializado de Instrucción (sintético)"
TRIAL_COURT = "Tribunal Especializado de Sentencia (sintético)"
US_COURT = "Tribunal Federal de Distrito (sintético)"
US_IMMIGRATION_COURT = "Tribunal de Inmigración (sintético)"
GANGS = ("MS-13", "Barrio 18 Sureños", "Barrio 18 Revolucionarios")


@dataclass(frozen=True)
class Scale:
    """How many of each; ``full`` is the reported scale, ``small`` the same story for tests."""

    domestic: int  # admitted under the state of exception, the first night included
    first_night: int
    flight_venezuelans: int  # 15–16 March 2025
    flight_salvadorans: int
    return_order_people: int  # removed under the statute the return order concerned
    later_venezuelans: int
    later_salvadorans: int
    convicted: int
    acquitted: int
    deaths: int
    deaths_unreported: int
    administrative_only: int  # R3: held on a police arrest record, never before a judge
    before_judge: int  # R4: appeared, no decision
    ordinary_procedure: int  # R5: less serious offence, no extension reaches it
    expiring_basis: int  # R6
    ignored_release_orders: int  # R26: a judge ordered release; the person is still held
    family_not_told: float  # share of domestic admissions whose family is never notified (R8)
    labelled: float  # share classified with a gang label
    labels_with_evidence: float  # of those, the share with a document
    months_between_waves: int  # transfers from other prisons: monthly at full scale


SIZES: dict[str, Scale] = {
    "small": Scale(
        domestic=240, first_night=40, flight_venezuelans=24, flight_salvadorans=3, return_order_people=14,
        later_venezuelans=2, later_salvadorans=1, convicted=6, acquitted=4, deaths=4, deaths_unreported=2,
        administrative_only=2, before_judge=2, ordinary_procedure=3, expiring_basis=2, ignored_release_orders=1,
        family_not_told=0.04, labelled=0.25, labels_with_evidence=0.15, months_between_waves=3,
    ),
    "full": Scale(
        domestic=15_000, first_night=2_000, flight_venezuelans=238, flight_salvadorans=23, return_order_people=137,
        later_venezuelans=14, later_salvadorans=13, convicted=60, acquitted=120, deaths=40, deaths_unreported=26,
        administrative_only=40, before_judge=12, ordinary_procedure=150, expiring_basis=40, ignored_release_orders=8,
        family_not_told=0.03, labelled=0.25, labels_with_evidence=0.15, months_between_waves=1,
    ),
}  # fmt: skip


@dataclass
class Held:
    person_id: str
    cell: str
    admitted_at: datetime
    kind: str  # "untried", "convicted", "transferee"
    nationality: str = "SLV"


@dataclass
class Cells:
    """Where people are put: each cell keeps one legal status and one gang (MR 11; the rival groups)."""

    targets: dict[str, int]
    pools: dict[str, list[str]]
    occupants: dict[str, int] = field(default_factory=dict)

    def take(self, pool: str) -> str:
        for cell in self.pools[pool]:
            if self.occupants.get(cell, 0) < self.targets[cell]:
                self.occupants[cell] = self.occupants.get(cell, 0) + 1
                return cell
        raise RuntimeError(f"the demo's {pool} cells are full")  # a scale larger than the layout

    def leave(self, cell: str) -> None:
        self.occupants[cell] -= 1


def ids(namespace: str) -> Callable[[], uuid.UUID]:
    """Reproducible ids (uuid5 of a counter), so two runs with one seed give the same register."""
    counter = iter(range(1, 1 << 62))
    return lambda: uuid.uuid5(uuid.NAMESPACE_URL, f"habeas-demo/{namespace}/{next(counter)}")


Step = tuple[str, Callable[[], None]]


class Scenario:
    def __init__(self, engine: Engine, ledger_id: str, clock: SimulatedClock, size: str, seed: int = 2023) -> None:
        self.scale = SIZES[size]
        self.engine, self.ledger, self.clock = engine, ledger_id, clock
        self.random = random.Random(seed)  # noqa: S311 -- reproducible synthetic data, not secrets
        self.people = PeopleFactory(seed)
        self.register = RegisterService(engine, ledger_id, clock, new_id=ids("register"))
        self.legal = LegalService(engine, ledger_id, clock, new_id=ids("legal"))
        self.transfers = TransferService(engine, ledger_id, clock, new_id=ids("transfers"))
        # A bulk load: the safeguards run as the facility's sweep (monthly, after the flights and at the
        # end), each raising the alerts of every breach since the last, instead of inside each of the
        # load's thousands of commands.  Refusals (R2, R14, R15, R19, R26 at the gate) still refuse.
        for service in (self.register, self.legal, self.transfers):
            service.safeguards = None
        self.new_id = ids("scenario")
        self.held: dict[str, Held] = {}
        self.cells = _cell_plan(self.random)
        self.gang_of_cell = {c: GANGS[i % len(GANGS)] for i, c in enumerate(self.cells.pools["untried"])}
        self.sweeps: list[datetime] = []
        self.fates: list[tuple[datetime, str, str, bool]] = []  # (when, "death" or "release", person, reported)
        self.untried_seen = self.deaths_scheduled = self.releases_scheduled = 0

    # --- the story, step by step ---------------------------------------------------------------

    def steps(self) -> list[Step]:
        """The story in time order: each step after the deaths and releases that come before it."""
        s = self.scale
        timed: list[tuple[datetime, str, Callable[[], None]]] = [
            (FIRST_NIGHT, f"the first night: {s.first_night:,} people",
             lambda: self.intake_wave(FIRST_NIGHT, s.first_night, 0)),
        ]  # fmt: skip
        waves = _waves(s.domestic - s.first_night, s.convicted, s.months_between_waves)
        specials = self._special_waves(len(waves))
        for i, (when, count, convicted) in enumerate(waves):
            timed.append((when, f"intake {when:%Y-%m}: {count:,} people", self._wave(when, count, convicted,
                                                                                     specials.get(i, {}))))  # fmt: skip
        for check in _monthly(datetime(2023, 3, 1, 12, 0, tzinfo=UTC), END):  # the facility's monthly sweep
            timed.append((check, f"sweep {check:%Y-%m-%d}", self._sweep_at(check)))
        after = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)
        timed += [
            (AGREEMENT_AT, "the transfer agreement with the United States", self.agreement),
            (FLIGHT_DEPARTS, "flights of 15–16 March 2025 and the return order", self.march_flights),
            (after, "sweep after the flights", lambda: self.sweep(after)),
            (LATER_FLIGHT, "a later flight", self.later_flight),
            (HANDED_BACK, "the protected man handed back", self.hand_back),
            (RELEASE_ORDERED, "release orders nobody carries out", self.release_orders),
            (REPATRIATION, "the repatriation flight to Caracas", self.repatriation),
            (END, "the final sweep", lambda: self.sweep(END)),
        ]
        ordered = sorted(timed, key=lambda step: step[0])
        return [("the facility: 8 pavilions × 32 cells", self.facility)] + [
            (name, self._then(at, step)) for at, name, step in ordered
        ]

    def _wave(self, when: datetime, count: int, convicted: int, special: dict[str, int]) -> Callable[[], None]:
        return lambda: self.intake_wave(when, count, convicted, special)

    def _sweep_at(self, at: datetime) -> Callable[[], None]:
        return lambda: self.sweep(at)

    def _then(self, at: datetime, step: Callable[[], None]) -> Callable[[], None]:
        """A step at ``at``, after the deaths and releases that happen before it."""

        def run() -> None:
            self.due(at)
            step()

        return run

    # --- the facility --------------------------------------------------------------------------

    def facility(self) -> None:
        text = resources.files("habeas.policy").joinpath("layouts/cecot.yaml").read_text(encoding="utf-8")
        plan = parse_yaml_layout(text)
        at = self.clock.at(START)
        self.register.register_facility(DIRECTOR, plan.facility, plan.units, plan.cells, at)

    # --- domestic intake -----------------------------------------------------------------------

    def intake_wave(self, when: datetime, count: int, convicted: int, special: dict[str, int] | None = None) -> None:
        """A transfer of ``count`` people from other prisons: admitted, told their rights, examined, housed."""
        special = special or {}
        kinds = (
            ["convicted"] * convicted
            + ["administrative"] * special.get("administrative", 0)
            + ["before_judge"] * special.get("before_judge", 0)
            + ["ordinary"] * special.get("ordinary", 0)
            + ["expiring"] * special.get("expiring", 0)
        )
        kinds += ["untried"] * (count - len(kinds))
        requests, people = [], []
        for kind in kinds:
            person = self.people.salvadoran_man(when.date())
            people.append((kind, person))
            requests.append(self._admission(kind, person, when))
        self.clock.at(when)
        admitted = self.register.admit_many(INTAKE, requests, chunk=1000)
        batch: list[Held] = []
        for (kind, _), result in zip(people, admitted, strict=True):
            pool = "convicted" if kind == "convicted" else "untried"
            held = Held(result.person_id, self.cells.take(pool), when, kind)
            self.held[held.person_id] = held
            batch.append(held)
        ids_ = [h.person_id for h in batch]
        self.register.examine_many(
            MEDICAL, [(p, {"examiner": "Médico de turno (sintético)", "findings": "sin lesiones visibles"},
                       self.clock.at(when + H2)) for p in ids_],
        )  # fmt: skip
        self.register.place_many(HOUSING, [(h.person_id, h.cell) for h in batch], self.clock.at(when + H3),
                                 reason="ingreso: celda asignada por pabellón")  # fmt: skip
        # Told their rights on arrival, the family told the same day, except some whose family never is (R8);
        # recorded by the records office at the end of the shift.
        notices: list[tuple[str, law.NotificationKind, str, datetime]] = [
            (pid, "rights_informed", "la persona detenida", when + H1) for pid in ids_
        ]
        notices += [
            (pid, "family", f"{person.contact_name} ({person.contact_relationship})", when + H8)
            for pid, (_, person) in zip(ids_, people, strict=True)
            if self.random.random() >= self.scale.family_not_told
        ]
        self.clock.at(when + H8)
        self.legal.notify_many(RECORDS, notices)
        self._courts(batch, when)
        self._classify([h for h in batch if h.kind == "untried"], when + timedelta(days=2))
        self._schedule_fates(batch)

    def _admission(self, kind: str, person: SyntheticPerson, when: datetime) -> Admission:
        arrested = when - timedelta(days=self.random.randint(30, 300))
        basis: dict[str, Any] = {
            "instrument_id": str(self.new_id()),
            "kind": "provisional_detention_order",
            "reference": f"SYN-DP-{self.random.randint(1, 99999):05d}-{arrested.year}",
            "issued_by": JUDGE,
            "issued_at": arrested + timedelta(days=12),
            "article": "CPP 329; Decreto 333 (régimen de excepción)",
            "offence_class": "serious",
            "scope": "state_of_exception",  # Decree 803 and the 2025 reform extend these (slv.toml)
        }
        legal_status = "untried"
        if kind in ("administrative", "before_judge"):  # just arrested: a police record, no judge yet
            arrested = when - timedelta(days=2)
            basis.update(kind="arrest_record", reference=f"SYN-PNC-{self.random.randint(1, 99999):05d}",
                         issued_by=POLICE, issued_at=arrested, article="Decreto 333; Cn. 29",
                         offence_class=None, scope=None)  # fmt: skip
        elif kind == "ordinary":  # an ordinary procedure for a less serious offence: CPP 8's 12 months
            basis.update(offence_class="less_serious", scope=None, article="CPP 8; CPP 329")
        elif kind == "expiring":  # an order with a review date nobody acted on
            basis.update(expires_at=when + timedelta(days=180))
        elif kind == "convicted":
            legal_status = "convicted"
            basis.update(kind="sentence", reference=f"SYN-SENT-{self.random.randint(1, 99999):05d}",
                         issued_by=TRIAL_COURT, issued_at=when - timedelta(days=20), article="Código Penal 45, 345",
                         offence_class=None, scope=None)  # fmt: skip
            arrested = min(arrested, when - timedelta(days=400))
        identity = Identity(
            given_names=person.given_names, family_names=person.family_names, birth_date=person.birth_date,
            sex="M", nationalities=("SLV",),
            documents=({"kind": "national_id", "number": person.document_number, "issuer": "SLV"},),
        )  # fmt: skip
        return Admission.model_validate(
            {
                "facility_id": FACILITY, "identity": identity, "confirm_new_person": True,
                "legal_status": legal_status, "legal_basis": basis, "detaining_authority": POLICE,
                "ordering_authority": basis["issued_by"], "arrested_at": arrested,
                "arrest_place": self.random.choice(ARREST_PLACES), "admitted_at": when,
                "family_contacts": ({"name": person.contact_name, "relationship": person.contact_relationship},),
            }
        )  # fmt: skip

    def _classify(self, batch: list[Held], at: datetime) -> None:
        """Gang labels (MR 8): most with no document, recorded as unsubstantiated."""
        items = []
        for h in batch:
            if self.random.random() >= self.scale.labelled:
                continue
            details: dict[str, Any] = {"group_affiliation": self.gang_of_cell[h.cell], "risk_level": "high"}
            if self.random.random() < self.scale.labels_with_evidence:
                details["group_evidence"] = {"document_reference": f"SYN-INF-PNC-{self.random.randint(1, 9999):04d}",
                                             "description": "informe policial de inteligencia"}  # fmt: skip
            else:
                details["group_evidence"] = {"description": "tatuajes según el agente de ingreso; sin documento"}
            items.append((h.person_id, details, self.clock.at(at)))
        if items:
            self.register.classify_many(HOUSING, items)

    def _courts(self, batch: list[Held], when: datetime) -> None:
        convicted = [h for h in batch if h.kind == "convicted"]
        if convicted:  # arrived convicted: per-count sentences, announced totals of centuries
            case_id = f"SYN-CASO-{when:%Y%m}-S"
            case = law.CaseOpened(case_id=case_id, court=TRIAL_COURT, reference=f"SYN-{when:%Y%m}-345",
                                  charges=(law.Charge(charge_id="c1", offence="agrupaciones ilícitas",
                                                      article="Código Penal 345"),))  # fmt: skip
            counsel = {h.person_id: "Defensoría Pública (sintético)" for h in convicted}
            at = self.clock.at(when + H4)
            self.legal.open_case(RECORDS, case, [h.person_id for h in convicted], at, counsel)
            for h in convicted:
                self.legal.record_sentence(RECORDS, self._sentence(case_id, h.person_id, when), at)
        appeared = [h for h in batch if h.kind == "before_judge"]
        if appeared:  # placed at a judge's disposal; no decision follows (Cn. 13(3), R4)
            case_id = f"SYN-CASO-{when:%Y%m}-I"
            case = law.CaseOpened(case_id=case_id, court=JUDGE, reference=f"SYN-{when:%Y%m}-AI")
            self.legal.open_case(RECORDS, case, [h.person_id for h in appeared], self.clock.at(when + H8))
            for h in appeared:
                hearing = law.HearingRecorded(case_id=case_id, hearing_id=str(self.new_id()), person_id=h.person_id,
                                              kind="initial_appearance", counsel="Defensoría Pública (sintético)",
                                              outcome="audiencia inicial celebrada; resolución pendiente")  # fmt: skip
                self.legal.record_hearing(RECORDS, hearing, self.clock.at(when + timedelta(days=1)))

    def _sentence(self, case_id: str, person_id: str, when: datetime) -> law.SentenceRecorded:
        counts = [law.CountPayload(count_id="1", offence="agrupaciones ilícitas", article="Código Penal 345",
                                   term=law.TermPayload(years=self.random.choice((40, 45))))]  # fmt: skip
        for n in range(self.random.randint(3, 14)):
            years = self.random.choice((30, 35, 50, 60))
            counts.append(law.CountPayload(count_id=str(n + 2), offence="homicidio agravado",
                                           article="Código Penal 129", term=law.TermPayload(years=years)))  # fmt: skip
        total = sum(c.term.years for c in counts)
        return law.SentenceRecorded(
            sentence_id=str(self.new_id()), case_id=case_id, person_id=person_id, court=TRIAL_COURT,
            sentenced_on=(when - timedelta(days=20)).date(), counts=tuple(counts),
            announced_aggregate=law.TermPayload(years=total),
        )  # fmt: skip

    def _special_waves(self, waves: int) -> dict[int, dict[str, int]]:
        """Which waves carry the people whose detention breaks a limit (spread over the years)."""
        s = self.scale
        out: dict[int, dict[str, int]] = {}
        for kind, count, first, last in (
            ("ordinary", s.ordinary_procedure, 0, waves // 2),  # admitted by 2024: 12 months long past
            ("expiring", s.expiring_basis, 0, waves * 3 // 4),
            ("administrative", s.administrative_only, waves // 3, waves - 1),
            ("before_judge", s.before_judge, waves // 2, waves - 1),
        ):
            for n in range(count):
                wave = first + n % (last - first + 1)
                out.setdefault(wave, {}).setdefault(kind, 0)
                out[wave][kind] += 1
        return out

    # --- deaths and releases -------------------------------------------------------------------

    def _schedule_fates(self, batch: list[Held]) -> None:
        """Deaths in custody and acquittals, decided at admission for every n-th untried person.

        Carried out in time order as the story reaches them (``due``), so each is recorded just after
        it happens.  The first deaths lack the independent report, cause and notices (R12); about
        8,000 of the 90,000 arrested were released as not guilty.
        """
        s = self.scale
        untried_total = s.domestic - s.convicted
        # Every n-th, with n for twice the count: only people admitted early enough qualify.
        every_death = max(1, untried_total // max(1, 2 * s.deaths))
        every_release = max(1, untried_total // max(1, 2 * s.acquitted))
        for h in batch:
            if h.kind != "untried" or h.cell in self.cells.pools["protected"]:
                continue
            self.untried_seen += 1
            n = self.untried_seen
            if (n % every_death == every_death // 2 and self.deaths_scheduled < s.deaths
                    and h.admitted_at < LAST_DEATH - timedelta(days=1)):  # fmt: skip
                died = h.admitted_at + timedelta(days=self.random.randint(20, 400), hours=self.random.randint(0, 23))
                reported = self.deaths_scheduled >= s.deaths_unreported
                self.deaths_scheduled += 1
                self.fates.append((min(died, LAST_DEATH), "death", h.person_id, reported))
            elif (n % every_release == every_release // 3 and self.releases_scheduled < s.acquitted
                    and h.admitted_at < LAST_RELEASE - timedelta(days=1)):  # fmt: skip
                at = h.admitted_at + timedelta(days=self.random.randint(200, 600))
                self.releases_scheduled += 1
                self.fates.append((min(at, LAST_RELEASE), "release", h.person_id, True))

    def due(self, until: datetime) -> None:
        """Carry out, in time order, every death and release that happens before ``until``."""
        now = sorted(f for f in self.fates if f[0] < until)
        self.fates = [f for f in self.fates if f[0] >= until]
        for at, fate, person_id, reported in now:
            h = self.held[person_id]
            if fate == "death":
                self._death(h, at, reported)
            else:
                self._release(h, at)

    def _death(self, h: Held, died: datetime, reported: bool) -> None:
        details: dict[str, Any] = {"place": f"celda {h.cell}",
                                   "circumstances": "encontrado sin signos vitales en la celda"}  # fmt: skip
        if reported:
            details.update(cause="insuficiencia respiratoria aguda (informe de autopsia)",
                           next_of_kin_notified_at=died + timedelta(hours=6),
                           independent_authority="Procuraduría para la Defensa de los Derechos Humanos (sintético)",
                           independent_authority_notified_at=died + timedelta(hours=8),
                           remains_destination="entregado a la familia")  # fmt: skip
        self.register.record_death(DIRECTOR, h.person_id, self.clock.at(died, timedelta(hours=10)), **details)
        self._gone(h)

    def _release(self, h: Held, at: datetime) -> None:
        self.register.release(
            RECORDS, h.person_id, self.clock.at(at), authority=JUDGE,
            order_reference=f"SYN-SOB-{self.random.randint(1, 99999):05d}: sobreseimiento definitivo",
            verified_by="Jefe de registro (sintético)", handed_over_to="la persona liberada, en la puerta principal",
            health_check="examen médico de egreso: sin hallazgos",
        )  # fmt: skip
        self._gone(h)

    def release_orders(self) -> None:
        """A judge orders some people released within three days; the facility keeps them (R26)."""
        fated = {person for _, _, person, _ in self.fates}
        held = sorted(h.person_id for h in self.held.values()
                      if h.kind == "untried" and h.person_id not in fated)  # fmt: skip
        chosen = self.random.sample(held, min(self.scale.ignored_release_orders, len(held)))
        orders = [
            law.OrderIssued(
                order_id=f"SYN-LIB-{n:04d}", person_id=pid, kind="release", court=JUDGE, court_state="SLV",
                reference=f"SYN-LIB-2025-{n:04d}", issued_at=RELEASE_ORDERED,
                deadline=RELEASE_ORDERED + timedelta(days=3),
            )
            for n, pid in enumerate(sorted(chosen), start=1)
        ]  # fmt: skip
        self.legal.issue_orders(RECORDS, orders, self.clock.at(RELEASE_ORDERED + H2))

    def _gone(self, h: Held) -> None:
        self.cells.leave(h.cell)
        del self.held[h.person_id]

    # --- the transfer arrangement (standards.md §5) --------------------------------------------

    def agreement(self) -> None:
        at = self.clock.at(AGREEMENT_AT)
        executive = t.Instrument(
            reference="SYN-PROC-2025-01", title="Proclamación de remoción (sintético)",
            issued_by="Poder Ejecutivo de los Estados Unidos (sintético)", issued_at=at,
        )  # fmt: skip
        ministry = t.Instrument(reference="SYN-MEMO-2025-03", title="Memorando de custodia (sintético)",
                                issued_by="Ministerio de Justicia y Seguridad Pública (sintético)", issued_at=at,
                                article="Cn. 168")  # fmt: skip
        terms = t.AgreementConcluded(
            agreement_id=AGREEMENT, name="Custodia de personas removidas por los Estados Unidos (sintético)",
            sending_state="USA", receiving_state="SLV", sending_instrument=executive, receiving_instrument=ministry,
            effective_from=at, effective_to=at + timedelta(days=365), facility_id=FACILITY,
            custodian_of_record=AUTHORITY, custodian_state="SLV",
            eligibility=t.Eligibility(max_held=300),
            fee=t.FeeTerms(kind="lump_sum", currency="USD", amount=Decimal("6000000"),
                           period_start=at.date(), period_end=(at + timedelta(days=364)).date()),
        )  # fmt: skip
        self.transfers.conclude(DIRECTOR, terms, at)
        # A man protected since 2019 from removal to El Salvador; the sending state shares its standing orders.
        self.protected = self.people.salvadoran_man(date(2025, 3, 14))
        order = t.ForeignOrderRecorded(
            order_id="SYN-NR-2019-1", kind="no_removal", court=US_IMMIGRATION_COURT, court_state="USA",
            reference="SYN-IJ-2019-0417", issued_at=datetime(2019, 10, 10, 15, 0, tzinfo=UTC),
            documents=(t.DocumentRef(kind="foreign_registration", number=f"SYN-A{self.protected.document_number}",
                                     issuer="USA"),),
            country="SLV",
        )  # fmt: skip
        self.transfers.record_order(RECORDS, order, self.clock.at(AGREEMENT_AT + timedelta(hours=2)))

    def march_flights(self) -> None:
        """238 and 23, 15–16 March 2025; the return order issued while the first plane was in the air.

        The order names people the register has not admitted yet, so it reaches the records office
        with the plane (recorded on landing, against each person it covers) and nobody carries it out:
        the sweep finds it past its deadline (R26).
        """
        s = self.scale
        self.clock.at(FLIGHT_DEPARTS)
        venezuelans = [(self.people.venezuelan_man(date(2025, 3, 15)), "VEN") for _ in range(s.flight_venezuelans)]
        bases = ["SYN-Ley de Enemigos Extranjeros (1798)" if i < s.return_order_people else "SYN-INA 241"
                 for i in range(len(venezuelans))]  # fmt: skip
        first = self._flight("SYN-FLT-0315A", venezuelans, bases, FLIGHT_LANDS)
        salvadorans = [(self.people.salvadoran_man(date(2025, 3, 15)), "SLV") for _ in range(s.flight_salvadorans - 1)]
        salvadorans.insert(s.flight_salvadorans // 2, (self.protected, "SLV"))
        self._flight("SYN-FLT-0315B", salvadorans, ["SYN-INA 241"] * len(salvadorans), FLIGHT_LANDS + H1 / 2)
        orders = [
            law.OrderIssued(
                order_id=f"SYN-TRO-{pid[:8]}", person_id=pid, kind="return", court=US_COURT, court_state="USA",
                reference="SYN-TRO-2025-0315", issued_at=RETURN_ORDER_ISSUED,
                deadline=FLIGHT_LANDS + timedelta(hours=20), place="Estados Unidos (el avión debe regresar)",
            )
            for pid in first[: s.return_order_people]
        ]  # fmt: skip
        self.legal.issue_orders(RECORDS, orders, self.clock.at(FLIGHT_LANDS + H2))

    def later_flight(self) -> None:
        s = self.scale
        people = [(self.people.venezuelan_man(LATER_FLIGHT.date()), "VEN") for _ in range(s.later_venezuelans)]
        people += [(self.people.salvadoran_man(LATER_FLIGHT.date()), "SLV") for _ in range(s.later_salvadorans)]
        self._flight("SYN-FLT-0412", people, ["SYN-INA 241"] * len(people), LATER_FLIGHT)

    def _flight(
        self, flight: str, people: list[tuple[SyntheticPerson, str]], bases: list[str], landed: datetime
    ) -> list[str]:
        """A flight taken in through the transfer service: admitted, examined, told rights, housed.

        Families are never told (they learned from videos: R8); no consulate is told (R9).
        """
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(FLIGHT_COLUMNS)
        for (p, nationality), basis in zip(people, bases, strict=True):
            writer.writerow([
                p.given_names, p.family_names, p.birth_date.isoformat(), "M", nationality,
                f"SYN-A{p.document_number}", basis, "Servicio de Inmigración de los Estados Unidos (sintético)",
                format_instant(landed - timedelta(days=30)), "centro de detención migratoria (sintético)",
                format_instant(landed), "familia no identificada por el estado remitente",
            ])  # fmt: skip
        self.clock.at(landed)
        result = self.transfers.import_flight(INTAKE, AGREEMENT, flight, out.getvalue(), accept_valid=True)
        if not result.committed or result.errors:
            raise RuntimeError(f"flight {flight} was not taken in: {result.errors[:3]}")
        ids_ = [a.person_id for a in result.admitted]
        self.legal.notify_many(RECORDS, [(p, "rights_informed", "la persona detenida", self.clock.at(landed + H1))
                                         for p in ids_])  # fmt: skip
        self.register.examine_many(MEDICAL, [(p, {"examiner": "Médico de turno (sintético)",
                                                  "findings": "sin lesiones visibles"}, self.clock.at(landed + H2))
                                             for p in ids_])  # fmt: skip
        refused = {r.line for r in result.refused}  # the header is line 1
        taken = [n for i, (_, n) in enumerate(people) if i + 2 not in refused]
        batch = [Held(p, self.cells.take("immigration"), landed, "transferee", n)
                 for p, n in zip(ids_, taken, strict=True)]  # fmt: skip
        self.held.update((h.person_id, h) for h in batch)
        self.register.place_many(HOUSING, [(h.person_id, h.cell) for h in batch], self.clock.at(landed + H3),
                                 reason="ingreso: módulo de personas trasladadas")  # fmt: skip
        return ids_

    def hand_back(self) -> None:
        """The protected man, refused at the gate in March, is handed back to the sending state in June."""
        with self.engine.connect() as conn:
            refusal = conn.execute(
                select(refusals.c.refusal_id).where(refusals.c.ledger_id == self.ledger, refusals.c.rule == "R26")
            ).scalar()
        if refusal is not None:
            self.transfers.hand_back(RECORDS, refusal, "Servicio de Inmigración de los Estados Unidos (sintético)",
                                     "orden de retorno SYN-SC-2025-0410", self.clock.at(HANDED_BACK))  # fmt: skip

    def repatriation(self) -> None:
        """18 July 2025: every Venezuelan transferee still held is flown to Caracas (one flight, one command)."""
        at = self.clock.at(REPATRIATION)
        leaving = sorted((h for h in self.held.values() if h.kind == "transferee" and h.nationality == "VEN"),
                         key=lambda h: h.person_id)  # fmt: skip
        self.transfers.leave_many(
            RECORDS, [h.person_id for h in leaving], "repatriation", at, destination_state="VEN",
            authority="Ministerio de Justicia y Seguridad Pública (sintético)",
            order_reference="SYN-REP-2025-0718", handed_over_to="Autoridades venezolanas (sintético)",
            escort="Custodia penitenciaria (sintético)",
        )  # fmt: skip
        for h in leaving:
            self._gone(h)

    # --- the sweep -----------------------------------------------------------------------------

    def sweep(self, at: datetime) -> None:
        """The safeguard sweep (``habeas safeguards check``), as the facility would run it then."""
        self.clock.at(at, timedelta(minutes=5))
        sweep(self.engine, self.ledger, at, self.clock())
        self.sweeps.append(at)


H1, H2, H3, H4, H8 = (timedelta(hours=h) for h in (1, 2, 3, 4, 8))
LAST_DEATH = datetime(2025, 2, 28, 12, 0, tzinfo=UTC)
RELEASE_ORDERED = datetime(2025, 6, 2, 16, 0, tzinfo=UTC)
LAST_RELEASE = datetime(2025, 10, 31, 16, 0, tzinfo=UTC)
FLIGHT_COLUMNS = (
    "given_names", "family_names", "birth_date", "sex", "nationalities", "sending_state_id", "sending_basis",
    "detaining_authority", "arrested_at", "arrest_place", "admitted_at", "no_contact_reason",
)  # fmt: skip
ARREST_PLACES = (
    "San Salvador", "Soyapango", "Apopa", "Ilopango", "Mejicanos", "Santa Ana", "San Miguel", "Usulután",
    "Sonsonate", "La Libertad", "Zacatecoluca", "Chalatenango",
)  # fmt: skip


def _monthly(first: datetime, last: datetime) -> Iterator[datetime]:
    at = first
    while at < last:
        yield at
        at = at.replace(year=at.year + (at.month == 12), month=at.month % 12 + 1)


def _waves(count: int, convicted: int, step: int) -> list[tuple[datetime, int, int]]:
    """Transfers every ``step`` months after the first night, ``count`` spread evenly (06:00 UTC each)."""
    months = []
    d = WAVES_FROM
    while d <= WAVES_TO:
        months.append(datetime(d.year, d.month, d.day, 6, 0, tzinfo=UTC))
        month = d.month - 1 + step
        d = date(d.year + month // 12, month % 12 + 1, d.day)
    per, extra = divmod(count, len(months))
    convicted_waves = months[: max(1, len(months) // 2)]
    c_per, c_extra = divmod(convicted, len(convicted_waves))
    out = []
    for i, when in enumerate(months):
        n = per + (1 if i < extra else 0)
        c = (c_per + (1 if i < c_extra else 0)) if when in convicted_waves else 0
        out.append((when, n, min(c, n)))
    return out


def _cell_plan(rng: random.Random) -> Cells:
    """Cells by use: the untried in pavilions 1–7 (60–75 each, as observed), one cell kept at 32
    people (3.1 m² each: below the ICRC's 3.4 but above 3), the convicted and the transferees in
    pavilion 8."""
    untried = [f"P{p}-C{c:02d}" for p in range(1, 8) for c in range(1, 33)]
    convicted = [f"P8-C{c:02d}" for c in range(1, 9)]
    immigration = [f"P8-C{c:02d}" for c in range(17, 33)]
    targets = {cell: rng.randint(60, 75) for cell in untried}
    targets.update({cell: 30 for cell in convicted})
    targets.update({cell: 65 for cell in immigration})
    targets[untried[0]] = 32
    return Cells(targets, {"untried": untried, "convicted": convicted, "immigration": immigration,
                           "protected": [untried[0]]})  # fmt: skip
