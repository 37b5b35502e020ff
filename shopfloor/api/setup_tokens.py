"""/setup/api-clients and /setup/screens (issue 13): one token per integration, with the staff roles it may act as,
and one display token per wall screen. A token is answered once, in the 201 of the POST that makes it; the server
keeps only its SHA-256. Revoking takes effect on the next request."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import BODY_ERRORS, ERRORS, unprocessable
from shopfloor.api.fields import Id, Text
from shopfloor.api.shapes import Shape
from shopfloor.contract.staff import Permission, StaffRole
from shopfloor.services import views
from shopfloor.services.setup.tokens import ApiClientView, ScreenView

router = APIRouter(route_class=GuardedRoute, tags=["setup: access"])
RoleIn = StaffRole
Responses = dict[int | str, dict[str, Any]]
NAME_TAKEN: Responses = {409: {**ERRORS[409], "description": (
    "the name is taken on this site (a name is the actor of what the client changes, so it names one client)")}}
NOT_FOUND: Responses = {404: {**ERRORS[404], "description": "no such API client / screen on this site"}}


def _at(moment: datetime | None, api: Services) -> str | None:
    return views.at(moment, api.ctx.tz) if moment is not None else None


class ApiClientOut(Shape):
    id: int
    name: str = Field(description="the actor of every change the client makes")
    roles: list[str] = Field(description="the staff roles it acts as (shopfloor/contract/staff.py)")
    token_hint: str = Field(description="the token's first characters, to tell tokens apart")
    active: bool
    created_at: str
    created_by: str
    revoked_at: str | None
    revoked_by: str | None
    last_used_at: str | None = Field(description="written at most once a minute")


class NewApiClientOut(ApiClientOut):
    token: str = Field(description="the bearer token: shown in this answer only, never again")


class ScreenOut(Shape):
    id: int
    name: str
    token_hint: str
    active: bool
    created_at: str
    created_by: str
    revoked_at: str | None
    last_seen_at: str | None = Field(description="the screen's last page load or pairing check (once a minute)")
    last_address: str | None = Field(description="the address it was last seen from")


class NewScreenOut(ScreenOut):
    token: str = Field(description="the display token: shown in this answer only, never again")
    pairing_paths: list[str] = Field(description="the board pages to open once on the screen, with ?token=")


def client_out(v: ApiClientView, api: Services) -> ApiClientOut:
    return ApiClientOut(id=v.id, name=v.name, roles=[r.value for r in StaffRole if r in v.roles],
                        token_hint=v.token_hint, active=v.active, created_at=views.at(v.created_at, api.ctx.tz),
                        created_by=v.created_by, revoked_at=_at(v.revoked_at, api), revoked_by=v.revoked_by,
                        last_used_at=_at(v.last_used_at, api))


def screen_out(v: ScreenView, api: Services) -> ScreenOut:
    return ScreenOut(id=v.id, name=v.name, token_hint=v.token_hint, active=v.active,
                     created_at=views.at(v.created_at, api.ctx.tz), created_by=v.created_by,
                     revoked_at=_at(v.revoked_at, api), last_seen_at=_at(v.last_seen_at, api),
                     last_address=v.last_address)


class ApiClientBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Text = Field(min_length=1, max_length=80, description="unique on the site: 'DMS', 'call centre'")
    roles: list[RoleIn] = Field(min_length=1, description="the staff roles the client may act as")


class ScreenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Text = Field(min_length=1, max_length=80, description="unique on the site: 'workshop wall'")


@router.get("/setup/api-clients", summary="The API clients (active first)", responses=unprocessable())
def get_clients(api: Services, _caller: Annotated[Caller, allowed(Permission.SETUP)]) -> list[ApiClientOut]:
    """The tokens made in /setup; those of credentials.toml are not listed (they live in that file)."""
    return [client_out(v, api) for v in api.token_admin.clients()]


@router.post("/setup/api-clients", summary="Make an API client and its token", status_code=201,
             responses=BODY_ERRORS | NAME_TAKEN | unprocessable("an empty name, no roles"))
def post_client(api: Services, caller: Annotated[Caller, allowed(Permission.SETUP)],
                body: ApiClientBody) -> NewApiClientOut:
    """The answer holds the token, once: the server keeps only its SHA-256."""
    view, token = api.token_admin.create_client(body.name, body.roles, caller.actor)
    return NewApiClientOut(**client_out(view, api).model_dump(), token=token)


@router.post("/setup/api-clients/{client_id}/revoke", summary="Revoke an API client's token",
             responses=NOT_FOUND | unprocessable())
def post_client_revoke(api: Services, caller: Annotated[Caller, allowed(Permission.SETUP)],
                       client_id: Id) -> ApiClientOut:
    """Its next request gets 401. Revoking a revoked client changes nothing."""
    return client_out(api.token_admin.revoke_client(client_id, caller.actor), api)


@router.get("/setup/screens", summary="The wall screens (active first)", responses=unprocessable())
def get_screens(api: Services, _caller: Annotated[Caller, allowed(Permission.SETUP)]) -> list[ScreenOut]:
    return [screen_out(v, api) for v in api.token_admin.screens()]


@router.post("/setup/screens", summary="Make a wall screen and its display token", status_code=201,
             responses=BODY_ERRORS | NAME_TAKEN | unprocessable("an empty name"))
def post_screen(api: Services, caller: Annotated[Caller, allowed(Permission.SETUP)],
                body: ScreenBody) -> NewScreenOut:
    """Open /board/appointments?token=… (or /board/progress) once on the screen: it stays paired until revoked."""
    view, token = api.token_admin.create_screen(body.name, caller.actor)
    return NewScreenOut(**screen_out(view, api).model_dump(), token=token,
                        pairing_paths=[f"/board/appointments?token={token}", f"/board/progress?token={token}"])


@router.post("/setup/screens/{screen_id}/revoke", summary="Revoke a wall screen",
             responses=NOT_FOUND | unprocessable())
def post_screen_revoke(api: Services, caller: Annotated[Caller, allowed(Permission.SETUP)],
                       screen_id: Id) -> ScreenOut:
    """The screen is shut out at its next page load, and within a minute if a board is open on it."""
    return screen_out(api.token_admin.revoke_screen(screen_id, caller.actor), api)
