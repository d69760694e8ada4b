"""Sign in, sign out, who am I; accounts and API tokens (architecture: roles)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import AwareDatetime, BaseModel, Field

from habeas.api.problems import responses
from habeas.api.security import app_state, client_address, guard, principal, rate_limited, release_connection
from habeas.domain.access import POLICY, Permission, Principal, Role
from habeas.services.accounts import AccountService

router = APIRouter(tags=["accounts"])


def _accounts(request: Request) -> AccountService:
    """The account service, after the request's connection went back to the pool (it opens its own)."""
    release_connection(request)
    return app_state(request).accounts


class SignIn(BaseModel):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=256)


class SessionOut(BaseModel):
    token: str = Field(description="Send as 'Authorization: Bearer <token>'")
    token_type: str = "bearer"  # noqa: S105 - the OAuth 2 token type, not a secret
    expires_at: datetime
    username: str
    role: Role
    scope: str | None


class Me(BaseModel):
    account_id: str
    username: str
    role: Role
    scope: str | None
    permissions: list[Permission]


class NewAccount(BaseModel):
    username: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._-]+$")
    display_name: str = Field(min_length=1, max_length=200)
    role: Role
    scope: str | None = Field(default=None, max_length=200, description="liaison: ISO 3166 alpha-3; court: its name")
    password: str | None = Field(default=None, min_length=12, max_length=256, description="None: token-only account")


class AccountOut(BaseModel):
    account_id: str
    username: str
    display_name: str
    role: Role
    scope: str | None
    created_at: datetime
    created_by: str
    disabled_at: datetime | None
    disabled_reason: str | None


class Reason(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class NewToken(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="The system that will use it")
    expires_at: AwareDatetime | None = None


class TokenOut(BaseModel):
    token_id: str
    token: str = Field(description="Shown once: only its hash is kept")
    expires_at: datetime | None


class Done(BaseModel):
    ok: bool = True


@router.post(
    "/auth/sign-in", response_model=SessionOut, responses=responses(401, 422, 429),
    dependencies=[Depends(rate_limited("sign-in"))],
)  # fmt: skip
def sign_in(body: SignIn, request: Request) -> SessionOut:
    session = _accounts(request).sign_in(body.username, body.password, client_address(request))
    p = session.principal
    return SessionOut(
        token=session.token, expires_at=session.expires_at, username=p.username, role=p.role, scope=p.scope
    )


@router.post("/auth/sign-out", response_model=Done, responses=responses(401))
def sign_out(request: Request, who: Annotated[Principal, Depends(principal)]) -> Done:
    token = request.headers["authorization"].partition(" ")[2]
    _accounts(request).sign_out(token)
    return Done()


@router.get("/auth/me", response_model=Me, responses=responses(401))
def me(who: Annotated[Principal, Depends(principal)]) -> Me:
    return Me(
        account_id=who.account_id, username=who.username, role=who.role, scope=who.scope,
        permissions=sorted(POLICY[who.role]),
    )  # fmt: skip


@router.get("/accounts", response_model=list[AccountOut], responses=responses(401, 403))
def list_accounts(request: Request, who: Principal = guard(Permission.ACCOUNTS_MANAGE)) -> list[dict[str, Any]]:
    return _accounts(request).list_accounts()


@router.post("/accounts", status_code=201, response_model=AccountOut, responses=responses(401, 403, 409, 422))
def add_account(body: NewAccount, request: Request, who: Principal = guard(Permission.ACCOUNTS_MANAGE)) -> Any:
    accounts = _accounts(request)
    accounts.add(who, body.username, body.display_name, body.role.value, body.password, scope=body.scope)
    return accounts.account(body.username)


@router.post("/accounts/{username}/disable", response_model=Done, responses=responses(401, 403, 404, 409, 422))
def disable_account(
    username: str, body: Reason, request: Request, who: Principal = guard(Permission.ACCOUNTS_MANAGE)
) -> Done:
    _accounts(request).disable(who, username, body.reason)
    return Done()


@router.post("/accounts/{username}/enable", response_model=Done, responses=responses(401, 403, 404, 409, 422))
def enable_account(
    username: str, body: Reason, request: Request, who: Principal = guard(Permission.ACCOUNTS_MANAGE)
) -> Done:
    _accounts(request).enable(who, username, body.reason)
    return Done()


@router.post(
    "/accounts/{username}/tokens",
    status_code=201,
    response_model=TokenOut,
    responses=responses(401, 403, 404, 409, 422),
)
def issue_token(
    username: str, body: NewToken, request: Request, who: Principal = guard(Permission.ACCOUNTS_MANAGE)
) -> TokenOut:
    issued = _accounts(request).issue_token(who, username, body.name, body.expires_at)
    return TokenOut(token_id=issued.token_id, token=issued.token, expires_at=issued.expires_at)


@router.post("/tokens/{token_id}/revoke", response_model=Done, responses=responses(401, 403, 404, 409, 422))
def revoke_token(
    token_id: str, body: Reason, request: Request, who: Principal = guard(Permission.ACCOUNTS_MANAGE)
) -> Done:
    _accounts(request).revoke_token(who, token_id, body.reason)
    return Done()
