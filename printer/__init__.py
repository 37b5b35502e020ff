"""Job tickets for ESC/POS printers and the agent that prints them from the MQTT bus."""
