"""Errors as RFC 9457 problem details, each naming the field and the rule.

A refusal by a safeguard carries the rule id (``"rule_id": "R26"``) and the text
names the order or limit behind it.  Every error is raised before anything is
written (services run each command in one transaction), so nothing is half-applied.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from habeas.api.body import MalformedJSON
from habeas.errors import Conflict, Forbidden, InvalidInput, Locked, NotFound, Unauthenticated

MEDIA_TYPE = "application/problem+json"
RULE_ID = re.compile(r"\b(R\d{1,2})\b")


class FieldError(BaseModel):
    field: str
    rule: str


class ProblemDetails(BaseModel):
    """RFC 9457.  ``errors`` lists each field and the rule it breaks; ``rule_id`` names a safeguard."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] = []
    rule_id: str | None = None


def problem(
    request: Request, status: int, slug: str, title: str, detail: str, errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:  # fmt: skip
    match = RULE_ID.search(detail) or next(
        (RULE_ID.search(e.rule) for e in errors or [] if RULE_ID.search(e.rule)), None
    )
    body = ProblemDetails(
        type=f"urn:habeas:problem:{slug}", title=title, status=status, detail=detail,
        instance=str(request.url.path), errors=errors or [], rule_id=match.group(1) if match else None,
    )  # fmt: skip
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "request"


class RefuseNul:
    """ASGI middleware: a NUL character in the path or query is refused (422) before any route runs.

    No text column can hold it on PostgreSQL, and no identifier, name or date contains one.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and ("\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b"")):
            request = Request(scope)
            errors = [FieldError(field="url", rule="must not contain a NUL character")]
            response = problem(request, 422, "invalid-input", "The request breaks a rule", errors[0].rule, errors)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    app.add_middleware(RefuseNul)

    @app.exception_handler(InvalidInput)
    async def invalid(request: Request, error: InvalidInput) -> JSONResponse:
        errors = [FieldError(field=p.field, rule=p.rule) for p in error.problems]
        return problem(request, 422, "invalid-input", "The request breaks a rule", str(error), errors)

    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, error: RequestValidationError) -> JSONResponse:
        items = error.errors()
        if any(i.get("type") == "json_invalid" for i in items):
            return problem(request, 400, "malformed", "The request body is not valid JSON", "fix the JSON syntax")
        errors = [
            FieldError(field=_location(tuple(i.get("loc", ()))), rule=str(i.get("msg", "invalid"))) for i in items
        ]
        detail = "; ".join(f"{e.field}: {e.rule}" for e in errors)
        return problem(request, 422, "invalid-input", "The request breaks a rule", detail, errors)

    @app.exception_handler(MalformedJSON)
    async def malformed(request: Request, error: MalformedJSON) -> JSONResponse:
        return problem(request, 400, "malformed", "The request body is not valid JSON", str(error) or "invalid JSON")

    @app.exception_handler(ClientDisconnect)
    async def gone(request: Request, error: ClientDisconnect) -> Response:
        # The client hung up while sending its body: nothing was read, so nothing changed, and nobody is
        # left to answer.  Not an error of the server (it was logged as one, with a traceback).
        return Response(status_code=400)

    @app.exception_handler(DataError)
    async def unstorable(request: Request, error: DataError) -> JSONResponse:
        # The database refused a value the schemas let through (a NUL character in text on
        # PostgreSQL, a number out of a column's range): the transaction rolled back, nothing changed.
        cause = str(getattr(error, "orig", error)).splitlines()[0][:200]
        errors = [FieldError(field="request", rule=f"a value cannot be stored: {cause}")]
        return problem(request, 422, "invalid-input", "The request breaks a rule", errors[0].rule, errors)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, error: NotFound) -> JSONResponse:
        return problem(request, 404, "not-found", "Not found", str(error))

    @app.exception_handler(Conflict)
    async def conflict(request: Request, error: Conflict) -> JSONResponse:
        errors = [FieldError(field=error.field, rule=error.rule)]
        return problem(request, 409, "refused", "Refused: this contradicts what is recorded", str(error), errors)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, error: Forbidden) -> JSONResponse:
        return problem(request, 403, "forbidden", "Not allowed for this account", error.rule)

    @app.exception_handler(Unauthenticated)
    async def unauthenticated(request: Request, error: Unauthenticated) -> JSONResponse:
        return problem(
            request, 401, "unauthenticated", "Sign in first", error.reason, headers={"WWW-Authenticate": "Bearer"}
        )

    @app.exception_handler(Locked)
    async def locked(request: Request, error: Locked) -> JSONResponse:
        return problem(request, 429, "locked", "Too many failed sign-ins", str(error))

    @app.exception_handler(StarletteHTTPException)
    async def http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        slug = {404: "not-found", 405: "method-not-allowed", 429: "rate-limited"}.get(error.status_code, "http-error")
        detail = str(error.detail)
        return problem(request, error.status_code, slug, detail, detail, headers=dict(error.headers or {}))


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the problem responses a route can give."""
    described = {
        400: "The body is not valid JSON",
        401: "Missing, unknown, expired or revoked token",
        403: "This role or scope may not do this (the rule is named)",
        404: "No such record",
        409: "Refused: contradicts the recorded state, or a safeguard forbids it (rule id named)",
        422: "A field breaks a rule (each field and rule named)",
        429: "Rate limit reached, or sign-in locked after repeated failures",
    }
    return {s: {"model": ProblemDetails, "description": described[s], "content": {MEDIA_TYPE: {}}} for s in statuses}
