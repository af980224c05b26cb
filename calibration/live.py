"""Calibration on the unit: a key map from one live frame, and the calibration stage that keeps it right."""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np

from pianocam.calibration.from_notes import NumberingWatch, provisional_keymap, renumber
from pianocam.calibration.keymap import KeyMap, note_name, parse_note

logger = logging.getLogger(__name__)

# Octaves are told apart by where the keys were: a camera knocked by less than half an octave
# (3.5 white keys) leaves each key nearer its old place than any key an octave away. A move near
# half an octave could be either way, so the previous map speaks only for clearly smaller ones;
# a bigger move on purpose wants fresh hints (cmd/recalibrate {"fresh": true}).
MAX_MOVE_WHITE_KEYS = 3.0
MIN_COMMON_KEYS = 5


def calibrate_frame(image, calibration_config, previous: KeyMap | None = None) -> tuple[KeyMap | None, str]:
    """(KeyMap, "") from one frame, or (None, why) when the keyboard cannot be mapped.

    With a previous map of the same camera (recalibration after a knock), the keys keep the
    numbering that map gave them unless both ends of the keyboard are in view: a hint such as
    calibration.first_c ("the leftmost C in view") goes stale as soon as the camera moves, and an
    octave error would silently ruin every note after it.
    """
    from pianocam.calibration.detect import detect_keymap
    from pianocam.calibration.errors import NumberingUnknown

    c = calibration_config
    hints = dict(keys=c.keys or None, lowest=parse_note(c.lowest) if c.lowest else None,
                 first_c=parse_note(c.first_c) if c.first_c else None)
    keymap, error = None, ""
    try:
        keymap = detect_keymap(image, **hints)
    except NumberingUnknown as err:  # keys found, octaves not: the previous map may tell them
        error = str(err)
    except ValueError as err:  # CalibrationError and its kin say what was not found
        return None, str(err)
    usable = previous is not None and tuple(previous.image_size) == tuple(image.shape[1::-1])
    if not usable or (keymap is not None and not keymap.partial):
        return (keymap, "") if keymap is not None else (None, error)
    relative = keymap or _any_octave(image)  # the previous map corrects the octave
    if relative is None:
        return None, error
    octave = octave_from_previous(relative, previous)
    if octave is None or (keymap is not None and octave == 0):
        if keymap is not None:
            return keymap, ""
        return None, f"{error}; the previous key map does not tell either (the camera moved more than " \
                     f"{MAX_MOVE_WHITE_KEYS:g} white keys)"
    first_c = min(k.midi for k in relative.keys if k.midi % 12 == 0) + 12 * octave
    try:
        renumbered = detect_keymap(image, first_c=first_c)
    except ValueError as err:
        return (keymap, "") if keymap is not None else (None, f"{error}; numbering from the previous key map "
                                                                 f"failed: {err}")
    if keymap is not None:
        logger.warning("the config's hints number this view %s octave(s) off the previous key map: the camera has "
                       "moved, so the previous map's numbering is kept (leftmost C in view now %s; update "
                       "calibration.first_c, or send cmd/recalibrate {\"fresh\": true} if the old map was wrong)",
                       -octave, note_name(first_c))
    else:
        logger.info("numbered from the previous key map: leftmost C in view is %s", note_name(first_c))
    return renumbered, ""


def _any_octave(image) -> KeyMap | None:
    """The keys numbered in some octave: as the ends suggest, else with C4 as the leftmost C."""
    from pianocam.calibration.detect import detect_keymap

    for hints in ({}, {"first_c": 60}):
        try:
            return detect_keymap(image, **hints)
        except ValueError:
            continue
    return None


def octave_from_previous(keymap: KeyMap, previous: KeyMap) -> int | None:
    """How many octaves to add to keymap's numbers so its keys lie where previous had them; None if unclear."""
    centres = {k.midi: np.asarray(k.center, float) for k in previous.keys}
    width = previous.white_key_width_px
    scores = []
    for octave in range(-8, 9):
        moved = [np.hypot(*(np.asarray(k.center, float) - centres[k.midi + 12 * octave])) for k in keymap.keys
                 if k.midi + 12 * octave in centres]
        if len(moved) >= MIN_COMMON_KEYS:
            scores.append((float(np.median(moved)) / width, octave))
    if not scores:
        return None
    distance, octave = min(scores)
    logger.info("keys lie %.1f white keys from where the previous map had them (octave %+d)", distance, octave)
    return octave if distance <= MAX_MOVE_WHITE_KEYS else None


class FrameTask:
    """Something done with a frame's image now and then (a drift check), off the frame loop."""

    def __init__(self, interval: float, action: Callable[[np.ndarray], None]):
        self.interval = interval
        self.action = action
        self._due = time.monotonic() + interval
        self._thread: threading.Thread | None = None

    def run_soon(self) -> None:
        """Run on the next frame instead of waiting out the interval."""
        self._due = 0.0

    def offer(self, image: np.ndarray) -> None:
        if (self.interval <= 0 and self._due) or time.monotonic() < self._due or (self._thread and self._thread.is_alive()):
            return
        self._due = time.monotonic() + self.interval
        self._thread = threading.Thread(target=self.action, args=(image.copy(),), daemon=True)
        self._thread.start()


class LiveCalibration:
    """The unit's calibration stage: the key map made from the first frame that shows the keyboard (retried
    with backoff while none does), made again on request, checked for drift now and then, and numbered
    from the notes played. Every change goes to `on_keymap` and out as a `calibration` message."""

    def __init__(self, config, path: Path, emit: Callable[[str, dict], object], keymap: KeyMap | None = None,
                 on_keymap: Callable[[KeyMap | None], None] = lambda keymap: None):
        self.config = config            # the [calibration] section
        self.path = path                # where the map is saved, for the next start
        self.emit = emit
        self.keymap = keymap            # the map loaded from path, checked against the first frame
        self._on_keymap = on_keymap
        self.numbering = NumberingWatch(lambda: self.keymap, self._renumber)
        self._drift = FrameTask(config.drift_interval, self._check_drift)
        self._due, self._due_at, self._retry = True, 0.0, 0.5
        self._requested = threading.Event()
        # (requests so far, fresh): a request that arrives while a map is being made is not lost.
        self._requests = (0, False)
        self._lock = threading.Lock()
        self._last_error = ""

    def add_frame(self, image: np.ndarray) -> None:
        if self._due and time.monotonic() >= self._due_at:
            self._due = False
            if not self._calibrate(image):
                # Hands over one end of the keyboard, say: try again on a later frame, backing off.
                self._due = True
                self._due_at = time.monotonic() + self._retry
                self._retry = min(self._retry * 2, 30.0)
        self._drift.offer(image)

    def add_notes(self, notes, clock_offset: float) -> None:
        self.numbering.clock_offset = clock_offset
        self.numbering.add_notes(notes)

    def add_hands(self, hands) -> None:
        self.numbering.add_frame(hands)

    def request(self, fresh: bool = False) -> None:
        """Map the keys again from the next frame (cmd/recalibrate); fresh forgets the old map's numbering."""
        with self._lock:
            count, pending_fresh = self._requests
            # A plain request does not cancel a fresh one still waiting.
            self._requests = (count + 1, fresh or (pending_fresh and self._requested.is_set()))
            self._requested.set()
        self._map_soon()

    def check_soon(self) -> None:
        """Check for drift on the next frame instead of waiting for the interval (cmd/check_calibration)."""
        self._drift.run_soon()

    def _map_soon(self) -> None:
        self._due, self._due_at, self._retry = True, 0.0, 0.5

    def _use(self, keymap: KeyMap | None) -> None:
        self.keymap = keymap
        self._on_keymap(keymap)

    def _calibrate(self, image: np.ndarray) -> bool:
        """Map the keys from this frame unless a map is loaded; False asks for another try later."""
        keymap = self.keymap
        size = (image.shape[1], image.shape[0])
        if keymap is not None and tuple(keymap.image_size) != size:
            logger.error("key map is for %dx%d frames but the camera gives %dx%d: calibrating afresh",
                         *keymap.image_size, *size)
            self._use(None)
        elif keymap is not None and not self._requested.is_set():
            self._publish("ok", keymap)
            return True
        # A recalibration keeps the numbering of the map it replaces (a knocked camera makes
        # calibration.first_c stale), unless asked for a fresh start after moving the camera on purpose.
        with self._lock:
            request, fresh = self._requests
        previous = None if fresh else self.keymap
        keymap, error = calibrate_frame(image, self.config, previous=previous)
        if keymap is None and "which octave" in error and self.keymap is None:
            # Keys found but not numbered: the notes will number them (calibration.from_notes).
            keymap = provisional_keymap(image)
        if keymap is None:
            if error != self._last_error:
                kept = self.keymap is not None
                logger.error("calibration failed: %s; trying again on later frames, %s", error,
                             "keeping the previous key map meanwhile" if kept else "notes go out with fingers "
                             "unknown meanwhile")
                self.emit("calibration", {"state": "ok" if kept else "missing", "error": error,
                                          "recalibration": "failed"})
            self._last_error = error
            return False
        with self._lock:
            if self._requests[0] == request:  # else asked again meanwhile: map once more
                self._requested.clear()
                self._requests = (request, False)
        self._last_error = ""
        self._use(keymap)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            keymap.save(self.path)
        except OSError as err:
            logger.warning("cannot save the key map: %s", err)
        self._publish("ok", keymap)
        return True

    def _publish(self, state: str, keymap: KeyMap, **drift) -> None:
        midis = keymap.midis
        self.emit("calibration", {"state": state, "keys": len(midis), "partial": keymap.partial,
                                  "lowest": keymap.keys[0].name if keymap.keys else None,
                                  "highest": keymap.keys[-1].name if keymap.keys else None,
                                  "method": keymap.method, "numbering": keymap.numbered_by, **drift})

    def _renumber(self, shift: int, verdict) -> None:
        """The notes say the keys are numbered `shift` semitones off: renumber, or remap after a knock."""
        keymap = self.keymap
        if keymap is None:
            return
        if shift % 12:
            logger.warning("the notes played say the key map is %+d semitones off (%d of %d notes): the camera "
                           "has moved; mapping the keys again", shift, verdict.votes[shift], verdict.notes)
            self._map_soon()
            with self._lock:
                self._requests = (self._requests[0] + 1, False)
                self._requested.set()
            return
        keymap = renumber(keymap, shift)
        logger.info("numbered from the notes: %+d semitones (%d of %d notes agree)", shift,
                    verdict.votes[shift], verdict.notes)
        self._use(keymap)
        try:
            keymap.save(self.path)
        except OSError as err:
            logger.warning("cannot save the key map: %s", err)
        self._publish("ok", keymap, notes_used=verdict.notes)

    def _check_drift(self, image: np.ndarray) -> None:
        """Has the camera been knocked? Publish ok or drifted with the error in key widths."""
        from pianocam.calibration.drift import check_drift

        keymap = self.keymap
        if keymap is None:
            return
        result = check_drift(keymap, image)
        if result["state"] == "unknown":  # hands over the keys: keep the last verdict
            logger.info("drift check inconclusive: %s", result["reason"])
            return
        if result["state"] == "drifted":
            logger.warning("camera has moved since calibration: %s; send cmd/recalibrate", result["reason"])
        self._publish(result["state"], keymap, mean_error_key_widths=result["mean_error_key_widths"],
                      keys_seen=result["keys_seen"], reason=result["reason"])
