"""The customer's own page behind an unguessable link: masked until the plate's last four characters are proven.

Whether a token belongs to an order must not show, not even in how long the answer takes: every lookup is the same
one indexed query (by token, with what the masked page shows joined in), followed by a constant-time compare and the
same masking, whether a row came back or not; wrong, unknown and expired tokens then answer alike (None). Proving the
plate is limited per token and per client (a wait message after too many wrong tails), counted in memory: a server
restart forgives them, which costs a guesser no more than a handful of tries out of 36⁴."""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session

from shopfloor.domain.aftersales import PaymentKind
from shopfloor.domain.aftersales_models import Payment
from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.identifiers import mask_name, mask_plate
from shopfloor.domain.models import Customer, JobLine, RepairOrder, Vehicle
from shopfloor.domain.reception_models import DamageMark, OrderPhoto
from shopfloor.domain.states import HoldReason, RoStatus
from shopfloor.domain.workshop import STARTED_LINE_STATUSES, DecisionMethod, FindingStatus
from shopfloor.domain.workshop_models import AdditionalWork
from shopfloor.services.audit import Actor, ActorKind
from shopfloor.services.context import ServiceContext
from shopfloor.services.reception.estimate import EstimateService, EstimateView
from shopfloor.services.workshop.additional_work import AdditionalWorkService, FindingInfo

# new_customer_token() makes 32 URL-safe characters; anything else cannot be a token and is looked up as this
# (never stored: not URL-safe), so a malformed token costs the same query as any other
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_NO_TOKEN = "!"
_NO_PLATE = "\x00" * 8  # compared against when no order came back
TAIL = 4
MAX_ATTEMPTS = 5  # wrong tails per token and per client …
ATTEMPT_WINDOW = timedelta(minutes=15)  # … within this long
MAX_SHOWN = 30  # lines of a finding the page may say it showed
MAX_SHOWN_CHARS = 300
# the lounge's steps: checked in, in the workshop, quality check, ready (delivered: past the last)
_STEP_OF = {RoStatus.CHECKED_IN: 0, RoStatus.DISPATCHED: 1, RoStatus.IN_PROGRESS: 1, RoStatus.ON_HOLD: 1,
            RoStatus.QUALITY_CHECK: 2, RoStatus.READY: 3, RoStatus.DELIVERED: 4, RoStatus.CANCELLED: 0}


@dataclass(frozen=True)
class MaskedView:
    """What anyone holding the link sees: nothing that names the customer or the car."""

    plate_masked: str  # 粤B·***45
    customer_masked: str  # 王先生
    status: str
    step: int  # 0 checked in (or dispatched, not started) … 3 ready, 4 delivered
    needs_customer: bool  # on hold waiting for the customer's approval, or a finding pending
    promised_at: datetime | None
    projected_ready_at: datetime | None

    @property
    def expected_at(self) -> datetime | None:
        """The time the page gives: the promise made to the customer; the workshop's projection only without one.
        An earlier projection is the workshop's own planning, never told as the time."""
        return self.promised_at or self.projected_ready_at

    @property
    def later_at(self) -> datetime | None:
        """The projection when it is past the promise: the car may be late, and the customer is told so."""
        if self.promised_at is None or self.projected_ready_at is None:
            return None
        return self.projected_ready_at if self.projected_ready_at > self.promised_at else None


@dataclass(frozen=True)
class MarkInfo:
    position: str
    kind: str
    x: float  # 0..1 of the diagram, from the left
    y: float  # 0..1 from the top (the front)
    note: str
    photo: str | None  # the stored photo's name


@dataclass(frozen=True)
class SignedInfo:
    version: int
    created_at: datetime
    signed_at: datetime | None
    signer: str | None
    total: Any
    customer_total: Any
    changes: tuple[str, ...]
    consent: str | None = None  # "signature", "decision" (the customer's approval of additional work) or None


@dataclass(frozen=True)
class CustomerView:
    masked: MaskedView
    number: str
    plate: str  # proven by the customer: shown in full now
    vehicle_model: str
    marks: tuple[MarkInfo, ...]
    estimate: EstimateView | None  # None before the order has lines
    versions: tuple[SignedInfo, ...]  # the signed ones and the current one (no draft a later version replaced)
    findings: tuple[FindingInfo, ...]  # every finding, oldest first; the page offers a choice on the pending
    # after the cashier: what the customer paid (payments less refunds) and when nothing was left to pay; after the
    # handover: when, and the next service the advisor wrote on the settlement sheet
    paid: Decimal = Decimal(0)
    settled_at: datetime | None = None
    delivered_at: datetime | None = None
    next_service_on: date | None = None
    next_service_km: int | None = None

    @property
    def settled(self) -> bool:
        return self.settled_at is not None

    @property
    def delivered(self) -> bool:
        return self.masked.status == RoStatus.DELIVERED.value

    @property
    def pending(self) -> tuple[FindingInfo, ...]:
        return tuple(f for f in self.findings if f.status == FindingStatus.PENDING.value)


@dataclass
class _Attempts:
    """Wrong tails per key (a token's digest, a client's address) in the last ATTEMPT_WINDOW."""

    failures: dict[str, deque[datetime]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, keys: Sequence[str], now: datetime) -> timedelta | None:
        """How long until one more try is allowed, or None when it is allowed now."""
        with self.lock:
            waits = []
            for key in keys:
                times = self._recent(key, now)
                if len(times) >= MAX_ATTEMPTS:
                    waits.append(times[0] + ATTEMPT_WINDOW - now)
            return max(waits) if waits else None

    def failed(self, keys: Sequence[str], now: datetime) -> None:
        with self.lock:
            if len(self.failures) > 10_000:  # forget keys whose failures are all old
                for key in [k for k, v in self.failures.items() if not v or v[-1] < now - ATTEMPT_WINDOW]:
                    del self.failures[key]
            for key in keys:
                self.failures.setdefault(key, deque(maxlen=MAX_ATTEMPTS)).append(now)

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        times = self.failures.get(key) or deque(maxlen=MAX_ATTEMPTS)
        while times and times[0] <= now - ATTEMPT_WINDOW:
            times.popleft()
        return times


@dataclass(frozen=True)
class _Found:
    """The order a token opens (id 0 when none does)."""

    id: int
    number: str
    plate: str
    surname: str
    salutation: str
    masked: MaskedView
    valid: bool


def token_key(token: str) -> str:
    """What the server keeps of a token it was shown (the attempt counters, the browser's proof): not the token."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:32]


def _normal(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


class CustomerPageService:
    def __init__(self, ctx: ServiceContext, server_url: str, *, estimate: EstimateService) -> None:
        self.ctx, self.server_url, self.estimate = ctx, server_url.rstrip("/"), estimate
        self.additional_work = AdditionalWorkService(ctx)
        self.attempts = _Attempts()

    def link(self, number: str) -> str:
        """The URL of the order's page (printed as a QR on the estimate, shown at the kiosk)."""
        with self.ctx.db.read() as s:
            token = s.scalar(select(RepairOrder.customer_token).where(RepairOrder.site_id == self.ctx.site,
                                                                      RepairOrder.number == number))
        if token is None:
            raise NotFound("error.ro_unknown", number=number[:24])
        return f"{self.server_url}/c/{token}"

    # -- the masked page: the same work whether the token opens an order or not ------------------------------------
    def _find(self, s: Session, token: str) -> _Found:
        probe = token if TOKEN_RE.fullmatch(token) else _NO_TOKEN
        started = exists().where(JobLine.repair_order_id == RepairOrder.id,
                                 JobLine.status.in_([x.value for x in STARTED_LINE_STATUSES]))
        pending = exists().where(AdditionalWork.repair_order_id == RepairOrder.id,
                                 AdditionalWork.status == FindingStatus.PENDING.value)
        row = s.execute(
            select(RepairOrder.id, RepairOrder.number, RepairOrder.customer_token, RepairOrder.status,
                   RepairOrder.hold_reason, RepairOrder.promised_at, RepairOrder.projected_ready_at,
                   RepairOrder.closed_at, Vehicle.plate, Customer.surname, Customer.salutation,
                   started.label("started"), pending.label("pending"))
            .join(Vehicle, Vehicle.id == RepairOrder.vehicle_id).join(Customer, Customer.id == Vehicle.customer_id)
            .where(RepairOrder.site_id == self.ctx.site, RepairOrder.customer_token == probe)).first()
        # a stand-in row when nothing came back, so that the rest takes the same steps
        ro_id, number, stored, status, hold, promised, projected, closed, plate, surname, salutation, started_, \
            waiting = row if row is not None else (0, "", _NO_TOKEN, RoStatus.CHECKED_IN.value, None, None, None,
                                                   None, _NO_PLATE, "*", "", False, False)
        same = hmac.compare_digest(token_key(stored or _NO_TOKEN), token_key(token))
        expired = closed is not None and self.ctx.now() > closed + timedelta(days=self.ctx.settings.reception
                                                                              .customer_link_days)
        live = RoStatus(status)
        # as the lounge: a car dispatched but not started is still waiting (an order without lines moves by hand)
        not_started = live == RoStatus.DISPATCHED and not started_
        masked = MaskedView(
            plate_masked=mask_plate(plate), customer_masked=mask_name(surname, salutation), status=live.value,
            step=0 if not_started else _STEP_OF[live],
            needs_customer=bool(waiting) or (live == RoStatus.ON_HOLD and hold == HoldReason.WAITING_APPROVAL),
            promised_at=promised, projected_ready_at=projected)
        valid = same and row is not None and not expired and live != RoStatus.CANCELLED
        return _Found(ro_id, number, plate, surname, salutation, masked, valid)

    def open(self, token: str) -> MaskedView | None:
        """The masked page, or None for a wrong, unknown or expired token (customer_link_days after delivery)."""
        with self.ctx.db.read() as s:
            found = self._find(s, token)
        return found.masked if found.valid else None

    def prove(self, token: str, plate_tail: str, *, client: str = "") -> bool:
        """Whether `plate_tail` is the last four characters of the order's plate (any case, spaces and dots
        ignored). Refused("customer_page.error.wait") after MAX_ATTEMPTS wrong tries within ATTEMPT_WINDOW for this
        token or from this client; unknown tokens count the same."""
        now = self.ctx.now()
        keys = [f"t:{token_key(token)}", *([f"c:{client}"] if client else [])]
        wait = self.attempts.wait(keys, now)
        if wait is not None:
            raise Refused("customer_page.error.wait", minutes=max(1, -(-int(wait.total_seconds()) // 60)))
        with self.ctx.db.read() as s:
            found = self._find(s, token)
        given = _normal(plate_tail)[:16]
        tail = _normal(found.plate)[-TAIL:]
        right = hmac.compare_digest(given.encode(), tail.encode()) and len(given) == TAIL
        if right and found.valid:
            return True
        self.attempts.failed(keys, now)
        return False

    # -- after the proof -----------------------------------------------------------------------------------------
    def full(self, token: str, lang: str | None = None) -> CustomerView | None:
        """Everything the customer may see of their order; None as open() answers None. The caller has checked
        that this browser proved the plate for this token. `lang`: the page's language, for what changed."""
        with self.ctx.db.read() as s:
            found = self._find(s, token)
            if not found.valid:
                return None
            ro = s.get(RepairOrder, found.id)
            assert ro is not None
            model = ro.vehicle.model
            marks = tuple(MarkInfo(m.position, m.kind, float(m.x), float(m.y), m.note, name)
                          for m, name in s.execute(
                              select(DamageMark, OrderPhoto.name).outerjoin(OrderPhoto, OrderPhoto.id ==
                                                                            DamageMark.photo_id)
                              .where(DamageMark.repair_order_id == found.id).order_by(DamageMark.id)))
            has_lines = s.scalar(select(exists().where(JobLine.repair_order_id == found.id)))
            paid = s.scalar(select(func.coalesce(func.sum(case(
                (Payment.kind == PaymentKind.REFUND.value, -Payment.amount), else_=Payment.amount)), 0))
                .where(Payment.repair_order_id == found.id))
            after = (ro.settled_at, ro.closed_at if ro.status == RoStatus.DELIVERED.value else None,
                     ro.next_service_on, ro.next_service_km)
        estimate = self.estimate.current(found.number, lang=lang) if has_lines else None
        versions = tuple(SignedInfo(v.version, v.created_at, v.signed_at, v.signer, v.total, v.customer_total,
                                    tuple(v.changes), v.consent)
                         for v in self.estimate.versions(found.number, lang=lang)
                         if v.signed_at is not None or not v.superseded)
        findings = tuple(self.additional_work.for_order(found.number))
        return CustomerView(found.masked, found.number, found.plate, model, marks, estimate, versions, findings,
                            Decimal(str(paid or 0)), *after)

    def photo(self, token: str, name: str) -> bool:
        """Whether `name` is a photo of the order this token opens (a walkaround mark's, a finding's)."""
        with self.ctx.db.read() as s:
            found = self._find(s, token)
            if not found.valid:
                return False
            ours = s.scalar(select(exists().where(OrderPhoto.repair_order_id == found.id, OrderPhoto.name == name)))
            return bool(ours) or bool(s.scalar(select(exists().where(
                AdditionalWork.repair_order_id == found.id, AdditionalWork.photo == name))))

    def decide(self, token: str, finding_id: int, decision: str, shown: list[str]) -> FindingInfo:
        """The customer's approval or refusal of one finding, as they read it (`shown`: the lines the page showed,
        kept in the audit row); recorded as method customer_page with the customer as the actor. The caller has
        checked that this browser proved the plate for this token."""
        if decision not in (FindingStatus.APPROVED.value, FindingStatus.DECLINED.value):
            raise Invalid("workshop.error.decision_invalid", decision=decision[:20],
                          method=DecisionMethod.CUSTOMER_PAGE.value)
        lines = [str(line)[:MAX_SHOWN_CHARS] for line in shown]
        if not lines or len(lines) > MAX_SHOWN:
            raise Invalid("customer_page.error.shown")
        with self.ctx.db.read() as s:
            found = self._find(s, token)
            ours = found.valid and bool(s.scalar(select(exists().where(
                AdditionalWork.id == finding_id, AdditionalWork.repair_order_id == found.id))))
        if not ours:
            raise NotFound("workshop.error.finding_unknown", finding=finding_id)
        who = Actor(f"{found.surname}{found.salutation}"[:80] or "customer", ActorKind.CUSTOMER)
        return self.additional_work.decide(finding_id, decision, DecisionMethod.CUSTOMER_PAGE.value, actor=who,
                                           shown=lines)
