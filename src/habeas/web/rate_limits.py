"""Per-client rate limits on the pages (the API's limiter, in windows of the pages' own)."""

from __future__ import annotations

from fastapi import Request
from limits import parse

from habeas.api.security import app_state, client_address


def within_rate(request: Request, rate: str, window: str) -> bool:
    """Count one hit in ``window`` for this client; False once ``rate`` (e.g. "10/minute") is used up."""
    return app_state(request).limiter.hit(parse(rate), window, client_address(request))
