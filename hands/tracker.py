"""Hand landmarks with MediaPipe's bundled models: 21 points per hand, side, score."""
from __future__ import annotations

import base64
import functools
import hashlib
import importlib.metadata
import importlib.util
import logging
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from pianocam.hands.view import (
    LARGE_HAND_SHARE,
    View,
    census_tiles,
    crowd_tiles,
    hand_share,
    keyboard_view,
    square,
    square_to_frame,
)

logger = logging.getLogger(__name__)

# MediaPipe landmark indices of the five fingertips, thumb (finger 1) to little finger (5).
FINGERTIPS = {1: 4, 2: 8, 3: 12, 4: 16, 5: 20}
WRIST = 0


@dataclass
class Hand:
    side: str                 # "left" | "right": the player's hand
    score: float              # MediaPipe's handedness confidence
    landmarks: np.ndarray     # (21, 3): x, y in image pixels, z in pixels relative to the wrist
    normalized: np.ndarray    # (21, 3): as MediaPipe gives them, x and y in 0..1

    def fingertip(self, finger: int) -> np.ndarray:
        """(x, y) in pixels of finger 1 (thumb) to 5 (little)."""
        return self.landmarks[FINGERTIPS[finger], :2]

    def fingertips(self) -> dict[int, np.ndarray]:
        return {finger: self.fingertip(finger) for finger in FINGERTIPS}

    def to_message(self) -> dict:
        return {"side": self.side, "score": self.score, "landmarks": self.landmarks[:, :2].round(1)}


@dataclass
class Hands:
    frame_index: int
    t: float
    width: int
    height: int
    hands: list[Hand] = field(default_factory=list)

    def side(self, side: str) -> Hand | None:
        return next((h for h in self.hands if h.side == side), None)


def assign_sides(labels: list[str], wrist_x: list[float], mirrored: bool,
                 previous: dict[str, float] | None = None, near: float = 0.15) -> list[str]:
    """The player's left/right for each detected hand (wrist x normalised to 0..1).

    MediaPipe labels handedness as if the image were a mirrored selfie. On real top-down
    piano footage (the 37 annotated frames in ../shared/data/real/hands) its labels are the
    opposite of the player's hands 94-98 % of the time, so a non-mirrored top-down image
    swaps them and a mirrored one keeps them. But a single frame's label flips now and then
    (a quarter of the frames on rendered hands), and at a keyboard the wrists stay in order
    even when fingers cross: with two hands in view the left wrist is the left hand. A lone
    hand keeps the side of the hand last seen near its wrist (`previous`: side → wrist x),
    and only a hand far from both takes MediaPipe's label.
    """
    labelled = [label.lower() if mirrored else ("right" if label == "Left" else "left") for label in labels]
    if len(labelled) == 2:
        order = ["right", "left"] if mirrored else ["left", "right"]
        return order if wrist_x[0] <= wrist_x[1] else order[::-1]
    if len(labelled) == 1 and previous:
        close = [s for s, x in previous.items() if abs(x - wrist_x[0]) <= near]
        if len(close) == 1:
            return close
        # Both hands were last seen about here (they were close, or one hand was seen twice):
        # MediaPipe's label decides.
    return labelled


def box_overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two hands' landmark bounding boxes (points N x 2+)."""
    x0, y0 = np.maximum(a[:, :2].min(0), b[:, :2].min(0))
    x1, y1 = np.minimum(a[:, :2].max(0), b[:, :2].max(0))
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    area = lambda p: float(np.prod(p[:, :2].max(0) - p[:, :2].min(0)))  # noqa: E731
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0


# Two detections whose boxes overlap this much are one hand seen twice (MediaPipe does this on
# real close-ups: 85 of 334 frames of the real one-hand clip, and in both tiles where they
# overlap); two hands at a keyboard sit apart.
DUPLICATE_OVERLAP = 0.25
# With tiles=2 MediaPipe looks at two overlapping 60 % halves (x fractions): the overlap is wider
# than a hand in a whole-keyboard view (median 12.5 % of the width on the 37 real cover frames),
# so every hand lies wholly inside one tile.
TILES = {1: [(0.0, 1.0)], 2: [(0.0, 0.6), (0.4, 1.0)]}
# auto: the keyboard-sized view (hands/view.py) once a key map says the hands are small in the whole frame;
# keys: that view whenever a key map is known; frame: never.
VIEWS = ("auto", "keys", "frame")
EDGE = 0.01  # a detection this close (fraction of the width) to a tile's inner cut may be a cut-off hand
# tracker.max_hands = auto: one player's two hands, and up to four (a piano duet: two players at one keyboard)
# where more than two are seen. In video mode MediaPipe runs palm detection on every frame in which it holds
# fewer hands than its cap, so a cap of four for two hands would cost palm detection every frame: the tracker
# keeps a cap of two and, while it holds two hands, takes a census every CENSUS_FRAMES frames (one still-image
# look with room for four, one MediaPipe call every 2 s at 30 fps); a census that finds a third whole hand raises
# the cap, and CENSUS_QUIET censuses' worth of frames with at most two hands lower it again. A still image
# (static mode) runs palm detection anyway: its cap is four, and more than two hands are looked for (the
# view's search tiles) only where more than two were found. Where the hands are small in the frame (the key map
# says so) or their size is unknown (no key map), the census looks at square tiles as tall as the frame instead
# of the whole frame (hands/view.py: census_tiles); in video a tile that shows hands nothing else tracks is then
# tracked itself, every frame, while the cap stays raised (a second inset, a player beyond the keyboard's view).
MAX_HANDS = ("auto", 1, 2, 3, 4)
MOST_HANDS = 4
# A still image is not a unit's camera (a frame to label, a cover video's picture): where its census shows more than
# four whole hands (a collage of insets) it takes up to this many, after a closer look (hands/view.py: CROWD_TILE).
# Video keeps MOST_HANDS: a unit at one keyboard sees at most two players.
STILL_MOST_HANDS = 10
ONE_PLAYER = 2
CENSUS_FRAMES = 60
CENSUS_QUIET = 2
# A census hand whose landmarks span less than half a hand at the mapped keyboard (6.5 white keys) belongs to no
# player there nor at another keyboard filmed alike. On the real cover frames the census tiles found a violinist's
# hands in the scene behind a keyboard at 0.31-0.34 of that, and the hands they should find at 0.95-1.06 (the second
# inset, the second keyboard). Chosen on those frames, the ones reported (in-sample), halfway in round terms.
TOO_SMALL = 0.5


def keep_distinct(detections: list[tuple], max_hands: int) -> list[tuple]:
    """Drop hands seen twice: (normalized, label, score, cut) tuples, whole hands and high scores first."""
    kept: list[tuple] = []
    for d in sorted(detections, key=lambda d: (d[3], -d[2])):
        if all(box_overlap(d[0], k[0]) <= DUPLICATE_OVERLAP for k in kept):
            kept.append(d)
    return kept[:max_hands]


def _landmarks(result):
    """(21, 3) landmarks, label and score of each hand in one MediaPipe result."""
    for lm, handed in zip(result.multi_hand_landmarks or [], result.multi_handedness or []):
        yield (np.array([[p.x, p.y, p.z] for p in lm.landmark], dtype=np.float32),
               handed.classification[0].label, handed.classification[0].score)


def _distinct(found: list[tuple], known: list[tuple]) -> list[tuple]:
    """The hands of `found` that are none of `known` (boxes overlapping at most DUPLICATE_OVERLAP)."""
    return [d for d in found if all(box_overlap(d[0], k[0]) <= DUPLICATE_OVERLAP for k in known)]


def _padded_box(normalized: np.ndarray, width: int, height: int, pad: float = 0.1) -> np.ndarray:
    """A hand's landmark bounding box in frame pixels, `pad` of its size wider on every side: [[x0, y0], [x1, y1]]."""
    xy = normalized[:, :2] * (width, height)
    low, high = xy.min(0), xy.max(0)
    margin = pad * (high - low)
    return np.stack([np.clip(low - margin, 0, (width, height)), np.clip(high + margin, 0, (width, height))]).round().astype(int)


def _room_for_a_hand(view: View, index: int, known: list[tuple], frame_width: int) -> bool:
    """Whether search tile `index` has a free stretch half a hand wide beside the hands already found."""
    x0, x1 = view.search[index], view.search[index] + view.height
    taken = sorted((float(d[0][:, 0].min()) * frame_width, float(d[0][:, 0].max()) * frame_width) for d in known)
    free, edge = 0.0, x0
    for a, b in taken:
        free = max(free, min(a, x1) - edge)
        edge = max(edge, b)
    return max(free, x1 - edge) >= view.hand_width / 2


class HandModelError(RuntimeError):
    """MediaPipe's bundled hand model is missing or not the file its wheel shipped; the message names it."""


@functools.lru_cache(maxsize=None)
def check_models(model_complexity: int = 0) -> None:
    """The palm and landmark models against the installed mediapipe's RECORD (size, then sha256),
    before MediaPipe loads them: a garbage model is a graph error, a truncated one crashes the process."""
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        raise HandModelError("mediapipe is not installed (requirements/unit.lock pins mediapipe==0.10.18)")
    root = Path(spec.submodule_search_locations[0])
    variant = "full" if model_complexity else "lite"
    wanted = {f"mediapipe/modules/palm_detection/palm_detection_{variant}.tflite",
              f"mediapipe/modules/hand_landmark/hand_landmark_{variant}.tflite"}
    try:
        record = [f for f in importlib.metadata.files("mediapipe") or [] if f.as_posix() in wanted]
    except importlib.metadata.PackageNotFoundError:
        record = []
    if not record:
        logger.warning("mediapipe's RECORD lists no hand models; they are not checked before loading")
    for entry in record:
        path = root.joinpath(*entry.parts[1:])
        fix = "reinstall it: pip install --no-deps --force-reinstall mediapipe==0.10.18"
        if not path.is_file():
            raise HandModelError(f"MediaPipe hand model {path} is missing; {fix}")
        size = path.stat().st_size
        if entry.size is not None and size != entry.size:
            raise HandModelError(f"MediaPipe hand model {path} is {size} bytes, not the {entry.size} its wheel "
                                 f"shipped (truncated or replaced); {fix}")
        if entry.hash is not None and entry.hash.mode == "sha256":
            digest = hashlib.sha256(path.read_bytes()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != entry.hash.value:
                raise HandModelError(f"MediaPipe hand model {path} does not match its wheel's sha256 "
                                     f"(corrupted or replaced); {fix}")


class HandTracker:
    """MediaPipe Hands in video (tracking) mode; models ship inside mediapipe 0.10.18, nothing is fetched."""

    def __init__(self, model_complexity: int = 0, max_hands: int | str = "auto", min_detection_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5, mirrored: bool = False, static: bool = False,
                 tiles: int = 1, view: str = "auto"):
        if tiles not in TILES:
            raise ValueError(f"tiles must be one of {sorted(TILES)}, not {tiles}")
        if view not in VIEWS:
            raise ValueError(f"view must be one of {VIEWS}, not {view!r}")
        if max_hands not in MAX_HANDS:
            raise ValueError(f"max_hands must be one of {MAX_HANDS}, not {max_hands!r}")
        check_models(model_complexity)
        self.mirrored = mirrored
        self.auto_hands = max_hands == "auto"
        self.most_hands = MOST_HANDS if self.auto_hands else int(max_hands)
        # The hands wanted now: auto starts at one player's two (see MOST_HANDS).
        self.max_hands = ONE_PLAYER if self.auto_hands else self.most_hands
        self._frames = self._crowded = 0   # video mode, auto: frames processed; frames since more than two were seen
        self._wide = False   # auto: hands beyond the keyboard-sized view; the whole frame is looked at instead
        self._small: bool | None = None   # hands small in the frame (from the key map); None: no key map
        self._hand_share: float | None = None   # a hand's width at the mapped keyboard, share of the frame's longer side
        self._census_held: dict[int, object] = {}   # video, auto: census tile (left x) -> the graph tracking it
        self._crowd_in_view = False   # video, auto: the census's extra hands lie where the main graph looks
        self._previous: dict[str, float] = {}  # side -> wrist x (0..1) in the last frame it was seen
        self.static = static
        self.tiles = TILES[tiles]
        self.view_mode = view if tiles == 1 else "frame"   # explicit tiles keep their fixed halves
        self.view: View | None = None   # the keyboard-sized view in use; None: the whole frame (or tiles)
        self._view_keymap = None
        self._settings = dict(static_image_mode=static, model_complexity=model_complexity,
                              min_detection_confidence=min_detection_confidence,
                              min_tracking_confidence=min_tracking_confidence)
        # One MediaPipe graph per tile: each keeps its own tracking state between frames.
        self._graphs = [self._graph(self._cap()) for _ in self.tiles]
        # The view's search tiles (hands/view.py) and the census: graphs made when first needed (see _search).
        self._searcher = self._holder = None
        self._held: int | None = None   # video mode: the search tile whose hand the holder tracks
        self._next_tile = 0

    def _graph(self, max_hands: int, static: bool | None = None):
        import mediapipe as mp  # imported here so that --help and config checks stay fast

        settings = dict(self._settings, **({} if static is None else {"static_image_mode": static}))
        return mp.solutions.hands.Hands(max_num_hands=max_hands, **settings)

    def _looking_at(self) -> View | None:
        """The keyboard-sized view MediaPipe looks at now; None: the whole frame (or the fixed tiles)."""
        return None if self._wide else self.view

    def _cap(self) -> int:
        """MediaPipe's max_num_hands for the frame or mosaic graph (see MOST_HANDS)."""
        cap = self.most_hands if self.static else self.max_hands
        if not self.static and self._census_held and not self._crowd_in_view:
            cap = ONE_PLAYER   # the extra hands are tracked in their census tiles
        view = self._looking_at()
        return cap + (view.pieces - 1 if view is not None and not view.search else 0)

    def _rebuild(self) -> None:
        for graph in self._graphs:
            graph.close()
        self._graphs = [self._graph(self._cap()) for _ in (self.tiles if self._looking_at() is None else [None])]

    def follow(self, keymap) -> None:
        """Look at the keyboard-sized view of this key map from the next frame on (tracker.view = auto);
        called with every frame's current map, it rebuilds only when the map changed."""
        if self.view_mode == "frame" or keymap is self._view_keymap:
            return
        self._view_keymap = keymap
        self._hand_share = None if keymap is None else hand_share(keymap, keymap.image_size)
        self._small = None if keymap is None else self._hand_share < LARGE_HAND_SHARE
        view = keyboard_view(keymap, always=self.view_mode == "keys") if keymap is not None else None
        view = None if view is not None and view.whole_frame else view
        if view == self.view:
            return
        self.view = view
        logger.info("hand tracking on the %s", view.describe() if view else "whole frame")
        # Tracking state belongs to the old image layout. A hand in a piece's overlap is seen twice: without
        # search tiles the mosaic's graph tracks one hand more a cut, so that the twin takes no other hand's
        # place (and palm detection runs every frame, 1.5x the cost). With them it tracks max_hands, palm
        # detection stops once they are held (the cost of the whole frame), and a hand the twin crowds out
        # is found by the search.
        self.close()
        self._graphs = []
        self._census_held = {}
        self._crowd_in_view = False
        self._rebuild()
        self._searcher = self._holder = self._held = None
        self._next_tile = 0

    @classmethod
    def from_config(cls, tracker_config) -> "HandTracker":
        c = tracker_config
        return cls(c.model_complexity, c.max_hands, c.min_detection_confidence, c.min_tracking_confidence, c.mirrored,
                   tiles=c.tiles, view=c.view)

    def process(self, image: np.ndarray, frame_index: int = 0, t: float = 0.0) -> Hands:
        """Find hands in one BGR image."""
        height, width = image.shape[:2]
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        found = Hands(frame_index, t, width, height)
        detections = []
        view = self._looking_at()
        view = view if view is not None and view.frame_size == (width, height) else None
        if view is not None:
            mosaic = view.mosaic(rgb)
            for norm, label, score in _landmarks(self._graphs[0].process(mosaic)):
                norm, cut = view.to_frame(norm)
                detections.append((norm, label, score, cut))
        for graph, (a, b) in zip(self._graphs if view is None else [], self.tiles):
            x0, x1 = int(round(a * width)), int(round(b * width))
            tile = np.ascontiguousarray(rgb[:, x0:x1]) if (x0, x1) != (0, width) else rgb
            tile.flags.writeable = False
            result = graph.process(tile)
            if not result.multi_hand_landmarks:
                continue
            # Back to whole-frame fractions: x (and z, which MediaPipe scales like x) by the tile's width.
            to_frame = np.array([(x1 - x0) / width, 1.0, (x1 - x0) / width], dtype=np.float32)
            for lm, handed in zip(result.multi_hand_landmarks, result.multi_handedness):
                norm = np.array([[p.x, p.y, p.z] for p in lm.landmark], dtype=np.float32) * to_frame
                norm[:, 0] += x0 / width
                cut = bool((a > 0 and norm[:, 0].min() < a + EDGE) or (b < 1 and norm[:, 0].max() > b - EDGE))
                detections.append((norm, handed.classification[0].label, handed.classification[0].score, cut))
        for x, graph in self._census_held.items():
            detections += _distinct(self._look_at_census_tile(graph, rgb, x, hide=self._looking_at()), detections)
        if view is not None or self.tiles == TILES[1]:
            self._count_players(detections, rgb, view)
        if view is not None and view.search:
            detections += self._search(rgb, view, detections)
        if not detections:
            return found
        scale = np.array([width, height, width], dtype=np.float32)
        kept = keep_distinct(detections, self.max_hands)
        normalized = [d[0] for d in kept]
        labels = [d[1] for d in kept]
        scores = [d[2] for d in kept]
        wrists = [float(n[WRIST, 0]) for n in normalized]
        sides = assign_sides(labels, wrists, self.mirrored, self._previous if not self.static else None)
        self._previous.update(zip(sides, wrists))
        for side, score, norm in zip(sides, scores, normalized):
            found.hands.append(Hand(side, float(score), norm * scale, norm))
        found.hands.sort(key=lambda h: h.side)
        return found

    def _count_players(self, detections: list[tuple], rgb: np.ndarray, view: View | None) -> None:
        """tracker.max_hands = auto: how many hands to want (see MOST_HANDS). With one player's two hands found,
        a census (every still image; every CENSUS_FRAMES frames of video) looks at the whole frame with room for
        four (or, where hands are small or of unknown size, at the census tiles; on a still image also while a
        hand is missing); more than two whole hands raise the cap. Where the census tiles found hands outside
        the keyboard-sized view (or beyond the whole frame's reach), those tiles are tracked while they stay;
        where the whole frame found some outside the view (a second keyboard, a player beyond the reach) the
        view is set aside for the whole frame. The census's hands join `detections`."""
        if not self.auto_hands:
            return
        whole = lambda found: sum(not d[3] for d in keep_distinct(found, self.most_hands))  # noqa: E731
        if self.static:
            self.max_hands = ONE_PLAYER
        else:
            self._frames += 1
            if self.max_hands > ONE_PLAYER:
                self._crowded = 0 if whole(detections) > ONE_PLAYER else self._crowded + 1
                if self._crowded >= CENSUS_FRAMES * CENSUS_QUIET:
                    self.max_hands, self._crowded, self._wide = ONE_PLAYER, 0, False
                    for graph in self._census_held.values():
                        graph.close()
                    self._census_held, self._crowd_in_view = {}, False
                    logger.info("hand tracking: at most %d hands for %d frames; tracking %d%s", ONE_PLAYER,
                                CENSUS_FRAMES * CENSUS_QUIET, ONE_PLAYER, " on the view" * (self.view is not None))
                    self._rebuild()
                return
            if self._frames % CENSUS_FRAMES:
                return
        tiles = self._census_tiles(rgb.shape[1::-1])
        extra: list[tuple[tuple, int | None]] = []   # the census's hands that nothing else found, and their tile
        if whole(detections) <= ONE_PLAYER:
            if len(keep_distinct(detections, ONE_PLAYER)) < ONE_PLAYER and not (self.static and tiles):
                return   # a missing hand: palm detection (and the view's search tiles) look for it
            census = self._census(rgb, tiles, detections)
            extra = [(d, x) for d, x in census if _distinct([d], detections)]
            if whole(detections + [d for d, _ in census]) <= ONE_PLAYER:
                if self.static:
                    detections += [d for d, _ in extra]   # a still image: hands the view or the frame missed
                return
            detections += [d for d, _ in census]
        cap = self._cap()
        self.max_hands = self.most_hands
        kept = keep_distinct(detections, self.most_hands)
        outside = view is not None and any(not view.holds(d[0]) for d in kept)
        if self.static:
            if sum(not d[3] for d in keep_distinct(detections, STILL_MOST_HANDS)) > self.most_hands:
                detections += self._closer_look(rgb, detections)
            return
        extra = [(d, x) for d, x in extra if any(d is k for k in kept)]
        beyond = [x for d, x in extra if x is not None and not (view is not None and view.holds(d[0]))]
        if beyond:
            # Hands the whole frame or the view cannot see (small, beyond the keyboard): their census tiles are
            # tracked from now on, each by a graph of its own with room for the hands it showed (no palm detection
            # once it holds them); the main graph keeps one player's two unless extra hands lie in its view too.
            for x in sorted(set(beyond)):
                self._census_held[x] = self._graph(min(beyond.count(x), ONE_PLAYER))
            self._crowd_in_view = view is not None and any(view.holds(d[0]) for d, _ in extra)
            held = len(self._census_held)
            logger.info("hand tracking: %d hands in view (two players?); tracking up to %d, %d census tile%s "
                        "beyond the %s", whole(detections), self.most_hands, held, "s" * (held > 1),
                        "view" if view is not None else "whole frame")
        else:
            self._wide = outside
            self._crowd_in_view = True
            logger.info("hand tracking: %d hands in view (two players?); tracking up to %d on the %s",
                        whole(detections), self.most_hands, "whole frame" if outside or view is None else "view")
        if self._cap() != cap or not beyond:
            self._rebuild()

    def _census_tiles(self, frame_size: tuple[int, int]) -> tuple[int, ...]:
        """The census's square tiles (hands/view.py) where hands are small or of unknown size; (): the whole frame."""
        if self.view_mode == "frame" or self._small is False:
            return ()
        return census_tiles(frame_size)

    def _census(self, rgb: np.ndarray, tiles: tuple[int, ...], known: list[tuple]) -> list[tuple[tuple, int | None]]:
        """One still-image look with room for four hands: at the whole frame, or at each census tile (the
        tile's left x goes with its hands) with the hands already `known` greyed out, so that the tiles look only
        for others (each hand found again would cost a landmark run in every tile that shows it)."""
        if self._searcher is None:
            self._searcher = self._graph(self.most_hands, static=True)
        if not tiles:
            return [((norm, label, score, False), None) for norm, label, score in _landmarks(self._searcher.process(rgb))]
        found = []
        for x in tiles:
            found += [(d, x) for d in self._look_at_census_tile(self._searcher, rgb, x, known=known)
                      if self._plausible(d[0], rgb.shape[1::-1])]
        return found

    def _closer_look(self, rgb: np.ndarray, known: list[tuple]) -> list[tuple]:
        """A crowded still image (see STILL_MOST_HANDS): the hands the squares half the frame's height show beyond
        the `known` ones (greyed out in them); the cap rises to STILL_MOST_HANDS."""
        self.max_hands = STILL_MOST_HANDS
        found: list[tuple] = []
        for x, y, side in crowd_tiles(rgb.shape[1::-1]):
            seen = keep_distinct(known + found, STILL_MOST_HANDS)
            found += [d for d in self._look_at_census_tile(self._searcher, rgb, x, known=seen, y=y, side=side)
                      if self._plausible(d[0], rgb.shape[1::-1]) and _distinct([d], seen)]
        return found

    def _plausible(self, normalized: np.ndarray, frame_size: tuple[int, int]) -> bool:
        """Whether a census hand is large enough to be a player's at this keyboard or one filmed alike (see
        TOO_SMALL); without a key map any hand is."""
        if self._hand_share is None:
            return True
        span = float(((normalized[:, :2].max(0) - normalized[:, :2].min(0)) * frame_size).max())
        return span >= TOO_SMALL * self._hand_share * max(frame_size)

    def _look_at_census_tile(self, graph, rgb: np.ndarray, x: int, hide: View | None = None,
                             known: list[tuple] = (), y: int = 0, side: int | None = None) -> list[tuple]:
        """Hands in the census tile at left x (as tall as the frame, or the square of `side` at (x, y)), in
        whole-frame fractions, with the `known` hands greyed out. With `hide` (a tracked tile, video mode) the
        view's crop is greyed out too: the main graph tracks the hands there, and a tile graph with room for the
        hands beyond it would otherwise take one of those."""
        height, width = rgb.shape[:2]
        side = side or height
        tile = square(rgb, x, y, side)
        boxes = [((hide.x0, hide.y0), (hide.x0 + hide.width, hide.y0 + hide.height))] if hide is not None else []
        boxes += [tuple(_padded_box(d[0], width, height)) for d in known]
        for (a, top), (b, bottom) in boxes:
            a, b = max(a - x, 0), min(b - x, side)
            top, bottom = max(top - y, 0), min(bottom - y, side)
            if a < b and top < bottom:
                tile[top:bottom, a:b] = 128
        found = []
        for norm, label, score in _landmarks(graph.process(tile)):
            norm, cut = square_to_frame(norm, x, y, side, (width, height), x > 0, x + side < width)
            found.append((norm, label, score, cut))
        return found

    def _search(self, rgb: np.ndarray, view: View, detections: list[tuple]) -> list[tuple]:
        """Hands the mosaic missed, from the view's square search tiles: the tile that held one last frame
        (video mode), then, while fewer than max_hands are known, tiles with room for another hand (all of
        them on a still image; in video mode one a frame, taking turns, so a missing hand costs one call
        more a frame). One still-image graph looks at every tile (a graph is about 55 MB); in video mode a
        second one tracks the held tile's hand."""
        found: list[tuple] = []
        known = lambda: keep_distinct(detections + found, self.max_hands)  # noqa: E731

        def look(graph, index: int) -> bool:
            new = False
            for norm, label, score in _landmarks(graph.process(view.tile(rgb, index))):
                norm, cut = view.tile_to_frame(index, norm)
                if all(box_overlap(norm, d[0]) <= DUPLICATE_OVERLAP for d in detections + found):
                    found.append((norm, label, score, cut))
                    new = True
            return new

        if self._held is not None and not look(self._holder, self._held):
            self._held = None
        count = len(view.search)
        for turn in range(count):
            if len(known()) >= self.max_hands:
                break
            index = (self._next_tile + turn) % count
            if index == self._held or not _room_for_a_hand(view, index, known(), rgb.shape[1]):
                continue
            if self._searcher is None:
                self._searcher = self._graph(self.most_hands, static=True)
            if look(self._searcher, index) and not self.static and self._held is None:
                if self._holder is None:
                    self._holder = self._graph(1)   # one hand: tracked without palm detection
                self._held = index
            if not self.static:
                self._next_tile = (index + 1) % count
                break
        return found

    def close(self) -> None:
        for graph in [*self._graphs, self._searcher, self._holder, *self._census_held.values()]:
            if graph is not None:
                graph.close()

    def __enter__(self) -> "HandTracker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
