"""Rendered top-down piano scenes with exact truth: the test bed and the demo input."""
