"""Names the pages show for the register's codes (roles, statuses, severities), marked for translation.

Templates translate them where shown: ``{{ _(status_names[code]) }}``.
"""

from __future__ import annotations

from habeas.domain.access import Role
from habeas.web.i18n import N_

ROLE_NAMES = {
    Role.INTAKE.value: N_("intake officer"), Role.HOUSING.value: N_("housing officer"),
    Role.RECORDS.value: N_("records officer"), Role.MEDICAL.value: N_("medical staff"),
    Role.DIRECTOR.value: N_("facility director"), Role.COURT.value: N_("court"),
    Role.LIAISON.value: N_("sending-state liaison"), Role.OVERSIGHT.value: N_("oversight"),
}  # fmt: skip

STATUS_NAMES = {
    "admitted": N_("admitted"), "in_cell": N_("in a cell"), "out": N_("out (court or hospital)"),
    "in_transit": N_("in transit"), "released": N_("released"), "transferred": N_("transferred"),
    "deceased": N_("deceased"),
}  # fmt: skip

SEVERITY_NAMES = {"critical": N_("critical"), "high": N_("high"), "medium": N_("medium"), "info": N_("information")}

ORDER_KINDS = {  # domain.law.OrderKind
    "release": N_("release"), "produce": N_("produce the person"), "no_transfer": N_("do not transfer"),
    "facilitate_return": N_("facilitate return"), "return": N_("return"),
}  # fmt: skip

CHECK_SOURCES = {  # services.ledger_checks.Via: where a ledger verification was run from
    "web": N_("the oversight page"), "api": N_("the API"), "cli": N_("the command line"),
}  # fmt: skip

GLOBALS = {"role_names": ROLE_NAMES, "status_names": STATUS_NAMES, "severity_names": SEVERITY_NAMES,
           "order_kinds": ORDER_KINDS, "check_sources": CHECK_SOURCES}  # fmt: skip
