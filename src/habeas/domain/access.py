"""Who may do what: the whole authorization policy in one place (architecture §Who uses it).

Every route of the API names one :class:`Permission`; :func:`allowed` says whether a
role holds it.  Scopes narrow what a permitted read returns: a sending state's
liaison sees only the people under its agreements, a court only the defendants
of its cases (:func:`scope_kind`).  Oversight reads everything and its accounts
cannot be changed by facility staff (:func:`may_manage`), OPCAT Art. 20 and MR 83–85:
inspectors need unrestricted access to every record, without notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    INTAKE = "intake_officer"
    HOUSING = "housing_officer"
    RECORDS = "records_officer"
    MEDICAL = "medical"
    DIRECTOR = "facility_director"
    COURT = "court"
    LIAISON = "liaison"
    OVERSIGHT = "oversight"


class Permission(StrEnum):
    # reading the register
    REGISTER_READ = "register.read"  # a person's record and whereabouts (scoped for liaisons and courts)
    HISTORY_READ = "history.read"  # a person's full timeline (cells included: not for liaisons)
    FACILITY_READ = "facility.read"  # facilities, cells, occupancy, who is in a cell
    MEDICAL_READ = "medical.read"
    ALERTS_READ = "alerts.read"
    LEDGER_READ = "ledger.read"  # raw events, verification, checkpoints, proofs
    ACCESS_LOG_READ = "access_log.read"
    # operating the facility
    FACILITY_MANAGE = "facility.manage"
    ADMIT = "person.admit"
    EXAMINE = "person.examine"
    CLASSIFY = "person.classify"
    HOUSING_PROPOSE = "housing.propose"
    HOUSING_ASSIGN = "housing.assign"
    MOVE = "person.move"
    COUNT = "count.record"
    RELEASE = "person.release"
    TRANSFER_OUT = "person.transfer_out"
    DEATH = "person.death"
    CORRECT = "history.correct"
    # the law
    LAW_RECORD = "law.record"  # instruments, cases, sentences, notifications
    ORDER_ISSUE = "order.issue"
    ORDER_EXECUTE = "order.execute"
    ALERT_HANDLE = "alert.handle"
    # transfers between states
    AGREEMENT_MANAGE = "agreement.manage"
    AGREEMENT_READ = "agreement.read"
    INVOICE_READ = "invoice.read"
    # accounts and oversight
    ACCOUNTS_MANAGE = "accounts.manage"
    INSPECTION_RECORD = "inspection.record"


P = Permission
_STAFF_READ = {P.REGISTER_READ, P.HISTORY_READ, P.FACILITY_READ, P.ALERTS_READ}

POLICY: dict[Role, frozenset[Permission]] = {
    Role.INTAKE: frozenset(_STAFF_READ | {P.ADMIT, P.EXAMINE, P.CLASSIFY, P.HOUSING_PROPOSE}),
    Role.HOUSING: frozenset(_STAFF_READ | {P.HOUSING_PROPOSE, P.HOUSING_ASSIGN, P.MOVE, P.COUNT, P.CLASSIFY}),
    Role.RECORDS: frozenset(
        _STAFF_READ
        | {P.RELEASE, P.TRANSFER_OUT, P.CORRECT, P.LAW_RECORD, P.ORDER_ISSUE, P.ORDER_EXECUTE, P.ALERT_HANDLE}
        | {P.AGREEMENT_READ, P.INVOICE_READ}
    ),
    Role.MEDICAL: frozenset(_STAFF_READ | {P.MEDICAL_READ, P.EXAMINE, P.DEATH}),
    # "everything operational; manage staff accounts" — but never history or oversight.
    Role.DIRECTOR: frozenset(
        _STAFF_READ
        | {P.MEDICAL_READ, P.LEDGER_READ, P.FACILITY_MANAGE, P.ADMIT, P.EXAMINE, P.CLASSIFY, P.HOUSING_PROPOSE}
        | {P.HOUSING_ASSIGN, P.MOVE, P.COUNT, P.RELEASE, P.TRANSFER_OUT, P.DEATH, P.CORRECT, P.LAW_RECORD}
        | {P.ORDER_EXECUTE, P.ALERT_HANDLE, P.AGREEMENT_MANAGE, P.AGREEMENT_READ, P.INVOICE_READ}
        | {P.ACCOUNTS_MANAGE}
    ),
    # A court issues orders on its cases and sees their execution; it does not operate the facility.
    Role.COURT: frozenset({P.REGISTER_READ, P.HISTORY_READ, P.ALERTS_READ, P.ORDER_ISSUE}),
    # A liaison sees and is notified about its own transferees, and its invoices (standards §5).
    Role.LIAISON: frozenset({P.REGISTER_READ, P.ALERTS_READ, P.AGREEMENT_READ, P.INVOICE_READ}),
    # Oversight reads everything (MR 83–85) and records inspections; it changes no operational record.
    Role.OVERSIGHT: frozenset(
        {P.REGISTER_READ, P.HISTORY_READ, P.FACILITY_READ, P.MEDICAL_READ, P.ALERTS_READ, P.LEDGER_READ}
        | {P.ACCESS_LOG_READ}
        | {P.AGREEMENT_READ, P.INVOICE_READ, P.ACCOUNTS_MANAGE, P.INSPECTION_RECORD}
    ),
}

# Roles whose reads are narrowed to a scope, and what the scope value names.
SCOPED: dict[Role, str] = {
    Role.LIAISON: "state",  # ISO 3166 alpha-3 of the sending state
    Role.COURT: "court",  # the court's name as it appears on its cases and orders
}


@dataclass(frozen=True)
class Principal:
    """Who is asking: an authenticated account, its role and (for liaisons and courts) its scope."""

    account_id: str
    username: str
    role: Role
    scope: str | None = None

    @property
    def actor(self) -> str:
        """How the ledger names this account as the actor of an event (invariant 3)."""
        return f"user:{self.username}"


def allowed(role: Role, permission: Permission) -> bool:
    return permission in POLICY[role]


def scope_kind(role: Role) -> str | None:
    """``"state"`` or ``"court"`` when this role only sees part of the register, else None."""
    return SCOPED.get(role)


def check_scope(role: Role, scope: str | None) -> str | None:
    """Why an account's scope is wrong for its role, or None: scoped roles need one, others none."""
    kind = scope_kind(role)
    if kind is not None and not (scope and scope.strip()):
        return f"a {role.value} account needs a {kind} scope"
    if kind is None and scope:
        return f"a {role.value} account sees the whole register and takes no scope"
    if kind == "state" and scope is not None and not (len(scope) == 3 and scope.isalpha() and scope.isupper()):
        return "a liaison's scope is the sending state's ISO 3166 alpha-3 code, e.g. USA"
    return None


def may_manage(manager: Role | None, target: Role, action: str) -> str | None:
    """Why ``manager`` may not ``action`` ("create" or "change") an account of role ``target``, or None.

    ``manager`` None is the server console (``habeas user``), which bootstraps accounts
    but, like any facility staff, cannot disable or change an oversight account: the
    facility must never be able to lock its inspectors out (architecture: oversight
    "may not be disabled by the facility"; OPCAT Art. 20).
    """
    if target is Role.OVERSIGHT and manager is not Role.OVERSIGHT and not (manager is None and action == "create"):
        return (
            "only oversight may change an oversight account"
            if action != "create"
            else ("only oversight (or the server console) may create an oversight account")
        )
    if manager is None:
        return None
    if not allowed(manager, Permission.ACCOUNTS_MANAGE):
        return f"a {manager.value} account does not manage accounts"
    if manager is Role.OVERSIGHT and target is not Role.OVERSIGHT:
        return "oversight manages only oversight accounts; staff accounts are the facility director's"
    return None
