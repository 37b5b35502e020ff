"""The raw broker's fan-out, for comparison with the boards: one publisher (server account) and N paho
subscribers (board account) on the same broker, payloads of a repair-order state's size, QoS 1 and retained
like the outbox publisher's state messages. Latency = publish() call -> on_message in the last subscriber.

Topics are under shopfloor/v1/<site>/clients/bench/…: the server role may write there, the board role may read
there, and none of the server's own subscriptions (its board and lounge feeds, print acks) covers them, so the
running server sees none of this traffic."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from shopfloor.contract import topics
from shopfloor.credentials import MqttAccount


def _client(client_id: str, account: MqttAccount) -> paho.Client:
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=paho.MQTTv311, clean_session=True)
    client.username_pw_set(account.username, account.password)
    client.max_queued_messages_set(0)
    return client


class RawFanout:
    def __init__(self, host: str, port: int, site: str, publisher: MqttAccount, subscriber: MqttAccount,
                 fanouts: list[int]) -> None:
        self.host = host
        self.port = port
        self.fanouts = sorted(set(fanouts))
        self.site = site
        self._publisher_account = publisher
        self._subscriber_account = subscriber
        self._lock = threading.Lock()
        self._seq = -1
        self._want = 0
        self._arrivals: dict[int, float] = {}
        self._all_in = threading.Event()
        self._subscribed = threading.Semaphore(0)
        self.subscribers: list[paho.Client] = []
        self.publisher: paho.Client | None = None

    def topic(self, n: int) -> str:
        return f"{topics.site_root(self.site)}/clients/bench/raw-fanout-{n}"

    def connect(self, timeout: float = 60) -> None:
        count = max(self.fanouts)
        for index in range(count):
            client = _client(f"bench-raw-sub-{index}", self._subscriber_account)
            filters = [(self.topic(n), 1) for n in self.fanouts if index < n]

            def on_connect(c: paho.Client, _u: object, _f: object, reason: object, _p: object,
                           filters: list[tuple[str, int]] = filters) -> None:
                if not getattr(reason, "is_failure", False):
                    c.subscribe(filters)

            def on_subscribe(_c: paho.Client, _u: object, _mid: object, _codes: object, _p: object) -> None:
                self._subscribed.release()

            def on_message(_c: paho.Client, _u: object, message: paho.MQTTMessage, index: int = index) -> None:
                at = time.time()
                try:
                    seq = int(message.payload[:8])
                except ValueError:
                    return
                with self._lock:
                    if seq == self._seq and index not in self._arrivals:
                        self._arrivals[index] = at
                        if len(self._arrivals) >= self._want:
                            self._all_in.set()

            client.on_connect = on_connect
            client.on_subscribe = on_subscribe
            client.on_message = on_message
            client.connect(self.host, self.port, keepalive=30)
            client.loop_start()
            self.subscribers.append(client)
        deadline = time.monotonic() + timeout
        for _ in range(count):
            if not self._subscribed.acquire(timeout=max(0.1, deadline - time.monotonic())):
                raise TimeoutError("raw subscribers did not all subscribe in time")
        publisher = _client("bench-raw-pub", self._publisher_account)
        connected = threading.Event()
        publisher.on_connect = lambda *_args: connected.set()
        publisher.connect(self.host, self.port, keepalive=30)
        publisher.loop_start()
        if not connected.wait(timeout):
            raise TimeoutError("raw publisher did not connect")
        self.publisher = publisher

    def sample(self, n: int, seq: int, size: int, timeout: float) -> tuple[float, dict[int, float]]:
        """Publish one message to the N-subscriber topic; (publish time, subscriber index -> arrival time)."""
        assert self.publisher is not None
        payload = f"{seq:08d}|".encode().ljust(size, b"x")
        with self._lock:
            self._seq, self._want, self._arrivals = seq, n, {}
            self._all_in.clear()
        sent = time.time()
        self.publisher.publish(self.topic(n), payload, qos=1, retain=True)
        self._all_in.wait(timeout)
        with self._lock:
            self._seq = -1
            return sent, dict(self._arrivals)

    def close(self) -> None:
        if self.publisher is not None:
            for n in self.fanouts:  # leave no retained bench message behind
                self.publisher.publish(self.topic(n), b"", qos=1, retain=True).wait_for_publish(2)
            self.publisher.disconnect()
            self.publisher.loop_stop()
        for client in self.subscribers:
            client.disconnect()
        for client in self.subscribers:
            client.loop_stop()
        self.subscribers = []
