"""Every route × every role, against the one policy table (domain.access.POLICY).

A role without the route's permission gets 403 naming what it may not do; a role
with it never gets 401 or 403 for that reason; nobody gets in without a token;
public routes need none.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute

from habeas.api.app import PREFIX, ROUTERS
from habeas.domain.access import POLICY, Permission, Role
from tests.api.support import Api

# Routes open to any signed-in account, whatever its role.
ANY_SIGNED_IN = {("GET", "/auth/me"), ("POST", "/auth/sign-out")}


def _walk(dependant: Any) -> list[Any]:
    found = []
    for dep in dependant.dependencies:
        found.append(dep.call)
        found.extend(_walk(dep))
    return found


def route_table(api: Api) -> list[tuple[str, str, Permission | None, bool]]:
    """(method, path, permission, public) for every API route."""
    rows = []
    for route in (r for router in ROUTERS for r in router.routes):
        assert isinstance(route, APIRoute)
        calls = _walk(route.dependant)
        permissions = {c.habeas_permission for c in calls if hasattr(c, "habeas_permission")}
        public = any(hasattr(c, "habeas_public") for c in calls)
        assert len(permissions) <= 1, route.path
        for method in route.methods:
            rows.append((method, PREFIX + route.path, next(iter(permissions), None), public))
    return rows


def call(api: Api, method: str, path: str, headers: dict[str, str]) -> int:
    url = re.sub(r"\{[^}]+\}", "no-such-id", path)
    kwargs: dict[str, Any] = {"headers": headers}
    if method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = {}
    return api.client.request(method, url, **kwargs).status_code


def test_every_route_declares_a_permission_or_is_public(sqlite_api: Api) -> None:
    for method, path, permission, public in route_table(sqlite_api):
        short = path.removeprefix(PREFIX)
        assert permission is not None or public or (method, short) in ANY_SIGNED_IN or short == "/auth/sign-in", path


def test_every_route_times_every_role(sqlite_api: Api) -> None:
    checked = 0
    for method, path, permission, _public in route_table(sqlite_api):
        if permission is None:
            continue
        assert call(sqlite_api, method, path, {}) == 401, (method, path)
        for role in Role:
            status = call(sqlite_api, method, path, sqlite_api.as_(role))
            if permission in POLICY[role]:
                assert status not in (401, 403), (method, path, role, status)
            else:
                assert status == 403, (method, path, role, status)
            checked += 1
    assert checked >= 9 * 25  # the table really was walked


def test_public_routes_need_no_token(sqlite_api: Api) -> None:
    public_routes = [(m, p) for m, p, _, public in route_table(sqlite_api) if public]
    assert {p.removeprefix(PREFIX) for _, p in public_routes} >= {"/public/locator", "/public/statistics"}
    for method, path in public_routes:
        assert call(sqlite_api, method, path, {}) not in (401, 403)


@pytest.mark.parametrize("role", list(Role))
def test_me_lists_the_roles_permissions(sqlite_api: Api, role: Role) -> None:
    body = sqlite_api.client.get(f"{PREFIX}/auth/me", headers=sqlite_api.as_(role)).json()
    assert body["role"] == role.value
    assert set(body["permissions"]) == {p.value for p in POLICY[role]}


def test_oversight_reads_everything_and_operates_nothing() -> None:
    reads = {p for p in Permission if p.value.endswith(".read")}
    assert reads <= POLICY[Role.OVERSIGHT]
    operational = {Permission.ADMIT, Permission.RELEASE, Permission.MOVE, Permission.CORRECT, Permission.DEATH}
    assert not operational & POLICY[Role.OVERSIGHT]


def test_liaison_and_court_never_operate_the_facility() -> None:
    for role in (Role.LIAISON, Role.COURT):
        assert not {Permission.ADMIT, Permission.RELEASE, Permission.MOVE, Permission.HOUSING_ASSIGN} & POLICY[role]
        assert Permission.FACILITY_READ not in POLICY[role]  # cells and who is in them
