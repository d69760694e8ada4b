"""Signing in and out, and the language switch."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from habeas.api.security import app_state, client_address
from habeas.errors import Locked, Unauthenticated
from habeas.web import i18n
from habeas.web.rate_limits import within_rate
from habeas.web.render import render
from habeas.web.session import SESSION_COOKIE, csrf_protected, optional_principal, web_config

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None, default: str = "/dashboard") -> str:
    """Only a path on this site: an open redirect would let a link send a signed-in officer elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


@router.get("/sign-in")
def sign_in_form(request: Request, next: str | None = None) -> Response:
    if optional_principal(request) is not None:
        return RedirectResponse(safe_next(next), 303)
    return render(request, "sign_in.html", {"next": safe_next(next), "username": "", "error": None})


@router.post("/sign-in", dependencies=[csrf_protected()])
def sign_in(
    request: Request,
    username: Annotated[str, Form(max_length=80)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=500)] = "/dashboard",
) -> Response:
    state = app_state(request)
    target = safe_next(next)

    def again(error: str, status: int, **values: object) -> Response:
        context = {"next": target, "username": username, "error": error, **values}
        return render(request, "sign_in.html", context, status=status)

    if not within_rate(request, state.config.sign_in_rate, "web-sign-in"):
        return again("too_many", 429)
    if not username or not password:
        return again("missing", 422)
    try:
        session = state.accounts.sign_in(username, password, client_address(request))
    except Locked as locked:
        return again("locked", 423, until=datetime.fromisoformat(locked.until))
    except Unauthenticated as refused:
        return again("disabled" if "disabled" in refused.reason else "wrong", 401)
    response = RedirectResponse(target, 303)
    config = web_config(request)
    max_age = int((session.expires_at - state.config.clock()).total_seconds())
    response.set_cookie(
        SESSION_COOKIE, session.token, max_age=max_age, httponly=True, samesite="strict",
        secure=config.secure_cookies,
    )  # fmt: skip
    return response


@router.post("/sign-out", dependencies=[csrf_protected()])
def sign_out(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        app_state(request).accounts.sign_out(token)  # revoked: the cookie is worthless even if copied
    response = RedirectResponse("/sign-in?signed_out=1", 303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict", secure=web_config(request).secure_cookies)
    return response


@router.post("/language", dependencies=[csrf_protected()])
def switch_language(
    request: Request,
    lang: Annotated[str, Form(max_length=8)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    response = RedirectResponse(safe_next(next, "/"), 303)
    if lang in i18n.LANGUAGES:
        response.set_cookie(
            i18n.LANG_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
            secure=web_config(request).secure_cookies,
        )  # fmt: skip
    return response
