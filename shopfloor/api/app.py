"""The JSON API under /api/v1: the kiosk's and the booking desk's operations for other systems (DMS, call
centre, scripts, tests), calling the same services. One module per resource; this one puts them together."""

from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.utils import get_openapi

from shopfloor.api import (
    additional_work,
    appointments,
    audit,
    carry_over,
    catalogue,
    clockings,
    complaints,
    customers,
    delivery,
    dispatch,
    documents,
    estimate,
    follow_ups,
    imports,
    kpis,
    messages,
    order_photos,
    parts,
    personal_data,
    print_jobs,
    promises,
    quality,
    repair_orders,
    settlement,
    settlement_documents,
    setup_catalogue,
    setup_people,
    setup_tokens,
    slots_capacity,
    staff_pins,
    walkaround,
)
from shopfloor.api.access import authenticated
from shopfloor.api.deps import ApiServices, attach
from shopfloor.api.errors import ERRORS, add_handlers
from shopfloor.api.fields import PREFIX

RESOURCES = (appointments, slots_capacity, customers, imports, repair_orders, print_jobs, catalogue, audit, dispatch,
             clockings, additional_work, quality, promises, carry_over, parts, walkaround, order_photos, estimate,
             documents, settlement, delivery, settlement_documents, messages, follow_ups, complaints, kpis,
             staff_pins, setup_people, setup_catalogue,
             setup_tokens, personal_data)
DESCRIPTION = """Bearer token: an API client's token, made in /setup → API clients (or POST /setup/api-clients) with
the staff roles it may act as, shown once and revocable; or `[api] token` in credentials.toml (the caller named
"api", holding every staff role), or the token of an `[api_tokens.<name>]` table there, with `roles = [...]`
(shopfloor/contract/staff.py).

Every operation names the permission it needs (`x-permission`) and the roles that hold it (`x-roles`); a token
without one of them gets 403. The actor of every change is the token's name: `actor` fields in request bodies
are accepted and ignored.

A refusal answers `{"detail": …}`, in English: a sentence for 401, 403, 404 and 409 (a broken booking rule adds
`reason` and `rules`); for 422 a list with one entry per input when the request does not match this document,
or a sentence when it does and a rule refuses a value (a day that has passed, an unknown labour operation). Each
operation lists what its rules refuse. A body that is not JSON text in UTF-8 gets 400, one over the server's
limit 413. Text fields refuse control characters (NUL included) and direction overrides; line breaks and tabs
are fine."""


def build_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX, dependencies=[Depends(authenticated)], responses=ERRORS)
    for resource in RESOURCES:
        router.include_router(resource.router)
    return router


def install(app: FastAPI, services: ApiServices) -> None:
    """The API on `app`, answering from `services`, with its OpenAPI document at /api/openapi.json."""
    attach(app, services)
    router = build_router()
    app.include_router(router)
    add_handlers(app)
    schema: dict[str, Any] = {}

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi() -> dict[str, Any]:
        if not schema:
            schema.update(get_openapi(title="shopfloor API", version="1", routes=router.routes,
                                      description=DESCRIPTION))
        return schema
