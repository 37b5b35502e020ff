"""The JSON API alone on a bare FastAPI app, as the server mounts it, for tests that call it in process."""

from __future__ import annotations

from fastapi import FastAPI

from shopfloor.api.app import install
from shopfloor.api.deps import ApiServices
from shopfloor.contract.staff import StaffRole
from shopfloor.credentials import API_TOKEN_NAME, ApiToken
from shopfloor.services.context import ServiceContext


def integrator(token: str) -> ApiToken:
    """The [api] token's caller: named "api", holding every role."""
    return ApiToken(API_TOKEN_NAME, token, frozenset(StaffRole))


def api_app(ctx: ServiceContext, token: str, *more: ApiToken) -> FastAPI:
    """The API on `ctx`'s site, answering the integrator's `token` and any `more` named tokens."""
    app = FastAPI()
    install(app, ApiServices.on(ctx, [integrator(token), *more]))
    return app
