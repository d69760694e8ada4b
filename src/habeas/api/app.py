"""The FastAPI application: ``create_app(config)`` builds it; ``habeas serve`` runs it with uvicorn."""

from __future__ import annotations

from fastapi import FastAPI

from habeas import __version__ as version
from habeas.api import body, problems
from habeas.api.config import PREFIX, ApiConfig
from habeas.api.routes import auth, law, oversight, public, register, transfers
from habeas.api.security import AppState, new_limiter
from habeas.services.accounts import AccountService
from habeas.web import install as install_pages

ROUTERS = (auth.router, public.router, register.router, law.router, transfers.router, oversight.router)

DESCRIPTION = """\
habeas: a custody register in which nobody disappears.

Sign in at `POST /api/v1/auth/sign-in` (or use an API token) and send
`Authorization: Bearer <token>`.  What each role may do is in `GET /api/v1/auth/me`.
Errors are RFC 9457 problem details naming the field and the rule; a refusal by a
safeguard carries its rule id (`rule_id`, e.g. `R26`).  Reads of a person's record
are logged; say why with the `X-Habeas-Reason` header.
"""


def create_app(config: ApiConfig) -> FastAPI:
    app = FastAPI(title="habeas", version=version, description=DESCRIPTION, openapi_url=f"{PREFIX}/openapi.json",
                  docs_url=f"{PREFIX}/docs", redoc_url=None)  # fmt: skip
    app.state.habeas = AppState(
        config, AccountService(config.engine, config.ledger_id, config.clock, config.hasher,
                               session_ttl=config.session_ttl), new_limiter(),
    )  # fmt: skip
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router, prefix=PREFIX)
    body.add_schemas(app)
    install_pages(app)  # the web interface (habeas.web): pages share the app, its state and limits
    return app
