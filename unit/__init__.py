"""The unit's runtime: its config, the pipeline from frame to events, the practice session, health."""
