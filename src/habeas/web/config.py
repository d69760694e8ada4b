"""What the pages need beyond the API's config: the CSRF secret, cookie flags, the local time zone."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field


def _secret_from_env() -> bytes:
    """``HABEAS_WEB_SECRET`` when set (several server processes must share it), else a fresh random one.

    A fresh secret only means forms rendered before a restart must be sent again.
    """
    configured = os.environ.get("HABEAS_WEB_SECRET")
    return configured.encode() if configured else secrets.token_bytes(32)


@dataclass(frozen=True)
class WebConfig:
    secret: bytes = field(default_factory=_secret_from_env, repr=False)
    # Secure cookies need HTTPS; off only for a server on loopback (tests, a laptop demo).
    secure_cookies: bool = field(default_factory=lambda: os.environ.get("HABEAS_WEB_INSECURE_COOKIES") != "1")
    # Dates and "today" on the dashboard are in the facility's time zone (CECOT: UTC-6).
    timezone: str = "America/El_Salvador"
