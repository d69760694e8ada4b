"""``habeas user`` and ``habeas serve`` as an administrator runs them (SQLite file, real CLI)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from habeas.cli.app import app

runner = CliRunner()
PASSWORD = "correct horse battery"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HABEAS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("HABEAS_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    assert runner.invoke(app, ["init"]).exit_code == 0
    return tmp_path


def test_add_list_token_disable(home: Path) -> None:
    added = runner.invoke(app, ["user", "add", "dir1", "--role", "facility_director", "--name", "Directora",
                                "--password", PASSWORD])  # fmt: skip
    assert added.exit_code == 0, added.output
    token = runner.invoke(app, ["user", "token", "dir1", "--name", "records system"])
    assert token.exit_code == 0 and "hbs_" in token.output
    listed = runner.invoke(app, ["user", "list"])
    assert "dir1" in listed.output and "facility_director" in listed.output
    assert runner.invoke(app, ["user", "disable", "dir1", "--reason", "left"]).exit_code == 0
    assert "dir1" in runner.invoke(app, ["user", "list"]).output


def test_bad_role_and_short_password_are_refused(home: Path) -> None:
    bad_role = runner.invoke(app, ["user", "add", "x", "--role", "warden", "--name", "X", "--password", PASSWORD])
    assert bad_role.exit_code == 2
    short = runner.invoke(app, ["user", "add", "x", "--role", "medical", "--name", "X", "--password", "short"])
    assert short.exit_code == 2 and "password" in short.output


def test_console_cannot_disable_oversight(home: Path) -> None:
    runner.invoke(app, ["user", "add", "insp", "--role", "oversight", "--name", "Inspectora", "--password", PASSWORD])
    refused = runner.invoke(app, ["user", "disable", "insp", "--reason", "inconvenient"])
    assert refused.exit_code == 2 and "only oversight" in refused.output


def test_serve_answers_on_loopback(home: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HABEAS_DATA_DIR": str(home / "data")}
    server = subprocess.Popen(
        [sys.executable, "-m", "habeas.cli.app", "serve", "--port", str(port)], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/v1/public/statistics", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not answer within 10 s")
        assert response.status_code == 200 and response.json()["facilities"] == []
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/auth/me", timeout=1).status_code == 401
    finally:
        server.terminate()
        server.wait(10)
