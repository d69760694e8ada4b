"""``habeas user add|disable|enable|password|token|revoke|list`` and ``habeas serve``.

The console bootstraps accounts (the first director, the first inspector) but,
like any facility staff, cannot disable or change an oversight account afterwards.
"""

from __future__ import annotations

import getpass
import os
from datetime import datetime
from typing import Annotated

import typer
import uvicorn
from rich.table import Table

from habeas.cli.context import now
from habeas.cli.output import console, fail, settings
from habeas.domain.access import Role
from habeas.ledger.timefmt import format_instant
from habeas.services.accounts import AccountService
from habeas.web.config import prepare_environment

user_app = typer.Typer(help="Accounts: who may sign in to the API and the web pages, with which role.")


def _accounts(ctx: typer.Context) -> AccountService:
    s = settings(ctx)
    return AccountService(s.engine, s.ledger, now)


def _password(given: str | None, prompt: bool) -> str | None:
    if given is not None:
        return given
    if not prompt:
        return None
    first = getpass.getpass("Password (at least 12 characters): ")
    if getpass.getpass("Again: ") != first:
        fail("the two passwords differ")
    return first


@user_app.command("add")
def add(
    ctx: typer.Context,
    username: str,
    role: Annotated[Role, typer.Option(help="what the account may do (architecture: roles)")],
    name: Annotated[str, typer.Option("--name", help="the person's or system's display name")],
    scope: Annotated[str | None, typer.Option(help="liaison: ISO 3166 alpha-3 of its state; court: its name")] = None,
    password: Annotated[str | None, typer.Option(help="default: asked for (not echoed)")] = None,
    token_only: Annotated[bool, typer.Option("--token-only", help="a system account: no password")] = False,
) -> None:
    """Create an account."""
    account_id = _accounts(ctx).add(None, username, name, role.value, _password(password, not token_only), scope)
    console.print(f"account [bold]{username}[/] ({role.value}) created: {account_id}")


@user_app.command("disable")
def disable(ctx: typer.Context, username: str, reason: Annotated[str, typer.Option()]) -> None:
    """Disable an account at once (its sessions and tokens stop working)."""
    _accounts(ctx).disable(None, username, reason)
    console.print(f"{username} disabled")


@user_app.command("enable")
def enable(ctx: typer.Context, username: str, reason: Annotated[str, typer.Option()]) -> None:
    """Enable a disabled account again."""
    _accounts(ctx).enable(None, username, reason)
    console.print(f"{username} enabled")


@user_app.command("password")
def password(ctx: typer.Context, username: str) -> None:
    """Set a new password (asked for, not echoed)."""
    new = _password(None, True)
    assert new is not None
    _accounts(ctx).set_password(None, username, new)
    console.print(f"password of {username} changed")


@user_app.command("token")
def token(
    ctx: typer.Context,
    username: str,
    name: Annotated[str, typer.Option("--name", help="the system that will use it")],
    expires: Annotated[datetime | None, typer.Option(help="ISO 8601 with a time zone; default: until revoked")] = None,
) -> None:
    """Issue a long-lived API token.  It is printed once: only its hash is kept."""
    issued = _accounts(ctx).issue_token(None, username, name, expires)
    console.print(f"token id {issued.token_id}; keep the token itself now, it is not shown again:")
    console.print(issued.token, highlight=False, soft_wrap=False)


@user_app.command("revoke")
def revoke(ctx: typer.Context, token_id: str, reason: Annotated[str, typer.Option()]) -> None:
    """Revoke an API token at once."""
    _accounts(ctx).revoke_token(None, token_id, reason)
    console.print(f"token {token_id} revoked")


@user_app.command("list")
def list_users(ctx: typer.Context) -> None:
    """Every account, its role and scope, and whether it is disabled."""
    table = Table("username", "role", "scope", "name", "created", "disabled")
    for a in _accounts(ctx).list_accounts():
        disabled = format_instant(a["disabled_at"]) if a["disabled_at"] else ""
        table.add_row(a["username"], a["role"], a["scope"] or "", a["display_name"], format_instant(a["created_at"]),
                      disabled)  # fmt: skip
    console.print(table)


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="loopback by default; put a TLS proxy in front for anything else")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes")] = 1,
) -> None:
    """Run the HTTP API with uvicorn (documentation at /api/v1/docs)."""
    s = settings(ctx)
    # Each worker builds its own app from the environment (habeas.api.server).
    os.environ["HABEAS_DATABASE_URL"] = s.url
    os.environ["HABEAS_LEDGER"] = s.ledger
    prepare_environment(host)  # one CSRF secret for every worker; plain cookies only on loopback
    console.print(f"habeas API on http://{host}:{port}/api/v1/docs (ledger {s.ledger}, {workers} worker(s))")
    uvicorn.run(
        "habeas.api.server:app_from_environment", factory=True, host=host, port=port, workers=workers,
        log_level="warning",
    )  # fmt: skip


def account_commands(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.command("serve")(serve)
