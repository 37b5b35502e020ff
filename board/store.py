"""What the boards know: the latest retained state of every entity, fed from MQTT, held in memory.

Runs on the event loop only (the feed hands messages over from paho's thread), so no locking; `changed` tells
the pages on that loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from nicegui import Event

from shopfloor.contract import payloads, topics
from shopfloor.contract.entity_states import STATE_MODELS

log = logging.getLogger(__name__)

State = dict[str, Any]
# (kind, entity_id, state); state None means the entity was deleted
Listener = Callable[[str, str, State | None], None]
PRINTERS = "printers"
CLIENTS = "clients"  # the `kind` of a client availability change; its entity id is "<role>/<client id>"
SERVER_ROLE = "server"
PRINTER_ROLE = "printer"


def _parse_printer_status(topic: str) -> str | None:
    """The printer name of a printers/<name>/status topic, else None."""
    parts = topic.split("/")
    if len(parts) == 6 and f"{parts[0]}/{parts[1]}" == topics.ROOT and parts[3] == PRINTERS and parts[5] == "status":
        return parts[4]
    return None


def _parse_client(topic: str) -> tuple[str, str] | None:
    """(role, client id) of a clients/<role>/<id> availability topic, else None."""
    parts = topic.split("/")
    if len(parts) == 6 and f"{parts[0]}/{parts[1]}" == topics.ROOT and parts[3] == CLIENTS and parts[4] and parts[5]:
        return parts[4], parts[5]
    return None


@dataclass(frozen=True)
class ClientPresence:
    """One MQTT client's availability as the board feed last heard it. `since`: since when (epoch seconds) it
    is in that state: its own connect time when online; when offline, the moment this server heard it go, or
    None when it was already offline before this server subscribed (a retained "offline" whose last-will time
    is that of its connect, not of its end)."""

    role: str
    client_id: str
    online: bool
    since: float | None


class BoardStore:
    def __init__(self, site: str | None = None) -> None:
        self.site = site
        self._states: dict[str, dict[str, State]] = {kind: {} for kind in topics.STATE_KINDS}
        self.printer_status: dict[str, State] = {}
        self.clients: dict[str, ClientPresence] = {}
        """"<role>/<client id>" -> availability (the board role reads clients/#; the lounge's store has none)"""
        self.feed_connected = False
        # Set by a feed that reads clients/# (the board role): then the server's own availability must be among
        # the retained states once the first resync has settled; the lounge role cannot read it.
        self.expects_server = False
        self._settled = False
        self.stale_changed = Event[bool]()
        """the boards' "data may be stale" mark should show (True) or go (False); see `stale`"""
        self.changed = Event[str, str, State | None]()
        """an entity changed: its kind, its id and its new state (None: deleted); one failing listener stops no other"""
        # entities re-announced since the last (re)connect; None outside a resync
        self._seen: set[tuple[str, str]] | None = None

    # -- reading ------------------------------------------------------------------------------------------

    def states(self, kind: str) -> Mapping[str, State]:
        """A read-only live view of one kind: entity id -> state payload."""
        return MappingProxyType(self._states[kind])

    def get(self, kind: str, entity_id: str) -> State | None:
        return self._states[kind].get(entity_id)

    def __iter__(self) -> Iterator[tuple[str, str, State]]:
        for kind, entities in self._states.items():
            for entity_id, state in entities.items():
                yield kind, entity_id, state

    def __len__(self) -> int:
        return sum(len(entities) for entities in self._states.values())

    @property
    def listener_count(self) -> int:
        return len(self.changed.callbacks)

    @property
    def stale(self) -> bool:
        """What this store holds may be out of date: its feed is not connected to the broker; or the server's own
        broker connection is down (its retained availability says offline), so changes may not reach it; or, for
        a store that expects it, no retained availability of the server at all once the first resync has settled
        (a broker that lost its retained states, and no server has published since)."""
        servers = [c for c in self.clients.values() if c.role == SERVER_ROLE]
        return (not self.feed_connected or any(not c.online for c in servers)
                or (self.expects_server and self._settled and not servers))

    def _after(self, was_stale: bool) -> None:
        if self.stale != was_stale:
            self.stale_changed.emit(not was_stale)

    # -- writing ------------------------------------------------------------------------------------------

    def set_feed_connected(self, connected: bool) -> None:
        """The feed's broker connection came up or went down (board/feed.py)."""
        if connected == self.feed_connected:
            return
        was_stale = self.stale
        self.feed_connected = connected
        self._after(was_stale)

    def apply(self, topic: str, raw: bytes, retained: bool = False) -> None:
        """Take one MQTT message: keep it if it is newer, delete on an empty payload, ignore garbage."""
        parsed = topics.parse_state(topic)
        if parsed is None:
            printer = _parse_printer_status(topic)
            client = _parse_client(topic) if printer is None else None
            if printer is not None:
                self._apply_printer(topic, printer, raw, retained)
            elif client is not None:
                self._apply_client(topic, *client, raw, retained)
            else:
                log.debug("ignoring %s: not a state topic", topic)
            return
        if self.site is not None and parsed.site != self.site:
            log.debug("ignoring %s: other site", topic)
            return
        kind, entity_id = parsed.kind, parsed.entity_id
        if self._seen is not None:
            # even a garbled or stale message shows the entity still exists on the broker
            self._seen.add((kind, entity_id))
        try:
            # checked against the contract before any page sees it: a page may take every field as documented
            model = payloads.parse(STATE_MODELS[kind], raw)
        except payloads.PayloadError as exc:
            log.warning("ignoring garbled state on %s: %s; keeping the previous state", topic, exc)
            return
        entities = self._states[kind]
        if model is None:
            if entities.pop(entity_id, None) is not None:
                self.changed.emit(kind, entity_id, None)
            return
        state = model.to_dict()
        current = entities.get(entity_id)
        if current is not None and state["version"] <= current["version"]:
            log.debug("ignoring %s: version %s not newer than %s", topic, state["version"], current["version"])
            return
        entities[entity_id] = state
        self.changed.emit(kind, entity_id, state)

    def _apply_printer(self, topic: str, printer: str, raw: bytes, retained: bool) -> None:
        try:
            status = payloads.parse(payloads.PrinterStatus, raw)
        except payloads.PayloadError as exc:
            log.warning("ignoring garbled printer status on %s: %s", topic, exc)
            return
        if status is None:
            if self.printer_status.pop(printer, None) is not None:
                self.changed.emit(PRINTERS, printer, None)
            self._drop_client(f"{PRINTER_ROLE}/{printer}")
            return
        state = status.to_dict()
        # Availability is "last message wins" (docs/asyncapi.yaml): the agent's last will was composed before
        # its "online" message, so comparing versions would hide a crashed agent's "offline".
        self.printer_status[printer] = state
        self.changed.emit(PRINTERS, printer, state)
        self._apply_agent(printer, status, retained)

    def _apply_agent(self, printer: str, status: payloads.PrinterStatus, retained: bool) -> None:
        """A printer agent has no clients/ topic: its printer's status is its availability (docs/asyncapi.yaml),
        listed among the clients as printer/<printer name>. Online since the first status heard from it running
        (it says its status again at every connect, so that is its connect time or a later status change)."""
        gone = status.status == payloads.PRINTER_OFFLINE and status.detail in payloads.AGENT_GONE
        published = status.version / 1_000_000  # versions are the agent's wall clock in microseconds
        if gone:
            # a clean stop is dated when sent; a last will was composed at connect, so its date says nothing
            since = published if status.detail == payloads.AGENT_STOPPED else None if retained else time.time()
        else:
            since = published
        self._set_client(PRINTER_ROLE, printer, not gone, since)

    def _apply_client(self, topic: str, role: str, client_id: str, raw: bytes, retained: bool) -> None:
        try:
            availability = payloads.parse(payloads.Availability, raw)
        except payloads.PayloadError as exc:
            log.warning("ignoring garbled availability on %s: %s", topic, exc)
            return
        if availability is None:
            self._drop_client(f"{role}/{client_id}")
            return
        online = availability.state == payloads.ClientState.ONLINE
        self._set_client(role, client_id, online, availability.at if online else None if retained else time.time())

    def _drop_client(self, key: str) -> None:
        was_stale = self.stale
        if self.clients.pop(key, None) is not None:
            self.changed.emit(CLIENTS, key, None)
            self._after(was_stale)

    def _set_client(self, role: str, client_id: str, online: bool, since: float | None) -> None:
        """`since`: when it came to this state, unless it is in it already (a resync, or another status of a
        printer agent's): then it did not start now."""
        key = f"{role}/{client_id}"
        was_stale = self.stale
        previous = self.clients.get(key)
        if previous is not None and previous.online == online:
            since = previous.since
        presence = ClientPresence(role, client_id, online, since)
        self.clients[key] = presence
        self.changed.emit(CLIENTS, key, {"role": role, "client_id": client_id, "online": online, "since": since})
        self._after(was_stale)

    # -- resync after a reconnect -------------------------------------------------------------------------

    def begin_resync(self) -> None:
        """The broker is about to resend every retained state: start noting which entities still exist.

        A deletion (empty retained payload) published while we were offline is never resent, so after a
        reconnect the only way to learn of it is that the entity is not re-announced."""
        self._seen = set()

    def end_resync(self) -> int:
        """Drop entities the broker did not re-announce since begin_resync(); returns how many."""
        if self._seen is None:
            return 0
        was_stale = self.stale
        self._settled = True
        self._after(was_stale)
        seen, self._seen = self._seen, None
        gone = [(kind, eid) for kind, entities in self._states.items() for eid in entities if (kind, eid) not in seen]
        for kind, entity_id in gone:
            del self._states[kind][entity_id]
            self.changed.emit(kind, entity_id, None)
        if gone:
            log.info("dropped %d board entities no longer on the broker", len(gone))
        return len(gone)
