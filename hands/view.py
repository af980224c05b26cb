"""The keyboard-sized view: the part of the frame MediaPipe looks at once the key map is known.

A whole keyboard filmed from above is a wide strip: letterboxed into MediaPipe's square input its
hands are tiny (56 % of the hands on the real cover frames found). The view crops the frame to the
keys and the space the hands can occupy around them, cuts that strip into overlapping pieces and
stacks them into one near-square mosaic, so MediaPipe runs once a frame on an image in which the
hands are about 1.5 times larger. Where that still misses a hand, `search` lists square tiles as tall
as the crop (hands three times larger than in the whole frame) for the tracker to look at, only while
a hand is missing (hands/tracker.py). Landmarks come back to frame pixels through `to_frame`. Only the KeyMap
interface (keys' polygons, to_image/to_plane, white-key width) is used; the keys' names are not.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pianocam.calibration.keymap import WHITE_KEY_LENGTH, WHITE_KEY_WIDTH

# Where hands can be, in the keyboard plane (mm, y towards the player): fingers reach a little behind
# the black keys (onto the fallboard); palms, wrists and the start of the forearm lie in front of the
# keys; a hand can stand a few keys beyond either end of the mapped keys.
REACH_BACK = 0.35 * WHITE_KEY_LENGTH
REACH_FRONT = 1.4 * WHITE_KEY_LENGTH
REACH_SIDE = 4 * WHITE_KEY_WIDTH
# Pieces overlap by more than a hand's width from above (about 6 white keys; 12.5 % of an 88-key
# keyboard on the real cover frames), so every hand lies wholly inside at least one piece.
OVERLAP = 8 * WHITE_KEY_WIDTH
GAP = 16            # mosaic pixels of grey between stacked pieces, so no palm is seen across a seam
MAX_PIECES = 4
# A crop that keeps most of the frame and needs no cutting is no better than the frame itself.
WHOLE_FRAME_SHARE = 0.8
# Hands that span this share of the frame's longer side (a hand from above is about 6.5 white keys wide) are
# large enough for MediaPipe in the whole frame: the rendered scenes (16 % at 960x540) lose nothing there,
# and a mosaic would cost palm detection every frame (its graph tracks one hand more, for the overlap's
# duplicates). The real cover frames (12.5 %) gain from the view.
HAND_WIDTH_KEYS = 6.5
LARGE_HAND_SHARE = 0.15
# A mosaic can be no smaller than the crop's area: at 1920x1080 a whole keyboard's crop stacks into about
# 1110x1320 px, hands 1.45x their whole-frame size, and a hand hidden in shadow, blue light or a glove is
# still missed. Square tiles as tall as the crop, overlapping by more than a hand, show it 3x larger; each
# is one more MediaPipe call, so the tracker uses them only for hands the mosaic did not find.
SEARCH_MIN_ASPECT = 1.5   # a crop less wide than this (width / height) is already shown near full size
# ... and where the overlap (more than a hand) exceeds half a tile, the hands fill the crop's height already.
# The census (hands/tracker.py: are more than one player's two hands in sight?) looks at the whole frame; where the
# hands are small in it (the view is used) or their size is unknown (no key map), it looks at square tiles as tall
# as the frame instead (three across a 16:9 frame: hands 1.8x their whole-frame size), overlapping by a third.
# On the real cover frames whose hands lie beyond any one keyboard (two insets of one performance, a collage)
# the whole frame finds 1 of 14 hands, such tiles 10 (in-sample: those frames are the ones reported).
CENSUS_OVERLAP = 1 / 3
# A still image whose census shows more than a duet's four hands (a collage of picture-in-picture insets) gets a
# closer look: squares half as tall as the frame, in rows, overlapping by a third (hands 2x their size in the census
# tiles). On the real cover frames' one collage (five insets, ten hands, 854x480: 15 squares) the census tiles find
# 6 of its hands and these squares 8 (in-sample: the only frame with more than four hands); on the gloved,
# motion-blurred and side-view frames they find none the census missed.
CROWD_TILE = 0.5


@dataclass(frozen=True)
class View:
    """A crop (x0, y0, width, height in frame pixels) cut into `pieces` stacked strips of `piece_width`."""

    frame_size: tuple[int, int]
    x0: int
    y0: int
    width: int
    height: int
    pieces: int = 1
    piece_width: int = 0
    step: int = 0
    search: tuple[int, ...] = ()   # left x (frame px) of square search tiles, side `height`, top `y0`
    hand_width: float = 0.0        # a hand's width from above in frame px (6.5 white keys)

    @property
    def whole_frame(self) -> bool:
        return (self.x0, self.y0, self.width, self.height, self.pieces) == (0, 0, *self.frame_size, 1)

    @property
    def mosaic_size(self) -> tuple[int, int]:
        return self.piece_width, self.pieces * self.height + (self.pieces - 1) * GAP


    def describe(self) -> str:
        if self.whole_frame:
            return "whole frame"
        layout = f"{self.mosaic_size[0]}x{self.mosaic_size[1]} mosaic"
        if self.search:
            layout += f"; {len(self.search)} search tiles of {self.height}x{self.height}"
        return (f"keyboard view {self.width}x{self.height}+{self.x0}+{self.y0} of {self.frame_size[0]}x"
                f"{self.frame_size[1]} in {self.pieces} piece{'s' * (self.pieces > 1)} ({layout})")

    def mosaic(self, image: np.ndarray) -> np.ndarray:
        """The image MediaPipe sees: the crop's pieces stacked top to bottom (a copy; `image` is H x W x C)."""
        if self.whole_frame:
            return image
        if self.pieces == 1:
            return np.ascontiguousarray(image[self.y0:self.y0 + self.height, self.x0:self.x0 + self.width])
        w, h = self.mosaic_size
        out = np.full((h, w) + image.shape[2:], 128, dtype=image.dtype)
        for i in range(self.pieces):
            x = self.x0 + i * self.step
            out[i * (self.height + GAP):i * (self.height + GAP) + self.height] = \
                image[self.y0:self.y0 + self.height, x:x + self.piece_width]
        return out

    def to_frame(self, normalized: np.ndarray) -> tuple[np.ndarray, bool]:
        """MediaPipe's (21, 3) landmarks on the mosaic → whole-frame fractions, and whether the hand touches
        a cut between pieces (it may be a part of a hand the next piece holds whole)."""
        if self.whole_frame:
            return normalized, False
        w, h = self.mosaic_size
        fw, fh = self.frame_size
        px = normalized[:, 0] * w
        py = normalized[:, 1] * h
        piece = int(np.clip(np.median(py) // (self.height + GAP), 0, self.pieces - 1))
        out = np.empty_like(normalized)
        out[:, 0] = (self.x0 + piece * self.step + px) / fw
        out[:, 1] = (self.y0 + py - piece * (self.height + GAP)) / fh
        out[:, 2] = normalized[:, 2] * w / fw   # MediaPipe scales z like x
        edge = 0.01 * w
        cut = bool((piece > 0 and px.min() < edge) or (piece < self.pieces - 1 and px.max() > w - edge))
        return out, cut


    def holds(self, normalized: np.ndarray) -> bool:
        """Whether a hand's landmarks (whole-frame fractions) centre inside the crop."""
        cx, cy = normalized[:, :2].mean(axis=0) * self.frame_size
        return bool(self.x0 <= cx <= self.x0 + self.width and self.y0 <= cy <= self.y0 + self.height)

    def tile(self, image: np.ndarray, index: int) -> np.ndarray:
        """Search tile `index` of `image` (a copy, contiguous for MediaPipe)."""
        return square(image, self.search[index], self.y0, self.height)

    def tile_to_frame(self, index: int, normalized: np.ndarray) -> tuple[np.ndarray, bool]:
        """MediaPipe's (21, 3) landmarks on search tile `index` → whole-frame fractions, and whether the hand
        touches a side the next tile overlaps (a part of a hand that tile may hold whole)."""
        return square_to_frame(normalized, self.search[index], self.y0, self.height, self.frame_size,
                               index > 0, index < len(self.search) - 1)


def square(image: np.ndarray, x: int, y: int, side: int) -> np.ndarray:
    """The square tile of `side` at (x, y) of `image` (a copy, contiguous for MediaPipe)."""
    return np.ascontiguousarray(image[y:y + side, x:x + side])


def square_to_frame(normalized: np.ndarray, x: int, y: int, side: int, frame_size: tuple[int, int],
                    left_cut: bool, right_cut: bool) -> tuple[np.ndarray, bool]:
    """MediaPipe's (21, 3) landmarks on the square tile of `side` at (x, y) → whole-frame fractions, and whether
    the hand touches a side that another tile overlaps (`left_cut`, `right_cut`: the tile has a neighbour there)."""
    fw, fh = frame_size
    out = np.empty_like(normalized)
    out[:, 0] = (x + normalized[:, 0] * side) / fw
    out[:, 1] = (y + normalized[:, 1] * side) / fh
    out[:, 2] = normalized[:, 2] * side / fw   # MediaPipe scales z like x
    cut = bool((left_cut and normalized[:, 0].min() < 0.01) or (right_cut and normalized[:, 0].max() > 0.99))
    return out, cut


def search_tiles(x0: int, width: int, side: int, overlap: float) -> tuple[int, ...]:
    """Left x of the fewest square tiles of `side` that cover [x0, x0 + width) overlapping by `overlap`."""
    if width < SEARCH_MIN_ASPECT * side or overlap > side / 2:
        return ()   # hands too large for tiles as tall as the crop to show them larger than the mosaic does
    count = int(np.ceil((width - overlap) / (side - overlap)))
    return tuple(int(round(x0 + i * (width - side) / (count - 1))) for i in range(count))


def census_tiles(frame_size: tuple[int, int]) -> tuple[int, ...]:
    """Left x of the square tiles as tall as the frame that cover a wide frame, overlapping by a third of
    their side (wider than any hand small enough to need them); () where the frame is near square."""
    fw, fh = frame_size
    return search_tiles(0, fw, fh, fh * CENSUS_OVERLAP)


def crowd_tiles(frame_size: tuple[int, int]) -> list[tuple[int, int, int]]:
    """(x, y, side) of the squares half as tall as the frame that cover it, overlapping by a third of their side
    (see CROWD_TILE)."""
    fw, fh = frame_size
    side = int(round(fh * CROWD_TILE))

    def starts(length: int) -> list[int]:
        count = max(1, int(np.ceil((length - side * CENSUS_OVERLAP) / (side * (1 - CENSUS_OVERLAP)))))
        return [0] if count == 1 else [int(round(i * (length - side) / (count - 1))) for i in range(count)]

    return [(x, y, side) for y in starts(fh) for x in starts(fw)]


def whole_frame(frame_size: tuple[int, int]) -> View:
    return View(tuple(frame_size), 0, 0, *frame_size, pieces=1, piece_width=frame_size[0])


def hand_share(keymap, frame_size: tuple[int, int]) -> float:
    """How much of the frame's longer side a hand spans, from the key map's white-key width."""
    return HAND_WIDTH_KEYS * keymap.white_key_width_px / max(frame_size)


def keyboard_view(keymap, frame_size: tuple[int, int] | None = None, always: bool = False) -> View:
    """The view for a key map: its keys plus the hands' reach, clipped to the frame, cut into the number of
    pieces whose mosaic is nearest to square; the whole frame when that crop would be most of it anyway, or
    (unless `always`) when the hands are large enough in the whole frame."""
    frame_size = tuple(int(v) for v in (frame_size or keymap.image_size))
    fw, fh = frame_size
    if not keymap.keys:
        return whole_frame(frame_size)
    plane = keymap.to_plane(np.concatenate([k.polygon for k in keymap.keys]))
    left, right = plane[:, 0].min() - REACH_SIDE, plane[:, 0].max() + REACH_SIDE
    corners = keymap.to_image([(left, -REACH_BACK), (right, -REACH_BACK), (right, WHITE_KEY_LENGTH + REACH_FRONT),
                               (left, WHITE_KEY_LENGTH + REACH_FRONT)])
    if not np.all(np.isfinite(corners)):
        return whole_frame(frame_size)
    x0, y0 = np.clip(np.floor(corners.min(0)), 0, None).astype(int)
    x1, y1 = np.minimum(np.ceil(corners.max(0)), (fw, fh)).astype(int)
    width, height = int(x1 - x0), int(y1 - y0)
    if width < 32 or height < 32 or (not always and hand_share(keymap, frame_size) >= LARGE_HAND_SHARE):
        return whole_frame(frame_size)
    overlap = min(OVERLAP / WHITE_KEY_WIDTH * keymap.white_key_width_px, width / 2)
    best = None
    for pieces in range(1, MAX_PIECES + 1):
        piece_width = int(np.ceil((width + (pieces - 1) * overlap) / pieces))
        if pieces > 1 and piece_width < 1.5 * overlap:
            break
        mosaic_height = pieces * height + (pieces - 1) * GAP
        squareness = abs(np.log(piece_width / mosaic_height))
        if best is None or squareness < best[0] - 1e-9:
            step = (width - piece_width) // (pieces - 1) if pieces > 1 else 0
            best = (squareness, pieces, piece_width, step)
    _, pieces, piece_width, step = best
    if pieces == 1 and width * height >= WHOLE_FRAME_SHARE * fw * fh:
        return whole_frame(frame_size)
    hand_width = HAND_WIDTH_KEYS * keymap.white_key_width_px
    # The search tiles overlap as the pieces do, by more than a hand: each hand is whole in one of them.
    search = search_tiles(int(x0), width, height, overlap) if pieces > 1 else ()
    return View(frame_size, int(x0), int(y0), width, height, pieces, piece_width, int(step), search, hand_width)
