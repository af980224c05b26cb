"""Why a frame gave no key map: each error names what was not found."""
from __future__ import annotations


class CalibrationError(ValueError):
    """The frame (or the options) cannot give a trustworthy key map."""


class KeyboardNotFound(CalibrationError):
    """No piano keyboard in view: no row of black keys in a 2-and-3 pattern."""


class NumberingUnknown(CalibrationError):
    """Keys were located but which octave they are cannot be told (or contradicts the options)."""
