"""How the API answers what it refuses, and how /api/openapi.json documents it: domain errors as {detail} with
their HTTP status, a broken booking rule as {detail, reason, rules}, and request validation errors (a list, in a
form any input can be rendered in) under the same 422 as the values our rules refuse (a sentence)."""

import json
import math
from typing import Any, Literal

from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from shopfloor.domain.errors import DomainError, Invalid, LoginRefused, NotFound, Refused
from shopfloor.services.booking import BookingRefused
from shopfloor.services.settlement.delivery import DeliveryRefused
from shopfloor.services.workshop.dispatch import DispatchRefused


class Detail(BaseModel):
    detail: str


class BrokenRule(BaseModel):
    rule: Literal["capacity", "reserve", "stagger", "bay"]
    detail: str


class Refusal(BaseModel):
    detail: str
    reason: Literal["capacity", "reserve", "stagger", "bay"]
    rules: list[BrokenRule]


class DeliveryRefusalOut(BaseModel):
    detail: str
    reason: Literal["unpaid", "qc"] | None = Field(default=None, description=(
        "why delivered is refused (absent for the state machine's other refusals): unpaid: the customer's part is "
        "neither paid nor on account (checked first); qc: the order is not ready or its last configured quality "
        "check has not passed in the current round"))


# Every route answers these; 403 too, since every route needs a permission (shopfloor/contract/staff.py).
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Detail, "description": "missing or wrong bearer token"},
    403: {"model": Detail, "description": "the token's roles do not hold the permission this needs "
                                          "(x-permission; the detail names the roles that do)"},
    404: {"model": Detail, "description": "unknown tag, repair order, technician or printer"},
    409: {"model": Detail, "description": "refused by the rules (e.g. the state machine)"},
}
BOOKING_REFUSED: dict[int | str, dict[str, Any]] = {
    409: {"model": Refusal, "description": "it would break a booking rule (reason: the first one; rules: all of "
                                           "them); send override: {reason} to book anyway (logged)"}}

DELIVERY_REFUSED: dict[int | str, dict[str, Any]] = {
    409: {"model": DeliveryRefusalOut, "description": "refused by the rules; delivered is refused with a reason "
                                                      "until the order is settled and inspected"}}

_STATUS = {NotFound: 404, Refused: 409, Invalid: 422, LoginRefused: 403}
# A 422 shows at most this much of each refused input: enough to recognise it, never the whole body back.
MAX_ECHO_CHARS = 200


class InputProblem(BaseModel):
    """One input the request got wrong, as FastAPI's validation reports it."""

    loc: list[str | int] = Field(description="where: body, query, path or header, then the field's path")
    msg: str = Field(description="what is wrong (English)")
    type: str = Field(description="the kind of problem: missing, string_too_long, greater_than_equal, value_error …")
    input: Any = Field(default=None, description=f"what was sent; a longer one as the first {MAX_ECHO_CHARS} "
                                                 "characters of its JSON and its length")
    ctx: dict[str, Any] | None = Field(default=None, description="the limit it broke, e.g. {\"ge\": 0.1}")


class Unprocessable(BaseModel):
    detail: str | list[InputProblem] = Field(description=(
        "a list, one entry per input, when the request does not match this document (a field missing, of the wrong "
        "type or outside its documented range); a sentence when it does and a rule refuses one of its values (a "
        "day that has passed, an unknown labour operation)"))


def unprocessable(refused: str | None = None) -> dict[int | str, dict[str, Any]]:
    """A route's 422: the request does not match the document, or (`refused`) the values the rules refuse."""
    why = "the request does not match this document (detail: a list)"
    if refused:
        why += f", or {refused} (detail: a sentence)"
    return {422: {"model": Unprocessable, "description": why}}


# A route with a body: FastAPI answers 400 when the bytes are not text it can read as JSON (e.g. not UTF-8), the
# server 413 when there are too many of them (shopfloor/web/request_limits.py).
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Detail, "description": "the body could not be read: not JSON text in UTF-8"},
    413: {"model": Detail, "description": "the body is larger than the server takes ([web] max_body_kb; "
                                          "/imports: max_import_mb)"}}


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _short_input(error: Any) -> Any:
    """The error with a long `input` cut to its first MAX_ECHO_CHARS characters (as JSON text)."""
    if not isinstance(error, dict) or "input" not in error:
        return error
    text = json.dumps(error["input"], allow_nan=False)
    if len(text) <= MAX_ECHO_CHARS:
        return error
    return {**error, "input": f"{text[:MAX_ECHO_CHARS]}… ({len(text)} characters)"}


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = next((code for cls, code in _STATUS.items() if isinstance(exc, cls)), 400)
    body: dict[str, Any] = {"detail": exc.message("en")}
    if isinstance(exc, BookingRefused | DispatchRefused):  # which rules it broke, to override knowingly
        body["reason"] = exc.reason
        body["rules"] = [{"rule": v.rule, "detail": v.detail} for v in exc.violations]
    elif isinstance(exc, DeliveryRefused):  # why, for a machine: unpaid | qc
        body["reason"] = exc.reason
    return JSONResponse(body, status_code=status)


async def _invalid_request(_request: Request, exc: Exception) -> Response:
    # FastAPI's own handler echoes the input, and rendering it failed (a 500) for a lone surrogate
    # ({"tag": "\\ud800"}: not UTF-8) or a number too large for a float ({"tag": 1e999}: Infinity is not
    # JSON). ASCII-escaped JSON with non-finite numbers as text renders any input.
    assert isinstance(exc, RequestValidationError)
    errors = [_short_input(e) for e in _finite(jsonable_encoder(exc.errors()))]
    body = json.dumps({"detail": errors}, allow_nan=False)
    return Response(body, status_code=422, media_type="application/json")


def add_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
