"""Model activations to notes: basic-pitch 0.4.0's polyphonic note creation, in numpy, for one frame buffer."""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

MIDI_OFFSET = 21      # model bin 0 is A0
ONSET_THRESHOLD = 0.5  # basic-pitch predict() defaults
FRAME_THRESHOLD = 0.3
MIN_NOTE_FRAMES = 11   # round(127.70 ms * 22050 / 256)
ENERGY_TOLERANCE = 11  # frames below FRAME_THRESHOLD that end a note


@dataclass(frozen=True)
class DecodedNote:
    start: int          # frame index in the buffer
    end: int            # frame index one past the last sounding frame
    pitch: int          # MIDI number
    amplitude: float    # mean frame activation, 0-1
    onset: float        # onset activation at start (0 for notes found without an onset)
    open_ended: bool    # still sounding when the buffer ran out


def inferred_onsets(onsets: np.ndarray, frames: np.ndarray, n_diff: int = 2) -> np.ndarray:
    """Onsets raised where frame activations jump, rescaled to the onsets' peak (basic-pitch's infer_onsets)."""
    padded = np.concatenate([np.zeros((n_diff, frames.shape[1]), frames.dtype), frames])
    diff = np.min([padded[n_diff:] - padded[n_diff - n:len(padded) - n] for n in range(1, n_diff + 1)], axis=0)
    diff = np.maximum(diff, 0)
    diff[:n_diff] = 0
    top = diff.max()
    if top > 0:
        diff = onsets.max() * diff / top
    return np.maximum(onsets, diff)


def onset_peaks(onsets: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """(frame, bin) of strict local maxima over time at or above threshold, latest first, like basic-pitch."""
    peak = np.zeros(onsets.shape, bool)
    peak[1:-1] = (onsets[1:-1] > onsets[:-2]) & (onsets[1:-1] > onsets[2:])
    t, f = np.nonzero(peak & (onsets >= threshold))
    return t[::-1], f[::-1]


def _walk(energy: np.ndarray, f: int, i: int, stop: int, step: int, threshold: float, tolerance: int,
          clear: bool) -> tuple[int, int]:
    """Walk from frame i until `tolerance` frames in a row fall below threshold; returns (i, frames below)."""
    k = 0
    while (i < stop if step > 0 else i > stop) and k < tolerance:
        k = k + 1 if energy[i, f] < threshold else 0
        if clear:
            energy[i, max(f - 1, 0):f + 2] = 0
        i += step
    return i, k


def decode_notes(frames: np.ndarray, onsets: np.ndarray, onset_threshold: float = ONSET_THRESHOLD,
                 frame_threshold: float = FRAME_THRESHOLD, min_frames: int = MIN_NOTE_FRAMES,
                 melodia: bool = True, energy_tolerance: int = ENERGY_TOLERANCE) -> list[DecodedNote]:
    """Notes from (n_frames, 88) frame and onset activations, following basic-pitch's output_to_notes_polyphonic."""
    n = frames.shape[0]
    if n < 3:
        return []
    onsets = inferred_onsets(onsets, frames)
    energy = frames.astype(np.float64).copy()
    notes = []
    # Latest onsets first: a repeated key cuts the previous note where the new one starts.
    for start, f in zip(*onset_peaks(onsets, onset_threshold)):
        if start >= n - 1:
            continue
        i, k = _walk(energy, f, start + 1, n - 1, 1, frame_threshold, energy_tolerance, clear=False)
        end = i - k
        if end - start <= min_frames:
            continue
        energy[start:end, max(f - 1, 0):f + 2] = 0
        notes.append(DecodedNote(int(start), int(end), int(f) + MIDI_OFFSET, float(frames[start:end, f].mean()),
                                 float(onsets[start, f]), bool(k < energy_tolerance)))
    if not melodia:
        return notes
    # Melodia trick: energy no onset explained becomes a note if it lasts long enough.
    while energy.max() > frame_threshold:
        mid, f = np.unravel_index(np.argmax(energy), energy.shape)
        energy[mid, f] = 0
        i, k = _walk(energy, f, mid + 1, n - 1, 1, frame_threshold, energy_tolerance, clear=True)
        end = i - 1 - k
        j, kb = _walk(energy, f, mid - 1, 0, -1, frame_threshold, energy_tolerance, clear=True)
        start = j + 1 + kb
        if end - start <= min_frames:
            continue
        notes.append(DecodedNote(int(start), int(end), int(f) + MIDI_OFFSET, float(frames[start:end, f].mean()),
                                 0.0, bool(k < energy_tolerance)))
    return notes


def drop_octave_ghosts(notes: list[DecodedNote], ratio: float = 0.8, within: int = 3) -> list[DecodedNote]:
    """Drop a note an octave above a note starting within `within` frames when it is under `ratio` of its strength.

    A piano string's second harmonic is strong enough that the model often reports the octave above
    as a note of its own; a really played octave is usually struck about as hard as its lower note.
    """
    if ratio <= 0:
        return notes
    return [n for n in notes if not any(m.pitch == n.pitch - 12 and abs(m.start - n.start) <= within
                                        and n.amplitude < ratio * m.amplitude for m in notes)]
