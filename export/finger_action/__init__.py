"""Seed 003's finger-action network on the workstation: training clips from scenes, training, export."""
