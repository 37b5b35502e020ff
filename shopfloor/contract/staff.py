"""The one source of staff roles and what each may do, as `access.py` is for the MQTT accounts.

Every staff page names the permission it needs (`PAGES`); every API route and every service call made on a
person's behalf names one too (`Permission`). A person may hold several roles; a permission is granted when
any of them is in its row. Tests walk these tables, so a new page or route is refused until it is listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class StaffRole(StrEnum):
    ADVISOR = "advisor"  # service advisor: reception, walkaround, estimate, delivery; a row on the boards
    FOREMAN = "foreman"  # workshop foreman (车间主管): dispatch, quality checks
    TECHNICIAN = "technician"  # works at a bay station
    PARTS = "parts"  # the parts counter
    CASHIER = "cashier"  # settlement and payment
    CUSTOMER_SERVICE = "cs"  # call lists, bookings, follow-up calls, complaints
    MANAGER = "manager"  # the service manager: everything, plus overrides, figures and the audit


class Permission(StrEnum):
    RECEPTION = "reception"  # open the reception kiosk, scan tags, check cars in
    REPAIR_ORDER_READ = "repair_order.read"
    REPAIR_ORDER_MOVE = "repair_order.move"  # state moves: dispatch, start, hold, QC, ready, deliver, cancel
    TICKET_PRINT = "ticket.print"  # print or reprint a job ticket, settle an uncertain print
    APPOINTMENT_READ = "appointment.read"
    APPOINTMENT_BOOK = "appointment.book"  # book, move, cancel through the booking desk or the API
    BOOKING_OVERRIDE = "booking.override"  # book or move against a capacity rule, with a reason
    PLAN_BOARD = "plan_board"  # the manager's drag-and-drop appointment board
    CALLS = "calls"  # confirmation calls, no-shows, solicitation lists
    PARTS_PREP = "parts.prep"  # the parts pre-pick list and pick labels
    CUSTOMER_READ = "customer.read"
    CUSTOMER_WRITE = "customer.write"
    DATA_EXCHANGE = "data_exchange"  # DMS import and calendar export
    FIGURES = "figures"
    AUDIT_READ = "audit.read"
    CATALOGUE_READ = "catalogue.read"  # technicians and the labour-operation catalogue
    DISPATCH = "workshop.dispatch"  # give job lines to technicians (with an override's reason), confirm clockings
    CLOCK = "workshop.clock"  # clock a technician on and off jobs by badge and ticket
    QC = "workshop.qc"  # record a quality check: the self check; foreman check and final inspection need QC_INSPECT
    QC_INSPECT = "workshop.qc_inspect"  # the foreman's check and the final inspection
    QUALITY_READ = "workshop.quality_read"  # the rework register
    ADDITIONAL_WORK_REPORT = "additional_work.report"  # work found beyond the order
    ADDITIONAL_WORK_DECIDE = "additional_work.decide"  # record the customer's decision on it
    PROMISE = "repair_order.promise"  # give the customer a new promised time
    PARTS_ISSUE = "parts.issue"  # the parts counter: catalogue, pick lists, issue, back-orders, returns
    DISCOUNT_OVER_LIMIT = "estimate.discount_over_limit"  # a discount above [reception] max_discount_percent
    SETTLEMENT_READ = "settlement.read"  # the bill: lines, payer, discount, what is paid and left to pay
    PAYMENT = "settlement.payment"  # record what the customer paid (cash, card, Alipay, WeChat Pay, account)
    REFUND = "settlement.refund"  # give money back, with a reason
    SETTLEMENT_EXPORT = "settlement.export"  # the settled orders for the regional health-record platform (JT/T 1132)
    DELIVERY = "delivery"  # the completion check, telling the customer, the delivery walk and the delivery sheet
    DELIVERY_REOPEN = "delivery.reopen"  # undo a mistaken delivery, with a reason
    MESSAGES_READ = "messages.read"  # the messages sent to a customer and their delivery state
    MESSAGES_SEND = "messages.send"  # send again, send by hand and mark sent, cancel
    FOLLOW_UP = "follow_up"  # the follow-up call lists and their outcomes
    COMPLAINT_REGISTER = "complaint.register"  # take a complaint down
    COMPLAINT_HANDLE = "complaint.handle"  # own, acknowledge, investigate, resolve and close complaints
    SETUP = "setup"  # /setup: staff, technicians, calendars, bays, catalogues, printers, texts, tokens
    PIN_OWN = "pin.own"  # change one's own PIN
    STATUS_READ = "status.read"  # /status: which screens, stations and printers are online, backlogs, backups
    PERSONAL_DATA = "personal_data"  # export and erase a customer's personal data on request (PIPL)


_R = StaffRole
_EVERYONE = frozenset(_R)
PERMISSIONS: dict[Permission, frozenset[StaffRole]] = {
    Permission.RECEPTION: frozenset({_R.ADVISOR, _R.MANAGER}),
    Permission.REPAIR_ORDER_READ: _EVERYONE,
    Permission.REPAIR_ORDER_MOVE: frozenset({_R.ADVISOR, _R.FOREMAN, _R.MANAGER}),
    Permission.TICKET_PRINT: frozenset({_R.ADVISOR, _R.FOREMAN, _R.MANAGER}),
    Permission.APPOINTMENT_READ: _EVERYONE,
    Permission.APPOINTMENT_BOOK: frozenset({_R.ADVISOR, _R.CUSTOMER_SERVICE, _R.MANAGER}),
    Permission.BOOKING_OVERRIDE: frozenset({_R.ADVISOR, _R.MANAGER}),
    Permission.PLAN_BOARD: frozenset({_R.MANAGER}),
    Permission.CALLS: frozenset({_R.ADVISOR, _R.CUSTOMER_SERVICE, _R.MANAGER}),
    Permission.PARTS_PREP: frozenset({_R.PARTS, _R.MANAGER}),
    Permission.CUSTOMER_READ: frozenset({_R.ADVISOR, _R.CUSTOMER_SERVICE, _R.CASHIER, _R.MANAGER}),
    Permission.CUSTOMER_WRITE: frozenset({_R.ADVISOR, _R.CUSTOMER_SERVICE, _R.MANAGER}),
    Permission.DATA_EXCHANGE: frozenset({_R.CUSTOMER_SERVICE, _R.MANAGER}),
    Permission.FIGURES: frozenset({_R.MANAGER}),
    Permission.AUDIT_READ: frozenset({_R.MANAGER}),
    Permission.CATALOGUE_READ: _EVERYONE,
    Permission.DISPATCH: frozenset({_R.FOREMAN, _R.MANAGER}),
    Permission.CLOCK: frozenset({_R.TECHNICIAN, _R.FOREMAN, _R.MANAGER}),
    Permission.QC: frozenset({_R.TECHNICIAN, _R.FOREMAN, _R.MANAGER}),
    Permission.QC_INSPECT: frozenset({_R.FOREMAN, _R.MANAGER}),
    Permission.QUALITY_READ: frozenset({_R.FOREMAN, _R.MANAGER}),
    Permission.ADDITIONAL_WORK_REPORT: frozenset({_R.TECHNICIAN, _R.FOREMAN, _R.ADVISOR, _R.MANAGER}),
    Permission.ADDITIONAL_WORK_DECIDE: frozenset({_R.ADVISOR, _R.MANAGER}),
    Permission.PROMISE: frozenset({_R.ADVISOR, _R.MANAGER}),
    Permission.PARTS_ISSUE: frozenset({_R.PARTS, _R.MANAGER}),
    Permission.DISCOUNT_OVER_LIMIT: frozenset({_R.MANAGER}),
    Permission.SETTLEMENT_READ: frozenset({_R.ADVISOR, _R.CASHIER, _R.CUSTOMER_SERVICE, _R.MANAGER}),
    Permission.PAYMENT: frozenset({_R.CASHIER, _R.MANAGER}),
    Permission.REFUND: frozenset({_R.CASHIER, _R.MANAGER}),
    Permission.SETTLEMENT_EXPORT: frozenset({_R.CASHIER, _R.MANAGER}),
    Permission.DELIVERY: frozenset({_R.ADVISOR, _R.MANAGER}),
    Permission.DELIVERY_REOPEN: frozenset({_R.MANAGER}),
    Permission.MESSAGES_READ: frozenset({_R.ADVISOR, _R.CASHIER, _R.CUSTOMER_SERVICE, _R.MANAGER}),
    Permission.MESSAGES_SEND: frozenset({_R.ADVISOR, _R.CUSTOMER_SERVICE, _R.MANAGER}),
    Permission.FOLLOW_UP: frozenset({_R.CUSTOMER_SERVICE, _R.MANAGER}),
    Permission.COMPLAINT_REGISTER: frozenset({_R.ADVISOR, _R.FOREMAN, _R.CASHIER, _R.CUSTOMER_SERVICE, _R.MANAGER}),
    Permission.COMPLAINT_HANDLE: frozenset({_R.CUSTOMER_SERVICE, _R.MANAGER}),
    Permission.SETUP: frozenset({_R.MANAGER}),
    Permission.PIN_OWN: _EVERYONE,
    Permission.STATUS_READ: frozenset({_R.MANAGER}),
    Permission.PERSONAL_DATA: frozenset({_R.MANAGER}),
}


@dataclass(frozen=True)
class PageRule:
    path: str
    label_key: str  # the navigation label in the locale catalogues
    icon: str
    permissions: frozenset[Permission]  # any one of them opens the page


def _page(path: str, label_key: str, icon: str, *permissions: Permission) -> PageRule:
    return PageRule(path, label_key, icon, frozenset(permissions))


# Staff pages in navigation order. Wall boards and the lounge are not here: they are paired screens, not people.
PAGES: tuple[PageRule, ...] = (
    _page("/kiosk", "nav.reception", "qr_code_scanner", Permission.RECEPTION),
    _page("/booking", "nav.booking", "event", Permission.APPOINTMENT_BOOK),
    _page("/calls", "nav.calls", "call", Permission.CALLS, Permission.PARTS_PREP),
    _page("/delivery", "nav.delivery", "car_rental", Permission.DELIVERY),
    _page("/cashier", "nav.cashier", "point_of_sale", Permission.PAYMENT),
    _page("/follow-up", "nav.follow_up", "support_agent", Permission.FOLLOW_UP),
    _page("/complaints", "nav.complaints", "report_problem", Permission.COMPLAINT_REGISTER),
    _page("/manager/board", "nav.manager_board", "view_timeline", Permission.PLAN_BOARD),
    _page("/manager/figures", "nav.figures", "insights", Permission.FIGURES),
    _page("/data", "nav.data", "import_export", Permission.DATA_EXCHANGE),
    _page("/setup", "nav.setup", "settings", Permission.SETUP),
    _page("/status", "nav.status", "monitor_heart", Permission.STATUS_READ),
    _page("/workshop/dispatch", "nav.dispatch", "engineering", Permission.DISPATCH),
    _page("/workshop/station", "nav.station", "handyman", Permission.CLOCK),
    _page("/workshop/qc", "nav.qc", "verified", Permission.QC_INSPECT),
    _page("/parts", "nav.parts", "inventory_2", Permission.PARTS_ISSUE),
)
# Staff pages reached by a link, not from the navigation: the job ticket's QR opens the live order (/ro/<number>; a
# browser not signed in goes to /ro?number=… for the keypad and comes back there).
DEEP_LINKS: tuple[PageRule, ...] = (
    _page("/ro", "nav.live_order", "receipt_long", Permission.REPAIR_ORDER_READ),
    _page("/workshop/badges", "nav.badges", "badge", Permission.DISPATCH),  # the technicians' badge sheet
    # reception's steps 3–5 on the advisor's tablet, opened from the order on /kiosk (…/<number>)
    _page("/kiosk/walkaround", "nav.walkaround", "directions_car", Permission.RECEPTION),
    _page("/kiosk/estimate", "nav.estimate", "request_quote", Permission.RECEPTION),
)
PAGE_BY_PATH = {p.path: p for p in (*PAGES, *DEEP_LINKS)}


def parse_roles(text: str | Iterable[str]) -> frozenset[StaffRole]:
    """Roles from their stored form ("advisor,manager") or a list; ValueError names an unknown one."""
    names = text.split(",") if isinstance(text, str) else list(text)
    roles = set()
    for name in (n.strip() for n in names):
        if not name:
            continue
        try:
            roles.add(StaffRole(name))
        except ValueError:
            known = ", ".join(r.value for r in StaffRole)
            raise ValueError(f"unknown staff role {name!r} (known: {known})") from None
    return frozenset(roles)


def format_roles(roles: Iterable[StaffRole | str]) -> str:
    """The stored form: comma-separated in the order of StaffRole, so equal sets store equally."""
    wanted = {StaffRole(r) for r in roles}
    return ",".join(r.value for r in StaffRole if r in wanted)


def may(roles: Iterable[StaffRole | str], permission: Permission) -> bool:
    allowed = PERMISSIONS[permission]
    return any(StaffRole(r) in allowed for r in roles)


def roles_for(permission: Permission) -> frozenset[StaffRole]:
    return PERMISSIONS[permission]


def may_open(roles: Iterable[StaffRole | str], path: str) -> bool:
    held = frozenset(StaffRole(r) for r in roles)
    return any(may(held, p) for p in PAGE_BY_PATH[path].permissions)


def page_roles(path: str) -> frozenset[StaffRole]:
    """Who may open a page: named on the refusal, so the person knows whom to ask."""
    return frozenset().union(*(PERMISSIONS[p] for p in PAGE_BY_PATH[path].permissions))


def landing_page(roles: Iterable[StaffRole | str]) -> str | None:
    """The first page this person may open: where a sign-in leads."""
    held = frozenset(StaffRole(r) for r in roles)
    return next((p.path for p in PAGES if may_open(held, p.path)), None)
