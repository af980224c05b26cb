"""Locate and name every key in one top-down frame: black-key row, homography, ends, numbering."""
from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from pianocam.calibration.blackkeys import BlackKeyBlob, find_black_keys, grey_levels
from pianocam.calibration.ends import walk
from pianocam.calibration.errors import CalibrationError, KeyboardNotFound, NumberingUnknown
from pianocam.calibration.keymap import (
    BLACK_KEY_LENGTH,
    SEMITONE_WIDTH,
    WHITE_KEY_LENGTH,
    WHITE_KEY_WIDTH,
    KeyMap,
    apply_homography,
    build_keymap,
    key_span,
    note_name,
    strike_point,
)
from pianocam.calibration.lens import estimate_k1, undistort_image
from pianocam.calibration.numbering import Ends, number_keys
from pianocam.calibration.pattern import MIN_KEYS, PatternFit, label_black_keys
from pianocam.calibration.refine import fit_row_warp, white_gaps

logger = logging.getLogger(__name__)

ROW_MAX_SLOPE_DEG = 35.0   # the keyboard runs across the image, not up it
MIN_MARGIN = 3             # keys by which the naming must beat every rival naming
BRIGHT = 0.6               # locally normalised grey of a white key
DARK = 0.45                # ... and of what is surely no white key
DARK_SHARE = 0.6           # share of mapped black keys that must look black
END_DRIFT = 0.5            # white keys the outermost named black keys may lie off the fitted map
FLAT_RATIO = 1.1           # a flat (affine) fit is kept when its misfit is within this of the homography's


@dataclass(frozen=True)
class Located:
    """Keys located but named only relative to REFERENCE_C: the geometry before numbering."""

    plane_to_image: np.ndarray    # relative plane (mm) -> image
    black_key_length: float
    labels: list[int]             # relative MIDI of each black key found
    fit: PatternFit
    row_x: np.ndarray             # plane x of every dark bar in the row, named or not
    plane_points: np.ndarray      # the key points the homography was fitted to (RANSAC inliers)
    image_points: np.ndarray
    backs: np.ndarray = None      # image back end of each named black key, in the order of `labels`


def key_row(blobs: list[BlackKeyBlob]) -> list[BlackKeyBlob]:
    """The largest set of bars whose back ends (or, failing those, front ends) lie on one line across the image.

    A dark rail or shadow behind the keys can lengthen some bars at the back: their front ends,
    sharp against the white keys' bright fronts, still stand in line.
    """
    if len(blobs) < MIN_KEYS:
        raise KeyboardNotFound(f"no piano keyboard found: {len(blobs)} black-key-shaped bars in view, "
                               f"need at least {MIN_KEYS} in a row")
    best = _in_line(blobs, np.array([b.back for b in blobs]))
    by_fronts = _in_line(blobs, np.array([b.front for b in blobs]))
    if by_fronts.sum() > best.sum():
        best = by_fronts
    row = [b for b, ok in zip(blobs, best) if ok]
    if len(row) < MIN_KEYS:
        raise KeyboardNotFound(f"no piano keyboard found: at most {len(row)} dark bars stand in a row, "
                               f"need at least {MIN_KEYS} black keys")
    width = np.median([b.width for b in row])
    return [b for b in row if 0.6 * width <= b.width <= 1.6 * width]


def _in_line(blobs: list[BlackKeyBlob], ends: np.ndarray) -> np.ndarray:
    """Mask of the largest set of bars whose `ends` lie on one line across the image, the bars across it."""
    axes = np.array([(b.front - b.back) / max(b.length, 1e-6) for b in blobs])
    tol = max(3.0, 0.4 * float(np.median([b.width for b in blobs])))
    best = np.zeros(len(blobs), bool)
    max_slope = np.sin(np.radians(ROW_MAX_SLOPE_DEG))
    for i in range(len(blobs)):
        for j in range(i + 1, len(blobs)):
            d = ends[j] - ends[i]
            n = np.hypot(*d)
            if n < 1 or abs(d[1]) / n > max_slope:
                continue
            u = d / n
            dist = np.abs((ends - ends[i]) @ np.array([-u[1], u[0]]))
            # Keys run across the row: a bar lying along it is no key.
            inl = (dist < tol) & (np.abs(axes @ u) < 0.5)
            if inl.sum() > best.sum():
                best = inl
    return best


def _along(row: list[BlackKeyBlob]) -> tuple[np.ndarray, np.ndarray]:
    """Each bar's position along the row's line, and the order that sorts them left to right."""
    backs = np.array([b.back for b in row], np.float32)
    vx, vy, x0, y0 = cv2.fitLine(backs, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
    u = np.array([vx, vy]) if vx >= 0 else -np.array([vx, vy])
    t = (backs - np.array([x0, y0])) @ u
    order = np.argsort(t)
    return t[order], order


def _sample(norm: np.ndarray, plane_to_image: np.ndarray, xs, ys) -> np.ndarray | None:
    """Normalised grey at a plane grid; None when any sample falls outside the image."""
    gx, gy = np.meshgrid(np.asarray(xs, float), np.asarray(ys, float))
    img = apply_homography(plane_to_image, np.column_stack([gx.ravel(), gy.ravel()]))
    h, w = norm.shape
    if img[:, 0].min() < 0 or img[:, 1].min() < 0 or img[:, 0].max() > w - 1 or img[:, 1].max() > h - 1:
        return None
    mx = img[:, 0].reshape(gx.shape).astype(np.float32)
    my = img[:, 1].reshape(gx.shape).astype(np.float32)
    return cv2.remap(norm, mx, my, cv2.INTER_LINEAR)


def _fit_homography(plane: list, image: list, tol: float) -> np.ndarray:
    return _fit_with_inliers(plane, image, tol)[0]


def _fit_with_inliers(plane: list, image: list, tol: float, flat: bool = False):
    h, mask = cv2.findHomography(np.float32(plane), np.float32(image), cv2.RANSAC, tol)
    if h is None:
        raise KeyboardNotFound("no piano keyboard found: the black keys do not fit one flat keyboard")
    ok = mask.ravel().astype(bool)
    if flat:
        # The points lie near two lines along the row: noise there (a glow, a hand) can buy a
        # perspective that stretches one end. A camera square to the keyboard needs none.
        a, amask = cv2.estimateAffine2D(np.float32(plane), np.float32(image), method=cv2.RANSAC,
                                        ransacReprojThreshold=tol)
        if a is not None:
            affine = np.vstack([a, [0.0, 0.0, 1.0]])
            pl, im = np.asarray(plane, float), np.asarray(image, float)
            if _misfit(affine, pl, im) <= FLAT_RATIO * _misfit(h, pl, im):
                h, ok = affine, amask.ravel().astype(bool)
    return h, np.asarray(plane, float)[ok], np.asarray(image, float)[ok]


def _misfit(h: np.ndarray, plane: np.ndarray, image: np.ndarray, tol: float = 4.0) -> float:
    """Truncated mean square image distance (px²) of the points from plane -> image map `h`."""
    d2 = np.sum((apply_homography(h, plane) - image) ** 2, axis=1)
    return float(np.mean(np.minimum(d2, tol * tol)))


def white_index(midi: int) -> int:
    """Index of the white key at or just left of `midi`, counted from C-1."""
    return (midi // 12) * 7 + (0, 0, 1, 1, 2, 3, 3, 4, 4, 5, 5, 6)[midi % 12]


def locate(image: np.ndarray, norm: np.ndarray, flat: bool = False) -> Located:
    """Find the black-key row, name it by its pattern, and fit the plane -> image homography."""
    row = key_row(find_black_keys(image))
    t, order = _along(row)
    row = [row[i] for i in order]
    fit = label_black_keys(t)
    if fit is None or fit.inliers < MIN_KEYS:
        found = 0 if fit is None else fit.inliers
        raise KeyboardNotFound(f"no piano keyboard found: {len(row)} dark bars in a row, but only {found} "
                               f"follow the 2-and-3 black-key pattern (need {MIN_KEYS})")
    if fit.margin < MIN_MARGIN:
        raise KeyboardNotFound(f"black keys found ({fit.inliers}), but too few of them tell the groups of two "
                               "and three apart (hands or glare over the keys?): cannot name them safely")
    keys = [(b, int(m)) for b, m in zip(row, fit.labels) if m >= 0]
    full = np.median([b.length for b, _ in keys])
    width = float(np.median([b.width for b, _ in keys]))
    plane, img = [], []
    # A dark rail or a glow at the back can lengthen or shorten a bar there: its back end is off the
    # line of the others. The fits' RANSAC copes; the lens estimate, bent by a few such points, must not see them.
    back_pts = np.array([b.back for b, _ in keys], np.float32)
    vx, vy, x0, y0 = cv2.fitLine(back_pts, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
    off_line = back_pts[np.abs((back_pts - np.array([x0, y0])) @ np.array([-vy, vx])) >= max(3.0, 0.4 * width)]
    for blob, midi in keys:
        x = (midi + 0.5) * SEMITONE_WIDTH
        plane.append((x, 0.0))
        img.append(blob.back)
        # A finger over a black key shortens its bar: only whole bars give a front end.
        if blob.length > 0.85 * full:
            plane.append((x, BLACK_KEY_LENGTH))
            img.append(blob.front)
    if len(plane) - len(keys) < 3:
        raise KeyboardNotFound("black keys found but fewer than 3 are wholly visible (hands over the keys?)")
    h = _fit_homography(plane, img, max(2.0, 0.3 * width))
    black_length = BLACK_KEY_LENGTH
    labels = [m for _, m in keys]
    edge = _white_front(norm, h, labels)
    if edge is not None:
        # Real keyboards differ in how far the white keys reach past the black: measure it.
        y_edge, front_points = edge
        black_length = BLACK_KEY_LENGTH * WHITE_KEY_LENGTH / y_edge
        plane = [(x, y if y == 0.0 else black_length) for x, y in plane]
        img = list(img)
        for x, p in front_points:
            plane.append((x, WHITE_KEY_LENGTH))
            img.append(p)
    h, plane_in, image_in = _fit_with_inliers(plane, img, max(2.0, 0.3 * width), flat)
    if np.sum(plane_in[:, 1] == 0.0) < 0.5 * len(keys) and edge is not None:
        # The white fronts lie on one line: a fit that keeps them and drops most black keys' backs is
        # degenerate (any map of that line fits them). The black keys alone then.
        h, plane_in, image_in = _fit_with_inliers(plane[:len(plane) - len(front_points)],
                                                  img[:len(img) - len(front_points)], max(2.0, 0.3 * width), flat)
    whites = [white_index(m) for m in labels]
    backs = [(p, q) for p, q in zip(plane, img) if p[1] == 0.0]
    for _ in range(3):
        # Each fit predicts the gaps better, so the search finds more of them towards the ends.
        gap_plane, gap_image = white_gaps(norm, h, min(whites) - 1, max(whites) + 1, black_length)
        if len(gap_plane) < 12:
            break
        # The white keys' gaps lie in the plane the fingers press: fit to them and the black keys' backs.
        # Black key tops stand above the white keys: once the white keys' own gaps are many, only they count.
        use_backs = backs
        plane_all = [p for p, _ in use_backs] + gap_plane
        image_all = [q for _, q in use_backs] + gap_image
        h, _, _ = _fit_with_inliers(plane_all, image_all, max(2.0, 0.2 * width), flat)
        # Every point, not only the inliers: a lens bends the outer ones off any one homography.
        plane_in, image_in = np.asarray(plane_all, float), np.asarray(image_all, float)
    if len(off_line):
        bad = (plane_in[:, 1] == 0.0) & (np.min(np.hypot(*(image_in[:, None, :] - off_line[None]).transpose(2, 0, 1)),
                                                axis=1) < 0.5)
        plane_in, image_in = plane_in[~bad], image_in[~bad]
    row_x = apply_homography(np.linalg.inv(h), [b.back for b in row])[:, 0]
    # Only bars where the fitted keyboard has a black key say the keys go on (a cheek block's edge can
    # look like a bar too).
    s = row_x / SEMITONE_WIDTH - 0.5
    near = np.round(s).astype(int)
    row_x = row_x[(np.abs(s - near) < 0.3) & np.isin(near % 12, (1, 3, 6, 8, 10))]
    return Located(plane_to_image=h, black_key_length=black_length, labels=labels, fit=fit, row_x=row_x,
                   plane_points=plane_in, image_points=image_in, backs=np.array([b.back for b, _ in keys], float))


def _white_front(norm: np.ndarray, h: np.ndarray, labels: list[int]):
    """Where the white keys end towards the player: (plane y, [(x, image point)]) or None."""
    x0 = (min(labels) + 0.5) * SEMITONE_WIDTH
    x1 = (max(labels) + 0.5) * SEMITONE_WIDTH
    xs = np.arange(x0, x1, 2.0)
    ys = np.arange(BLACK_KEY_LENGTH + 5.0, 2.0 * WHITE_KEY_LENGTH, 1.0)
    edges = []
    for x in xs:
        col = _column(norm, h, x, ys)
        if col is None or np.median(col[:10]) < BRIGHT:
            continue  # off the image, on a gap between keys, or under a hand
        below = np.nonzero(col < 0.5 * BRIGHT + 0.15)[0]
        if len(below):
            edges.append((x, ys[below[0]] - 0.5))
    if len(edges) < max(5, 0.2 * len(xs)):
        return None
    y_edge = float(np.median([e for _, e in edges]))
    if not 0.8 * WHITE_KEY_LENGTH < y_edge < 1.5 * WHITE_KEY_LENGTH:
        return None
    points = [(x, apply_homography(h, [(x, e)])[0]) for x, e in edges if abs(e - y_edge) < 4.0]
    return y_edge, points[::3]


def _column(norm, h, x, ys) -> np.ndarray | None:
    pts = apply_homography(h, np.column_stack([np.full(len(ys), x), ys]))
    hh, ww = norm.shape
    inside = (pts[:, 0] >= 0) & (pts[:, 1] >= 0) & (pts[:, 0] <= ww - 1) & (pts[:, 1] <= hh - 1)
    if not inside[:20].all():
        return None
    n = int(np.argmin(inside)) if not inside.all() else len(ys)
    mx = pts[:n, 0].astype(np.float32).reshape(1, -1)
    my = pts[:n, 1].astype(np.float32).reshape(1, -1)
    return cv2.remap(norm, mx, my, cv2.INTER_LINEAR).ravel()


def find_ends(norm: np.ndarray, located: Located, grey: np.ndarray | None = None) -> Ends:
    """The keyboard's ends (or where the keys stop) from a walk along the white keys."""
    sides = walk(norm, located.plane_to_image, located.labels, located.row_x, located.black_key_length, grey)
    left, right = sides["left"], sides["right"]
    def limit(side, outermost):
        # Keys run on to the frame's edge: those partly in view are keys too.
        if side.beyond == "border":
            return side.reach
        return side.last if side.last is not None else outermost
    return Ends(left=left.last if left.end else None, right=right.last if right.end else None,
                left_limit=limit(left, min(located.labels)), right_limit=limit(right, max(located.labels)),
                left_beyond=left.beyond, right_beyond=right.beyond, left_reach=left.reach, right_reach=right.reach,
                left_last=left.last, right_last=right.last)


def end_drift(located: Located, outer: int = 3) -> float:
    """How far (white keys) the fit puts the outermost named black keys off their places, the worse end.

    One perspective must hold the black keys at both ends: a fit that follows one side only (the
    other dropped as outliers) leaves the far side's keys a key or more off their names.
    """
    if located.backs is None or len(located.labels) < 2 * outer:
        return 0.0
    order = np.argsort(located.labels)
    x = apply_homography(np.linalg.inv(located.plane_to_image), located.backs[order])[:, 0]
    dx = np.abs(x - (np.asarray(located.labels)[order] + 0.5) * SEMITONE_WIDTH) / WHITE_KEY_WIDTH
    return float(max(np.median(dx[:outer]), np.median(dx[-outer:])))


def black_keys_dark(norm: np.ndarray, keymap: KeyMap) -> float:
    """Share of mapped black keys whose middle looks dark: a map off by half a key fails this."""
    h = np.linalg.inv(keymap.homography)
    dark = total = 0
    for key in keymap.keys:
        if not key.black:
            continue
        x0, x1 = key_span(key.midi)
        vals = _sample(norm, h, np.linspace(x0 + 3, x1 - 3, 3), np.linspace(10, keymap.black_key_length - 10, 5))
        if vals is None:
            continue
        total += 1
        dark += bool(np.median(vals) < BRIGHT)
    return dark / total if total else 0.0


def detect_keymap(image: np.ndarray, keys: int | None = None, lowest: int | None = None,
                  first_c: int | None = None) -> KeyMap:
    """The key map of one top-down frame, or a CalibrationError saying what was not found."""
    if image is None or image.ndim != 3 or min(image.shape[:2]) < 64:
        raise KeyboardNotFound("no image to calibrate from (need a colour frame at least 64 px on each side)")
    h, w = image.shape[:2]
    try:
        norm, located, k1, ends, in_view, numbering = _locate_and_number(image, keys, lowest, first_c)
    except NumberingUnknown as unknown:
        if keys is not None or lowest is not None or first_c is not None:
            raise
        # Glow or a hand at an end can bend the fit enough that the walk misses the end: a square-on
        # camera needs no perspective, so try the flat fit before giving up on the numbering.
        try:
            norm, located, k1, ends, in_view, numbering = _locate_and_number(image, keys, lowest, first_c, flat=True)
        except CalibrationError:
            raise unknown from None
    shift = numbering.shift
    # Plane x is measured from C-1: move the relative plane by the octaves found.
    to_plane = np.array([[1.0, 0.0, shift * SEMITONE_WIDTH], [0, 1, 0], [0, 0, 1]]) @ np.linalg.inv(
        located.plane_to_image)
    to_plane /= to_plane[2, 2]
    midis = [m + shift for m in in_view if numbering.lowest_in_map <= m + shift <= numbering.highest_in_map]
    keymap = build_keymap(to_plane, (w, h), midis, black_key_length=located.black_key_length,
                          partial=numbering.partial, notes=numbering.notes, keyboard_keys=numbering.keyboard_keys,
                          lowest=numbering.lowest, method="auto")
    drift = end_drift(located)
    if drift > END_DRIFT:
        raise KeyboardNotFound(f"keys located but the map drifts off the black keys found at one end "
                               f"({drift:.1f} white keys): the perspective does not fit the whole keyboard")
    share = black_keys_dark(norm, keymap)
    if share < DARK_SHARE:
        raise KeyboardNotFound(f"keys located but the map does not match the picture: only {share:.0%} of the "
                               "black keys it places look black")
    # Bends along the row that no homography follows: a cubic correction from the white keys' gaps.
    warp = fit_row_warp(located.plane_points[located.plane_points[:, 1] > 0],
                        located.image_points[located.plane_points[:, 1] > 0], located.plane_to_image)
    if warp:
        warp["centre"] += shift * SEMITONE_WIDTH
    if k1 or warp:
        notes = keymap.notes + ([f"lens distortion undone (k1 {k1:+.2f})"] if k1 else [])
        keymap = build_keymap(to_plane, (w, h), midis, black_key_length=located.black_key_length, lens_k1=k1,
                              row_warp=warp, partial=keymap.partial, notes=notes,
                              keyboard_keys=keymap.keyboard_keys, lowest=keymap.lowest, method="auto")
    keymap.numbered_by = numbering.how
    keymap.ends = {"left": ends.left_beyond, "right": ends.right_beyond}
    logger.info("calibrated %d keys (%s..%s)%s; %d black keys found, pattern margin %d", len(keymap.keys),
                note_name(midis[0]), note_name(midis[-1]), " partial" if keymap.partial else "",
                located.fit.inliers, located.fit.margin)
    return keymap


def _locate_and_number(image: np.ndarray, keys, lowest, first_c, flat: bool = False):
    """(norm, located keys, lens k1, ends, keys in view, numbering) of one frame, the lens undone where it helps."""
    h, w = image.shape[:2]
    grey, norm = grey_levels(image)
    located = locate(image, norm, flat)
    k1 = estimate_k1(located.plane_points, located.image_points, (w, h))
    if k1:
        # A wide lens bends the keyboard: undo it and locate the keys again on the straightened frame.
        image = undistort_image(image, k1)
        grey, norm = grey_levels(image)
        located = locate(image, norm, flat)
    ends = find_ends(norm, located, grey)
    in_view = _keys_in_view(located, w, h)
    return norm, located, k1, ends, in_view, number_keys(ends, in_view, keys=keys, lowest=lowest, first_c=first_c)


def _keys_in_view(located: Located, width: int, height: int) -> list[int]:
    """Relative MIDI numbers of keys whose strike point lies in the image."""
    lo, hi = min(located.labels) - 40, max(located.labels) + 40
    out = []
    for midi in range(lo, hi + 1):
        p = apply_homography(located.plane_to_image, strike_point(midi, located.black_key_length)[None])[0]
        if 0 <= p[0] < width and 0 <= p[1] < height:
            out.append(midi)
    return out

