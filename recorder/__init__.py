"""The school's recorder: every unit's events from the broker into a database, and the teachers' history page."""
