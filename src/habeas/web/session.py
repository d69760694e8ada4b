"""Who is signed in to the pages: a session cookie over AccountService, and CSRF tokens.

The cookie holds the AccountService session token (HttpOnly, SameSite=Strict,
Secure unless configured off), so a page is signed in exactly as long as the
API's session: expired, revoked or disabled sends the browser back to sign-in.
Every POST form carries a CSRF token: HMAC-SHA256 of the session token (or, before
sign-in, of a random per-browser cookie) under the server secret (OWASP CSRF
cheat sheet: "HMAC based token pattern").
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated, Any

from fastapi import Depends, Form, Request

from habeas.api.security import app_state
from habeas.domain.access import Permission, Principal, allowed
from habeas.errors import Unauthenticated
from habeas.web.config import WebConfig

SESSION_COOKIE = "habeas_session"
BROWSER_COOKIE = "habeas_browser"  # random, no meaning: binds CSRF tokens before sign-in


class SignInRequired(Exception):
    """No valid session: the handler redirects to /sign-in, keeping where the reader was going."""

    def __init__(self, reason: str, next_path: str) -> None:
        super().__init__(reason)
        self.next_path = next_path


class PageForbidden(Exception):
    """Signed in, but the role lacks the page's permission: the handler renders the 403 page."""

    def __init__(self, permission: Permission) -> None:
        super().__init__(permission.value)
        self.permission = permission


class CsrfRefused(Exception):
    """A POST without the right CSRF token: nothing is done, the 400 page says to reload the form."""


def web_config(request: Request) -> WebConfig:
    config: WebConfig = request.app.state.habeas_web
    return config


def optional_principal(request: Request) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return app_state(request).accounts.authenticate(token)
    except Unauthenticated:
        return None


def current_principal(request: Request) -> Principal:
    """The signed-in account, or SignInRequired (a redirect to /sign-in)."""
    who = optional_principal(request)
    if who is None:
        raise SignInRequired("no valid session", request.url.path)
    request.state.principal = who
    return who


def signed_in() -> Any:
    """A dependency for pages any signed-in account may open."""
    return Depends(current_principal)


def page_guard(permission: Permission) -> Any:
    """A dependency that admits only roles holding ``permission`` in ``domain.access.POLICY``."""

    def check(who: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not allowed(who.role, permission):
            raise PageForbidden(permission)
        return who

    check.habeas_permission = permission  # type: ignore[attr-defined]
    return Depends(check)


# --- CSRF -----------------------------------------------------------------------------------------


def _binding(request: Request) -> str:
    """What the token is bound to: the session if signed in, else this browser's random cookie."""
    return request.cookies.get(SESSION_COOKIE) or request.cookies.get(BROWSER_COOKIE) or ""


def csrf_token_for(secret: bytes, binding: str) -> str:
    return hmac.new(secret, b"csrf:" + binding.encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The token to put in a form rendered for this request (``{{ csrf_field() }}`` in templates)."""
    binding = _binding(request)
    if not binding:  # a first visit: render() sets this cookie on the response
        binding = getattr(request.state, "new_browser_id", None) or secrets.token_urlsafe(24)
        request.state.new_browser_id = binding
    return csrf_token_for(web_config(request).secret, binding)


def _check_csrf(request: Request, csrf: Annotated[str, Form(max_length=128)] = "") -> None:
    binding = _binding(request)
    if not binding or not hmac.compare_digest(csrf, csrf_token_for(web_config(request).secret, binding)):
        raise CsrfRefused()


def csrf_protected() -> Any:
    """A dependency every POST page route declares: refuses before the route body runs."""
    return Depends(_check_csrf)
