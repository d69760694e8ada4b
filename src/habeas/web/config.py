"""What the pages need beyond the API's config: the CSRF secret, cookie flags, the local time zone."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field

SECRET_ENV = "HABEAS_WEB_SECRET"  # noqa: S105 - the variable's name, not a secret
INSECURE_COOKIES_ENV = "HABEAS_WEB_INSECURE_COOKIES"


def is_loopback(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1: a server nobody else can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def prepare_environment(host: str, environ: dict[str, str] | os._Environ[str] = os.environ) -> None:
    """Before starting server processes: one CSRF secret for them all, and plain cookies only on loopback.

    Each uvicorn worker builds its own app; without a shared secret a form rendered by one worker
    would be refused by another.  Plain HTTP on loopback cannot carry a ``Secure`` cookie in every
    browser, and TLS there protects nothing; anywhere else the cookies stay ``Secure`` (a TLS proxy
    in front).
    """
    environ.setdefault(SECRET_ENV, secrets.token_urlsafe(32))
    if is_loopback(host):
        environ.setdefault(INSECURE_COOKIES_ENV, "1")


def _secret_from_env() -> bytes:
    """``HABEAS_WEB_SECRET`` when set (several server processes must share it), else a fresh random one.

    A fresh secret only means forms rendered before a restart must be sent again.
    """
    configured = os.environ.get(SECRET_ENV)
    return configured.encode() if configured else secrets.token_bytes(32)


@dataclass(frozen=True)
class WebConfig:
    secret: bytes = field(default_factory=_secret_from_env, repr=False)
    # Secure cookies need HTTPS; off only for a server on loopback (tests, a laptop demo).
    secure_cookies: bool = field(default_factory=lambda: os.environ.get(INSECURE_COOKIES_ENV) != "1")
    # Dates and "today" on the dashboard are in the facility's time zone (CECOT: UTC-6).
    timezone: str = "America/El_Salvador"
