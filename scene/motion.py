"""Hand kinematics: where each joint of each hand is at time t, from the fingered notes."""
from __future__ import annotations

import math

import numpy as np

from pianocam.scene.keyboard import BLACK_LENGTH, Key

# Hand-local coordinates: `across` runs from thumb side to little-finger side, `forward`
# from the knuckle line towards the fingertips, heights above the key tops (all mm), the
# origin at the middle of the knuckles. The layout is MediaPipe's median on real overhead
# piano footage (53 hands in ../shared/data/real/hands) scaled to a 59 mm knuckle span:
# the long fingers reach well past the knuckles into the black keys, the thumb comes
# from the side of the palm and its tip stays near the knuckle line. Drawn with the
# thumb reaching forward like a fifth finger, chord frames put MediaPipe's finger labels
# on the wrong drawn fingers.
FINGER_SEGMENTS = {2: (42.0, 25.0, 20.0), 3: (46.0, 29.0, 21.0), 4: (44.0, 27.0, 21.0),
                   5: (38.0, 24.0, 20.0)}
THUMB_SEGMENTS = (44.0, 32.0, 27.0)   # metacarpal, proximal, distal
KNUCKLES = {2: (-31.0, -3.0), 3: (-8.0, 3.5), 4: (12.0, 3.0), 5: (28.0, -3.0)}
THUMB_BASE = (-28.0, -63.0)
WRIST = (8.0, -74.0)
KNUCKLE_HEIGHT = 40.0
WRIST_HEIGHT = 36.0
# Where each fingertip sits on a key when the hand is at ease (across, forward).
REACH = {1: (-72.0, 2.0), 2: (-40.0, 58.0), 3: (-14.0, 72.0), 4: (12.0, 68.0), 5: (36.0, 52.0)}
# The thumb bends or stretches more readily than the long fingers curl or flatten.
REACH_STIFFNESS = {1: 0.5, 2: 1.0, 3: 1.0, 4: 1.0, 5: 1.0}
# With nothing forcing it in, a hand keeps its knuckles over the front of the keys.
KNUCKLE_LINE = 140.0
KNUCKLE_PULL = 0.02
# Where along a key a fingertip may press (y from the back edge): white keys anywhere
# on their front part or, deeper in, in the strip between the black keys.
WHITE_DEPTHS = (45.0, 144.0)
BLACK_DEPTHS = (40.0, 88.0)
# The thumb's first joint bows out from the hand. Measured: a thumb lying along the
# index finger made MediaPipe lose the hand in ~20 % of frames; bowed 10-16 mm, ~2 %.
THUMB_BOW = 12.0
# The hand glides through its chords over about one note's time (x the note spacing).
GLIDE = 1.0
# A block chord is different: the hand arrives just before it, sits on it while it is
# held and moves on in the gap, so it is centred over its keys when they sound.
CHORD_HOLD = 12.0
FINGER_GAP = 17.0      # closest two fingertips come, centre to centre, across the hand
HOVER_HEIGHT = 14.0
HOVER_SHORTEN = 6.0
KEY_DIP = 4.0
# Share of a finger's length it reaches comfortably; held keys keep the hand this close.
COMFORT = 0.92
STRIKE_TIME = 0.07     # s for a finger to go down before onset or up after offset
# Forearms come from the body, so a hand far from the centre turns its fingers outward.
BODY_REACH = 600.0
YAW_SHARE = 0.35

LANDMARK_COUNT = 21
TIP_LANDMARK = {1: 4, 2: 8, 3: 12, 4: 16, 5: 20}


def press_point(key: Key, depth: float, keys: dict[int, Key] | None = None) -> tuple[float, float]:
    """Where on `key` a fingertip presses at `depth` (mm from the back edge), clamped to the key.

    Deep on a white key the fingertip sits in the strip the black keys leave free.
    """
    lo, hi = BLACK_DEPTHS if key.black else WHITE_DEPTHS
    y = float(np.clip(depth, lo, hi))
    x0, x1 = key.x0, key.x1
    if not key.black and keys is not None and y < BLACK_LENGTH + 4.0:
        below, above = keys.get(key.midi - 1), keys.get(key.midi + 1)
        if below is not None and below.black:
            x0 = max(x0, below.x1)
        if above is not None and above.black:
            x1 = min(x1, above.x0)
    return 0.5 * (x0 + x1), y


def knuckle_depth(chord: list[tuple[int, Key]]) -> float:
    """Knuckle-line y for a chord: each finger as close to its easy reach as its key allows."""
    line = np.arange(40.0, 220.0, 0.5)
    cost = KNUCKLE_PULL * (line - KNUCKLE_LINE) ** 2
    for finger, key in chord:
        lo, hi = BLACK_DEPTHS if key.black else WHITE_DEPTHS
        reach = REACH[finger][1]
        tip = np.clip(line - reach, lo, hi)
        cost = cost + REACH_STIFFNESS[finger] * (line - tip - reach) ** 2
    return float(line[np.argmin(cost)])


def finger_length(finger: int) -> float:
    return sum(THUMB_SEGMENTS if finger == 1 else FINGER_SEGMENTS[finger])


def _smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


class HandMotion:
    """One hand's deterministic motion through its notes."""

    def __init__(self, hand: str, notes: list[dict], keys: dict[int, Key], body_x: float,
                 rng: np.random.Generator):
        self.hand = hand
        self.side = 1.0 if hand == "right" else -1.0
        self.body_x = body_x
        self.notes = [n for n in notes if n["hand"] == hand]
        self.presses = {f: [] for f in range(1, 6)}
        self._plan(keys)
        # Idle fingers drift a little, each at its own pace, so hands never freeze.
        self.idle_phase = rng.uniform(0, 2 * math.pi, size=(6, 2))
        self.idle_rate = rng.uniform(0.6, 1.4, size=6)

    def _plan(self, keys: dict[int, Key]):
        """Per chord, where the knuckles go and where on each key its finger presses."""
        by_onset: dict[float, list] = {}
        for n in self.notes:
            by_onset.setdefault(n["onset"], []).append(n)
        times, ends, chords, xs, ys = [], [], [], [], []
        for onset in sorted(by_onset):
            group = by_onset[onset]
            ends.append(max(n["offset"] for n in group))
            chords.append(len(group) > 1)
            line = knuckle_depth([(n["finger"], keys[n["pitch"]]) for n in group])
            across = []
            for n in group:
                f = n["finger"]
                x, y = press_point(keys[n["pitch"]], line - REACH[f][1], keys)
                self.presses[f].append((n["onset"], n["offset"], x, y))
                across.append(x - self.side * REACH[f][0])
            times.append(onset)
            xs.append(float(np.mean(across)))
            ys.append(line)
        self.key_times = np.array(times)
        self.key_ends = np.array(ends)
        self.key_hold = np.where(chords, CHORD_HOLD, 0.0)
        self.key_x = np.array(xs)
        self.key_y = np.array(ys)
        spacing = np.median(np.diff(self.key_times)) if len(times) > 1 else 0.3
        # Gliding over neighbouring chords spreads a thumb crossing over several notes.
        self.sigma = float(np.clip(GLIDE * spacing, 0.08, 0.6))

    def present(self) -> bool:
        return len(self.notes) > 0

    def _glide(self, t: float) -> np.ndarray:
        z = -0.5 * ((t - self.key_times) / self.sigma) ** 2
        w = np.exp(z - z.max())
        held = (_smoothstep((t - self.key_times + 2 * STRIKE_TIME) / STRIKE_TIME)
                * _smoothstep((self.key_ends + STRIKE_TIME - t) / STRIKE_TIME))
        w = w * (1.0 + self.key_hold * held)
        return np.array([w @ self.key_x, w @ self.key_y]) / w.sum()

    def _yaw(self, x: float) -> float:
        return YAW_SHARE * math.atan2(x - self.body_x, BODY_REACH)

    def _base(self, finger, origin, yaw) -> np.ndarray:
        local = THUMB_BASE if finger == 1 else KNUCKLES[finger]
        return np.array(self._to_world(origin, yaw, *local, 0.0)[:2])

    def anchor(self, t: float) -> tuple[float, float, float]:
        """Knuckle centre (x, y) and yaw (radians) at time t.

        The hand glides smoothly through its chords, but a finger holding a key holds
        the hand back: while keys are down the hand is pulled until every held key
        is within comfortable reach.
        """
        origin = self._glide(t)
        held = [(f, w, p) for f in range(1, 6) for w, p in [self.press(f, t)] if w > 0]
        for _ in range(4):
            yaw = self._yaw(origin[0])
            pulls, weights = [], []
            for finger, w, point in held:
                base = self._base(finger, origin, yaw)
                gap = point[:2] - base
                dist = float(np.hypot(*gap))
                excess = dist - COMFORT * finger_length(finger)
                if excess > 0:
                    pulls.append(w * excess * gap / dist)
                    weights.append(w)
            if not pulls:
                break
            origin = origin + np.sum(pulls, axis=0) / max(1.0, sum(weights))
        return float(origin[0]), float(origin[1]), self._yaw(origin[0])

    def _to_world(self, origin, yaw, across, forward, height):
        ax, ay = self.side * math.cos(yaw), self.side * math.sin(yaw)
        fx, fy = math.sin(yaw), -math.cos(yaw)
        return (origin[0] + across * ax + forward * fx, origin[1] + across * ay + forward * fy, height)

    def to_local(self, origin, yaw, point) -> np.ndarray:
        """A point in the hand's own frame (across, forward): the inverse of the placement above."""
        d = np.asarray(point[:2]) - np.asarray(origin)
        ax, ay = self.side * math.cos(yaw), self.side * math.sin(yaw)
        fx, fy = math.sin(yaw), -math.cos(yaw)
        return np.array([d[0] * ax + d[1] * ay, d[0] * fx + d[1] * fy])

    def _tips(self, t, origin, yaw) -> dict[int, np.ndarray]:
        """All five fingertips: pressing ones on their keys, the others hovering.

        A free finger hovers over its own place between the pressing ones: when a chord
        spreads the hand, the fingers between follow the spread instead of staying at
        their resting spacing (or curling under), as a real hand's do.
        """
        presses = {f: self.press(f, t) for f in range(1, 6)}
        shift = {f: self.to_local(origin, yaw, p) - np.array(REACH[f]) if w > 0 else None
                 for f, (w, p) in presses.items()}
        tips = {}
        for finger in range(1, 6):
            px, py = self.idle_phase[finger]
            rate = self.idle_rate[finger]
            across, forward = REACH[finger]
            if finger > 1:
                pull, total = np.zeros(2), 0.05
                for other in range(2, 6):
                    w = presses[other][0]
                    if other != finger and w > 0:
                        k = w / (other - finger) ** 2
                        pull += k * shift[other]
                        total += k
                across, forward = np.array([across, forward]) + pull / total
            rest = np.array(self._to_world(origin, yaw, across + 1.5 * math.sin(rate * t + px),
                                           forward - HOVER_SHORTEN + 2.0 * math.sin(1.3 * rate * t + py),
                                           HOVER_HEIGHT))
            w, point = presses[finger]
            tips[finger] = rest if w == 0 else rest + w * (point - rest)
        return tips

    def press(self, finger: int, t: float) -> tuple[float, np.ndarray | None]:
        """How far down (0..1) the finger is towards its key, and the key's press point."""
        best_w, best = 0.0, None
        for onset, offset, x, y in self.presses[finger]:
            if t < onset - STRIKE_TIME or t > offset + STRIKE_TIME:
                continue
            w = float(_smoothstep((t - onset + STRIKE_TIME) / STRIKE_TIME)
                      if t < onset else 1.0 if t <= offset
                      else _smoothstep((offset + STRIKE_TIME - t) / STRIKE_TIME))
            if w > best_w:
                best_w, best = w, np.array([x, y, -KEY_DIP])
        return best_w, best

    def _ordered_tips(self, t, origin, yaw) -> dict[int, np.ndarray]:
        """All fingertips, with free fingers 2-5 stepping aside so no two fingers cross.

        While a held finger keeps the hand from following, the free fingers would
        otherwise swing across it; a real hand keeps them in order beside it.
        """
        tips = self._tips(t, origin, yaw)
        free = {f: 1.0 - self.press(f, t)[0] for f in (2, 3, 4, 5)}
        across = np.array(self._to_world((0, 0), yaw, 1.0, 0.0, 0.0)[:2])
        pos = {f: float((tips[f][:2] - origin) @ across) for f in free}
        for _ in range(3):
            for f in (3, 4, 5):
                need = pos[f - 1] + FINGER_GAP - pos[f]
                share = free[f] + free[f - 1]
                if need > 0 and share > 0:
                    pos[f] += need * free[f] / share
                    pos[f - 1] -= need * free[f - 1] / share
        for f in free:
            shift = pos[f] - float((tips[f][:2] - origin) @ across)
            tips[f] = tips[f] + np.array([*(shift * across), 0.0])
        return tips

    def landmarks(self, t: float) -> np.ndarray:
        """21x3 points in keyboard mm, in MediaPipe's hand-landmark order."""
        x, y, yaw = self.anchor(t)
        origin = (x, y)
        pts = np.zeros((LANDMARK_COUNT, 3))
        pts[0] = self._to_world(origin, yaw, *WRIST, WRIST_HEIGHT)
        tips = self._ordered_tips(t, origin, yaw)
        # Thumb: a metacarpal from the base, bent outward, then two phalanges to the tip.
        base = np.array(self._to_world(origin, yaw, *THUMB_BASE, WRIST_HEIGHT - 6))
        tip = tips[1]
        meta, prox, dist = THUMB_SEGMENTS
        out = np.array(self._to_world((0, 0), yaw, -1.0, 0.0, 0.0))
        chord = tip - base
        reach = np.linalg.norm(chord[:2]) + 1e-6
        slack = max(0.0, meta + prox + dist - reach)
        mcp = base + chord * (meta / (meta + prox + dist)) + out * (THUMB_BOW + 0.175 * slack)
        mcp[2] = max(mcp[2], tip[2] + 16)
        pts[1] = base
        pts[2] = mcp
        pts[3] = mcp + (tip - mcp) * (prox / (prox + dist))
        pts[3][2] += 6.0
        pts[4] = tip
        for finger in (2, 3, 4, 5):
            knuckle = np.array(self._to_world(origin, yaw, *KNUCKLES[finger], KNUCKLE_HEIGHT))
            tip = tips[finger]
            l1, l2, l3 = FINGER_SEGMENTS[finger]
            total = l1 + l2 + l3
            span = float(np.linalg.norm(tip - knuckle))
            # A curled finger arches: the middle joint rises above the knuckle-tip line.
            arch = 0.45 * math.sqrt(max(total * total - span * span, 0.0))
            base_idx = 1 + 4 * (finger - 1)
            pts[base_idx] = knuckle
            for j, share in ((1, l1 / total), (2, (l1 + l2) / total)):
                p = knuckle + (tip - knuckle) * share
                p[2] += arch * math.sin(math.pi * share)
                pts[base_idx + j] = p
            pts[base_idx + 3] = tip
        return pts

    def reach_errors(self) -> list[str]:
        """Notes whose key lies beyond what the finger can reach from where the hand is."""
        errors = []
        for finger, presses in self.presses.items():
            limit = 0.97 * finger_length(finger)
            for onset, offset, x, y in presses:
                for t in (onset, offset):
                    pts = self.landmarks(t)
                    base = pts[1] if finger == 1 else pts[1 + 4 * (finger - 1)]
                    span = math.hypot(x - base[0], y - base[1])
                    if span > limit:
                        errors.append(f"{self.hand} finger {finger} at {t:.2f}s: {span:.0f} mm > {limit:.0f}")
        return errors
