"""A person's record in one statement: the API's hot path (``GET /people/{id}``).

The same record as ``services.queries.person_record`` (a test holds the two equal on
both backends), read in one round trip instead of three: the person, their documents
as a JSON array in a scalar subquery (``json_agg`` on PostgreSQL, ``json_group_array``
on SQLite), and their episodes joined in, one row per episode.

The statement is built once per dialect with bound parameters: building a select this
wide and computing its cache key cost several times more CPU than running it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import orjson
from sqlalchemy import Connection, Select, and_, bindparam, func, select
from sqlalchemy.sql.functions import Function

from habeas.errors import NotFound
from habeas.store.register_tables import episodes, people, person_documents

EPISODE = "episode__"  # label prefix of the joined episode columns (people has person_id and ledger_id too)


def _json_list(dialect: str, column: Any) -> Function[Any]:
    return func.json_group_array(column) if dialect == "sqlite" else func.json_agg(column)


@cache
def person_view_query(dialect: str) -> Select[Any]:
    """The statement for ``dialect``, with bound parameters ``ledger`` and ``person_id``."""
    documents = (
        select(_json_list(dialect, person_documents.c.doc_key))
        .where(person_documents.c.ledger_id == people.c.ledger_id, person_documents.c.person_id == people.c.person_id)
        .scalar_subquery()
    )
    joined = people.outerjoin(
        episodes, and_(episodes.c.ledger_id == people.c.ledger_id, episodes.c.person_id == people.c.person_id)
    )
    return (
        select(people, documents.label("documents"), *(c.label(EPISODE + c.name) for c in episodes.c))
        .select_from(joined)
        .where(people.c.ledger_id == bindparam("ledger"), people.c.person_id == bindparam("person_id"))
        .order_by(episodes.c.admitted_seq)
    )


def person_view(conn: Connection, ledger: str, person_id: str) -> dict[str, Any]:
    """The person, their document keys and their episodes (oldest first); NotFound if unknown."""
    query = person_view_query(conn.dialect.name)
    rows = conn.execute(query, {"ledger": ledger, "person_id": person_id}).mappings().all()
    if not rows:
        raise NotFound("person", person_id)
    first = rows[0]
    record = {c.name: first[c.name] for c in people.c}
    record["aliases"] = orjson.loads(record["aliases"])
    record["nationalities"] = orjson.loads(record["nationalities"])
    documents = first["documents"]  # psycopg decodes json; sqlite3 gives the text
    documents = orjson.loads(documents) if isinstance(documents, str | bytes) else documents
    record["documents"] = sorted(d for d in documents or () if d is not None)
    record["episodes"] = [
        {**episode, "legal_basis": orjson.loads(episode["legal_basis"])}
        for episode in ({c.name: row[EPISODE + c.name] for c in episodes.c} for row in rows)
        if episode["episode_id"] is not None
    ]
    return record
