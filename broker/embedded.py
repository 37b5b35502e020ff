"""The MQTT broker that `shopfloor serve` runs in-process: amqtt on its own thread and event loop.

The broker gets a loop of its own so that neither it nor the NiceGUI/uvicorn loop can stall the other, and
so it can be started and stopped from plain synchronous code (the CLI, tests).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import logging
import socket
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from amqtt.adapters import ReaderAdapter, WriterAdapter
from amqtt.broker import Broker
from amqtt.contexts import Action, BrokerConfig, ListenerConfig, ListenerType
from amqtt.errors import AMQTTError, MQTTError
from amqtt.mqtt.connack import NOT_AUTHORIZED, ConnackPacket
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.session import Session
from amqtt.utils import gen_client_id

from shopfloor.broker.plugins import ShopfloorAccessPlugin, account_configs
from shopfloor.credentials import Credentials
from shopfloor.mqtt import BrokerAddress

log = logging.getLogger(__name__)

_PLUGIN_PATH = f"{ShopfloorAccessPlugin.__module__}.{ShopfloorAccessPlugin.__qualname__}"
# time given to client connections to wind down after amqtt's shutdown before they are cancelled
_DRAIN_SECONDS = 2.0


class BrokerStartError(RuntimeError):
    """The embedded broker could not start listening."""


class BrokerPortInUse(BrokerStartError):
    def __init__(self, host: str, port: int, flag: str = "") -> None:
        super().__init__(f"MQTT port {port} on {host} is already in use; "
                         + (f"choose another with {flag}" if flag else "choose another port"))
        self.host = host
        self.port = port


@dataclass(frozen=True)
class TlsListener:
    """A second listener for the LAN: TLS with a certificate from the site's CA (clients check it against ca.crt),
    then the same accounts and rights as the plain one."""

    host: str
    port: int  # 0: any free port
    cert: Path
    key: Path
    ca: Path


def broker_config(host: str, port: int, site: str, credentials: Credentials,
                  tls: TlsListener | None = None, credentials_file: Path | None = None) -> BrokerConfig:
    accounts = account_configs(credentials)
    listeners = {"default": ListenerConfig(type=ListenerType.TCP, bind=f"{host}:{port}")}
    if tls is not None:
        listeners["tls"] = ListenerConfig(type=ListenerType.TCP, bind=f"{tls.host}:{tls.port}", ssl=True,
                                          certfile=tls.cert, keyfile=tls.key, cafile=tls.ca)
    return BrokerConfig(
        listeners=listeners,
        # Replaces amqtt's default plugins: anonymous login, $SYS topics, and a packet logger whose DEBUG
        # output would include CONNECT passwords.
        plugins={_PLUGIN_PATH: {"site": site, "accounts": accounts,
                                "credentials_file": str(credentials_file) if credentials_file else ""}},
    )


class _SnapshotItems(dict[str, list[tuple[Session, int]]]):
    """amqtt's broadcast loop iterates `_subscriptions.items()` and awaits inside the loop (the topic check), so a
    client subscribing or leaving meanwhile raised "dictionary changed size during iteration" and the message was
    lost for every subscriber. Iterating a snapshot delivers it to the filters that existed when it started."""

    def items(self) -> list[tuple[str, list[tuple[Session, int]]]]:  # type: ignore[override]
        return [(k, list(v)) for k, v in super().items()]


class _AccessControlledBroker(Broker):
    """amqtt 0.12.1 with the gaps its plugin API cannot close (re-check these overrides when upgrading amqtt):

    - Retained messages are sent without the RECEIVE topic check, both when a client subscribes and when a
      session (re)connects; and on connect amqtt replays retained messages for every filter held by *any*
      session, so a lounge screen connecting while the server holds `shopfloor/v1/<site>/#` would get all
      repair orders. Both replays are rewritten to use the session's own filters and check every message;
      so is the delivery of what a persistent session queued while offline.
    - A CONNECT drops or takes over the existing session with the same client id *before* authentication, so
      a client with a wrong password (or another role's account) could silently end a connected client's
      subscriptions. Here the login is checked first, and a client id stays with the account that holds it.
    - The broadcast loop iterates the subscriptions while awaiting (see _SnapshotItems).
    - A clean-session CONNECT with a client id that is connected dropped the old session's subscriptions but
      left its connection open: the old client (a board, a printer agent) stopped receiving forever without
      noticing. MQTT 3.1.1 §3.1.4 says the server must disconnect the existing client; here it does, so the
      old client sees the connection end and reconnects.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._subscriptions: dict[str, list[tuple[Session, int]]] = _SnapshotItems(vars(self)["_subscriptions"])

    async def shutdown(self) -> None:
        # amqtt treats every client as disconnected abnormally when it shuts down and queues their wills after the
        # broadcast loop has stopped ("messages not broadcasted" warnings). Retained state dies with the broker
        # anyway, so there is no one left to tell.
        for session, _ in self._sessions.values():
            session.will_flag = False
        await super().shutdown()

    async def _initialize_client_session(
        self, reader: ReaderAdapter, writer: WriterAdapter, remote_address: str, remote_port: int
    ) -> tuple[BrokerProtocolHandler, Session]:
        try:
            handler, session = await BrokerProtocolHandler.init_from_connect(reader, writer, self.plugins_manager)
        except MQTTError:
            await writer.close()
            raise
        refusal = await self._refusal(session)
        if refusal:
            await ConnackPacket.build(0, NOT_AUTHORIZED).to_stream(writer)
            await writer.close()
            raise AMQTTError(f"CONNECT from {remote_address}:{remote_port} refused: {refusal}")

        # From here on as amqtt's own _initialize_client_session (plus the will_retain it forgets to copy).
        if session.clean_session:
            if session.client_id:
                await self._disconnect_existing(session.client_id)
                await self._delete_session(session.client_id)
            else:
                session.client_id = gen_client_id()
            session.parent = 0
        elif session.client_id in self._sessions:
            existing, _ = self._sessions[session.client_id]
            for attr in ("will_flag", "will_message", "will_topic", "will_qos", "will_retain", "keep_alive",
                         "username", "password"):
                setattr(existing, attr, getattr(session, attr))
            session = existing
            session.parent = 1
        else:
            session.parent = 0
        delay = self.config.get("timeout-disconnect-delay", 0)
        if session.keep_alive > 0 and isinstance(delay, int):
            session.keep_alive += delay
        return handler, session

    async def _disconnect_existing(self, client_id: str) -> None:
        old_session, old_handler = self._sessions.get(client_id, (None, None))
        if old_session is None or old_handler is None or not old_session.transitions.is_connected():
            return
        log.warning("MQTT client id %r connected again: closing its earlier connection (MQTT 3.1.1 §3.1.4)",
                    client_id)
        # The same client identity goes on under the new connection: its last will ("offline") would be
        # published after the new connection said "online".
        old_session.will_flag = False
        with contextlib.suppress(Exception):  # a half-dead connection is as good as closed
            await old_handler.handle_connection_closed()
            await old_handler.stop()

    async def _refusal(self, session: Session) -> str | None:
        # amqtt authenticates this session again in _handle_client_session; the repeat costs one more hash.
        if not await self._authenticate(session, self.listeners_config["default"]):
            return "not authorized"
        holder = self._sessions.get(session.client_id or "", (None, None))[0]
        if holder is not None and holder.username is not None and holder.username != session.username:
            log.warning("MQTT login refused: user %r asked for client id %r, which belongs to user %r",
                        session.username, session.client_id, holder.username)
            return "client id belongs to another account"
        return None

    async def _publish_retained_messages_for_subscription(
        self, subscription: tuple[str, int], session: Session
    ) -> None:
        topic_filter = subscription[0]
        holders = self._subscriptions.get(topic_filter, ())
        granted = next((qos for holder, qos in holders if holder.client_id == session.client_id), None)
        handler = self._get_handler(session)
        if granted is None or handler is None:
            return  # not this session's filter (amqtt's connect-time replay walks everybody's filters)
        sends = []
        for topic, retained in list(self._retained_messages.items()):
            if self._matches(topic, topic_filter) and await self._topic_filtering(session, topic, Action.RECEIVE):
                qos = granted if retained.qos is None else min(granted, retained.qos)
                sends.append(handler.mqtt_publish(topic, retained.data, qos, retain=True))
        await _send_all(sends, session)

    async def _publish_session_retained_messages(self, session: Session) -> None:
        handler = self._get_handler(session)
        if handler is None:
            return
        sends = []
        while not session.retained_messages.empty():
            message = session.retained_messages.get_nowait()
            if await self._topic_filtering(session, message.topic, Action.RECEIVE):
                sends.append(handler.mqtt_publish(message.topic, message.data, message.qos, retain=True))
        await _send_all(sends, session)


async def _send_all(sends: list[Coroutine[Any, Any, Any]], session: Session) -> None:
    for result in await asyncio.gather(*sends, return_exceptions=True):
        if isinstance(result, Exception):
            log.debug("retained delivery to %r failed: %r", session.client_id, result)


def _probe_bind(host: str, port: int, flag: str = "") -> None:
    """Fail early with a clear message, instead of amqtt's traceback, when the port is taken."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise BrokerStartError(f"cannot resolve MQTT listen address {host!r}: {exc}") from exc
    for family, type_, proto, _, sockaddr in infos:
        with socket.socket(family, type_, proto) as probe:
            # the same options asyncio's listener uses, so a port in TIME_WAIT is not reported as taken
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(sockaddr)
            except OSError as exc:
                raise _start_error(host, port, exc, flag) from exc


def _start_error(host: str, port: int, exc: BaseException, flag: str = "") -> BrokerStartError:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError) and cause.errno == errno.EADDRINUSE:
            return BrokerPortInUse(host, port, flag)
        cause = cause.__cause__ or cause.__context__
    return BrokerStartError(f"MQTT broker on {host}:{port} failed to start: {exc}")


def _quiet_amqtt_logging() -> None:
    # amqtt logs every connection and state transition at INFO; respect a level someone set on purpose.
    for name in ("amqtt", "transitions"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)


class EmbeddedBroker:
    """amqtt with shopfloor's accounts and ACL, listening on TCP `host:port` (port 0: any free port), and with
    `tls` on a TLS listener as well (its port: `tls_port` once started). With `credentials_file` (the site's
    credentials.toml) an account added or changed there later is let in without a restart. `port_flag` and
    `tls_port_flag` name the command's options for a port in use."""

    def __init__(self, host: str, port: int, site: str, credentials: Credentials,
                 tls: TlsListener | None = None, credentials_file: Path | None = None,
                 port_flag: str = "", tls_port_flag: str = "") -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.tls_port = tls.port if tls is not None else None
        self.site = site
        self._credentials = credentials
        self._credentials_file = credentials_file
        self._port_flag = port_flag
        self._tls_port_flag = tls_port_flag
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._broker: Broker | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def address(self) -> BrokerAddress:
        """Where local clients reach this broker (a wildcard listen address is reached via loopback)."""
        host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        return BrokerAddress(host=host, port=self.port)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._broker is not None

    def start(self, timeout: float = 10.0) -> None:
        """Return once the port accepts connections; raise BrokerPortInUse or BrokerStartError otherwise."""
        if self._thread is not None:
            raise RuntimeError("EmbeddedBroker is already started")
        _quiet_amqtt_logging()
        _probe_bind(self.host, self.port, self._port_flag)
        if self.tls is not None:
            _probe_bind(self.tls.host, self.tls.port, self._tls_port_flag)
        config = broker_config(self.host, self.port, self.site, self._credentials, self.tls, self._credentials_file)
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, args=(config,), name=f"mqtt-broker:{self.port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise BrokerStartError(f"MQTT broker on {self.host}:{self.port} did not start within {timeout:g} s")
        if self._error is not None:
            error = self._error
            self.stop()
            raise _start_error(self.host, self.port, error, self._port_flag) from error
        log.info("MQTT broker for site %r listening on %s:%d%s", self.site, self.host, self.port,
                 f" and TLS {self.tls.host}:{self.tls_port}" if self.tls is not None else "")

    def stop(self, timeout: float = 10.0) -> None:
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already ended (failed start)
                loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout)
        if thread.is_alive():
            log.warning("MQTT broker thread did not stop within %g s", timeout)
        self._thread = None
        self._loop = self._stopping = None
        self._broker = None

    def answers(self, timeout: float = 5.0) -> bool:
        """The broker's thread runs and its event loop takes work within `timeout` (the systemd watchdog's
        question: a hung loop serves no client)."""
        loop = self._loop
        if not self.running or loop is None:
            return False

        async def nothing() -> None:
            return None

        try:
            done = asyncio.run_coroutine_threadsafe(nothing(), loop)
        except RuntimeError:  # the loop has closed meanwhile
            return False
        try:
            done.result(timeout)
        except (TimeoutError, concurrent.futures.CancelledError):
            done.cancel()
            return False
        return True

    def retained_topics(self, timeout: float = 5.0) -> list[str]:
        """Topics the broker currently retains (diagnostics and tests)."""
        broker, loop = self._broker, self._loop
        if broker is None or loop is None:
            return []

        async def snapshot() -> list[str]:
            return sorted(broker.retained_messages)

        return asyncio.run_coroutine_threadsafe(snapshot(), loop).result(timeout)

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _run(self, config: BrokerConfig) -> None:
        try:
            # Runner.close() cancels what is still pending and shuts the default executor (used for password
            # hashing) down, so nothing is left to warn about "Task was destroyed but it is pending".
            with asyncio.Runner() as runner:
                runner.run(self._serve(config))
        except BaseException as exc:
            if self._ready.is_set():
                log.exception("embedded MQTT broker stopped unexpectedly")
            else:
                self._error = exc
        finally:
            self._ready.set()

    async def _serve(self, config: BrokerConfig) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        broker = _AccessControlledBroker(config)
        await broker.start()
        if self.port == 0:
            self.port = _bound_port(broker)
        if self.tls is not None and self.tls.port == 0:
            self.tls_port = _bound_port(broker, "tls")
        self._broker = broker
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            await broker.shutdown()
            # amqtt's shutdown stops the sessions, but the tasks serving their connections end a moment later
            others = asyncio.all_tasks() - {asyncio.current_task()}
            if others:
                await asyncio.wait(others, timeout=_DRAIN_SECONDS)


def _bound_port(broker: Broker, listener: str = "default") -> int:
    server = broker._servers[listener].instance  # amqtt keeps no public handle on its listening sockets
    sockets = getattr(server, "sockets", None) or ()
    return int(sockets[0].getsockname()[1]) if sockets else 0
