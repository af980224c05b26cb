"""Keyboard detection and key maps (grows with the calibration issue)."""
