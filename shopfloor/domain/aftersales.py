"""The words of steps 9–12 (domain.md §4–5): how a customer pays, which messages they are sent and how, what a
follow-up call can find, and how complaints are classed."""

from __future__ import annotations

from enum import StrEnum


class PaymentMethod(StrEnum):
    CASH = "cash"
    CARD = "card"  # bank card (POS terminal)
    ALIPAY = "alipay"
    WECHAT = "wechat"  # WeChat Pay
    ACCOUNT = "account"  # on the company's account (a fleet, a dealer-group company): invoiced later


class PaymentKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"


class DeliveryRefusal(StrEnum):
    """Why an order may not be delivered yet: the `reason` of the API's 409."""

    UNPAID = "unpaid"  # the customer's part is neither paid nor on account
    QC = "qc"  # the final inspection has not passed (the car is not ready)


class MessageTemplate(StrEnum):
    """What a customer message says; each has a text per channel and language ([message_templates] in the site
    TOML, built-in texts otherwise)."""

    APPOINTMENT_CONFIRMED = "appointment_confirmed"
    APPOINTMENT_REMINDER = "appointment_reminder"  # the day before
    CHECKED_IN = "checked_in"  # with the customer page's link
    PROMISE_CHANGED = "promise_changed"  # at risk: the new time
    ADDITIONAL_WORK = "additional_work"  # waiting for the customer's decision (link)
    READY = "ready"  # ready for pickup
    NEXT_SERVICE = "next_service"  # the next-service reminder, before its date
    THANK_YOU = "thank_you"  # after the follow-up call


class Channel(StrEnum):
    SMS = "sms"
    WECHAT = "wechat"  # official-account template message
    EMAIL = "email"
    MANUAL = "manual"  # the advisor sends the text by hand (a phone call, a letter, their own WeChat)


class MessageState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    MANUAL = "manual"
    CANCELLED = "cancelled"


class FollowUpKind(StrEnum):
    AFTER_SERVICE = "3dc"  # the 3-day call after a delivery ([follow_up] after_service_days)
    NEW_CAR = "7dc"  # the 7-day call after a new car's sale, where the sale date is known
    COMPLAINT = "complaint"  # the second call after a complaint's resolution


class FollowUpStatus(StrEnum):
    DUE = "due"
    DONE = "done"
    GAVE_UP = "gave_up"  # unreachable on every attempt allowed


class FollowUpOutcome(StrEnum):
    SATISFIED = "satisfied"
    PROBLEM = "problem"
    UNREACHABLE = "unreachable"


class ProblemClass(StrEnum):
    """The seeds' classes of a problem found on a call or complained about (domain.md §5)."""

    FACILITIES = "facilities"
    ATTITUDE = "attitude"
    WORKMANSHIP = "workmanship"  # links to the rework register and counts as a comeback
    PROCESS = "process"
    PRICE = "price"
    OTHER = "other"


class Severity(StrEnum):
    NORMAL = "normal"
    IMPORTANT = "important"  # escalates at once to the service manager's screens


class ImportantReason(StrEnum):
    SAFETY = "safety"
    LARGE_LOSS = "large_loss"
    MEDIA = "media"
    LAWYER = "lawyer"
    POLICE = "police"
    CONSUMER_ASSOCIATION = "consumer_association"


class ComplaintStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATED = "investigated"
    RESOLVED = "resolved"  # the second follow-up call is due
    CLOSED = "closed"  # the second call done


class ComplaintSource(StrEnum):
    CALL = "call"
    DESK = "desk"
    CUSTOMER_PAGE = "customer_page"
    API = "api"
