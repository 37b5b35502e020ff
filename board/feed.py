"""The MQTT subscription that fills a BoardStore: the boards' only source of data (never the database)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from shopfloor.board.store import BoardStore
from shopfloor.contract import topics
from shopfloor.contract.access import Role
from shopfloor.credentials import MqttAccount
from shopfloor.mqtt import BrokerAddress, MqttLink

log = logging.getLogger(__name__)

# After a (re)connect the broker resends all retained states at once; entities not re-announced within this
# time were deleted while we were away. Generous: a missed deletion only lingers, a premature sweep blanks cards.
RESYNC_SETTLE_SECONDS = 10.0
# How often the feed looks whether its broker connection is still up (paho tells of a connect, which the feed
# hears, but of a lost connection only its own link): the boards' "data may be stale" mark follows within this.
LINK_CHECK_SECONDS = 2.0


def default_filters(site: str, role: Role) -> list[str]:
    """What each role's feed subscribes to; all within the role's rights (contract/access.py)."""
    if role == Role.LOUNGE:
        return [topics.state_filter(site, topics.LOUNGE)]
    if role == Role.BOARD:
        return [
            *(topics.state_filter(site, kind)
              for kind in (topics.APPOINTMENTS, topics.REPAIR_ORDERS, topics.ADVISORS, topics.TECHNICIANS,
                         topics.CAPACITY, topics.COMPLAINTS)),  # complaints: the manager's escalation banner
            topics.printer_status_filter(site),
            topics.client_status(site, "+", "+"),  # who is online: /status, and the server's own link (stale mark)
        ]
    raise ValueError(f"a board feed runs as the board or lounge role, not {role.value}")


class BoardFeed:
    def __init__(
        self,
        store: BoardStore,
        *,
        address: BrokerAddress,
        account: MqttAccount,
        site: str,
        role: Role,
        filters: Sequence[str] | None = None,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.store = store
        self.loop = loop
        # the board role reads clients/#: the server's retained availability is expected among the states
        store.expects_server = role == Role.BOARD and filters is None
        prefix = "lounge-feed" if role == Role.LOUNGE else "board-feed"
        self.link = MqttLink(
            address=address,
            account=account,
            site=site,
            role=role,
            client_id=f"{prefix}-{site}",
            subscriptions=list(filters) if filters is not None else default_filters(site, role),
            on_message=self._on_message,
            on_connected=self._on_connected,
        )
        self._sweep: asyncio.TimerHandle | None = None
        self._link_check: asyncio.TimerHandle | None = None
        self._stopped = False

    def start(self, wait: float | None = None) -> bool:
        self._hand_over(self._check_link)
        return self.link.start(wait)

    def stop(self) -> None:
        self._stopped = True
        self.link.stop()
        self._hand_over(self._cancel_sweep)
        self._hand_over(self._cancel_link_check)

    @property
    def connected(self) -> bool:
        return self.link.connected.is_set()

    # paho's thread from here on: only hand work to the loop

    def _on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        self._hand_over(self.store.apply, topic, payload, retained)

    def _on_connected(self) -> None:
        self._hand_over(self._begin_resync)

    def _hand_over(self, func: Callable[..., object], *args: object) -> None:
        try:
            self.loop.call_soon_threadsafe(func, *args)
        except RuntimeError:
            log.debug("event loop closed; dropping board feed message")

    # event loop from here on

    def _begin_resync(self) -> None:
        self.store.set_feed_connected(True)
        self._cancel_sweep()
        self.store.begin_resync()
        self._sweep = self.loop.call_later(RESYNC_SETTLE_SECONDS, self.store.end_resync)

    def _cancel_sweep(self) -> None:
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None

    def _check_link(self) -> None:
        self._link_check = None
        if self._stopped:
            return
        self.store.set_feed_connected(self.connected)
        self._link_check = self.loop.call_later(LINK_CHECK_SECONDS, self._check_link)

    def _cancel_link_check(self) -> None:
        if self._link_check is not None:
            self._link_check.cancel()
            self._link_check = None
