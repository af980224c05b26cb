"""The workstation side: torch models, training, export (separate environment)."""
