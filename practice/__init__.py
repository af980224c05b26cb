"""Practice against the book: exercises and scores with fingering, a score follower, verdicts, metrics, reports."""
