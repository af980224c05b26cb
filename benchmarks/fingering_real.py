"""Finger per note on real footage: hand and finger accuracy against notes labelled by eye, beside the rendered figure.

Truth: tests/fingering/fingering_real.json (the real clips in ../shared/data/real/clips, every note's
hand and finger judged by eye, blind to pianocam; how is written in the file). Per clip, MediaPipe
(complexity 1) tracks the hands; the key map comes from pianocam's calibration of the clip's first
frames (given the leftmost C in view, judged by eye: neither keyboard end is in view) or, where it
cannot calibrate, from a key map marked by eye in tests/fingering/keymaps/. Both clips are hand-held: the
key map, made on one frame, is carried along the camera's motion (calibration/motion.py, as `pianocam
fingering` does; --camera fixed: not).
A clip labelled twice (SECOND: another labeller, blind to pianocam and to the first labels) is scored
against each labelling and against the presses both give the same hand and finger; presses they dispute,
or only one has, are listed with pianocam's answer and scored neither way. Notes come from:
  labels       the labels' own onsets and pitches, as a MIDI file would give them; offline decoding
  labels-live  the same notes decoded live (FingerAssigner), as the unit does
  soundtrack   basic-pitch on the clip's own sound (same clock as the picture), as `pianocam fingering` does
Each evidence rule (fingering/evidence.py: EvidenceRule) is scored on every real clip and on
the rendered benchmark scenes of benchmarks/fingering.py (offline, MIDI notes; scenes and tracked
hands cached by that benchmark), so a cue is kept only if it helps on real footage.
Then vision-only notes (no MIDI, no sound), hands tracked as `pianocam fingering --vision` tracks them,
against the soundtrack's notes where the clip's sound is the piano, the labels' notes, the partial clip's
second labelling (tests/fingering/partial_clip_second.json: held out for every detector but the key tops',
whose parameters were set on it), and the truth (rendered): precision, recall, F1 per detector (keys darkening,
fingertip strokes, both, strokes + key motion: --vision motion, key tops: --vision surface).
Usage: .venv/bin/python benchmarks/fingering_real.py [--data ../shared/data] [--scenes 10] [--rules all]
       [--detection 0.2] [--vision-scenes 0] [--camera followed|fixed]
"""
from __future__ import annotations

import argparse
import json
import pickle
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

# Beside this script: fingering.py (its rendered scenes, and the unit's live decoding replayed).
from fingering import SETTINGS, first_frame, live, tracked_hands
from pianocam.calibration.keymap import KeyMap, parse_note
from pianocam.calibration.live import calibrate_frame
from pianocam.calibration.motion import camera_motion, largest_shift
from pianocam.config import CalibrationConfig
from pianocam.fingering import assign_fingers
from pianocam.fingering.evidence import DEFAULT_RULE
from pianocam.hands.steady import in_reference
from pianocam.hands.tracker import HandTracker
from pianocam.notes import NoteEvent
from pianocam.notes.evaluate import match_notes, score_notes
from pianocam.scene.source import cache_root

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "tests" / "fingering" / "fingering_real.json"
# Second labellings, each by another labeller blind to pianocam and to the first labels: clip file -> labels.
SECOND = {"real/clips/jackier42-partial-keyboard-one-hand.mp4": ROOT / "tests" / "fingering" / "partial_clip_second.json"}
# The second labelling names keys from the black-key groups; the octave as the marked key map has it (the C
# just left of the 2-black group under the hand is C3). Used to score vision notes on that held-out clip.
SECOND_PITCH = {"B": 47, "C": 48, "C#": 49, "D": 50, "D#": 51, "E": 52, "F": 53, "F#": 54, "G": 55, "G#": 56, "A": 57}
# Two labellers' notes are one press when their pitches agree and their onsets (judged by eye) lie this close.
SAME_PRESS_S = 0.1
KEYMAPS = ROOT / "tests" / "fingering" / "keymaps"
# The leftmost C in view, judged by eye (and by the soundtrack's pitches where there is one).
FIRST_C = {"esnylmz-ode-to-joy-right-hand": "C4", "jackier42-partial-keyboard-one-hand": "C3"}
BASE = DEFAULT_RULE   # distance alone (every cue off)
RULES = {
    "distance only (default)": BASE,
    "depth 1": replace(BASE, depth=1.0),
    "along 0.1": replace(BASE, along=0.1),
    "along 0": replace(BASE, along=0.0),
    "smooth ±1": replace(BASE, smooth=1),
    "stillness 1": replace(BASE, stillness=1.0),
    "stillness 3": replace(BASE, stillness=3.0),
    "depth 2": replace(BASE, depth=2.0),
    "depth 3": replace(BASE, depth=3.0),
    "descent 1": replace(BASE, descent=1.0),
    "descent 3": replace(BASE, descent=3.0),
    "depth 1 + smooth ±1": replace(BASE, depth=1.0, smooth=1),
}
# Seed 003's network as more evidence (fingering/network.py), at these weights, where the
# shipped model is trained.
NETWORK = {"network ×0.5": 0.5, "network ×1": 1.0, "network ×2": 2.0}


def network_model():
    from pianocam.fingering import network
    from pianocam.models.runtime import ManifestError, read_manifest

    try:
        return network.load() if read_manifest(network.MODEL).get("trained") else None
    except ManifestError:
        return None


def decide(name, rules, notes, frames, keymap, offset, costs_of):
    """Offline fingerings under one row: an evidence rule, or the network's cost at a weight."""
    if name in NETWORK:
        unit = costs_of()
        return assign_fingers(notes, frames, keymap, offset, costs=[NETWORK[name] * c for c in unit])
    return assign_fingers(notes, frames, keymap, offset, rule=rules[name])


def tracked(clip: Path, detection: float = 0.5, follow: KeyMap | None = None) -> list:
    """MediaPipe's hands per frame (cached); with `follow`, in the keyboard-sized view as `pianocam fingering` does."""
    cache = cache_root() / "real-hands" / (f"{clip.stem}.c1{'' if detection == 0.5 else f'.d{detection:g}'}"
                                           f"{'.follow' if follow is not None else ''}.pkl")
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    from pianocam.sources.video import VideoFileSource

    frames = []
    with VideoFileSource(str(clip), realtime=False) as source, \
            HandTracker(model_complexity=1, min_detection_confidence=detection) as tracker:
        if follow is not None:
            tracker.follow(follow)
        while (frame := source.read()) is not None:
            frames.append(tracker.process(frame.image, frame.index, frame.t))
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps(frames))
    return frames


def keymap_for(clip: Path) -> tuple[KeyMap | None, str, int]:
    """The clip's key map, how it was made, and the frame it was made on."""
    marked = KEYMAPS / f"{clip.stem}.json"
    if marked.exists():
        return KeyMap.load(marked), "marked by eye on frame 0", 0
    capture = cv2.VideoCapture(str(clip))
    error = "no frame"
    for index in range(0, 300, 10):
        ok, image = capture.read()
        if not ok:
            break
        keymap, error = calibrate_frame(image, CalibrationConfig(first_c=FIRST_C.get(clip.stem, "")))
        if keymap is not None:
            return keymap, f"calibrated on frame {index}, first C {FIRST_C.get(clip.stem)}", index
        for _ in range(9):
            capture.grab()
    return None, error, 0


def second_labels(path: Path) -> tuple[str, list[dict]]:
    """A second labelling's notes in the first's shape. Its keys are named without octave, around "the
    2-black-key group nearest the left edge": that group's C is C3, as the first labels assume (the B just
    left of it is B2)."""
    data = json.loads(path.read_text())
    notes = []
    for n in data["notes"]:
        letter = n["key"].split()[0]
        midi = parse_note(f"{letter}3") - (12 if letter == "B" else 0)
        notes.append({"midi": midi, "pitch": f"{letter}{2 if letter == 'B' else 3}", "onset_s": n["time"],
                      "frame": n["frame"], "hand": n["hand"], "finger": n["finger"], "confidence": n["sure"]})
    return data["measured"], notes


def labellings_of(entry: dict) -> list[tuple[str, list[dict]]]:
    """(name, notes) per labelling of one clip: the first labels, then a second where there is one."""
    out = [("first", [n for n in entry["notes"] if n.get("finger") and n.get("midi")])]
    if entry["file"] in SECOND:
        out.append(("second", second_labels(SECOND[entry["file"]])[1]))
    return out


def agreement(first: list[dict], second: list[dict]) -> tuple[list, list, list]:
    """Presses both labellings give the same hand and finger, presses they disagree on, presses only one has:
    (first note, second note) pairs, and (which, note) for the last."""
    pairs = dict(match_notes([(n["midi"], n["onset_s"]) for n in first],
                             [(n["midi"], n["onset_s"]) for n in second], SAME_PRESS_S))
    agreed, disputed = [], []
    for i, j in pairs.items():
        same = (first[i]["hand"], first[i]["finger"]) == (second[j]["hand"], second[j]["finger"])
        (agreed if same else disputed).append((first[i], second[j]))
    alone = [("first", n) for i, n in enumerate(first) if i not in pairs] + \
        [("second", n) for j, n in enumerate(second) if j not in set(pairs.values())]
    return agreed, disputed, alone


def answer(note: dict, decided: list, tolerance: float = 0.05) -> str:
    """pianocam's hand and finger for one labelled note, as L3 / R1 / ? / missed."""
    pairs = dict(match_notes([(note["midi"], note["onset_s"])], [(d.note.pitch, d.note.onset) for d in decided],
                             tolerance))
    if 0 not in pairs:
        return "missed"
    d = decided[pairs[0]]
    return f"{(d.hand or '?')[0].upper()}{d.finger or '?'}"


def soundtrack_notes(clip: Path) -> list[NoteEvent]:
    from pianocam.notes.audio import audio_file_source, has_soundtrack

    if not has_soundtrack(clip):
        return []
    with audio_file_source(clip) as source:
        return source.read_all()


def score(truth: list[dict], decided: list, tolerance: float = 0.05) -> dict:
    """decided: Fingerings. Truth notes matched by pitch and onset; a missed note counts as wrong."""
    pairs = dict(match_notes([(t["midi"], t["onset_s"]) for t in truth],
                             [(d.note.pitch, d.note.onset) for d in decided], tolerance))
    confusion = Counter()
    hand_ok = right = 0
    for i, t in enumerate(truth):
        d = decided[pairs[i]] if i in pairs else None
        got = "missed" if d is None else "?" if d.finger is None else str(d.finger)
        confusion[(t["finger"], got)] += 1
        hand_ok += d is not None and d.hand == t["hand"]
        right += d is not None and d.hand == t["hand"] and d.finger == t["finger"]
    return {"notes": len(truth), "hand": hand_ok, "right": right, "confusion": confusion}


def rendered_figures(scenes: int, rules: dict, detection: float, model=None) -> dict[str, tuple[int, int]]:
    """Offline MIDI decoding on the cached rendered benchmark scenes, per rule: (right, notes)."""
    from pianocam.fingering.network import note_costs
    from pianocam.notes.midi import read_midi_notes
    from pianocam.scene import SceneSpec
    from pianocam.scene.source import cached_scene

    names = list(rules) + (list(NETWORK) if model is not None else [])
    totals = {name: [0, 0] for name in names}
    for seed, keys, piece, tilt, rotate in SETTINGS[:scenes]:
        folder = cached_scene(SceneSpec(seed=seed, keys=keys, seconds=20.0, piece=piece, tilt=tilt, rotate=rotate),
                              cache_root() / "bench-scenes")
        truth = json.loads((folder / "truth.json").read_text())
        frames = tracked_hands(folder, truth["fps"], detection)
        keymap = _rendered_keymap(folder, truth)
        notes = read_midi_notes(folder / "performance.mid")
        labelled = [{"midi": n["pitch"], "onset_s": n["onset"], "hand": n["hand"], "finger": n["finger"]}
                    for n in truth["notes"]]
        cache = {}

        def costs_of():
            if "c" not in cache:
                cache["c"] = note_costs(model, str(folder / "video.mp4"), notes, frames, keymap)
            return cache["c"]
        for name in names:
            s = score(labelled, decide(name, rules, notes, frames, keymap, 0.0, costs_of) if keymap else [])
            totals[name][0] += s["right"]
            totals[name][1] += s["notes"]
    return totals


def _scored(truth: list[dict], decided: list) -> tuple[int, int, int]:
    s = score(truth, decided)
    return s["right"], s["hand"], s["notes"]


def confusion_table(confusion: Counter) -> str:
    columns = ["1", "2", "3", "4", "5", "?", "missed"]
    lines = ["truth \\ chosen " + " ".join(f"{c:>6}" for c in columns)]
    for finger in range(1, 6):
        if any(confusion[(finger, c)] for c in columns):
            lines.append(f"{finger:>14} " + " ".join(f"{confusion[(finger, c)]:>6}" for c in columns))
    return "\n".join(lines)


def vision_notes(clip: Path, frames: list, keymap: KeyMap, motion: list | None = None) -> dict[str, list[NoteEvent]]:
    """Vision-only notes per detector: keys seen darkening, fingertips seen striking, both of those merged,
    strokes scored with key motion (`pianocam fingering --vision`'s default) and the white keys' tops
    (`--vision surface`); the last two take the camera's motion (per frame, the homography from the key map's
    frame) where it is given, as the command does."""
    from pianocam.notes.presses import PressFinder
    from pianocam.notes.strokes import StrokeDetector, merge_notes
    from pianocam.notes.vision import KeyPressDetector

    darkening, strokes, presses = KeyPressDetector(keymap), StrokeDetector(keymap), PressFinder(keymap)
    surface = PressFinder(keymap, surface=True)
    capture = cv2.VideoCapture(str(clip))
    seen = {"keys darkening": [], "fingertip strokes": []}
    for index, hands in enumerate(frames):
        ok, image = capture.read()
        if not ok:
            break
        seen["keys darkening"] += darkening.update(image, hands, hands.t)
        seen["fingertip strokes"] += strokes.update(hands, hands.t)
        presses.update(image, hands, hands.t, motion[index] if motion is not None else None)
        surface.update(image, hands, hands.t, motion[index] if motion is not None else None)
    seen["both"] = merge_notes(seen["fingertip strokes"], seen["keys darkening"])
    seen["strokes + key motion"] = presses.notes()
    seen["key tops (surface)"] = surface.notes()
    return seen


def vision_truths(clip: Path, heard: list[NoteEvent], labelled: list[dict]) -> dict[str, list[tuple[int, float]]]:
    """What the vision notes of a real clip are scored against: its soundtrack's notes, the labels' notes,
    and for the partial-keyboard clip the second, held-out labelling."""
    truths = {"soundtrack": [(n.pitch, n.onset) for n in heard]} if heard else {}
    truths["labels"] = [(n["midi"], n["onset_s"]) for n in labelled]
    second = next((path for file, path in SECOND.items() if file.endswith(clip.name)), None)
    if second is not None and second.exists():
        truths["second labels (held out)"] = [(SECOND_PITCH[n["key"].split()[0]], n["time"])
                                              for n in json.loads(second.read_text())["notes"]]
    return truths


def vision_rendered(scenes: int, detection: float) -> dict[str, list]:
    """The same detectors on the rendered benchmark scenes against their truth (onsets within 100 ms)."""
    from pianocam.scene import SceneSpec
    from pianocam.scene.source import cached_scene

    totals: dict[str, list] = defaultdict(lambda: [0, 0, 0])
    for seed, keys, piece, tilt, rotate in SETTINGS[:scenes]:
        folder = cached_scene(SceneSpec(seed=seed, keys=keys, seconds=20.0, piece=piece, tilt=tilt, rotate=rotate),
                              cache_root() / "bench-scenes")
        truth = json.loads((folder / "truth.json").read_text())
        keymap = _rendered_keymap(folder, truth)
        if keymap is None:
            continue
        for name, notes in vision_notes(folder / "video.mp4", tracked_hands(folder, truth["fps"], detection),
                                        keymap).items():
            s = score_notes([(n["pitch"], n["onset"]) for n in truth["notes"]], [(n.pitch, n.onset) for n in notes],
                            0.1)
            totals[name] = [a + b for a, b in zip(totals[name], (s.truth, s.estimated, s.matched))]
    return totals


def _rendered_keymap(folder: Path, truth: dict):
    keymap, error = calibrate_frame(first_frame(folder), CalibrationConfig())
    if keymap is None and "first-c" in error:
        first_c = min((k for k in truth["keys"] if k["name"][0] == "C" and not k["black"] and k["visible"]
                       and 0 <= k["center"][0] < truth["width"]), key=lambda k: k["midi"])["name"]
        keymap, error = calibrate_frame(first_frame(folder), CalibrationConfig(first_c=first_c))
    return keymap


def f1_row(name: str, truth: int, estimated: int, matched: int) -> str:
    p, r = matched / max(estimated, 1), matched / max(truth, 1)
    return f"{name:22} {matched:>4}/{truth:<5} {estimated:>6} {p:>10.2f} {r:>7.2f} {2 * p * r / max(p + r, 1e-9):>5.2f}"


MOTION_METHOD = "affine, key band less the hands"


def cached_motion(clip: Path, cache: Path, keymap: KeyMap, frames: list, reference: int = 0) \
        -> tuple[list[np.ndarray], list[float]]:
    """The clip's camera motion against its key map's frame (calibration.motion), cached beside its hands."""
    if cache.exists():
        data = json.loads(cache.read_text())
        if data["reference"] == reference and data.get("method") == MOTION_METHOD:
            return [np.array(h) for h in data["homographies"]], data["correlations"]
    capture = cv2.VideoCapture(str(clip))
    images = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        images.append(image)
    homographies, correlations = camera_motion(images, keymap, [[h.landmarks for h in f.hands] for f in frames],
                                               reference)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"reference": reference, "method": MOTION_METHOD,
                                 "homographies": [h.tolist() for h in homographies], "correlations": correlations}))
    return homographies, correlations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--scenes", type=int, default=10, help="rendered benchmark scenes (0: skip)")
    parser.add_argument("--rules", default="all", help="comma-separated rule names, or all")
    parser.add_argument("--vision-scenes", type=int, default=None, help="rendered scenes for the vision-only "
                        "figures (default: --scenes; 0 skips them)")
    parser.add_argument("--detection", type=float, default=0.5, help="MediaPipe's min_detection_confidence "
                        "(default 0.5, the unit's tracker.min_detection_confidence)")
    parser.add_argument("--camera", choices=("followed", "fixed"), default="followed",
                        help="followed (default): each clip's key map carried along the hand-held camera's "
                        "motion (calibration/motion.py, as pianocam fingering does); fixed: the key map of one frame for "
                        "every frame")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    labels = json.loads(LABELS.read_text())
    rules = RULES if args.rules == "all" else {k: RULES[k] for k in args.rules.split(",") if k in RULES}
    model = network_model() if args.rules == "all" or any(k in NETWORK for k in args.rules.split(",")) else None
    rows = list(rules) + (list(NETWORK) if model is not None else [])
    print(f"truth: {LABELS.relative_to(ROOT)} ({labels['measured']}); MediaPipe complexity 1, "
          f"min_detection_confidence {args.detection:g}")
    # Per rule: right, hand right, notes; against the first labels, the second where a clip has one (else the
    # first), and the presses the labellings agree on (a clip with one labelling: all its notes).
    views = ("first labels", "second labels", "agreed presses")
    real = {view: {name: [0, 0, 0] for name in rows} for view in views}
    confusions = {view: Counter() for view in views}
    disputes = []
    vision_rows = []
    for entry in labels["clips"]:
        clip = args.data / entry["file"]
        labellings = labellings_of(entry)
        truth = labellings[0][1]
        if not clip.exists():
            print(f"{entry['file']}: not found under {args.data}; skipped")
            continue
        keymap, how, made_on = keymap_for(clip)
        if keymap is None:
            print(f"{clip.name}: no key map ({how}); its {len(truth)} labelled notes count as wrong")
            for view in views:
                for name in rows:
                    real[view][name][2] += len(truth)
            continue
        seen_frames = tracked(clip, args.detection)
        motion, correlations = cached_motion(clip, cache_root() / "real-hands" / f"{clip.stem}.motion.json", keymap,
                                            seen_frames, made_on)
        frames = [in_reference(f, h) for f, h in zip(seen_frames, motion)] if args.camera == "followed" \
            else seen_frames
        heard = soundtrack_notes(clip)
        offset = 0.0  # the soundtrack and the picture share the container's clock
        print(f"\n{clip.name}: {len(frames)} frames, {sum(bool(f.hands) for f in frames)} with a hand; "
              f"key map {how}; labellings: {', '.join(f'{k} {len(v)} notes' for k, v in labellings)}; "
              f"soundtrack: {len(heard)} notes, on the picture's clock")
        print(f"the camera moves the keys up to {largest_shift(keymap, motion):.2f} white keys from the key map's "
              f"frame (ECC correlation >= {min(correlations):.3f}); the key map is "
              + ("carried along (landmarks moved into its frame)" if args.camera == "followed" else "kept fixed"))
        from pianocam.fingering.network import note_costs

        cache = {}

        def costs_of(notes, key):
            # The network looks at crops of the image: around the fingertips as seen.
            return lambda: cache.setdefault(key, note_costs(model, str(clip), notes, seen_frames, keymap, offset))
        decided = {}   # labelling -> the first rule's fingerings of its notes
        for which, labelled in labellings:
            given = [NoteEvent(n["midi"], n["onset_s"], None, 64, "labels") for n in labelled]
            print(f"{which + ' labels':32} {'labels':>12} {'labels-live':>12} {'soundtrack':>12} {'hand':>6}")
            for name in rows:
                rule = rules.get(name, DEFAULT_RULE)
                fingered = decide(name, rules, given, frames, keymap, 0.0, costs_of(given, f"labels-{which}"))
                decided.setdefault(which, fingered)
                s = score(labelled, fingered)
                s_live = score(labelled, live(given, frames, keymap, rule)) if name in rules else None
                s_heard = score(labelled, decide(name, rules, heard, frames, keymap, offset,
                                                 costs_of(heard, "heard"))) if heard else None
                for view in views if len(labellings) == 1 else [views[0] if which == "first" else views[1]]:
                    real[view][name] = [a + b for a, b in zip(real[view][name], (s["right"], s["hand"], s["notes"]))]
                    if name == rows[0]:
                        confusions[view] += s["confusion"]
                heard_cell = f"{s_heard['right']}/{s_heard['notes']}" if s_heard else "-"
                live_cell = f"{s_live['right']}/{s_live['notes']}" if s_live else "-"
                print(f"{name:32} {s['right']:>6}/{s['notes']:<5} {live_cell:>12} "
                      f"{heard_cell:>12} {s['hand']:>3}/{s['notes']}")
        if len(labellings) > 1:
            agreed, disputed, alone = agreement(labellings[0][1], labellings[1][1])
            notes = [a for a, _ in agreed]
            given = [NoteEvent(n["midi"], n["onset_s"], None, 64, "labels") for n in labellings[0][1]]
            for name in rows:
                fingered = decide(name, rules, given, frames, keymap, 0.0, costs_of(given, "labels-first"))
                real[views[2]][name] = [a + b for a, b in zip(real[views[2]][name], _scored(notes, fingered))]
                if name == rows[0]:
                    confusions[views[2]] += score(notes, fingered)["confusion"]
            print(f"the two labellings: {len(agreed)} presses with the same hand and finger, {len(disputed)} "
                  f"disputed (uncertain: scored neither way), {len(alone)} in one labelling only")
            for a, b in disputed:
                disputes.append(f"{clip.stem} frame {a.get('frame', '?')}/{b.get('frame', '?')} {a['pitch']}: first "
                                f"{a['hand'][0].upper()}{a['finger']} ({a['confidence']}), second "
                                f"{b['hand'][0].upper()}{b['finger']} ({b['confidence']}); pianocam "
                                f"{answer(a, decided['first'])}: uncertain")
            for which, n in alone:
                disputes.append(f"{clip.stem} frame {n.get('frame', '?')} {n['pitch']}: only the {which} labels "
                                f"({n['hand'][0].upper()}{n['finger']}, {n['confidence']}); pianocam "
                                f"{answer(n, decided[which])}")
        # The detectors look at the image itself: the frames as seen, not moved, tracked as
        # `pianocam fingering --vision` tracks them.
        viewed = tracked(clip, args.detection, follow=keymap)
        # A soundtrack is a reference only where the labels say the clip's sound has the piano in it.
        reference = heard if entry.get("audio_onset_method") else []
        vision_rows.append((clip.name, vision_truths(clip, reference, entry["notes"]),
                            vision_notes(clip, viewed, keymap, motion if args.camera == "followed" else None)))
    if disputes:
        print("\npresses the labellings do not agree on, and pianocam's answer (first rule)\n" + "\n".join(disputes))
    rendered = rendered_figures(args.scenes, rules, args.detection, model) if args.scenes else {}
    print("\nall real clips (labels' notes, offline) beside the rendered scenes (MIDI, offline); right hand and finger")
    print(f"{'rule':32} " + " ".join(f"{view:>17}" for view in views) + f" {'hand (first)':>13} {'rendered':>15}")
    for name in rows:
        cells = [f"{r:>3}/{n:<3} {r / max(n, 1):>6.1%}" for r, _, n in (real[view][name] for view in views)]
        _, h, n = real[views[0]][name]
        rr = rendered.get(name)
        cell = f"{rr[0] / rr[1]:.1%} of {rr[1]}" if rr else "-"
        print(f"{name:32} " + " ".join(f"{c:>17}" for c in cells) + f" {h / max(n, 1):>13.1%} {cell:>15}")
    for view in views:
        print(f"\nconfusion by finger, real clips, {view}, rule '{rows[0]}' (rows: labelled finger)\n"
              + confusion_table(confusions[view]))
    header = f"{'detector':22} {'found':>10} {'seen':>6} {'precision':>10} {'recall':>7} {'F1':>5}"
    for clip_name, truths, seen in vision_rows:
        for truth_name, truth in truths.items():
            print(f"\nvision-only notes against the {truth_name}, {clip_name}, same key, onsets within 100 ms\n{header}")
            for name, notes in seen.items():
                s = score_notes(truth, [(n.pitch, n.onset) for n in notes], 0.1)
                print(f1_row(name, s.truth, s.estimated, s.matched))
    vision_scenes = args.scenes if args.vision_scenes is None else args.vision_scenes
    if vision_scenes:
        print(f"\nvision-only notes on the {vision_scenes} rendered scenes against their truth, onsets within 100 ms"
              f"\n{header}")
        for name, (truth, estimated, matched) in vision_rendered(vision_scenes, args.detection).items():
            print(f1_row(name, truth, estimated, matched))

if __name__ == "__main__":
    main()
