"""/repair-orders/{number}/estimate and /handover (issue 11, reception: steps 3–5): the priced estimate in versions,
what the advisor settles with the customer (discount, payers, keep parts, follow-up), the customer's signature over
exactly the version they saw (409 when it is no longer the current one), and the vehicle handover record."""

import base64
import binascii
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import BODY_ERRORS, unprocessable
from shopfloor.api.fields import MAX_ID, Id, RoNumber, Text
from shopfloor.api.shapes import Shape
from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import Invalid, NotFound
from shopfloor.services import views
from shopfloor.services.reception.estimate import EstimateView
from shopfloor.services.reception.handover import HandoverView
from shopfloor.services.reception.signed_documents import MAX_SIGNATURE_BYTES, SignatureResult, VersionInfo

router = APIRouter(route_class=GuardedRoute, tags=["reception"])
Version = Annotated[int, Path(ge=1, le=MAX_ID, description="the version's number, 1 first")]
# base64 of the largest PNG taken, with room for a data: URL's prefix
MAX_BASE64 = (MAX_SIGNATURE_BYTES + 2) // 3 * 4 + 64
PNG_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"description": "the signature as the pad drew it", "content": {
    "image/png": {"schema": {"type": "string", "format": "binary"}}}}}
SIGNATURE_REFUSED = ("a signature that is not a PNG, is blank or is larger than 1 MB, bad base64, a signer's name "
                     "that is empty")


class EstimateLineOut(Shape):
    kind: str = Field(description="labour | part")
    description: str
    quantity: float = Field(description="labour: flat-rate hours; part: the quantity")
    unit_price: float = Field(description="labour: the rate per hour for the line's skill; yuan")
    amount: float = Field(description="quantity × unit price, yuan, two decimals")
    payer: str = Field(description="customer | warranty | insurance | internal")
    job_line: int = Field(description="the job line it prices")
    code: str | None = Field(description="the labour operation's code, the part's number")


class EstimateOut(Shape):
    version: int = Field(description="the version shown; signing names it")
    lines: list[EstimateLineOut]
    labour_total: float = Field(description="every labour line, whoever pays it")
    parts_total: float = Field(description="every part line, whoever pays it")
    discount: float = Field(description="off the customer's part")
    discount_reason: str
    total: float = Field(description="labour + parts − discount")
    customer_total: float = Field(description="what the customer pays: their lines − discount")
    payer_totals: dict[str, float] = Field(description="what warranty, insurance or the site itself pay")
    currency: str = Field(examples=["CNY"])
    signed: bool = Field(description="this version carries the customer's signature")
    signed_at: str | None
    signer: str | None
    digest: str | None = Field(description="SHA-256 binding the content's digest, the signature, signer and time")
    content_digest: str = Field(description="SHA-256 of the version's content as canonical JSON")
    last_signed_version: int | None = Field(description="an earlier signed version, while this one waits for its "
                                                        "own signature")
    promised_at: str | None
    keep_replaced_parts: bool | None
    followup_channel: str | None
    terms: str
    changes: list[str] = Field(description="what differs from the last signed version, as the customer reads it")
    consent: str | None = Field(description="signature: signed; decision: not signed, but it differs from the last "
                                            "signed version only by additional work the customer approved (their "
                                            "recorded decision is the consent); null: needs the signature")
    consented_by: list[str] = Field(description="the decisions that consent to it: how, when, what")


class PartBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    job_line: int = Field(ge=1, le=MAX_ID, description="the job line the part is for")
    part: Text = Field(min_length=1, max_length=40, description="the part's number in the parts catalogue")
    quantity: Decimal = Field(gt=0, le=1000, decimal_places=2)


class EstimateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    discount: Decimal | None = Field(default=None, ge=0, le=1_000_000, decimal_places=2,
                                     description="yuan off the customer's part; over [reception] "
                                                 "max_discount_percent of it needs estimate.discount_over_limit")
    discount_reason: Text | None = Field(default=None, max_length=200, description="needed with a discount")
    keep_replaced_parts: bool | None = None
    followup_channel: Text | None = Field(default=None, max_length=12,
                                          description="sms | wechat | phone | email | none")
    payers: dict[int, Text] | None = Field(default=None, max_length=100,
                                           description="job line id → customer | warranty | insurance | internal")
    customer_leaves_car: bool | None = Field(default=None, description="the handover record is needed when true")


class SignatureBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=MAX_ID, description="the version the customer was shown")
    signer: Text = Field(min_length=1, max_length=80, description="the customer's name as they give it")
    signature_png: str = Field(min_length=1, max_length=MAX_BASE64,
                               description="the pad's PNG, base64 (a data:image/png;base64, prefix is accepted)")


class SignatureOut(Shape):
    signed_at: str = Field(description="ISO 8601 in the site's zone")
    digest: str


class VersionOut(Shape):
    version: int
    created_at: str
    created_by: str
    signed_at: str | None
    signer: str | None
    digest: str | None
    witnessed_by: str | None = Field(description="who held the tablet (the token's name through the API)")
    total: float | None
    customer_total: float | None
    changes: list[str]
    content_digest: str
    verified: bool = Field(description="the stored content and signature still match their digests")
    superseded: bool = Field(description="not signed and a later version exists: a draft nobody signs any more")
    consent: str | None = Field(description="signature | decision (approved additional work only) | null")
    consented_by: list[str]


class HandoverOut(Shape):
    version: int
    required: bool = Field(description="the work is longer than [reception] handover_hours or the customer leaves "
                                       "the car")
    recorded: bool = Field(description="the walkaround it is made from is recorded (signing needs it)")
    content: dict[str, Any] = Field(description="as the customer reads it: marks, fuel, odometer, valuables, "
                                                "protection kit, the promise")
    signed: bool
    signed_at: str | None
    signer: str | None
    digest: str | None
    content_digest: str
    last_signed_version: int | None


def estimate_of(v: EstimateView, api: Services) -> EstimateOut:
    return EstimateOut(
        version=v.version, lines=[EstimateLineOut(
            kind=x.kind, description=x.description, quantity=float(x.quantity), unit_price=float(x.unit_price),
            amount=float(x.amount), payer=x.payer, job_line=x.job_line_id, code=x.code) for x in v.lines],
        labour_total=float(v.labour_total), parts_total=float(v.parts_total), discount=float(v.discount),
        discount_reason=v.discount_reason, total=float(v.total), customer_total=float(v.customer_total),
        payer_totals={k: float(x) for k, x in v.payer_totals.items()}, currency=v.currency, signed=v.signed,
        signed_at=views.iso(v.signed_at, api.ctx.tz), signer=v.signer, digest=v.digest,
        content_digest=v.content_digest, last_signed_version=v.last_signed_version, promised_at=v.promised_at,
        keep_replaced_parts=v.keep_replaced_parts, followup_channel=v.followup_channel, terms=v.terms,
        changes=v.changes, consent=v.consent, consented_by=v.consented_by)


def signed_of(result: SignatureResult, api: Services) -> SignatureOut:
    return SignatureOut(signed_at=views.at(result.signed_at, api.ctx.tz), digest=result.digest)


def version_of(v: VersionInfo, verified: bool, api: Services) -> VersionOut:
    tz = api.ctx.tz

    def amount(x: Decimal | None) -> float | None:
        return None if x is None else float(x)

    return VersionOut(version=v.version, created_at=views.at(v.created_at, tz), created_by=v.created_by,
                      signed_at=views.iso(v.signed_at, tz), signer=v.signer, digest=v.digest,
                      witnessed_by=v.witnessed_by, total=amount(v.total), customer_total=amount(v.customer_total),
                      changes=v.changes, content_digest=v.content_digest, verified=verified,
                      superseded=v.superseded, consent=v.consent, consented_by=v.consented_by)


def handover_of(v: HandoverView, api: Services) -> HandoverOut:
    return HandoverOut(version=v.version, required=v.required, recorded=v.recorded, content=v.content,
                       signed=v.signed, signed_at=views.iso(v.signed_at, api.ctx.tz), signer=v.signer,
                       digest=v.digest, content_digest=v.content_digest, last_signed_version=v.last_signed_version)


def png_of(text: str) -> bytes:
    prefix = "data:image/png;base64,"
    raw = text[len(prefix):] if text.startswith(prefix) else text
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("estimate.error.signature_not_png") from None


@router.get("/repair-orders/{number}/estimate", summary="The estimate as it stands (a new version when the order "
            "changed since the last)", responses=unprocessable())
def get_estimate(api: Services, caller: Annotated[Caller, allowed(Permission.REPAIR_ORDER_READ)],
                 number: RoNumber) -> EstimateOut:
    return estimate_of(api.reception.estimate.current(number, actor=caller.actor), api)


@router.patch("/repair-orders/{number}/estimate", summary="Settle the discount, payers, replaced parts, follow-up "
              "channel", responses=BODY_ERRORS | unprocessable(
                  "an unknown payer or channel, a discount more than the customer pays or without a reason"))
def patch_estimate(api: Services, caller: Annotated[Caller, allowed(Permission.RECEPTION)], number: RoNumber,
                   body: EstimateBody) -> EstimateOut:
    view = api.reception.estimate.update(
        number, actor=caller.actor, roles=caller.roles, discount=body.discount, discount_reason=body.discount_reason,
        keep_replaced_parts=body.keep_replaced_parts, followup_channel=body.followup_channel, payers=body.payers,
        customer_leaves_car=body.customer_leaves_car)
    return estimate_of(view, api)


@router.delete("/repair-orders/{number}/estimate/lines/{job_line}", summary="The customer declined a line before "
               "work on it started (kept on the vehicle as declined work)", responses=unprocessable())
def delete_line(api: Services, caller: Annotated[Caller, allowed(Permission.RECEPTION)], number: RoNumber,
                job_line: Id) -> EstimateOut:
    return estimate_of(api.reception.estimate.remove_line(number, job_line, actor=caller.actor, roles=caller.roles),
                       api)


@router.post("/repair-orders/{number}/estimate/parts", summary="A catalogue part on a job line, at its catalogue "
             "price (a new version to sign)", status_code=201,
             responses=BODY_ERRORS | unprocessable("a part the catalogue does not have, a quantity out of range"))
def post_estimate_part(api: Services, caller: Annotated[Caller, allowed(Permission.RECEPTION)], number: RoNumber,
                       body: PartBody) -> EstimateOut:
    view = api.reception.estimate.add_part(number, body.job_line, body.part, body.quantity, actor=caller.actor)
    return estimate_of(view, api)


@router.post("/repair-orders/{number}/estimate/signature", summary="The customer's signature on the version shown",
             status_code=201, responses=BODY_ERRORS | unprocessable(SIGNATURE_REFUSED) | {
                 409: {"description": "that version is no longer the current one (or is signed already)"}})
def post_estimate_signature(api: Services, caller: Annotated[Caller, allowed(Permission.RECEPTION)],
                            number: RoNumber, body: SignatureBody) -> SignatureOut:
    result = api.reception.estimate.sign(number, body.version, body.signer, png_of(body.signature_png),
                                         actor=caller.actor)
    return signed_of(result, api)


@router.get("/repair-orders/{number}/estimate/versions", summary="Every version of the estimate, who signed when",
            dependencies=[allowed(Permission.REPAIR_ORDER_READ)], responses=unprocessable())
def get_estimate_versions(api: Services, number: RoNumber) -> list[VersionOut]:
    estimate = api.reception.estimate
    return [version_of(v, estimate.verify(number, v.version), api) for v in estimate.versions(number)]


@router.get("/repair-orders/{number}/estimate/versions/{version}/signature.png", summary="The signature of a "
            "version, as drawn", dependencies=[allowed(Permission.REPAIR_ORDER_READ)], response_class=Response,
            responses=PNG_RESPONSE | unprocessable())
def get_estimate_signature(api: Services, number: RoNumber, version: Version) -> Response:
    doc = api.reception.estimate.document(number, version)
    if doc.signature_png is None:
        raise NotFound("estimate.error.not_signed", version=version)
    return Response(doc.signature_png, media_type="image/png", headers={"X-Content-Type-Options": "nosniff"})


@router.get("/repair-orders/{number}/handover", summary="The vehicle handover record (交接车登记) as it stands",
            responses=unprocessable())
def get_handover(api: Services, caller: Annotated[Caller, allowed(Permission.REPAIR_ORDER_READ)],
                 number: RoNumber) -> HandoverOut:
    return handover_of(api.reception.handover.current(number, actor=caller.actor), api)


@router.post("/repair-orders/{number}/handover/signature", summary="The customer's signature on the handover record",
             status_code=201, responses=BODY_ERRORS | unprocessable(SIGNATURE_REFUSED) | {
                 409: {"description": "that version is no longer the current one, or no walkaround is recorded"}})
def post_handover_signature(api: Services, caller: Annotated[Caller, allowed(Permission.RECEPTION)],
                            number: RoNumber, body: SignatureBody) -> SignatureOut:
    result = api.reception.handover.sign(number, body.version, body.signer, png_of(body.signature_png),
                                         actor=caller.actor)
    return signed_of(result, api)

