"""The MQTT side of the unit: the contract, the journal, delivery, retained state, commands."""
