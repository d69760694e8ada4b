"""Finding people the register already knows, so that intake never splits a person in two.

A family or a court searches the register by name.  If the same person is
admitted twice under two records, each record holds half of their custody
history and a search may find the half that says "released".  So every intake
(one admission, a flight manifest, a night of thousands) asks
:func:`find_duplicates` first and a person reviews what it returns.  This module
only *proposes* candidates with a score and human-readable reasons; merging is a
decision recorded elsewhere.

Pure domain code: no I/O, no clock.

Matching rules
--------------

1. **Documents.**  Two records carrying the same document (same
   :func:`document_key`: kind, issuer and number, ignoring case, spaces, dashes
   and dots in the number) are a candidate with score 100, whatever the names or
   birth dates say.  The reasons still report name similarity and any birth-date
   disagreement so the reviewer sees the conflict.  Conversely, a name match
   whose records hold documents of the same kind and issuer with different
   numbers keeps its score (numbers get mistyped, passports renewed) but gains
   a reason saying so.

2. **Names, gated by birth date.**  Without a shared document, a name match
   counts only if the birth dates are compatible:

   * equal: the name score must reach ``threshold`` (default 85);
   * day and month swapped (1990-03-05 vs 1990-05-03, same year; a common
     transcription error between d/m/y and m/d/y forms): the name score minus
     :data:`DATE_SWAP_PENALTY` must reach ``threshold``;
   * unknown on either side: the name score must reach ``threshold +``
     :data:`UNKNOWN_DATE_MARGIN` (95 by default, capped at 100);
   * different: never a candidate.  Common names are common: two José Luis
     Hernández born on different days are two people.

3. **Name score** (0-100), the best over the known person's full name and each
   alias, of two comparisons made with rapidfuzz scorers (no hand-written edit
   distance):

   * ``fuzz.token_sort_ratio`` over the full names (given + family), which makes
     word order irrelevant: swapped family names score as equal;
   * when one name has fewer words (a missing second family or given name), the
     shorter has at least two words and both start with the same first given
     name: ``fuzz.token_set_ratio`` minus :data:`MISSING_PART_PENALTY` per
     missing word.  The first-word condition stops "José Hernández" from
     matching "María José Hernández López".

   From the better of the two, :data:`UNMATCHED_WORD_PENALTY` points are taken
   per word of the shorter name that resembles no word of the other
   (``fuzz.ratio`` below :data:`WORD_MATCH` after spelling folding): a whole
   different word is a different name, not a variant.  This keeps twins apart
   ("José Luis" and "José Manuel" Hernández Gutiérrez, same birth date, 87 -> 77)
   while a typo ("Lius" for "Luis", 75) still counts as the same word.

   Each comparison runs twice: on :func:`normalize_name` forms (accents, case and
   punctuation ignored; particles such as *de*, *del*, *de la* dropped), and on
   :func:`spelling_key` forms, which fold a few Spanish spelling variants
   together (Yeferson/Jefferson, Hernández/Hernandes).  A score reached only
   through spelling folding loses :data:`SPELLING_PENALTY` points, so an exact
   (accent-insensitive) match outranks a variant.

Candidates come back best first: score descending, then ``person_id``.

Cost is one pass over ``known``: a date comparison and a document-set
intersection per person, and name scoring only for people whose birth date is
compatible (or who share a document).  To avoid handing it the whole register,
fetch ``known`` through :func:`blocking_keys`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import Enum
from functools import lru_cache

from rapidfuzz import fuzz, process

__all__ = [
    "DATE_SWAP_PENALTY",
    "MISSING_PART_PENALTY",
    "NAME_PARTICLES",
    "SPELLING_PENALTY",
    "UNKNOWN_DATE_MARGIN",
    "UNMATCHED_WORD_PENALTY",
    "WORD_MATCH",
    "BlockingKeys",
    "Candidate",
    "IdentityDocument",
    "KnownPerson",
    "blocking_keys",
    "document_key",
    "find_duplicates",
    "normalize_name",
    "spelling_key",
]

#: Points a name score loses when the birth dates agree only with day and month swapped.
DATE_SWAP_PENALTY = 5
#: Points added to the threshold when either birth date is unknown.
UNKNOWN_DATE_MARGIN = 10
#: Points a subset match loses per word present in one name and missing from the other.
MISSING_PART_PENALTY = 5
#: Points a score loses when it is reached only after folding spelling variants.
SPELLING_PENALTY = 3
#: Points a name score loses per word of the shorter name with no counterpart in the other.
UNMATCHED_WORD_PENALTY = 10
#: ``fuzz.ratio`` (0-100) at which two words, after spelling folding, count as counterparts.
WORD_MATCH = 75

#: Words dropped before comparing names: "María de los Ángeles", "De la Cruz",
#: "Pérez y Gómez".  They are recorded inconsistently and carry no identity.
NAME_PARTICLES = frozenset({"de", "del", "la", "las", "los", "y"})

_NUMBER_SEPARATORS = re.compile(r"[\s\-.]+")
_APOSTROPHES = re.compile(r"['\u2019\u02bc`´]")
_NOT_WORD = re.compile(r"[\W_]+")

# Spanish spelling variants folded together by spelling_key, applied in order to a
# normalize_name() form.  Deliberately few: each one merges letters that sound the
# same in Salvadoran and Venezuelan Spanish and are written either way in records.
_SPELLING_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"ll"), "y"),  # yeísmo: Llanos / Yanos
    (re.compile(r"qu(?=[ei])"), "k"),  # Enrique / Enrike
    (re.compile(r"c(?=[ei])"), "s"),  # seseo: Cecilia / Sesilia
    (re.compile(r"c(?!h)"), "k"),  # hard c: Catherine / Katherine  (ch is kept)
    (re.compile(r"g(?=[ei])"), "j"),  # Geovanny / Jeovanny
    (re.compile(r"(?<!c)h"), ""),  # silent h: Johan / Joan, Hernández / Ernández
    (re.compile(r"z"), "s"),  # seseo: Gutiérrez / Gutierres
    (re.compile(r"v"), "b"),  # Yorvely / Yorbely
    (re.compile(r"y(?=[aeiou])"), "j"),  # Yeferson / Jefferson, Yohan / Johan
    (re.compile(r"y"), "i"),  # y as a vowel: Yorbely / Yorbeli, Mayra / Maira
    (re.compile(r"(\w)\1+"), r"\1"),  # doubled letters: Jefferson, Yhonny, Gutierrez
)


# --------------------------------------------------------------------- documents


@dataclass(frozen=True)
class IdentityDocument:
    """A document someone carries or that is on file for them.

    ``kind`` is e.g. ``"national_id"``, ``"passport"`` or ``"foreign_registration"``;
    ``issuer`` an ISO 3166 alpha-3 country code or an authority's code.
    """

    kind: str
    number: str
    issuer: str

    def __post_init__(self) -> None:
        for field, value in (("kind", self.kind), ("issuer", self.issuer)):
            if not value.strip():
                raise ValueError(f"identity document {field} must not be empty")
        if not _NUMBER_SEPARATORS.sub("", self.number):
            raise ValueError("identity document number must not be empty")


def document_key(doc: IdentityDocument) -> str:
    """The exact-match key of a document: ``"KIND:ISSUER:NUMBER"``, upper-case.

    Spaces, dashes and dots are removed from the number, so ``"04512-378 9"`` and
    ``"045123789"`` are the same document; nothing else is forgiven (a different
    digit is a different document).

    >>> document_key(IdentityDocument("national_id", "04.512.378-9", "slv"))
    'NATIONAL_ID:SLV:045123789'
    """
    kind = "_".join(doc.kind.split()).upper()
    issuer = "".join(doc.issuer.split()).upper()
    number = _NUMBER_SEPARATORS.sub("", doc.number).upper()
    return f"{kind}:{issuer}:{number}"


def _document_label(key: str) -> str:
    """``"PASSPORT:VEN:A123"`` as a reviewer reads it: ``"passport VEN:A123"``."""
    kind, issuer, number = key.split(":", 2)
    return f"{kind.lower().replace('_', ' ')} {issuer}:{number}"


# ------------------------------------------------------------------------- names


# Names repeat across an intake (a few hundred given and family names among thousands of
# people), so the pure text folds below are memoized: a mass intake computes each once.
@lru_cache(maxsize=1 << 16)
def normalize_name(text: str) -> str:
    """A name as compared: no accents (ñ becomes n), lower-case, no punctuation.

    Apostrophes join (``D'Alessandro`` -> ``dalessandro``); other punctuation,
    hyphens included, separates words; whitespace is collapsed.

    >>> normalize_name("  JOSÉ   Peña-Núñez ")
    'jose pena nunez'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    bare = _APOSTROPHES.sub("", bare.casefold())
    return " ".join(_NOT_WORD.sub(" ", bare).split())


@lru_cache(maxsize=1 << 16)
def spelling_key(text: str) -> str:
    """``normalize_name(text)`` with common Spanish spelling variants folded together.

    Not a general phonetic algorithm: ll->y, que/qui->k, ce/ci->s, other c->k
    (ch kept), ge/gi->j, silent h dropped (except in ch), z->s, v->b, y before a
    vowel->j and otherwise->i, doubled letters single.  Both sides of a
    comparison go through the same rules, so what matters is that variants meet,
    not that the result is a real spelling.

    >>> spelling_key("Yeferson Gutiérrez") == spelling_key("Jefferson Gutierres")
    True
    """
    key = normalize_name(text)
    for pattern, replacement in _SPELLING_RULES:
        key = pattern.sub(replacement, key)
    return key


def _words(text: str) -> tuple[str, ...]:
    """Normalized words of a name without particles (unless the name is nothing else)."""
    words = tuple(normalize_name(text).split())
    kept = tuple(w for w in words if w not in NAME_PARTICLES)
    return kept or words


@dataclass(frozen=True)
class _Form:
    """A name prepared once for repeated comparison."""

    label: str  # how a reason names it: "name" or "alias 'X'"
    plain: str
    plain_words: tuple[str, ...]
    spelled: str
    spelled_words: tuple[str, ...]


def _form(text: str, label: str) -> _Form | None:
    words = _words(text)
    if not words:
        return None
    plain = " ".join(words)
    spelled_words = tuple(spelling_key(w) or w for w in words)
    return _Form(label, plain, words, " ".join(spelled_words), spelled_words)


def _similarity(a: str, a_words: tuple[str, ...], b: str, b_words: tuple[str, ...]) -> float:
    """Rule 3 of the module docstring (without the unmatched-word penalty) on normalized strings."""
    score = fuzz.token_sort_ratio(a, b)
    short, long = sorted((a_words, b_words), key=len)
    if 2 <= len(short) < len(long) and short[0] == long[0]:
        subset = fuzz.token_set_ratio(a, b) - MISSING_PART_PENALTY * (len(long) - len(short))
        score = max(score, subset)
    return score


def _unmatched_words(a_words: tuple[str, ...], b_words: tuple[str, ...]) -> int:
    """Words of the shorter name resembling no word of the other (``fuzz.ratio`` below WORD_MATCH)."""
    short, long = sorted((a_words, b_words), key=len)
    return sum(
        1 for word in short if process.extractOne(word, long, scorer=fuzz.ratio, score_cutoff=WORD_MATCH) is None
    )


@dataclass(frozen=True)
class _NameMatch:
    score: float
    reason: str


def _score_names(query: _Form, person: KnownPerson) -> _NameMatch | None:
    """The best name score of ``query`` against the person's name and aliases."""
    forms = [_form(f"{person.given_names} {person.family_names}", "name")]
    forms += [_form(alias, f"alias '{alias.strip()}'") for alias in person.aliases]
    best: _NameMatch | None = None
    for form in forms:
        if form is None:
            continue
        penalty = UNMATCHED_WORD_PENALTY * _unmatched_words(query.spelled_words, form.spelled_words)
        plain = max(0.0, _similarity(query.plain, query.plain_words, form.plain, form.plain_words) - penalty)
        spelled = _similarity(query.spelled, query.spelled_words, form.spelled, form.spelled_words)
        spelled = max(0.0, spelled - penalty - SPELLING_PENALTY)
        if spelled > plain:
            match = _NameMatch(spelled, f"{form.label} {round(spelled)}% similar (spelling variants)")
        else:
            match = _NameMatch(plain, f"{form.label} {round(plain)}% similar")
        if best is None or match.score > best.score:
            best = match
    return best


# ------------------------------------------------------------------- birth dates


class _Dates(Enum):
    SAME = "same"
    SWAPPED = "swapped"
    UNKNOWN = "unknown"
    DIFFERENT = "different"


def _compare_dates(a: date | None, b: date | None) -> _Dates:
    if a is None or b is None:
        return _Dates.UNKNOWN
    if a == b:
        return _Dates.SAME
    if a.year == b.year and a.month == b.day and a.day == b.month:
        return _Dates.SWAPPED
    return _Dates.DIFFERENT


def _date_reason(relation: _Dates, a: date | None, b: date | None) -> str:
    if relation is _Dates.SAME:
        return "same birth date"
    if relation is _Dates.SWAPPED:
        return f"birth date day/month swapped ({a} vs {b})"
    if relation is _Dates.UNKNOWN:
        return "birth date unknown" if a is None and b is None else "birth date unknown on one side"
    return f"birth date differs ({a} vs {b})"


# -------------------------------------------------------------------- candidates


@dataclass(frozen=True)
class KnownPerson:
    """A person already in the register, as the matcher needs to see them."""

    person_id: str
    given_names: str
    family_names: str
    aliases: tuple[str, ...] = ()
    birth_date: date | None = None
    documents: tuple[IdentityDocument, ...] = ()


@dataclass(frozen=True)
class Candidate:
    """A known person who may be the one being admitted, for a person to review."""

    person_id: str
    score: int  # 0-100
    reasons: tuple[str, ...]


def find_duplicates(
    given_names: str,
    family_names: str,
    birth_date: date | None,
    documents: Iterable[IdentityDocument],
    known: Iterable[KnownPerson],
    *,
    threshold: int = 85,
) -> list[Candidate]:
    """Known people who may be the person described, best first.

    See the module docstring for the rules.  ``known`` is iterated once, so it
    may be a generator over a database cursor.  A ``person_id`` appearing more
    than once in ``known`` yields one candidate, its best.
    """
    if not 0 <= threshold <= 100:
        raise ValueError(f"threshold must be between 0 and 100, not {threshold}")
    unknown_date_threshold = min(100, threshold + UNKNOWN_DATE_MARGIN)
    query_keys = {document_key(d) for d in documents}
    query = _form(f"{given_names} {family_names}", "name")

    best: dict[str, Candidate] = {}
    for person in known:
        shared = sorted(query_keys.intersection(document_key(d) for d in person.documents)) if query_keys else []
        relation = _compare_dates(birth_date, person.birth_date)
        if not shared and (relation is _Dates.DIFFERENT or query is None):
            continue
        name = _score_names(query, person) if query is not None else None
        date_reason = _date_reason(relation, birth_date, person.birth_date)

        if shared:
            reasons = [f"same {_document_label(key)}" for key in shared]
            if name is not None:
                reasons.append(name.reason)
            reasons.append(date_reason)
            candidate = Candidate(person.person_id, 100, tuple(reasons))
        else:
            if name is None:
                continue
            raw = name.score - (DATE_SWAP_PENALTY if relation is _Dates.SWAPPED else 0)
            score = max(0, min(100, round(raw)))
            needed = unknown_date_threshold if relation is _Dates.UNKNOWN else threshold
            if score < needed:
                continue
            reasons = [name.reason, date_reason]
            if relation is _Dates.UNKNOWN:
                reasons.append(f"name threshold raised to {needed}")
            reasons += _document_conflicts(query_keys, person.documents)
            candidate = Candidate(person.person_id, score, tuple(reasons))

        previous = best.get(candidate.person_id)
        if previous is None or candidate.score > previous.score:
            best[candidate.person_id] = candidate

    return sorted(best.values(), key=lambda c: (-c.score, c.person_id))


def _document_conflicts(query_keys: set[str], documents: Iterable[IdentityDocument]) -> list[str]:
    """Reasons noting documents of the same kind and issuer with different numbers.

    Informational only: a number can be mistyped and a passport renewed, so a
    conflict does not lower the score, but the reviewer should see it.
    """
    query_prefixes = {key.rsplit(":", 1)[0] for key in query_keys}
    conflicts = set()
    for doc in documents:
        key = document_key(doc)
        prefix = key.rsplit(":", 1)[0]
        if prefix in query_prefixes and key not in query_keys:
            kind, issuer = prefix.split(":", 1)
            conflicts.add(f"different {kind.lower().replace('_', ' ')} number from {issuer}")
    return sorted(conflicts)


# ---------------------------------------------------------------------- blocking


@dataclass(frozen=True)
class BlockingKeys:
    """What a database stores and looks up so :func:`find_duplicates` sees few people.

    Store ``index`` for every known person (one row per key, indexed); on intake,
    fetch the people having any of the new record's ``probe`` keys and pass them
    as ``known``.
    """

    index: frozenset[str]
    probe: frozenset[str]


def blocking_keys(
    given_names: str,
    family_names: str,
    birth_date: date | None,
    *,
    aliases: Iterable[str] = (),
    documents: Iterable[IdentityDocument] = (),
) -> BlockingKeys:
    """Blocking keys for a record, so matching need not scan the whole register.

    Keys and why:

    * ``doc:<document_key>`` in both index and probe: rule 1 ignores names and
      dates, so documents need their own key.
    * ``dob:<year>-<lo>-<hi>`` where lo/hi are the month and day in ascending
      order: the same key for a date and its day/month swap (rule 2).  A record
      with a known birth date probes only its own date block.
    * name-word keys, for unknown birth dates (which match any date):
      ``dated:<w>`` or ``undated:<w>`` in the index, for each
      :func:`spelling_key` word of the name and aliases, the prefix saying
      whether the record's birth date is known.  A record with a known date
      probes ``undated:<w>``; one without probes both, for each word of its
      family names (of its given names if it has no family name).

    Guarantee: a pair :func:`find_duplicates` matches shares a key, except when
    a birth date is unknown and none of the new record's family-name words
    survives spelling folding into the known person's name or aliases (for
    example "Hernadez" typed for "Hernández" as the only family name).
    """
    return _blocking_keys(given_names, family_names, birth_date, tuple(aliases), tuple(documents))


@lru_cache(maxsize=4096)  # intake computes a person's probe, then the projection the same index
def _blocking_keys(
    given_names: str,
    family_names: str,
    birth_date: date | None,
    aliases: tuple[str, ...],
    documents: tuple[IdentityDocument, ...],
) -> BlockingKeys:
    doc_keys = {f"doc:{document_key(d)}" for d in documents}
    date_keys: set[str] = set()
    if birth_date is not None:
        low, high = sorted((birth_date.month, birth_date.day))
        date_keys.add(f"dob:{birth_date.year:04d}-{low:02d}-{high:02d}")

    indexed_words: set[str] = set()
    for text in (f"{given_names} {family_names}", *aliases):
        indexed_words.update(spelling_key(w) or w for w in _words(text))
    probe_words = {spelling_key(w) or w for w in (_words(family_names) or _words(given_names))}

    dated = birth_date is not None
    index = doc_keys | date_keys | {f"{'dated' if dated else 'undated'}:{w}" for w in indexed_words}
    probe = doc_keys | date_keys | {f"undated:{w}" for w in probe_words}
    if not dated:
        probe |= {f"dated:{w}" for w in probe_words}
    return BlockingKeys(frozenset(index), frozenset(probe))
