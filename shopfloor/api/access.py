"""Who is calling and what they may do: the bearer token names a caller (credentials.toml, or an API client made
in /setup), the caller's staff roles grant permissions (shopfloor/contract/staff.py), and every route names the
permission it needs.

A route that names none is refused where it is defined (GuardedRoute), so a new route cannot slip in open.
"""

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shopfloor.api.deps import Services
from shopfloor.contract.staff import Permission, StaffRole, may, roles_for
from shopfloor.services.audit import Actor, ActorKind

_bearer = HTTPBearer(auto_error=False, description="an API client's token (made in /setup → API clients, or "
                                                   "POST /api/v1/setup/api-clients), or one from credentials.toml: "
                                                   "[api] token, or the token of an [api_tokens.<name>] table")


def _names(roles: frozenset[StaffRole]) -> str:
    return ", ".join(r.value for r in StaffRole if r in roles) or "none"


@dataclass(frozen=True)
class Caller:
    """An API token's caller: its name is the actor of every change it makes."""

    name: str
    roles: frozenset[StaffRole]

    @property
    def actor(self) -> Actor:
        return Actor(self.name, ActorKind.API)

    def require(self, permission: Permission) -> None:
        """403 naming the roles that hold `permission`, so the integrator knows which token to ask for."""
        if not may(self.roles, permission):
            raise HTTPException(status_code=403, detail=(
                f"the API token {self.name!r} may not do this: it needs the permission {permission.value}, held by "
                f"the roles {_names(roles_for(permission))} (this token holds: {_names(self.roles)})"))


def authenticated(services: Services,
                  creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Caller:
    if creds is not None:
        given = creds.credentials.encode()
        # every token compared, in constant time each: the answer's timing does not tell how close a guess was
        found = [t for t in services.tokens if hmac.compare_digest(given, t.token.encode())]
        if found:
            return Caller(found[0].name, found[0].roles)
        # an API client from /setup: found by the token's digest (one indexed query), revoked ones never
        client = services.token_admin.caller(creds.credentials)
        if client is not None:
            return Caller(client.name, client.roles)
    raise HTTPException(status_code=401, detail="missing or wrong API token (Authorization: Bearer …)",
                        headers={"WWW-Authenticate": "Bearer"})


class Allowed:
    """The dependency that lets a caller through when its roles hold `permission`: `Depends(Allowed(p))`."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __call__(self, caller: Annotated[Caller, Depends(authenticated)]) -> Caller:
        caller.require(self.permission)
        return caller


def allowed(permission: Permission) -> Any:
    """For a route's parameters (`caller: Annotated[Caller, allowed(p)]`) or its `dependencies=[…]`."""
    return Depends(Allowed(permission))


def _permissions(dependant: Dependant) -> Iterator[Permission]:
    for dep in dependant.dependencies:
        if isinstance(dep.call, Allowed):
            yield dep.call.permission
        yield from _permissions(dep)


class GuardedRoute(APIRoute):
    """An API route that names exactly one Permission among its dependencies; documented in OpenAPI as
    x-permission with the roles that hold it (x-roles)."""

    def __init__(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        found = set(_permissions(self.dependant))
        if len(found) != 1:
            raise TypeError(f"API route {path} must depend on exactly one Allowed(Permission…), found {found or 0}")
        self.permission: Permission = found.pop()
        self.openapi_extra = {**(self.openapi_extra or {}), "x-permission": self.permission.value,
                              "x-roles": [r.value for r in StaffRole if r in roles_for(self.permission)]}
