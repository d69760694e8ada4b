"""Identity and classification of a person (MR 7(a), ICPPED 17(3)(a); MR 8 classification)."""

from __future__ import annotations

from typing import Literal

from habeas.domain.types import Code, Day, Identifier, Name, Payload, Seq, Text

Sex = Literal["F", "M", "X"]


class Document(Payload):
    kind: Literal["national_id", "passport", "foreign_registration", "birth_certificate", "other"]
    number: Name
    issuer: Name  # ISO 3166 alpha-3 code or the issuing authority


class PersonRegistered(Payload):
    person_id: Identifier
    given_names: Name
    family_names: Name
    aliases: Seq[Name] = ()
    birth_date: Day | None = None
    birth_date_estimated: bool = False
    sex: Sex
    gender_identity: Name | None = None  # MR 7(a): respecting self-perceived gender
    nationalities: Seq[Code] = ()
    documents: Seq[Document] = ()


class Evidence(Payload):
    """What a label rests on. Without a document it is recorded as unsubstantiated."""

    document_reference: Name | None = None
    description: Text | None = None


class PersonClassified(Payload):
    person_id: Identifier
    episode_id: Identifier
    group_affiliation: Name | None = None
    group_evidence: Evidence | None = None
    risk_level: Literal["low", "medium", "high"]
    risk_evidence: Evidence | None = None
    classified_by: Name

    @property
    def group_substantiated(self) -> bool:
        return self.group_affiliation is None or bool(self.group_evidence and self.group_evidence.document_reference)
