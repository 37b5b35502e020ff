"""The one source of MQTT roles and their topic rights.

The embedded broker's auth plugin enforces these rules directly; `shopfloor mosquitto-config` turns the
same rules into Mosquitto's acl file. A rule's pattern is an MQTT filter with `{site}` filled in per site.

The printer role has one account per printer, and its rules name that printer (`{printer}`): a stolen
printer host can read its own tickets and acknowledge its own jobs, never another printer's.
"""

from __future__ import annotations

import re
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

    @property
    def per_printer(self) -> bool:
        return "{printer}" in self.pattern

    def for_site(self, site: str, printer: str | None = None) -> str:
        """The MQTT filter for `site`; a printer's rule also needs the printer's name."""
        if self.per_printer:
            if printer is None:
                raise ValueError(f"rule {self.pattern!r} is one printer's: name the printer")
            check_printer_name(printer)
        return self.pattern.format(site=site, printer=printer)


# As the site configuration allows (settings.PrinterSettings.name): one topic level without wildcards, and a
# name that fits into an MQTT username and Mosquitto's acl file.
PRINTER_NAME = re.compile(r"[a-z0-9_-]{1,32}")


def check_printer_name(name: str) -> str:
    if not PRINTER_NAME.fullmatch(name):
        raise ValueError(f"printer name {name!r}: 1 to 32 of a-z, 0-9, '_' and '-'")
    return name


_SITE = "shopfloor/v1/{site}"
_PRINTER = _SITE + "/printers/{printer}"

RULES: dict[Role, tuple[Rule, ...]] = {
    Role.SERVER: (Rule(Access.READWRITE, f"{_SITE}/#"),),
    # Wall boards show names and plates: full state of orders, appointments and the people rows.
    Role.BOARD: (
        Rule(Access.READ, f"{_SITE}/repair-orders/+/state"),
        Rule(Access.READ, f"{_SITE}/appointments/+/state"),
        Rule(Access.READ, f"{_SITE}/advisors/+/state"),
        Rule(Access.READ, f"{_SITE}/technicians/+/state"),
        Rule(Access.READ, f"{_SITE}/capacity/+/state"),
        # the service manager's screens: complaints (no personal data) and an important one's escalation
        Rule(Access.READ, f"{_SITE}/complaints/+/state"),
        Rule(Access.READ, f"{_SITE}/events/complaints/+"),
        Rule(Access.READ, f"{_SITE}/printers/+/status"),
        Rule(Access.READ, f"{_SITE}/clients/#"),
        Rule(Access.WRITE, f"{_SITE}/clients/board/+"),
    ),
    # The lounge sees masked plates and names only: never the full repair-order state.
    Role.LOUNGE: (
        Rule(Access.READ, f"{_SITE}/lounge/+/state"),
        Rule(Access.WRITE, f"{_SITE}/clients/lounge/+"),
    ),
    # One printer's agent: its own jobs, acks and status, and its availability named after the printer.
    Role.PRINTER: (
        Rule(Access.READ, f"{_PRINTER}/jobs/+"),
        Rule(Access.WRITE, f"{_PRINTER}/acks"),
        Rule(Access.READWRITE, f"{_PRINTER}/status"),
        Rule(Access.WRITE, _SITE + "/clients/printer/{printer}"),
    ),
}


def rules(role: Role, site: str, printer: str | None = None) -> list[tuple[Access, str]]:
    """The role's rights in `site` as (access, MQTT filter); the printer role's are those of `printer`."""
    if role == Role.PRINTER and printer is None:
        raise ValueError("the printer role's rights are per printer: name the printer")
    return [(r.access, r.for_site(site, printer)) for r in RULES[role]]


def topic_matches(filter_: str, topic: str) -> bool:
    """MQTT filter matching (`+` one level, `#` the rest); `$`-topics never match wildcards."""
    if topic.startswith("$") and not filter_.startswith("$"):
        return False
    return filter_within(topic, filter_)  # a topic is a filter without wildcards, matching itself alone


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


_WRITES = (Access.WRITE, Access.READWRITE)
_READS = (Access.READ, Access.READWRITE)


def may_publish(role: Role, site: str, topic: str, printer: str | None = None) -> bool:
    return any(access in _WRITES and topic_matches(rule, topic) for access, rule in rules(role, site, printer))


def may_receive(role: Role, site: str, topic: str, printer: str | None = None) -> bool:
    return any(access in _READS and topic_matches(rule, topic) for access, rule in rules(role, site, printer))


def may_subscribe(role: Role, site: str, filter_: str, printer: str | None = None) -> bool:
    """A subscription is allowed only if all it could match is readable: retained messages may bypass a
    per-message receive check in some brokers, so the filter itself must stay inside the role's rights."""
    return any(access in _READS and filter_within(filter_, rule) for access, rule in rules(role, site, printer))
