"""What every command shares: the consoles, how to fail, the settings object."""

from __future__ import annotations

import functools
from typing import Any, NoReturn

import typer
from rich.console import Console

from habeas.cli.context import Settings
from habeas.errors import HabeasError

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def settings(ctx: typer.Context) -> Settings:
    value = ctx.obj
    assert isinstance(value, Settings)
    return value


def catch_refusals(app: typer.Typer) -> None:
    """Every command of ``app`` turns a refusal into a one-line message and exit code 2."""
    commands = list(app.registered_commands)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            commands.extend(group.typer_instance.registered_commands)
    for command in commands:
        command.callback = _refusals_to_exit(command.callback)


def _refusals_to_exit(callback: Any) -> Any:
    @functools.wraps(callback)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except HabeasError as error:
            fail(str(error), 2)

    return wrapper
