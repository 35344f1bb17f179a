"""Identity over JSON: the caller, their API tokens, and (for admins) users."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from conveyor.bootstrap import Container
from conveyor.identity import service, users
from conveyor.identity.deps import Require, SignedIn, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.identity.schemas import Me, NewToken, Token, TokenCreate, User, UserCreate, UserUpdate
from conveyor.platform.pagination import RecordId
from conveyor.platform.problems import problem_responses

router = APIRouter(prefix="/api/v1", tags=["identity"])


@router.get("/me", response_model=Me, responses=problem_responses(401), summary="Who am I, and what may I do?")
def me(principal: Principal = SignedIn) -> Me:
    return Me(id=principal.user_id, email=principal.email, name=principal.name, role=principal.role,
              permissions=users.scope_choices(principal.permissions), customer_id=principal.customer_id,
              channel_id=principal.channel_id, via=principal.via)


@router.get("/tokens", response_model=list[Token], responses=problem_responses(401, 403),
            summary="Your API tokens (never their secrets)")
def list_tokens(principal: Principal = Require(Permission.TOKEN_OWN),
                c: Container = Depends(container)) -> list[Token]:
    now = c.clock.now()
    with c.db.read() as conn:
        rows = service.list_tokens(conn, user_id=principal.user_id)
    return [Token.of(row, now=now) for row in rows]


@router.post("/tokens", response_model=NewToken, status_code=201, responses=problem_responses(400, 401, 403, 422),
             summary="Create an API token; its secret is in this response only")
def create_token(body: TokenCreate, principal: Principal = Require(Permission.TOKEN_OWN),
                 c: Container = Depends(container)) -> NewToken:
    now = c.clock.now()
    with c.db.write() as conn:
        new = users.create_own_token(conn, principal, name=body.name, at=now, scopes=body.scopes,
                                     expires_at=body.expires_at)
        row = next(r for r in service.list_tokens(conn, user_id=principal.user_id) if r.id == new.id)
    return NewToken(**Token.of(row, now=now).model_dump(), token=new.token)


@router.delete("/tokens/{token_id}", status_code=204, responses=problem_responses(401, 403, 404, 422),
               summary="Revoke one of your API tokens")
def revoke_token(token_id: RecordId, principal: Principal = Require(Permission.TOKEN_OWN),
                 c: Container = Depends(container)) -> Response:
    with c.db.write() as conn:
        service.revoke_token(conn, token_id, at=c.clock.now(), user_id=principal.user_id)
    c.tokens.clear()
    return Response(status_code=204)


@router.get("/users", response_model=list[User], responses=problem_responses(401, 403),
            dependencies=[Require(Permission.USER_MANAGE)],
            summary="Every user, by email")
def list_users(c: Container = Depends(container)) -> list[User]:
    with c.db.read() as conn:
        return [User.of(row) for row in users.list_users(conn)]


@router.post("/users", response_model=User, status_code=201,
             responses=problem_responses(400, 401, 403, 409, 422), dependencies=[Require(Permission.USER_MANAGE)],
             summary="Create a user")
def create_user(body: UserCreate, c: Container = Depends(container)) -> User:
    with c.db.write() as conn:
        user_id = users.register_user(
            conn, email=body.email, name=body.name, password=body.password, role=body.role,
            at=c.clock.now(), customer_account=body.customer_account, channel_code=body.channel_code)
        return User.of(users.get_user(conn, user_id))


@router.patch("/users/{user_id}", response_model=User,
              responses=problem_responses(400, 401, 403, 404, 409, 422), dependencies=[Require(Permission.USER_MANAGE)],
              summary="Change a user's role, name or password, or (de)activate them")
def update_user(user_id: RecordId, body: UserUpdate, c: Container = Depends(container)) -> User:
    with c.db.write() as conn:
        row = users.update_user(
            conn, user_id, at=c.clock.now(), name=body.name, role=body.role, active=body.active,
            password=body.password, customer_account=body.customer_account, channel_code=body.channel_code)
    c.tokens.clear()  # role, scope or active may have changed
    return User.of(row)
