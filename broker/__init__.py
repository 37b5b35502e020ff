"""The embedded MQTT broker (amqtt) with shopfloor's accounts and topic rights."""

from shopfloor.broker.embedded import BrokerPortInUse, BrokerStartError, EmbeddedBroker

__all__ = ["BrokerPortInUse", "BrokerStartError", "EmbeddedBroker"]
