"""Both brokers' logins and topic rights (the embedded one and a Mosquitto configured by
`shopfloor.broker.mosquitto`), checked with real paho clients on what actually arrives.

SUBACK codes are not asserted: the embedded broker refuses a filter wider than the role's rights, Mosquitto
grants every filter and checks READ rights per message. Under MQTT 3.1.1 both acknowledge a denied PUBLISH
and drop it, so a publish is judged by what arrives and what the broker retains.
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import paho.mqtt.client as paho
import pytest
from amqtt.contexts import Action
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from shopfloor.broker import embedded
from shopfloor.broker.embedded import BrokerPortInUse, EmbeddedBroker
from shopfloor.broker.passwords import hash_password, verify_password
from shopfloor.broker.plugins import is_allowed
from shopfloor.contract import topics
from shopfloor.contract.access import Role, may_publish, may_receive
from shopfloor.credentials import Credentials
from shopfloor.mqtt import BrokerAddress, MqttLink, drop_connection
from shopfloor.testing.broker_fixtures import RunningBroker
from shopfloor.testing.polling import eventually

SITE = "test"
PRINTER, OTHER_PRINTER = "p1", "p2"  # each has an account of its own (broker_fixtures.TEST_PRINTERS)
RO_STATE = topics.state(SITE, topics.REPAIR_ORDERS, "RO1")
LOUNGE_STATE = topics.state(SITE, topics.LOUNGE, "RO1")
PERSONAL = b'{"v":1,"plate":"B-XY 1234","customer":"Erika Mustermann"}'
MASKED = b'{"v":1,"plate":"B-XY ***4","customer":"E. M."}'
QUIET = 0.5  # how long to wait for something that must NOT arrive
PATIENCE = 3.0  # upper bound for something that must arrive

_ids = itertools.count(1)


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool


class Probe:
    """A bare paho client that records its CONNACK and everything delivered to it."""

    def __init__(self, address: BrokerAddress, username: str | None = None, password: str | None = None, *,
                 client_id: str | None = None, will_topic: str | None = None, clean_session: bool = True) -> None:
        self.address = address
        self.client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, clean_session=clean_session,
                                  client_id=client_id or f"probe-{next(_ids)}", protocol=paho.MQTTv311)
        if username is not None:
            self.client.username_pw_set(username, password)
        if will_topic is not None:
            self.client.will_set(will_topic, b"gone", qos=1, retain=True)
        self.reason: ReasonCode | None = None
        self._connack = threading.Event()
        self._subacks: dict[int, threading.Event] = {}
        self._inbox: queue.Queue[Received] = queue.Queue()
        self._passed_over: list[Received] = []  # what wait_for went past: still there for drain()
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    def _on_connect(self, _c: paho.Client, _u: object, _f: object, reason: ReasonCode, _p: object) -> None:
        self.reason = reason
        self._connack.set()

    def _on_subscribe(self, _c: paho.Client, _u: object, mid: int, _codes: object, _p: object) -> None:
        self._subacks.setdefault(mid, threading.Event()).set()

    def _on_message(self, _c: paho.Client, _u: object, message: paho.MQTTMessage) -> None:
        self._inbox.put(Received(message.topic, bytes(message.payload), bool(message.retain)))

    def connect(self) -> ReasonCode:
        self.client.connect(self.address.host, self.address.port, keepalive=30)
        # Drive the loop by hand until CONNACK: paho's background loop would sit out a reconnect delay after a
        # refusal, and close() would wait for it.
        deadline = time.monotonic() + PATIENCE
        while not self._connack.is_set() and time.monotonic() < deadline:
            self.client.loop(0.05)
        assert self.reason is not None, "no CONNACK"
        if not self.reason.is_failure:
            self.client.loop_start()
        return self.reason

    def subscribe(self, *filters: str) -> None:
        _, mid = self.client.subscribe([(f, 1) for f in filters])
        assert mid is not None
        assert self._subacks.setdefault(mid, threading.Event()).wait(PATIENCE), "no SUBACK"

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(PATIENCE)
        # MQTT 3.1.1 has no way to refuse a PUBLISH: both brokers acknowledge a denied one and drop it
        assert info.is_published(), f"no PUBACK for {topic}"

    def collect(self, seconds: float = QUIET) -> list[Received]:
        time.sleep(seconds)
        return self.drain()

    def drain(self) -> list[Received]:
        got, self._passed_over = self._passed_over, []
        while not self._inbox.empty():
            got.append(self._inbox.get_nowait())
        return got

    def wait_for(self, topic: str, payload: bytes | None = None) -> Received:
        deadline = time.monotonic() + PATIENCE
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = self._inbox.get(timeout=left)
            except queue.Empty:
                break
            if msg.topic == topic and (payload is None or msg.payload == payload):
                return msg
            self._passed_over.append(msg)
        raise AssertionError(f"nothing arrived on {topic} within {PATIENCE} s")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def kill(self) -> None:
        """Drop the connection without DISCONNECT, as a crash would: the broker publishes the last will."""
        drop_connection(self.client)


Connect = Callable[..., Probe]


@pytest.fixture
def connect(any_broker: RunningBroker, credentials: Credentials) -> Iterator[Connect]:
    """connect(role, *filters, client_id=None, printer="p1") -> a logged-in, subscribed Probe (closed after the
    test); the printer role logs in with that printer's account."""
    made: list[Probe] = []

    def _connect(role: Role, *filters: str, client_id: str | None = None, printer: str = PRINTER) -> Probe:
        account = credentials.printer_account(printer) if role == Role.PRINTER else credentials.account(role)
        probe = Probe(any_broker.address, account.username, account.password, client_id=client_id)
        made.append(probe)
        assert not probe.connect().is_failure
        if filters:
            probe.subscribe(*filters)
        return probe

    yield _connect
    for probe in made:
        probe.close()


def _refused(probe: Probe) -> bool:
    try:
        reason = probe.connect()
        return reason.is_failure and str(reason) == "Not authorized"
    finally:
        probe.close()


def _gather(probe: Probe, expected: set[str]) -> list[Received]:
    """What arrives until every expected topic has (at most PATIENCE), and then for a QUIET while."""
    got: list[Received] = []
    deadline = time.monotonic() + PATIENCE
    while not expected <= {m.topic for m in got} and time.monotonic() < deadline:
        got += probe.drain()
        time.sleep(0.02)
    return got + probe.collect()


# --- logins -------------------------------------------------------------------------------------------------


def test_anonymous_connection_is_refused(any_broker: RunningBroker) -> None:
    assert _refused(Probe(any_broker.address))


def test_wrong_password_and_unknown_user_are_refused(any_broker: RunningBroker, credentials: Credentials) -> None:
    board = credentials.account(Role.BOARD)
    assert _refused(Probe(any_broker.address, board.username, board.password + "x"))
    assert _refused(Probe(any_broker.address, board.username, ""))
    assert _refused(Probe(any_broker.address, "nobody", board.password))
    assert _refused(Probe(any_broker.address, "", board.password))


def test_right_password_is_accepted(connect: Connect) -> None:
    for role in Role:
        connect(role)


def test_failed_login_cannot_take_over_a_connected_client_id(connect: Connect, any_broker: RunningBroker,
                                                              credentials: Credentials) -> None:
    board = connect(Role.BOARD, topics.state_filter(SITE, topics.REPAIR_ORDERS), client_id="board-1")
    server = connect(Role.SERVER)
    account = credentials.account(Role.BOARD)
    assert _refused(Probe(any_broker.address, account.username, "wrong", client_id="board-1"))
    if any_broker.kind == "embedded":
        # another role's valid login may not take the id over either (Mosquitto 2.0 cannot bind a client id
        # to an account: see test_another_roles_takeover_gets_only_its_own_rights)
        lounge = credentials.account(Role.LOUNGE)
        assert _refused(Probe(any_broker.address, lounge.username, lounge.password, client_id="board-1"))

    server.publish(RO_STATE, PERSONAL)
    assert board.wait_for(RO_STATE).payload == PERSONAL


def test_another_roles_takeover_gets_only_its_own_rights(connect: Connect, any_broker: RunningBroker,
                                                         credentials: Credentials) -> None:
    # Where a lounge login may take a board's client id over (Mosquitto), it still reads as the lounge.
    server = connect(Role.SERVER)
    server.publish(RO_STATE, PERSONAL, retain=True)
    server.publish(LOUNGE_STATE, MASKED, retain=True)
    board = connect(Role.BOARD, client_id="board-1")
    account = credentials.account(Role.LOUNGE)
    lounge = Probe(any_broker.address, account.username, account.password, client_id="board-1")
    if any_broker.kind == "embedded":
        assert _refused(lounge)
        return
    try:
        assert not lounge.connect().is_failure
        board.kill()  # the board was dropped: keep its paho loop from taking the id back
        lounge.subscribe(topics.state_filter(SITE, topics.REPAIR_ORDERS), "#")
        server.publish(RO_STATE, PERSONAL + b" ")
        server.publish(LOUNGE_STATE, MASKED + b" ")
        got = _gather(lounge, {LOUNGE_STATE})
        # the session works, as the lounge: lounge state (retained, then live), never a repair order
        assert [(m.payload, m.retain) for m in got if m.topic == LOUNGE_STATE] == [(MASKED, True),
                                                                                   (MASKED + b" ", False)]
        assert [m for m in got if m.topic != LOUNGE_STATE] == []
    finally:
        lounge.close()


def test_last_will_outside_the_roles_rights_never_lands(connect: Connect, any_broker: RunningBroker,
                                                        credentials: Credentials) -> None:
    # The embedded broker refuses such a login; Mosquitto lets it in and drops the will when it would fire.
    server = connect(Role.SERVER, RO_STATE)
    lounge = credentials.account(Role.LOUNGE)
    probe = Probe(any_broker.address, lounge.username, lounge.password, will_topic=RO_STATE)
    if any_broker.kind == "embedded":
        assert _refused(probe)
    else:
        assert not probe.connect().is_failure
        probe.kill()
    assert server.collect() == []
    assert RO_STATE not in any_broker.retained_topics()


# --- every role against every kind of topic ---------------------------------------------------------------------

IN_SITE = [
    RO_STATE,
    topics.state(SITE, topics.APPOINTMENTS, 7),
    topics.state(SITE, topics.ADVISORS, 1),
    topics.state(SITE, topics.TECHNICIANS, 2),
    LOUNGE_STATE,
    topics.event(SITE, topics.REPAIR_ORDERS, "RO1"),
    topics.printer_status(SITE, PRINTER),
    topics.print_job(SITE, PRINTER, 7),
    topics.print_ack(SITE, PRINTER),
    topics.printer_status(SITE, OTHER_PRINTER),
    topics.print_job(SITE, OTHER_PRINTER, 8),
    topics.print_ack(SITE, OTHER_PRINTER),
    *(topics.client_status(SITE, role.value, "c1") for role in Role),
    topics.client_status(SITE, Role.PRINTER.value, PRINTER),
    topics.client_status(SITE, Role.PRINTER.value, OTHER_PRINTER),
    f"{RO_STATE}/deeper",
    "shopfloor/v1/test",
]
ELSEWHERE = [
    "shopfloor/v1/other/repair-orders/RO1/state",
    "shopfloor/v1/other/lounge/RO1/state",
    "shopfloor/v1/other/clients/board/c1",
    "shopfloor/v1/other/printers/p1/status",
    "shopfloor/v2/test/repair-orders/RO1/state",
    "elsewhere",
]


@pytest.mark.parametrize("role", list(Role))
def test_role_receives_exactly_what_it_may_read(connect: Connect, any_broker: RunningBroker, role: Role) -> None:
    expected = {t for t in IN_SITE if may_receive(role, SITE, t, _printer(role))}
    server = connect(Role.SERVER)
    for topic in IN_SITE:
        server.publish(topic, b"retained", retain=True)
    assert eventually(lambda: set(any_broker.retained_topics()) >= set(IN_SITE), PATIENCE)

    # wide filters and each topic on its own: what arrives must not depend on how a client asks
    client = connect(role, "#", "$SYS/#", "shopfloor/v1/test/#", "+/+/+/+/+/+", *IN_SITE)
    got = _gather(client, expected)
    assert {m.topic for m in got} == expected
    assert all(m.retain and m.payload == b"retained" for m in got)

    for topic in IN_SITE:
        server.publish(topic, b"live")
    live = _gather(client, expected)
    assert {m.topic for m in live} == expected
    assert all(not m.retain and m.payload == b"live" for m in live)


@pytest.mark.parametrize("role", list(Role))
def test_role_publishes_exactly_where_it_may_write(connect: Connect, any_broker: RunningBroker, role: Role) -> None:
    expected = {t for t in IN_SITE + ELSEWHERE if may_publish(role, SITE, t, _printer(role))}
    observer = connect(Role.SERVER, "shopfloor/v1/test/#")
    client = connect(role)
    for topic in IN_SITE + ELSEWHERE:
        client.publish(topic, role.value.encode(), retain=True)
    done = _own_availability(role) if role == Role.PRINTER else topics.client_status(SITE, role.value, "done")
    client.publish(done, b"done", retain=True)  # handled after everything above: same client
    arrived = {m.topic for m in _gather(observer, (expected & set(IN_SITE)) | {done})}
    assert arrived == (expected & set(IN_SITE)) | {done}
    assert set(any_broker.retained_topics()) == expected | {done}


# --- lounge: masked data only ---------------------------------------------------------------------------------


@pytest.mark.parametrize("filter_", ["#", "shopfloor/v1/test/#", "shopfloor/v1/test/+/+/state"])
def test_lounge_wide_subscription_gets_no_repair_orders(connect: Connect, filter_: str) -> None:
    # The server holds a wide filter itself: amqtt replays retained messages for every filter of every session
    # on connect, which must not leak to the lounge.
    server = connect(Role.SERVER, "shopfloor/v1/test/#")
    server.publish(RO_STATE, PERSONAL, retain=True)
    server.publish(LOUNGE_STATE, MASKED, retain=True)
    server.wait_for(LOUNGE_STATE)

    lounge = connect(Role.LOUNGE, filter_)
    server.publish(RO_STATE, PERSONAL + b" ", retain=True)
    server.publish(RO_STATE.replace("RO1", "RO2"), PERSONAL, retain=False)

    got = lounge.collect()
    assert [m for m in got if "/repair-orders/" in m.topic] == []


def test_lounge_gets_lounge_state_retained_and_live(connect: Connect) -> None:
    server = connect(Role.SERVER, "shopfloor/v1/test/#")
    server.publish(RO_STATE, PERSONAL, retain=True)
    server.publish(LOUNGE_STATE, MASKED, retain=True)
    server.wait_for(LOUNGE_STATE)

    lounge = connect(Role.LOUNGE, topics.state_filter(SITE, topics.LOUNGE))
    assert lounge.wait_for(LOUNGE_STATE) == Received(LOUNGE_STATE, MASKED, retain=True)
    server.publish(LOUNGE_STATE, MASKED + b" ", retain=True)
    assert lounge.wait_for(LOUNGE_STATE) == Received(LOUNGE_STATE, MASKED + b" ", retain=False)
    assert [m for m in lounge.collect() if "/repair-orders/" in m.topic] == []


# --- board, printer ----------------------------------------------------------------------------------------------


def test_board_reads_repair_orders_but_cannot_write_them(connect: Connect) -> None:
    server = connect(Role.SERVER, topics.state_filter(SITE, topics.REPAIR_ORDERS))
    server.publish(RO_STATE, PERSONAL, retain=True)
    server.wait_for(RO_STATE)

    board = connect(Role.BOARD, topics.state_filter(SITE, topics.REPAIR_ORDERS))
    assert board.wait_for(RO_STATE) == Received(RO_STATE, PERSONAL, retain=True)
    server.publish(RO_STATE, PERSONAL + b" ")
    assert board.wait_for(RO_STATE).payload == PERSONAL + b" "
    server.wait_for(RO_STATE, PERSONAL + b" ")  # its own echo

    board.publish(RO_STATE, b"forged", retain=True)
    assert server.collect() == []
    # and the retained state is untouched
    late = connect(Role.SERVER, RO_STATE)
    assert late.wait_for(RO_STATE).payload == PERSONAL


def test_printer_reads_print_jobs_but_not_repair_orders(connect: Connect) -> None:
    job = topics.print_job(SITE, "p1", 7)
    server = connect(Role.SERVER)
    server.publish(RO_STATE, PERSONAL, retain=True)
    server.publish(job, b"ticket-7", retain=True)

    printer = connect(Role.PRINTER, topics.print_jobs_filter(SITE, "p1"),
                      topics.state_filter(SITE, topics.REPAIR_ORDERS))
    assert printer.wait_for(job).payload == b"ticket-7"
    server.publish(topics.print_job(SITE, "p1", 8), b"ticket-8")
    server.publish(RO_STATE, PERSONAL + b" ")
    assert printer.wait_for(topics.print_job(SITE, "p1", 8)).payload == b"ticket-8"
    assert [m for m in printer.collect() if "/repair-orders/" in m.topic] == []


def test_printer_account_reads_only_its_own_printers_jobs(connect: Connect) -> None:
    # A stolen printer host must not see the tickets (names, plates, complaints) printed elsewhere.
    server = connect(Role.SERVER)
    mine, theirs = topics.print_job(SITE, PRINTER, 7), topics.print_job(SITE, OTHER_PRINTER, 8)
    server.publish(mine, b"ticket-7", retain=True)
    server.publish(theirs, b"ticket-8", retain=True)

    printer = connect(Role.PRINTER, topics.print_jobs_filter(SITE, PRINTER),
                      topics.print_jobs_filter(SITE, OTHER_PRINTER), "shopfloor/v1/test/printers/+/jobs/+",
                      "shopfloor/v1/test/printers/#", "#", printer=PRINTER)
    server.publish(topics.print_job(SITE, OTHER_PRINTER, 9), b"ticket-9")
    server.publish(topics.print_job(SITE, PRINTER, 10), b"ticket-10")
    got = _gather(printer, {mine, topics.print_job(SITE, PRINTER, 10)})
    assert {m.topic for m in got} == {mine, topics.print_job(SITE, PRINTER, 10)}
    assert not any(f"/printers/{OTHER_PRINTER}/" in m.topic for m in got)


def test_printer_account_writes_only_its_own_acks_and_status(connect: Connect, any_broker: RunningBroker) -> None:
    observer = connect(Role.SERVER, "shopfloor/v1/test/#")
    printer = connect(Role.PRINTER, printer=PRINTER)
    forged = [topics.print_ack(SITE, OTHER_PRINTER), topics.printer_status(SITE, OTHER_PRINTER),
              topics.client_status(SITE, Role.PRINTER.value, OTHER_PRINTER),
              topics.print_job(SITE, OTHER_PRINTER, 8), topics.print_job(SITE, PRINTER, 8)]
    for topic in forged:
        printer.publish(topic, b"forged", retain=True)
    own = [topics.print_ack(SITE, PRINTER), topics.printer_status(SITE, PRINTER),
           topics.client_status(SITE, Role.PRINTER.value, PRINTER)]
    for topic in own:
        printer.publish(topic, b"mine", retain=True)
    got = _gather(observer, set(own))
    assert sorted(m.topic for m in got) == sorted(own)
    assert set(any_broker.retained_topics()) == set(own)


# --- availability, other sites, last will -----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.BOARD, Role.LOUNGE, Role.PRINTER])
def test_role_writes_only_its_own_availability(connect: Connect, role: Role) -> None:
    server = connect(Role.SERVER, "shopfloor/v1/test/clients/#")
    client = connect(role)
    other_role = Role.LOUNGE if role != Role.LOUNGE else Role.BOARD

    client.publish(topics.client_status(SITE, other_role.value, "c1"), b"spoofed", retain=True)
    if role == Role.PRINTER:  # and not another printer's
        client.publish(topics.client_status(SITE, role.value, OTHER_PRINTER), b"spoofed", retain=True)
    own = _own_availability(role)
    client.publish(own, b"online", retain=True)
    assert server.wait_for(own).payload == b"online"
    assert server.collect() == []


@pytest.mark.parametrize(("role", "topic"), [
    (Role.SERVER, "shopfloor/v1/other/repair-orders/RO1/state"),
    (Role.BOARD, "shopfloor/v1/other/clients/board/c1"),
    (Role.PRINTER, "shopfloor/v1/other/printers/p1/status"),
])
def test_publish_to_another_site_is_dropped(connect: Connect, any_broker: RunningBroker, role: Role,
                                            topic: str) -> None:
    # No account may read another site either, so the broker's retained store is the witness.
    client = connect(role)
    client.publish(topic, b"elsewhere", retain=True)
    own = _own_availability(role)
    client.publish(own, b"online", retain=True)  # same client, so handled after the publish above
    deadline = time.monotonic() + PATIENCE
    while own not in any_broker.retained_topics() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any_broker.retained_topics() == [own]


def test_killed_board_leaves_offline_availability(connect: Connect, any_broker: RunningBroker,
                                                  credentials: Credentials) -> None:
    status = topics.client_status(SITE, Role.BOARD.value, "board-7")
    server = connect(Role.SERVER, "shopfloor/v1/test/clients/#")
    link = MqttLink(address=any_broker.address, account=credentials.account(Role.BOARD), site=SITE,
                    role=Role.BOARD, client_id="board-7")
    assert link.start(wait=PATIENCE)
    assert json.loads(server.wait_for(status).payload)["state"] == "online"

    link.kill()
    assert json.loads(server.wait_for(status).payload)["state"] == "offline"
    late = connect(Role.SERVER, status)
    retained = late.wait_for(status)
    assert retained.retain and json.loads(retained.payload)["state"] == "offline"


def test_persistent_session_gets_what_was_queued_while_offline(connect: Connect, any_broker: RunningBroker,
                                                               credentials: Credentials) -> None:
    # amqtt's offline queue is delivered through an overridden method: make sure it still delivers.
    username, password = _login(credentials, Role.BOARD)
    board = Probe(any_broker.address, username, password, client_id="board-p", clean_session=False)
    assert not board.connect().is_failure
    board.subscribe(topics.state_filter(SITE, topics.REPAIR_ORDERS))
    board.close()

    connect(Role.SERVER).publish(RO_STATE, PERSONAL)
    again = Probe(any_broker.address, username, password, client_id="board-p", clean_session=False)
    try:
        assert not again.connect().is_failure
        assert again.wait_for(RO_STATE).payload == PERSONAL
    finally:
        again.close()


# --- $SYS and the decision function ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.LOUNGE, Role.BOARD, Role.PRINTER])
def test_sys_topics_are_not_readable(role: Role) -> None:
    printer = _printer(role)
    assert not is_allowed(role, SITE, Action.SUBSCRIBE, "$SYS/#", printer)
    assert not is_allowed(role, SITE, Action.SUBSCRIBE, "$SYS/broker/clients/connected", printer)
    assert not is_allowed(role, SITE, Action.RECEIVE, "$SYS/broker/clients/connected", printer)


def test_wildcards_and_dollar_topics_are_never_publishable() -> None:
    assert is_allowed(Role.SERVER, SITE, Action.PUBLISH, RO_STATE)
    for topic in ("shopfloor/v1/test/#", "shopfloor/v1/test/repair-orders/+/state", "$SYS/x", ""):
        assert not is_allowed(Role.SERVER, SITE, Action.PUBLISH, topic)
    assert not is_allowed(Role.BOARD, SITE, Action.PUBLISH, "shopfloor/v1/test/clients/board/#")


def test_password_hashes() -> None:
    encoded = hash_password("s3cret", n=2**10)
    assert "s3cret" not in encoded
    assert verify_password("s3cret", encoded)
    assert not verify_password("s3cret ", encoded)
    assert not verify_password("s3cret", "scrypt$garbage")
    assert not verify_password("s3cret", encoded.replace("scrypt", "md5", 1))


# --- lifecycle -----------------------------------------------------------------------------------------------------


def test_port_in_use_is_a_clear_error(embedded_broker: EmbeddedBroker, credentials: Credentials) -> None:
    with pytest.raises(BrokerPortInUse) as caught:
        EmbeddedBroker("127.0.0.1", embedded_broker.port, SITE, credentials, port_flag="--port").start()
    port = embedded_broker.port
    assert str(caught.value) == f"MQTT port {port} on 127.0.0.1 is already in use; choose another with --port"


def test_amqtt_bind_failure_is_reported_as_port_in_use(embedded_broker: EmbeddedBroker,
                                                       credentials: Credentials,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # when another process takes the port between our probe and amqtt's bind
    monkeypatch.setattr(embedded, "_probe_bind", lambda *args: None)
    second = EmbeddedBroker("127.0.0.1", embedded_broker.port, SITE, credentials)
    with pytest.raises(BrokerPortInUse):
        second.start()
    assert not second.running


def test_stop_releases_the_port(credentials: Credentials) -> None:
    with EmbeddedBroker("127.0.0.1", 0, SITE, credentials) as first:
        port = first.port
    assert not first.running
    with EmbeddedBroker("127.0.0.1", port, SITE, credentials) as again:
        probe = Probe(again.address, *_login(credentials, Role.SERVER))
        assert not probe.connect().is_failure
        probe.close()


def _printer(role: Role) -> str | None:
    """Whose rights a test client of `role` has: the printer role's are one printer's."""
    return PRINTER if role == Role.PRINTER else None


def _own_availability(role: Role) -> str:
    """An availability topic the role may write: a printer's is named after its printer."""
    return topics.client_status(SITE, role.value, PRINTER if role == Role.PRINTER else "c1")


def _login(credentials: Credentials, role: Role) -> tuple[str, str]:
    account = credentials.account(role)
    return account.username, account.password


def test_reused_client_id_closes_the_earlier_connection(connect: Connect, any_broker: RunningBroker,
                                                        credentials: Credentials) -> None:
    # amqtt dropped the first client's subscriptions but kept its connection open: it never heard again and
    # never knew. MQTT 3.1.1 §3.1.4: the broker closes the existing connection, so the client can reconnect.
    first = connect(Role.BOARD, topics.state_filter(SITE, topics.REPAIR_ORDERS), client_id="board-dup")
    gone = threading.Event()
    first.client.on_disconnect = lambda *_args: gone.set()
    first.client.reconnect_delay_set(60, 60)  # stay away: the new connection keeps the id
    second = connect(Role.BOARD, topics.state_filter(SITE, topics.REPAIR_ORDERS), client_id="board-dup")
    assert gone.wait(PATIENCE), "the earlier connection with the same client id was left open"
    connect(Role.SERVER).publish(RO_STATE, PERSONAL)
    assert second.wait_for(RO_STATE).payload == PERSONAL


def test_link_whose_id_is_taken_reconnects_and_receives_again(connect: Connect, any_broker: RunningBroker,
                                                              credentials: Credentials) -> None:
    received: queue.Queue[bytes] = queue.Queue()
    link = MqttLink(address=any_broker.address, account=credentials.account(Role.BOARD), site=SITE,
                    role=Role.BOARD, client_id="board-8", subscriptions=[RO_STATE],
                    on_message=lambda _topic, payload, _retain: received.put(payload))
    assert link.start(wait=PATIENCE)
    other = MqttLink(address=any_broker.address, account=credentials.account(Role.BOARD), site=SITE,
                     role=Role.BOARD, client_id="board-8")
    # the same name, a different connection: ids are unguessable per process, so nobody ends another by name
    assert other.mqtt_client_id != link.mqtt_client_id and other.status_topic == link.status_topic
    try:
        thief = Probe(any_broker.address, *_login(credentials, Role.BOARD), client_id=link.mqtt_client_id)
        assert not thief.connect().is_failure  # someone took the link's id: the broker closes the link's connection
        thief.client.reconnect_delay_set(60, 60)
        deadline = time.monotonic() + 10
        server = connect(Role.SERVER)
        while time.monotonic() < deadline:  # the link reconnects (taking its id back) and hears again
            server.publish(RO_STATE, PERSONAL)
            try:
                assert received.get(timeout=0.5) == PERSONAL
                break
            except queue.Empty:
                continue
        else:
            raise AssertionError("the link did not reconnect after its connection was taken over")
        thief.kill()
    finally:
        link.stop()
