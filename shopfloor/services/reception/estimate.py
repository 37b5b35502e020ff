"""The estimate (估价单): priced lines, discount, payer per line, versions, and the customer's signature over exactly
what they saw.

Labour is the line's flat-rate hours × the site's rate for its skill ([reception] labour_rates, else [workshop]
labour_rate); parts are the job line's parts lines (quantity × unit price). Every line is priced to its payer:
warranty, insurance and internal lines count in the total, not in what the customer pays. The discount comes off
the customer's part. Each time the priced content differs from the latest stored version a new version is stored
(signed_documents.py); a signed version is never written again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from shopfloor.contract.staff import Permission, StaffRole, may
from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.models import JobLine, RepairOrder, VehicleItem
from shopfloor.domain.parts import MAX_QUANTITY, PartsLineStatus, normalize_number
from shopfloor.domain.states import OPEN_STATUSES, RoStatus
from shopfloor.domain.text import has_control_characters
from shopfloor.domain.walkaround import DocumentKind, FollowupChannel, Payer
from shopfloor.domain.workshop import LineStatus
from shopfloor.i18n import t
from shopfloor.services.audit import SYSTEM, Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.parts.catalogue import decimal_of, find_part
from shopfloor.services.parts.counter import new_line
from shopfloor.services.reception import signed_documents as docs
from shopfloor.services.reception.estimate_consent import SIGNATURE, consent_of, keyed
from shopfloor.services.reception.signed_documents import SignatureResult, StoredDocument, VersionInfo
from shopfloor.services.workshop.order_status import follow_lines, load_order, publish, require_open

__all__ = ["EstimateLine", "EstimateService", "EstimateView", "SignatureResult", "StoredDocument", "VersionInfo"]

CENT = Decimal("0.01")
CURRENCY = "CNY"
MAX_DISCOUNT = Decimal(1_000_000)
MAX_REASON = 200
KIND = DocumentKind.ESTIMATE.value
# lines not yet worked on may be taken off: the customer declined them
REMOVABLE = (LineStatus.WAITING.value, LineStatus.DISPATCHED.value)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class EstimateLine:
    kind: str  # labour | part
    description: str
    quantity: Decimal  # hours for labour
    unit_price: Decimal
    amount: Decimal
    payer: str  # shopfloor.domain.walkaround.Payer
    job_line_id: int
    code: str | None  # the labour operation's code, the part's number


@dataclass(frozen=True)
class EstimateView:
    version: int
    lines: list[EstimateLine]
    labour_total: Decimal
    parts_total: Decimal
    discount: Decimal
    discount_reason: str
    total: Decimal  # every line, whoever pays it, less the discount
    customer_total: Decimal  # what the customer pays: their lines less the discount
    currency: str
    signed: bool  # this version is signed
    signed_at: datetime | None
    signer: str | None
    digest: str | None
    promised_at: str | None  # ISO 8601 in the site's zone, as the customer read it
    keep_replaced_parts: bool | None
    followup_channel: str | None
    terms: str
    changes: list[str]  # what differs from the last signed version, as the customer reads it
    number: str = ""
    plate: str = ""
    customer: str = ""
    payer_totals: dict[str, Decimal] = field(default_factory=dict)  # warranty, insurance, internal: theirs
    content_digest: str = ""
    last_signed_version: int | None = None  # an earlier signed version while this one waits for its signature
    # "signature": signed; "decision": unsigned, but its only differences from the last signed version are lines
    # of approved additional work, consented by those decisions (consented_by); None: needs the signature
    consent: str | None = None
    consented_by: list[str] = field(default_factory=list)


def _line(kind: str, description: str, quantity: Decimal, unit_price: Decimal, payer: str, job_line: int,
          code: str | None) -> dict[str, Any]:
    return {"kind": kind, "description": description, "quantity": str(money(quantity)),
            "unit_price": str(money(unit_price)), "amount": str(money(quantity * unit_price)), "payer": payer,
            "job_line_id": job_line, "code": code}


def live_lines(ro: RepairOrder) -> list[JobLine]:
    return [line for line in ro.job_lines if line.status != LineStatus.CANCELLED]


def priced_lines(ro: RepairOrder, ctx: ServiceContext) -> list[dict[str, Any]]:
    """Each live job line's labour, then its parts, in the order's order."""
    out = []
    fallback = ctx.settings.workshop.labour_rate
    for line in live_lines(ro):
        rate = Decimal(str(ctx.settings.reception.labour_rate(line.skill, fallback)))
        out.append(_line("labour", line.description, line.hours, rate, line.payer, line.id, line.operation_code))
        out += [_line("part", p.name or p.number, p.quantity, p.unit_price, line.payer, line.id, p.number or None)
                for p in line.parts]
    return out


def _sum(lines: list[dict[str, Any]], **match: str) -> Decimal:
    return money(sum((Decimal(x["amount"]) for x in lines if all(x[k] == v for k, v in match.items())),
                     Decimal(0)))


def customer_subtotal(ro: RepairOrder, ctx: ServiceContext) -> Decimal:
    return _sum(priced_lines(ro, ctx), payer=Payer.CUSTOMER.value)


def content_of(ro: RepairOrder, ctx: ServiceContext, last_signed: dict[str, Any] | None) -> dict[str, Any]:
    """The estimate exactly as the customer is shown it (and signs it)."""
    lines = priced_lines(ro, ctx)
    subtotal = _sum(lines, payer=Payer.CUSTOMER.value)
    discount = min(money(ro.discount or Decimal(0)), subtotal)
    labour, parts = _sum(lines, kind="labour"), _sum(lines, kind="part")
    others = {p.value: _sum(lines, payer=p.value) for p in Payer if p != Payer.CUSTOMER}
    content: dict[str, Any] = {
        "kind": KIND, **docs.header(ro, ctx), "currency": CURRENCY, "lines": lines,
        "labour_total": str(labour), "parts_total": str(parts), "discount": str(discount),
        "discount_reason": ro.discount_reason if discount else "",
        "total": str(money(labour + parts - discount)), "customer_total": str(money(subtotal - discount)),
        "payer_totals": {k: str(v) for k, v in others.items() if v},
        "terms": ctx.settings.reception.estimate_terms, "keep_replaced_parts": ro.keep_replaced_parts,
        "followup_channel": ro.followup_channel}
    content["changes"] = changes(last_signed, content, ctx.settings.site.language, ctx.tz) if last_signed else []
    return content


def changes(old: dict[str, Any], new: dict[str, Any], lang: str, tz: tzinfo | None = None) -> list[str]:
    """What the customer signs for the second time: the lines added, taken off or repriced since the last signed
    version, and the other terms that moved — in words the customer reads (payers, channels, local times)."""
    def flag(value: object, key: str = "") -> str:
        word = "unset" if value is None else "yes" if value is True else "no" if value is False else ""
        if word:
            return t(lang, f"estimate.change.{word}")
        if key == "followup_channel":
            return t(lang, f"estimate.channel.{value}")
        if key == "promised_at" and isinstance(value, str):
            try:
                at = datetime.fromisoformat(value)
            except ValueError:
                return value
            return (at.astimezone(tz) if tz is not None and at.tzinfo else at).strftime("%Y-%m-%d %H:%M")
        return str(value)

    before, after = keyed(old.get("lines") or []), keyed(new["lines"])
    out = [t(lang, "estimate.change.removed", line=x["description"], amount=x["amount"])
           for k, x in before.items() if k not in after]
    for k, x in after.items():
        was = before.get(k)
        if was is None:
            out.append(t(lang, "estimate.change.added", line=x["description"], amount=x["amount"]))
            continue
        if (was["quantity"], was["unit_price"], was["amount"]) != (x["quantity"], x["unit_price"], x["amount"]):
            out.append(t(lang, "estimate.change.changed", line=x["description"], before=was["amount"],
                         after=x["amount"]))
        if was["payer"] != x["payer"]:
            out.append(t(lang, "estimate.change.payer", line=x["description"],
                         before=t(lang, f"estimate.payer.{was['payer']}"),
                         after=t(lang, f"estimate.payer.{x['payer']}")))
    for key, name in (("discount", "discount"), ("promised_at", "promised"), ("keep_replaced_parts", "keep_parts"),
                      ("followup_channel", "channel")):
        if old.get(key) != new.get(key):
            out.append(t(lang, f"estimate.change.{name}", before=flag(old.get(key), key),
                         after=flag(new.get(key), key)))
    if old.get("terms") != new.get("terms"):
        out.append(t(lang, "estimate.change.terms"))
    if old.get("customer_total") != new.get("customer_total"):
        out.append(t(lang, "estimate.change.total", before=old.get("customer_total"),
                     after=new.get("customer_total")))
    return out


def _view(doc: Any, last_signed: int | None, said: list[str] | None = None, consent: str | None = None,
          consented_by: list[str] | None = None) -> EstimateView:
    c = doc.content
    lines = [EstimateLine(x["kind"], x["description"], Decimal(x["quantity"]), Decimal(x["unit_price"]),
                          Decimal(x["amount"]), x["payer"], int(x["job_line_id"]), x.get("code"))
             for x in c["lines"]]
    return EstimateView(
        version=doc.version, lines=lines, labour_total=Decimal(c["labour_total"]),
        parts_total=Decimal(c["parts_total"]), discount=Decimal(c["discount"]),
        discount_reason=c.get("discount_reason") or "", total=Decimal(c["total"]),
        customer_total=Decimal(c["customer_total"]), currency=c["currency"], signed=doc.signed_at is not None,
        signed_at=doc.signed_at, signer=doc.signer, digest=doc.digest, promised_at=c.get("promised_at"),
        keep_replaced_parts=c.get("keep_replaced_parts"), followup_channel=c.get("followup_channel"),
        terms=c.get("terms") or "", changes=list(c.get("changes") or []) if said is None else said,
        number=c.get("number", ""),
        plate=c.get("plate", ""), customer=c.get("customer", ""),
        payer_totals={k: Decimal(v) for k, v in (c.get("payer_totals") or {}).items()},
        content_digest=doc.content_digest,
        last_signed_version=last_signed if last_signed != doc.version else None,
        consent=SIGNATURE if doc.signed_at is not None else consent, consented_by=list(consented_by or []))


def _moved(field_name: str, before: object, after: object) -> dict[str, Any]:
    """The audit detail of a setting changed: the field and its raw values (the card history words them)."""
    return {"field": field_name, "before": before, "after": after}


def _decimal(value: object) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise Invalid("estimate.error.discount_invalid") from None
    if not amount.is_finite() or not 0 <= amount <= MAX_DISCOUNT or amount != amount.quantize(CENT):
        raise Invalid("estimate.error.discount_invalid")
    return money(amount)


class EstimateService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # -- reading -------------------------------------------------------------------------------------------
    def _reading(self, s: Session, ro: RepairOrder, doc: Any, before: Any, lang: str | None) -> tuple[
            list[str] | None, str | None, list[str]]:
        """(changes in `lang` — None: as stored —, consent, consented_by) of `doc`, whose last signed version
        before it is `before`."""
        said = None if lang is None else changes(before.content, doc.content, lang, self.ctx.tz) if before else []
        if doc.signed_at is not None:
            return said, SIGNATURE, []
        consent, by = consent_of(s, ro, doc.content, before.content if before else None,
                                 lang or self.ctx.settings.site.language, self.ctx.tz)
        return said, consent, by

    def _present(self, s: Session, ro: RepairOrder, doc: Any, lang: str | None) -> EstimateView:
        signed = docs.last_signed(s, ro, KIND)
        said, consent, by = self._reading(s, ro, doc, docs.signed_before(s, ro, KIND, doc.version), lang)
        return _view(doc, signed.version if signed else None, said, consent, by)

    def _latest_view(self, s: Session, ro: RepairOrder, lang: str | None) -> EstimateView | None:
        """The latest stored version when it still says what the order says (or the order is closed: what was
        stored stands); None when a new version is due."""
        last = docs.latest(s, ro, KIND)
        if last is None:
            return None
        signed = docs.last_signed(s, ro, KIND)
        if RoStatus(ro.status) not in OPEN_STATUSES or docs.substance(last.content) == docs.substance(
                content_of(ro, self.ctx, signed.content if signed else None)):
            return self._present(s, ro, last, lang)
        return None

    def _materialize(self, s: Session, ro: RepairOrder, actor: Actor | str, lang: str | None = None) -> EstimateView:
        last = docs.latest(s, ro, KIND)
        if last is not None and RoStatus(ro.status) not in OPEN_STATUSES:
            return self._present(s, ro, last, lang)
        signed = docs.last_signed(s, ro, KIND)
        doc = docs.store(s, self.ctx, ro, KIND, content_of(ro, self.ctx, signed.content if signed else None), actor)
        return self._present(s, ro, doc, lang)

    def current(self, number: str, *, actor: Actor | str = SYSTEM, lang: str | None = None) -> EstimateView:
        """The estimate as it stands; a new version is stored (by `actor`) when the order changed since the
        latest one. `lang`: the changes in the reader's language (stored, they stay in the site's: what the
        customer read)."""
        with self.ctx.db.read() as s:
            view = self._latest_view(s, load_order(s, number), lang)
        if view is not None:
            return view
        with self.ctx.db.write() as s:
            return self._materialize(s, load_order(s, number), actor, lang)

    def versions(self, number: str, *, lang: str | None = None) -> list[VersionInfo]:
        """Every stored version, the first first; an unsigned one a later version replaced is `superseded`."""
        self.current(number)
        with self.ctx.db.read() as s:
            ro = load_order(s, number)
            rows = docs.all_versions(s, ro, KIND)
            out, before = [], None
            for doc in rows:
                said, consent, by = self._reading(s, ro, doc, before, lang)
                out.append(docs.version_info(doc, rows[-1].version, changes=said, consent=consent,
                                             consented_by=by))
                if doc.signed_at is not None:
                    before = doc
            return out

    def document(self, number: str, version: int) -> StoredDocument:
        with self.ctx.db.read() as s:
            return docs.stored(docs.existing_version(s, load_order(s, number), KIND, version))

    def verify(self, number: str, version: int) -> bool:
        """The stored content still has its digest and, signed, the signature's digest binds content and
        signature."""
        with self.ctx.db.read() as s:
            return docs.verifies(docs.existing_version(s, load_order(s, number), KIND, version))

    # -- changing ------------------------------------------------------------------------------------------
    def update(self, number: str, *, actor: Actor | str, roles: frozenset[StaffRole] | set[StaffRole],
               discount: object | None = None, discount_reason: str | None = None,
               keep_replaced_parts: bool | None = None, followup_channel: str | None = None,
               payers: dict[int, str] | None = None, customer_leaves_car: bool | None = None) -> EstimateView:
        """What the advisor settles with the customer besides the lines. A discount over [reception]
        max_discount_percent of the customer's part needs Permission.DISCOUNT_OVER_LIMIT among `roles`."""
        amount = None if discount is None else _decimal(discount)
        reason = None if discount_reason is None else " ".join(discount_reason.split())
        if reason is not None and (len(reason) > MAX_REASON or has_control_characters(reason)):
            raise Invalid("estimate.error.discount_reason")
        if followup_channel is not None and followup_channel not in {c.value for c in FollowupChannel}:
            raise Invalid("estimate.error.channel_invalid", channel=str(followup_channel)[:20])
        for payer in (payers or {}).values():
            if payer not in {p.value for p in Payer}:
                raise Invalid("estimate.error.payer_invalid", payer=str(payer)[:20])
        with self.ctx.db.write() as s:
            ro = load_order(s, number)
            require_open(ro)
            before = customer_subtotal(ro, self.ctx)
            self._payers(s, ro, payers or {}, actor)
            if amount is None:
                self._still_allowed(ro, before, roles)
            if reason is not None and reason != ro.discount_reason:
                record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "estimate_discount_reason",
                       from_value=ro.discount_reason or None, to_value=reason or None,
                       detail=_moved("discount_reason", ro.discount_reason, reason))
                ro.discount_reason = reason
            if amount is not None:
                self._discount(ro, amount, roles, actor, s)
            elif ro.discount and not ro.discount_reason:
                raise Invalid("estimate.error.discount_reason")
            for attr, value in (("keep_replaced_parts", keep_replaced_parts), ("followup_channel", followup_channel),
                                ("customer_leaves_car", customer_leaves_car)):
                if value is not None and getattr(ro, attr) != value:
                    record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, attr, from_value=getattr(ro, attr),
                           to_value=value, detail=_moved(attr, getattr(ro, attr), value))
                    setattr(ro, attr, value)
            s.flush()
            return self._materialize(s, ro, actor)

    def _payers(self, s: Session, ro: RepairOrder, payers: dict[int, str], actor: Actor | str) -> None:
        lines = {line.id: line for line in live_lines(ro)}
        for line_id, payer in payers.items():
            line = lines.get(line_id)
            if line is None:
                raise NotFound("estimate.error.line_unknown", number=ro.number, line=line_id)
            if line.payer != payer:
                record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "job_line_payer", from_value=line.payer,
                       to_value=payer, detail={"job_line": line.id, "description": line.description})
                line.payer = payer
        s.flush()

    def _limit(self, subtotal: Decimal) -> tuple[Decimal, Decimal]:
        """([reception] max_discount_percent, what it allows an advisor off `subtotal`)."""
        percent = Decimal(str(self.ctx.settings.reception.max_discount_percent))
        return percent, money(subtotal * percent / 100)

    def _still_allowed(self, ro: RepairOrder, before: Decimal,
                       roles: frozenset[StaffRole] | set[StaffRole]) -> None:
        """The customer's part shrank (a line moved to another payer, a line declined): the discount given on the
        larger part must still be within what this actor may give on the smaller one, and never more than it —
        else the change is refused, and the advisor lowers the discount first (or the manager does it)."""
        discount = money(ro.discount or Decimal(0))
        subtotal = customer_subtotal(ro, self.ctx)
        if not discount or subtotal >= before:
            return
        if discount > subtotal:
            raise Refused("estimate.error.discount_over_part", discount=discount, subtotal=subtotal)
        percent, limit = self._limit(subtotal)
        if discount > limit and not may(roles, Permission.DISCOUNT_OVER_LIMIT):
            share = (discount * 100 / subtotal).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            raise Refused("estimate.error.discount_now_over_limit", discount=discount, share=f"{share:f}",
                          subtotal=subtotal, percent=f"{percent.normalize():f}", limit=limit)

    def _discount(self, ro: RepairOrder, amount: Decimal, roles: frozenset[StaffRole] | set[StaffRole],
                  actor: Actor | str, s: Session) -> None:
        subtotal = customer_subtotal(ro, self.ctx)
        if amount > subtotal:
            raise Invalid("estimate.error.discount_over_total", discount=amount, subtotal=subtotal)
        percent, limit = self._limit(subtotal)
        if amount > limit and not may(roles, Permission.DISCOUNT_OVER_LIMIT):
            raise Refused("estimate.error.discount_over_limit", percent=f"{percent.normalize():f}", limit=limit)
        if amount and not ro.discount_reason:
            raise Invalid("estimate.error.discount_reason")
        if amount != money(ro.discount or Decimal(0)):
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "estimate_discount",
                   from_value=money(ro.discount or Decimal(0)), to_value=amount, reason=ro.discount_reason or None,
                   detail={"customer_subtotal": str(subtotal), "limit_percent": f"{percent.normalize():f}",
                           "limit": str(limit), "over_limit": bool(amount > limit)})
            ro.discount = amount

    def remove_line(self, number: str, job_line_id: int, *, actor: Actor | str,
                    roles: frozenset[StaffRole] | set[StaffRole] | None = None) -> EstimateView:
        """The customer declined a line before work on it started: it is cancelled, and kept on the vehicle as
        declined work for the next visit. Refused when the discount would then be over what `roles` may give
        (no roles: as without the manager's override) or over the customer's part."""
        with self.ctx.db.write() as s:
            ro = load_order(s, number)
            require_open(ro)
            before = customer_subtotal(ro, self.ctx)
            live = live_lines(ro)
            line = next((x for x in live if x.id == job_line_id), None)
            if line is None:
                raise NotFound("estimate.error.line_unknown", number=ro.number, line=job_line_id)
            if line.status not in REMOVABLE or any(p.issued > p.returned for p in line.parts):
                raise Refused("estimate.error.line_started", line=line.description)
            if len(live) == 1:
                raise Refused("estimate.error.last_line", line=line.description)
            line.status, line.pause_reason = LineStatus.CANCELLED.value, None
            self._still_allowed(ro, before, roles or frozenset())
            for part in line.parts:  # nothing of it was issued: off the counter's pick list and back-orders
                part.status = PartsLineStatus.RETURNED.value
            s.add(VehicleItem(vehicle_id=ro.vehicle_id, kind="declined", description=line.description[:200],
                              part_numbers=", ".join(p.number for p in line.parts if p.number)[:200],
                              created_on=self.ctx.today()))
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "estimate_line_declined",
                   to_value=line.description, detail={"job_line": line.id, "hours": str(line.hours),
                                                      "parts": [p.number for p in line.parts]})
            event = follow_lines(s, self.ctx, ro, actor)
            publish(s, self.ctx, ro, event)
            return self._materialize(s, ro, actor)

    def add_part(self, number: str, job_line_id: int, part_number: str, quantity: Decimal | str | float, *,
                 actor: Actor | str) -> EstimateView:
        """A catalogue part on a job line, at the catalogue's price: on the estimate (a new version to sign) and on
        the parts counter's pick list."""
        amount = decimal_of(quantity, "parts.error.quantity_invalid", most=MAX_QUANTITY)
        if amount <= 0:
            raise Invalid("parts.error.quantity_invalid", value=str(quantity)[:20])
        try:
            code = normalize_number(part_number)
        except Invalid:
            raise Invalid("estimate.error.part_unknown", part=str(part_number).strip()[:40]) from None
        with self.ctx.db.write() as s:
            ro = load_order(s, number)
            require_open(ro)
            line = next((x for x in live_lines(ro) if x.id == job_line_id), None)
            if line is None:
                raise NotFound("estimate.error.line_unknown", number=ro.number, line=job_line_id)
            if find_part(s, self.ctx.site, code) is None:
                raise Invalid("estimate.error.part_unknown", part=code)
            p = new_line(s, self.ctx, line, code, "", amount, None, actor)
            # the counter's own word for it, so the card history and the pick list read it the same way
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "parts_added", to_value=f"{code} ×{amount}",
                   detail={"parts_line": p.id, "job_line": line.id, "name": p.name, "unit_price": str(p.unit_price),
                           "from": "estimate"})
            publish(s, self.ctx, ro, None)
            s.expire(line, ["parts"])  # the new parts line, as the estimate prices it
            return self._materialize(s, ro, actor)

    def sign(self, number: str, version: int, signer: str, signature_png: bytes, *,
             actor: Actor | str) -> SignatureResult:
        """The customer's signature on `version`, which must be the estimate as it stands now (Refused
        "estimate.error.stale" otherwise: the API's 409)."""
        png = docs.checked_png(signature_png)
        name = docs.checked_signer(signer)
        with self.ctx.db.write() as s:
            ro = load_order(s, number)
            require_open(ro)
            self._materialize(s, ro, actor)  # the order as it is now, not as the last reader saw it
            return docs.sign(s, self.ctx, ro, KIND, version, name, png, actor)
