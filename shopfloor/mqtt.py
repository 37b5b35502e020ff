"""One MQTT 3.1.1 connection with availability (retained online/offline via last will) and auto-reconnect.

paho runs its network loop in its own thread: `on_message` and `on_connected` are called there, so callers
that touch asyncio or UI state hand the work over with `loop.call_soon_threadsafe`.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from shopfloor.contract import payloads, topics
from shopfloor.contract.access import Role
from shopfloor.credentials import MqttAccount

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes, bool], None]


def drop_connection(client: paho.Client) -> None:
    """End a client's connection without DISCONNECT, as a crash would: the broker publishes its last will."""
    sock = client.socket()
    client.loop_stop()
    if sock is not None:
        sock.close()


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    # mqtts://: TLS, the broker's certificate checked against this CA (the site's own, `mosquitto-config`)
    tls_ca: Path | None = None
    # or against this CA certificate itself (PEM), as a printer host's credentials file carries it
    tls_ca_pem: str | None = field(default=None, repr=False)

    @property
    def tls(self) -> bool:
        return self.tls_ca is not None or self.tls_ca_pem is not None

    @classmethod
    def parse(cls, url: str, tls_ca: Path | None = None) -> BrokerAddress:
        """Accept mqtt://HOST:PORT, mqtts://HOST:PORT (needs tls_ca), HOST:PORT or HOST."""
        tls = url.startswith("mqtts://")
        rest = url.removeprefix("mqtts://").removeprefix("mqtt://").rstrip("/")
        default = "8883" if tls else "1883"
        host, _, port = rest.rpartition(":") if ":" in rest else (rest, "", default)
        if not host:
            raise ValueError(f"broker address {url!r}: expected mqtt://HOST:PORT or mqtts://HOST:PORT")
        if tls and tls_ca is None:
            raise ValueError(f"broker address {url!r}: TLS needs the site's CA certificate (--tls-ca FILE)")
        try:
            return cls(host=host, port=int(port), tls_ca=tls_ca if tls else None)
        except ValueError:
            raise ValueError(f"broker address {url!r}: port {port!r} is not a number") from None

    def __str__(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


class MqttLink:
    def __init__(
        self,
        *,
        address: BrokerAddress,
        account: MqttAccount,
        site: str,
        role: Role,
        client_id: str,
        subscriptions: Sequence[str] = (),
        on_message: MessageHandler | None = None,
        on_connected: Callable[[], None] | None = None,
        status_topic: str | None = None,
        status_payload: Callable[[str], bytes] | None = None,
    ) -> None:
        self.address = address
        self.site = site
        self.role = role
        self.client_id = client_id  # the stable name: the availability topic is named after it
        # On the wire the id gets a random suffix per process: an account that could guess another
        # connection's id could end it by connecting with the same id (the broker must close the older one),
        # and two processes started by mistake for one printer do not end each other's connection forever.
        self.mqtt_client_id = f"{client_id}-{secrets.token_hex(6)}"
        self.subscriptions = list(subscriptions)
        self._on_message = on_message
        self._on_connected = on_connected
        self.status_topic = status_topic or topics.client_status(site, role.value, client_id)
        # Availability is "last message wins" (one client writes each status topic, the broker keeps order),
        # so the will needs no version ordering against the "online" message.
        self._status_payload = status_payload or self._default_status_payload
        self.connected = threading.Event()
        self.last_error: str | None = None
        self._client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.mqtt_client_id,
            protocol=paho.MQTTv311,
            clean_session=True,
        )
        self.username = account.username
        self._client.username_pw_set(account.username, account.password)
        if address.tls_ca_pem is not None:
            # Checks the broker's certificate against the site's CA and the host name.
            self._client.tls_set_context(ssl.create_default_context(cadata=address.tls_ca_pem))
        elif address.tls_ca is not None:
            self._client.tls_set(ca_certs=str(address.tls_ca))
        self._client.will_set(self.status_topic, self._status_payload("offline"), qos=1, retain=True)
        self._client.reconnect_delay_set(min_delay=1, max_delay=5)
        self._client.max_queued_messages_set(0)
        self._client.on_connect = self._handle_connect
        self._client.on_disconnect = self._handle_disconnect
        self._client.on_message = self._handle_message
        self._client.on_connect_fail = self._handle_connect_fail

    @staticmethod
    def _default_status_payload(state: str) -> bytes:
        return payloads.encode(payloads.availability(state, at=time.time()))

    def start(self, wait: float | None = None) -> bool:
        self._client.connect_async(self.address.host, self.address.port, keepalive=15)
        self._client.loop_start()
        return self.connected.wait(wait) if wait else self.connected.is_set()

    def stop(self) -> None:
        was_connected = self.connected.is_set()
        self.connected.clear()  # a clean stop is not a lost connection: keeps the log quiet
        if was_connected:
            info = self._client.publish(self.status_topic, self._status_payload("offline"), qos=1, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):  # not sent in time: the will says it anyway
                info.wait_for_publish(timeout=2)
        self._client.disconnect()
        self._client.loop_stop()

    def kill(self) -> None:
        """Drop the connection without a clean goodbye: the broker sends the last will (tests, faults)."""
        drop_connection(self._client)
        self.connected.clear()

    def publish(self, topic: str, payload: bytes | str, *, retain: bool, qos: int = 1) -> paho.MQTTMessageInfo:
        return self._client.publish(topic, payload, qos=qos, retain=retain)

    def subscribe(self, filter_: str) -> None:
        self.subscriptions.append(filter_)
        if self.connected.is_set():
            self._client.subscribe(filter_, qos=1)

    def _handle_connect(self, client: paho.Client, _userdata: object, _flags: object, reason_code: object,
                        _properties: object) -> None:
        if getattr(reason_code, "is_failure", False):
            self.last_error = f"broker {self.address} refused {self.role.value} login: {reason_code}"
            log.error("%s (check the password of MQTT user %r in the credentials file)", self.last_error,
                      self.username)
            return
        self.last_error = None
        log.info("%s connected to %s as %s", self.client_id, self.address, self.role.value)
        client.publish(self.status_topic, self._status_payload("online"), qos=1, retain=True)
        for filter_ in self.subscriptions:
            client.subscribe(filter_, qos=1)
        self.connected.set()
        if self._on_connected:
            self._on_connected()

    def _handle_disconnect(self, _client: paho.Client, _userdata: object, _flags: object, reason_code: object,
                           _properties: object) -> None:
        if self.connected.is_set():
            log.warning("%s lost broker %s (%s); reconnecting", self.client_id, self.address, reason_code)
        self.connected.clear()

    def _handle_connect_fail(self, _client: paho.Client, _userdata: object) -> None:
        msg = f"cannot reach MQTT broker at {self.address}"
        if msg != self.last_error:
            log.warning("%s (%s); retrying", msg, self.client_id)
        self.last_error = msg

    def _handle_message(self, _client: paho.Client, _userdata: object, message: paho.MQTTMessage) -> None:
        if self._on_message is None:
            return
        try:
            self._on_message(message.topic, bytes(message.payload), bool(message.retain))
        except Exception:
            log.exception("handling %s failed", message.topic)
