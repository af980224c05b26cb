"""Seed 004 skill level (PISA): a rendered set in PISA's layout, its loader, and `pianocam train skill`."""
