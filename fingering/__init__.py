"""Which finger played each note: evidence from fingertips near the key, decoded with hand anatomy."""
from pianocam.fingering.assign import FingerAssigner, Fingering, assign_fingers

__all__ = ["FingerAssigner", "Fingering", "assign_fingers"]
