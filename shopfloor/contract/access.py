"""The one source of MQTT roles and their topic rights.

The embedded broker's auth plugin enforces these rules directly; `shopfloor mosquitto-config` turns the
same rules into Mosquitto's acl file. A rule's pattern is an MQTT filter with `{site}` filled in per site.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    SERVER = "server"
    BOARD = "board"
    LOUNGE = "lounge"
    PRINTER = "printer"


class Access(StrEnum):
    READ = "read"
    WRITE = "write"
    READWRITE = "readwrite"


@dataclass(frozen=True)
class Rule:
    access: Access
    pattern: str

    def for_site(self, site: str) -> str:
        return self.pattern.format(site=site)


_SITE = "shopfloor/v1/{site}"

RULES: dict[Role, tuple[Rule, ...]] = {
    Role.SERVER: (Rule(Access.READWRITE, f"{_SITE}/#"),),
    # Wall boards show names and plates: full state of orders, appointments and the people rows.
    Role.BOARD: (
        Rule(Access.READ, f"{_SITE}/repair-orders/+/state"),
        Rule(Access.READ, f"{_SITE}/appointments/+/state"),
        Rule(Access.READ, f"{_SITE}/advisors/+/state"),
        Rule(Access.READ, f"{_SITE}/technicians/+/state"),
        Rule(Access.READ, f"{_SITE}/capacity/+/state"),
        Rule(Access.READ, f"{_SITE}/printers/+/status"),
        Rule(Access.READ, f"{_SITE}/clients/#"),
        Rule(Access.WRITE, f"{_SITE}/clients/board/+"),
    ),
    # The lounge sees masked plates and names only: never the full repair-order state.
    Role.LOUNGE: (
        Rule(Access.READ, f"{_SITE}/lounge/+/state"),
        Rule(Access.WRITE, f"{_SITE}/clients/lounge/+"),
    ),
    Role.PRINTER: (
        Rule(Access.READ, f"{_SITE}/printers/+/jobs/+"),
        Rule(Access.WRITE, f"{_SITE}/printers/+/acks"),
        Rule(Access.READWRITE, f"{_SITE}/printers/+/status"),
        Rule(Access.WRITE, f"{_SITE}/clients/printer/+"),
    ),
}


def topic_matches(filter_: str, topic: str) -> bool:
    """MQTT filter matching (`+` one level, `#` the rest); `$`-topics never match wildcards."""
    if topic.startswith("$") and not filter_.startswith("$"):
        return False
    f_parts = filter_.split("/")
    t_parts = topic.split("/")
    for i, f in enumerate(f_parts):
        if f == "#":
            return True
        if i >= len(t_parts):
            return False
        if f != "+" and f != t_parts[i]:
            return False
    return len(f_parts) == len(t_parts)


def filter_within(inner: str, outer: str) -> bool:
    """True when every topic that `inner` matches is also matched by `outer`."""
    i_parts = inner.split("/")
    o_parts = outer.split("/")
    for idx, o in enumerate(o_parts):
        if o == "#":
            return True
        if idx >= len(i_parts):
            return False
        i = i_parts[idx]
        if i == "#":
            return False
        if o == "+":
            continue
        if i == "+" or i != o:
            return False
    return len(i_parts) == len(o_parts)


def may_publish(role: Role, site: str, topic: str) -> bool:
    return any(
        r.access in (Access.WRITE, Access.READWRITE) and topic_matches(r.for_site(site), topic) for r in RULES[role]
    )


def may_receive(role: Role, site: str, topic: str) -> bool:
    return any(
        r.access in (Access.READ, Access.READWRITE) and topic_matches(r.for_site(site), topic) for r in RULES[role]
    )


def may_subscribe(role: Role, site: str, filter_: str) -> bool:
    """A subscription is allowed only if all it could match is readable: retained messages may bypass a
    per-message receive check in some brokers, so the filter itself must stay inside the role's rights."""
    return any(
        r.access in (Access.READ, Access.READWRITE) and filter_within(filter_, r.for_site(site)) for r in RULES[role]
    )
