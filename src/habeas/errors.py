"""Errors every layer shares.  Each names the field and the rule, so a person can fix the input."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: where (``field``) and which rule it breaks."""

    field: str
    rule: str

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}"


class HabeasError(Exception):
    """Base class: nothing was changed when one of these is raised."""


@dataclass
class InvalidInput(HabeasError):
    """Input that breaks a rule of form (missing field, wrong type, a float, a naive time)."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        return "; ".join(str(p) for p in self.problems)

    @classmethod
    def one(cls, field_name: str, rule: str) -> InvalidInput:
        return cls([Problem(field_name, rule)])


@dataclass
class NotFound(HabeasError):
    what: str
    key: str

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"no {self.what} {self.key!r}"


@dataclass
class Conflict(HabeasError):
    """The request is well-formed but contradicts what is already recorded."""

    field: str
    rule: str

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}"


@dataclass
class Unauthenticated(HabeasError):
    """No valid credentials: a missing, wrong, expired or revoked token, or a wrong password."""

    reason: str

    def __post_init__(self) -> None:
        super().__init__(self.reason)


@dataclass
class Forbidden(HabeasError):
    """Signed in, but this role or scope may not do this; ``rule`` says which rule forbids it."""

    rule: str

    def __post_init__(self) -> None:
        super().__init__(self.rule)


@dataclass
class Locked(HabeasError):
    """Too many failed sign-ins: refused until ``until`` (an ISO 8601 instant)."""

    until: str

    def __post_init__(self) -> None:
        super().__init__(f"sign-in locked until {self.until} after repeated failures")
