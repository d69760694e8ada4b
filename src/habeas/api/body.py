"""Request bodies parsed the way the domain expects: JSON mode, strict, fields named on error.

The domain's payload models are strict (no silent coercion), which FastAPI's own body
parsing applies in Python mode, where an ISO 8601 string is not a datetime.  These
bodies are parsed from the raw JSON instead (pydantic's JSON mode parses times and
dates), and their schemas are added to the OpenAPI description by :func:`add_schemas`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from habeas.errors import InvalidInput, Problem

M = TypeVar("M", bound=BaseModel)
BODY_MODELS: dict[str, type[BaseModel]] = {}
REF = "#/components/schemas/{model}"


class MalformedJSON(Exception):
    """The body is not JSON at all (400), as opposed to JSON that breaks a rule (422)."""


def json_body(model: type[M]) -> Any:
    """A dependency giving the request body as ``model``, or a 422 naming each bad field."""
    BODY_MODELS[model.__name__] = model

    async def read(request: Request) -> M:
        raw = await request.body()
        if b"\\u0000" in raw:  # no identifier, name or text of the register holds a NUL (PostgreSQL refuses it)
            raise InvalidInput.one("body", "text must not contain a NUL character (\\u0000)")
        try:
            return model.model_validate_json(raw or b"null")
        except ValidationError as error:
            if any(e["type"] == "json_invalid" for e in error.errors()):
                raise MalformedJSON(str(error.errors()[0].get("ctx", {}).get("error", "invalid JSON"))) from None
            raise InvalidInput(
                [Problem(".".join(str(p) for p in e["loc"]) or "body", e["msg"]) for e in error.errors()]
            ) from None

    return Depends(read)


def body_doc(model: type[BaseModel], description: str | None = None) -> dict[str, Any]:
    """``openapi_extra`` for a route whose body is read by :func:`json_body`."""
    BODY_MODELS[model.__name__] = model
    return {
        "requestBody": {
            "required": True,
            "description": description or model.__doc__ or model.__name__,
            "content": {"application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}},
        }
    }


def add_schemas(app: FastAPI) -> None:
    """Generate the OpenAPI description with the body models' schemas in ``components``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        _, defs = models_json_schema([(m, "validation") for m in BODY_MODELS.values()], ref_template=REF)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in defs.get("$defs", {}).items():
            components.setdefault(name, definition)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
