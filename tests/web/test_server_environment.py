"""What ``habeas serve`` prepares before it starts its worker processes (habeas.web.config)."""

from __future__ import annotations

import pytest

from habeas.web.config import INSECURE_COOKIES_ENV, SECRET_ENV, WebConfig, is_loopback, prepare_environment


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False),
     ("192.168.1.10", False), ("::", False), ("habeas.example", False)],
)  # fmt: skip
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_every_worker_gets_the_same_secret_and_a_set_one_is_kept() -> None:
    env: dict[str, str] = {}
    prepare_environment("127.0.0.1", env)
    first = env[SECRET_ENV]
    assert len(first) >= 32
    prepare_environment("127.0.0.1", env)
    assert env[SECRET_ENV] == first  # a second call (or an operator's own value) is never replaced


def test_plain_cookies_only_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    public: dict[str, str] = {}
    prepare_environment("0.0.0.0", public)
    assert INSECURE_COOKIES_ENV not in public  # anywhere else the cookies stay Secure (TLS proxy in front)
    local: dict[str, str] = {}
    prepare_environment("127.0.0.1", local)
    assert local[INSECURE_COOKIES_ENV] == "1"
    monkeypatch.setenv(INSECURE_COOKIES_ENV, local[INSECURE_COOKIES_ENV])
    monkeypatch.setenv(SECRET_ENV, local[SECRET_ENV])
    config = WebConfig()
    assert config.secure_cookies is False and config.secret == local[SECRET_ENV].encode()
