"""The `pianocam` commands that are tools, not the unit: the CLI entry, demo, doctor, profile, embedded broker."""
