"""The family locator: where someone is held, from an exact identifier or full name and birth date.

ICPPED 18(1): relatives are entitled to know the authority that ordered the
detention, where the person is and was transferred to, and the date of release or
death; BoP 16: families are told of every transfer.  The public answer is the
facility and the status only: never the cell, medical or legal detail (architecture:
the public "may not see cells, medical or legal detail").  Matching is exact, so the
locator cannot be used to browse the register.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, and_, select

from habeas.domain.identity import IdentityDocument, document_key, normalize_name
from habeas.store.register_tables import episodes, facilities, people, person_documents

# What a family is told for each status: plain words, no detail beyond the facility.
PUBLIC_STATUS = {
    "admitted": "held",
    "in_cell": "held",
    "out": "held, temporarily outside the facility (court or hospital)",
    "in_transit": "being transferred",
    "released": "released",
    "transferred": "transferred to another authority",
    "deceased": "died in custody",
}


@dataclass(frozen=True)
class Located:
    status: str
    facility: str
    facility_place: str
    responsible_authority: str
    since: date
    transferred_to: str | None  # ICPPED 18(1)(d): whereabouts after a transfer


def by_document(conn: Connection, ledger: str, kind: str, issuer: str, number: str) -> list[Located]:
    key = document_key(IdentityDocument(kind, number, issuer))
    ids = select(person_documents.c.person_id).where(
        person_documents.c.ledger_id == ledger, person_documents.c.doc_key == key
    )
    return _latest(conn, ledger, list(conn.execute(ids).scalars()))


def by_name(conn: Connection, ledger: str, full_name: str, birth_date: date) -> list[Located]:
    """Exact on the accent-free full name (given + family names) and the birth date."""
    wanted = normalize_name(full_name)
    rows = conn.execute(
        select(people.c.person_id).where(
            people.c.ledger_id == ledger, people.c.name_key == wanted, people.c.birth_date == birth_date
        )
    )
    return _latest(conn, ledger, list(rows.scalars()))


def _latest(conn: Connection, ledger: str, person_ids: list[str]) -> list[Located]:
    found = []
    for person_id in sorted(set(person_ids)):
        row = conn.execute(
            select(
                episodes.c.status, episodes.c.since, episodes.c.place, facilities.c.name,
                facilities.c.place.label("fp"), facilities.c.responsible_authority,
            )
            .join(facilities, and_(facilities.c.ledger_id == episodes.c.ledger_id,
                                   facilities.c.facility_id == episodes.c.facility_id))
            .where(episodes.c.ledger_id == ledger, episodes.c.person_id == person_id)
            .order_by(episodes.c.admitted_seq.desc())
            .limit(1)
        ).first()  # fmt: skip
        if row is not None:
            found.append(
                Located(
                    PUBLIC_STATUS.get(row.status, row.status), row.name, row.fp, row.responsible_authority,
                    _day(row.since), row.place if row.status == "transferred" else None,
                )
            )  # fmt: skip
    return found


def _day(value: datetime) -> date:
    return value.date()
