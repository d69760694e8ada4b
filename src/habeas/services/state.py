"""Reading the current state a command needs, inside its transaction."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, and_, func, select

from habeas.domain.custody import HELD, Episode, Status
from habeas.domain.housing import Cell, Occupant
from habeas.domain.identity import IdentityDocument, KnownPerson
from habeas.errors import Conflict, NotFound
from habeas.projections.register import DOCUMENT_KEY_PREFIX
from habeas.store.bulk import among
from habeas.store.register_tables import cells, episodes, facilities, people, person_documents, person_keys, units


def facility(conn: Connection, ledger: str, facility_id: str) -> dict[str, object]:
    row = conn.execute(
        select(facilities).where(facilities.c.ledger_id == ledger, facilities.c.facility_id == facility_id)
    ).first()
    if row is None:
        raise NotFound("facility", facility_id)
    return dict(row._mapping)


# What an Episode holds: the other columns (legal basis text, five instants to parse) are
# not read on a command's path.
EPISODE_COLUMNS = (
    episodes.c.episode_id,
    episodes.c.person_id,
    episodes.c.facility_id,
    episodes.c.booking_number,
    episodes.c.status,
    episodes.c.legal_status,
    episodes.c.cell_id,
    episodes.c.unit_id,
    episodes.c.since,
    episodes.c.last_event_at,
)


def open_episode(conn: Connection, ledger: str, person_id: str) -> Episode | None:
    row = conn.execute(
        select(*EPISODE_COLUMNS).where(
            episodes.c.ledger_id == ledger,
            episodes.c.person_id == person_id,
            episodes.c.status.in_([s.value for s in HELD]),
        )
    ).first()
    return _episode(row) if row is not None else None


def open_episodes(conn: Connection, ledger: str, person_ids: Iterable[str]) -> dict[str, Episode]:
    ids = list(set(person_ids))
    found: dict[str, Episode] = {}
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            select(*EPISODE_COLUMNS).where(
                episodes.c.ledger_id == ledger,
                among(conn, episodes.c.person_id, ids[start : start + 500]),
                episodes.c.status.in_([s.value for s in HELD]),
            )
        )
        found.update((row.person_id, _episode(row)) for row in rows)
    return found


def require_open_episode(conn: Connection, ledger: str, person_id: str) -> Episode:
    episode = open_episode(conn, ledger, person_id)
    if episode is None:
        if (
            conn.execute(
                select(people.c.person_id).where(people.c.ledger_id == ledger, people.c.person_id == person_id)
            ).first()
            is None
        ):
            raise NotFound("person", person_id)
        last = conn.execute(
            select(episodes.c.status)
            .where(episodes.c.ledger_id == ledger, episodes.c.person_id == person_id)
            .order_by(episodes.c.admitted_seq.desc())
            .limit(1)
        ).scalar()
        raise Conflict("person_id", f"{person_id} is not held here (last status: {last or 'never admitted'})")
    return episode


def _episode(row: Any) -> Episode:
    episode_id, person_id, facility_id, booking, status, legal_status, cell_id, unit_id, since, last = row
    return Episode(
        episode_id, person_id, facility_id, booking, Status(status), legal_status, cell_id, unit_id, since, last
    )


def cell_rows(
    conn: Connection, ledger: str, facility_id: str | None = None, cell_ids: Iterable[str] | None = None
) -> list[dict[str, object]]:
    query = select(cells).where(cells.c.ledger_id == ledger)
    if facility_id is not None:
        query = query.where(cells.c.facility_id == facility_id)
    if cell_ids is not None:
        query = query.where(among(conn, cells.c.cell_id, cell_ids))
    return [dict(r._mapping) for r in conn.execute(query.order_by(cells.c.cell_id))]


def is_minor(birth: date | None, today: date) -> bool:
    """MR 11(d): under 18 on ``today`` (unknown birth dates are treated as adults, and flagged elsewhere)."""
    if birth is None:
        return False
    return (today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))) < 18


def housing_cells(
    conn: Connection,
    ledger: str,
    facility_id: str | None = None,
    cell_ids: Iterable[str] | None = None,
    *,
    today: date,
) -> dict[str, Cell]:
    """Cells with the separation profile of everyone in them on ``today``, as the assigner needs them."""
    return housing(conn, ledger, facility_id, cell_ids, today=today)[0]


def housing(
    conn: Connection,
    ledger: str,
    facility_id: str | None = None,
    cell_ids: Iterable[str] | None = None,
    *,
    today: date,
) -> tuple[dict[str, Cell], dict[str, str]]:
    """:func:`housing_cells`, and the facility of each cell (from the same read)."""
    rows = conn.execute(
        select(
            cells.c.cell_id,
            cells.c.facility_id,
            cells.c.unit_id,
            cells.c.beds,
            cells.c.floor_area_m2,
            cells.c.single,
            cells.c.in_service,
        )
        .where(cells.c.ledger_id == ledger)
        .where(*([cells.c.facility_id == facility_id] if facility_id is not None else []))
        .where(*([among(conn, cells.c.cell_id, cell_ids)] if cell_ids is not None else []))
        .order_by(cells.c.cell_id)
    ).all()
    occupants: dict[str, list[Occupant]] = {r.cell_id: [] for r in rows}
    query = (
        select(
            episodes.c.cell_id,
            episodes.c.person_id,
            people.c.sex,
            episodes.c.legal_status,
            people.c.birth_date,
            people.c.group_affiliation,
        )
        .join(people, (people.c.ledger_id == episodes.c.ledger_id) & (people.c.person_id == episodes.c.person_id))
        .where(episodes.c.ledger_id == ledger, episodes.c.status == Status.IN_CELL.value)
    )
    if facility_id is not None:
        query = query.where(episodes.c.facility_id == facility_id)
    if cell_ids is not None:
        query = query.where(among(conn, episodes.c.cell_id, list(occupants)))
    # A facility's whole population is read for every proposal: the profiles are made once per
    # person and reused (an Occupant is immutable), not validated again on every read.
    profile = _occupant
    for cell_id, person_id, sex, legal_status, birth, group in conn.execute(query):
        held = occupants.get(cell_id)
        if held is not None:
            held.append(profile(person_id, sex, legal_status, is_minor(birth, today), group))
    cell_map = {
        r.cell_id: Cell(
            r.cell_id,
            r.unit_id,
            int(r.beds),
            Decimal(str(r.floor_area_m2)),
            bool(r.single),
            bool(r.in_service),
            tuple(occupants[r.cell_id]),
        )
        for r in rows
    }
    return cell_map, {r.cell_id: r.facility_id for r in rows}


@lru_cache(maxsize=1 << 16)  # a CECOT's population and more
def _occupant(person_id: str, sex: Any, legal_status: Any, minor: bool, group: str | None) -> Occupant:
    return Occupant(person_id, sex, legal_status, minor, group)


def people_by_document(conn: Connection, ledger: str, keys: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    found: dict[str, str] = {}
    for start in range(0, len(wanted), SLICE):
        rows = conn.execute(
            select(person_documents.c.doc_key, person_documents.c.person_id).where(
                person_documents.c.ledger_id == ledger,
                among(conn, person_documents.c.doc_key, wanted[start : start + SLICE]),
            )
        )
        found.update((r.doc_key, r.person_id) for r in rows)
    return found


def known_people(conn: Connection, ledger: str, probe: Iterable[str]) -> list[KnownPerson]:
    """People sharing a blocking key with the probe, with what the matcher compares."""
    return known_people_many(conn, ledger, {0: probe})[0]


K = TypeVar("K", bound=Hashable)
SLICE = 2000  # bound parameters per IN list (SQLite allows 32,766 in one statement)


def known_people_many(conn: Connection, ledger: str, probes: Mapping[K, Iterable[str]]) -> dict[K, list[KnownPerson]]:
    """For each probe, the people sharing a blocking key with it: one probe for a whole chunk.

    The keys are looked up first and the people by id after, each an indexed IN query:
    a join (or ``IN (subquery)``) gets a nested loop over every person of the ledger from
    PostgreSQL's planner when the statistics predate a mass intake.
    """
    keyed = {k: frozenset(keys) for k, keys in probes.items()}
    wanted = sorted(set().union(*keyed.values())) if keyed else []
    owners: dict[str, list[str]] = {}
    # Document keys are answered by person_documents (the projection keeps no copy of them in
    # person_keys); every other blocking key by person_keys.
    documents = [k for k in wanted if k.startswith(DOCUMENT_KEY_PREFIX)]
    for key, person in people_by_document(conn, ledger, (k[len(DOCUMENT_KEY_PREFIX) :] for k in documents)).items():
        owners.setdefault(DOCUMENT_KEY_PREFIX + key, []).append(person)
    wanted = [k for k in wanted if not k.startswith(DOCUMENT_KEY_PREFIX)]
    for start in range(0, len(wanted), SLICE):
        rows = conn.execute(
            select(person_keys.c.key, person_keys.c.person_id).where(
                person_keys.c.ledger_id == ledger, among(conn, person_keys.c.key, wanted[start : start + SLICE])
            )
        )
        for r in rows:
            owners.setdefault(r.key, []).append(r.person_id)
    ids = sorted({p for found in owners.values() for p in found})
    docs: dict[str, list[IdentityDocument]] = {}
    known: dict[str, KnownPerson] = {}
    for start in range(0, len(ids), SLICE):
        part = ids[start : start + SLICE]
        for r in conn.execute(
            select(person_documents.c.doc_key, person_documents.c.person_id).where(
                person_documents.c.ledger_id == ledger, among(conn, person_documents.c.person_id, part)
            )
        ):
            kind, issuer, number = r.doc_key.split(":", 2)
            docs.setdefault(r.person_id, []).append(IdentityDocument(kind.lower(), number, issuer))
        for p in conn.execute(
            select(
                people.c.person_id, people.c.given_names, people.c.family_names, people.c.aliases, people.c.birth_date
            ).where(people.c.ledger_id == ledger, among(conn, people.c.person_id, part))
        ):
            known[p.person_id] = KnownPerson(
                p.person_id,
                p.given_names,
                p.family_names,
                tuple(orjson.loads(p.aliases)),
                p.birth_date,
                tuple(docs.get(p.person_id, ())),
            )
    out: dict[K, list[KnownPerson]] = {}
    for k, keys in keyed.items():
        ids_here = {p for key in keys for p in owners.get(key, ())}
        out[k] = [known[p] for p in sorted(ids_here) if p in known]
    return out


def people_exist(conn: Connection, ledger: str, person_ids: Iterable[str]) -> set[str]:
    """Which of ``person_ids`` the register knows."""
    ids = sorted(set(person_ids))
    found: set[str] = set()
    for start in range(0, len(ids), SLICE):
        found.update(
            conn.execute(
                select(people.c.person_id).where(
                    people.c.ledger_id == ledger, among(conn, people.c.person_id, ids[start : start + SLICE])
                )
            ).scalars()
        )
    return found


def bookings_this_year(conn: Connection, ledger: str, facility_id: str, prefix: str) -> int:
    # Every booking ever issued with this prefix, wherever that person is now (a transit moves
    # the episode to another facility but its booking number stays taken).
    if conn.dialect.name == "sqlite":
        # A range on the booking index (SQLite compares text bytewise): SQLite's LIKE is
        # case-insensitive, so it cannot use the index and would scan the ledger's episodes.
        matches = and_(
            episodes.c.booking_number >= prefix, episodes.c.booking_number < prefix[:-1] + chr(ord(prefix[-1]) + 1)
        )
    else:
        matches = episodes.c.booking_number.like(f"{prefix}%")
    return int(conn.execute(select(func.count()).where(episodes.c.ledger_id == ledger, matches)).scalar_one())


def person_sex_and_birth(conn: Connection, ledger: str, person_id: str) -> tuple[str, date | None, str | None]:
    row = conn.execute(
        select(people.c.sex, people.c.birth_date, people.c.group_affiliation).where(
            people.c.ledger_id == ledger, people.c.person_id == person_id
        )
    ).first()
    if row is None:
        raise NotFound("person", person_id)
    return row.sex, row.birth_date, row.group_affiliation


def unit_ids(conn: Connection, ledger: str) -> dict[str, str]:
    """Every unit id with its facility."""
    rows = conn.execute(select(units.c.unit_id, units.c.facility_id).where(units.c.ledger_id == ledger))
    return {r.unit_id: r.facility_id for r in rows}
