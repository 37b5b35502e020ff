"""The embedded broker's own fixes to amqtt that no bus test can hit on purpose."""

import asyncio

from shopfloor.broker.embedded import _SnapshotItems


def test_broadcast_survives_a_subscription_arriving_while_it_iterates() -> None:
    """amqtt awaits the topic check inside `for … in _subscriptions.items()`: a client subscribing meanwhile
    changed the dict's size and the message was lost for everyone ("dictionary changed size during iteration")."""
    subscriptions = _SnapshotItems({"shopfloor/v1/demo/appointments/+/state": [], "shopfloor/v1/demo/#": []})
    seen = []

    async def broadcast() -> None:
        for topic_filter, holders in subscriptions.items():
            await asyncio.sleep(0)  # the topic check: another client's SUBSCRIBE runs here
            seen.append((topic_filter, len(holders)))

    async def subscribe() -> None:
        subscriptions["shopfloor/v1/demo/capacity/+/state"] = []
        subscriptions.pop("shopfloor/v1/demo/#")

    async def both() -> None:
        await asyncio.gather(broadcast(), subscribe())

    asyncio.run(both())
    assert [f for f, _ in seen] == ["shopfloor/v1/demo/appointments/+/state", "shopfloor/v1/demo/#"]
    assert set(subscriptions) == {"shopfloor/v1/demo/appointments/+/state", "shopfloor/v1/demo/capacity/+/state"}
