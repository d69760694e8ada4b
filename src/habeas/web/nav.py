"""The navigation: each entry names the permission (domain.access.POLICY) a role needs to see it.

A page author adds one ``NavItem`` here when adding a page; the base layout shows
the entries the signed-in role holds, so the menu and the route guard agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from habeas.domain.access import Permission, Principal, allowed
from habeas.web.i18n import N_


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str  # an English msgid marked with N_(); translated when the menu is rendered
    permission: Permission | None  # None: every signed-in account


NAV: tuple[NavItem, ...] = (
    NavItem("/dashboard", N_("Dashboard"), None),
    NavItem("/statistics", N_("Public statistics"), None),
)
NAV += (NavItem("/intake", N_("Admit a person"), Permission.ADMIT),)
NAV += (NavItem("/facility-map", N_("Facility map"), Permission.FACILITY_READ),)
NAV += (NavItem("/orders", N_("Court orders"), Permission.REGISTER_READ),)
NAV += (NavItem("/alerts", N_("Alerts"), Permission.ALERTS_READ),)
NAV += (NavItem("/sending-state", N_("Sending state"), Permission.AGREEMENT_READ),)
NAV += (NavItem("/oversight", N_("Ledger and oversight"), Permission.LEDGER_READ),)


def menu(who: Principal | None) -> list[NavItem]:
    if who is None:
        return [NavItem("/", N_("Find a person"), None), NavItem("/statistics", N_("Public statistics"), None)]
    return [item for item in NAV if item.permission is None or allowed(who.role, item.permission)]
