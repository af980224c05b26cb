"""Pin the map to the white keys' own gaps: black key tops stand above the white keys and lean apart."""
from __future__ import annotations

import cv2
import numpy as np

from pianocam.calibration.keymap import WHITE_KEY_LENGTH, WHITE_KEY_WIDTH, apply_homography

SEARCH = 0.35       # white-key widths either side of where the gap is expected
CONTRAST = 0.85     # the gap's grey against the keys beside it
FAINT = 0.92        # ... of a faint gap, kept only where both depths find it in one place
AGREE = 0.05        # white keys by which the two depths' faint gap may differ
BACK_GAPS = False   # E|F and B|C gaps at the back too: off, they misled rendered frames


def white_gaps(norm: np.ndarray, plane_to_image: np.ndarray, first_white: int, last_white: int,
               black_length: float) -> tuple[list, list]:
    """(plane points, image points) of the dark lines between white keys, on their front part.

    White keys are indexed from C-1 (key_span's white steps); the gap after white key i
    lies at plane x = (i + 1) * WHITE_KEY_WIDTH.
    """
    plane, image = [], []
    h, w = norm.shape
    for i in range(first_white, last_white):
        xb = (i + 1) * WHITE_KEY_WIDTH
        depths = [black_length + 0.3 * (WHITE_KEY_LENGTH - black_length),
                  black_length + 0.75 * (WHITE_KEY_LENGTH - black_length)]
        if BACK_GAPS and i % 7 in (2, 6):
            # E|F and B|C have no black key between them: their gap runs the keys' whole length.
            depths += [0.25 * black_length, 0.55 * black_length, 0.8 * black_length]
        found = []
        for y in depths:
            a, p, b = apply_homography(plane_to_image, [(xb - 1.0, y), (xb, y), (xb + 1.0, y)])
            u = b - a
            px_per_mm = np.hypot(*u) / 2.0
            u = u / max(np.hypot(*u), 1e-9)
            reach = SEARCH * WHITE_KEY_WIDTH * px_per_mm
            if reach < 3:
                continue
            steps = np.arange(-reach, reach + 0.5, 0.5)
            pts = p + steps[:, None] * u
            if pts[:, 0].min() < 0 or pts[:, 1].min() < 0 or pts[:, 0].max() > w - 1 or pts[:, 1].max() > h - 1:
                continue
            prof = cv2.remap(norm, pts[:, 0].astype(np.float32).reshape(1, -1),
                             pts[:, 1].astype(np.float32).reshape(1, -1), cv2.INTER_LINEAR).ravel()
            k = int(np.argmin(prof))
            side = min(np.median(prof[:max(1, k - 2)]) if k > 2 else 0.0,
                       np.median(prof[k + 3:]) if k < len(prof) - 3 else 0.0)
            if k < 2 or k > len(prof) - 3 or side < 0.6 or prof[k] > FAINT * side:
                continue  # no clear gap: a hand, a glow or the end of the keys
            # Sub-sample position of the minimum from a parabola through its neighbours.
            left, c, r = prof[k - 1], prof[k], prof[k + 1]
            off = 0.5 * (left - r) / (left - 2 * c + r) if (left - 2 * c + r) > 1e-6 else 0.0
            found.append(((xb, y), pts[k] + off * 0.5 * u, prof[k] <= CONTRAST * side, px_per_mm))
        if len(found) == 2 and not (found[0][2] and found[1][2]):
            # A faint gap counts where it runs along the keys: found at both depths, in one place.
            x0, x1 = (apply_homography(np.linalg.inv(plane_to_image), [f[1]])[0][0] for f in found)
            if abs(x0 - x1) > AGREE * WHITE_KEY_WIDTH:
                found = [f for f in found if f[2]]
        else:
            found = [f for f in found if f[2]]
        for p_plane, p_image, _, _ in found:
            plane.append(p_plane)
            image.append(p_image)
    return plane, image


def fit_row_warp(plane, image, plane_to_image: np.ndarray, min_points: int = 30) -> dict:
    """A cubic correction along the keys (mm at plane x) where the white gaps bend off one homography.

    Lenses and real actions bend the row of keys a little; one homography leaves errors that grow
    towards the ends. Empty when the gaps are too few or too narrow a span to say, or it gains little.
    """
    plane = np.asarray(plane, float)
    image = np.asarray(image, float)
    if len(plane) < min_points:
        return {}
    measured = apply_homography(np.linalg.inv(plane_to_image), image)[:, 0]
    dx = plane[:, 0] - measured
    centre = float(np.median(measured))
    scale = float(max(np.ptp(measured) / 2, 1.0))
    if scale < 6 * WHITE_KEY_WIDTH:
        return {}
    u = (measured - centre) / scale
    keep = np.abs(dx - np.median(dx)) < 0.3 * WHITE_KEY_WIDTH
    for _ in range(3):
        if keep.sum() < min_points:
            return {}
        coef = np.polyfit(u[keep], dx[keep], 3)
        resid = dx - np.polyval(coef, u)
        sigma = max(1.4826 * float(np.median(np.abs(resid[keep]))), 0.5)
        keep = np.abs(resid) < 3 * sigma
    before = float(np.sqrt(np.mean(dx[keep] ** 2)))
    after = float(np.sqrt(np.mean(resid[keep] ** 2)))
    if after > 0.9 * before:
        return {}
    return {"centre": centre, "scale": scale, "coef": [float(c) for c in coef]}
