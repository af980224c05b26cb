"""The static set seen through the camera: piano body, keys, their pressed look, light and sensor."""
from __future__ import annotations

import cv2
import numpy as np

from pianocam.scene.camera import Camera
from pianocam.scene.keyboard import WHITE_LENGTH, Key

SHIFT = 4
ONE = 1 << SHIFT
KEY_GAP = 0.7          # mm of shadow between neighbouring white keys
FLOOR = (38, 40, 44)
WOOD = (28, 36, 52)
KEYBED = (52, 52, 56)
FELT = (30, 30, 120)
IVORY = (232, 236, 238)
IVORY_PRESSED = (196, 200, 204)
EBONY = (26, 24, 24)
EBONY_TOP = (48, 46, 46)
EBONY_PRESSED = (14, 13, 13)
NOISE_BANK = 6         # distinct sensor-noise fields, cycled frame by frame


def _poly(camera: Camera, pts_mm) -> np.ndarray:
    return np.round(camera.project(np.asarray(pts_mm, float)) * ONE).astype(np.int32)


def _rect(x0, y0, x1, y1):
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _dense_rect(x0, y0, x1, y1, n=24):
    """A rectangle with extra vertices, so it stays straight far outside the frame."""
    xs = np.linspace(x0, x1, n)
    ys = np.linspace(y0, y1, n)
    return ([(x, y0) for x in xs] + [(x1, y) for y in ys] + [(x, y1) for x in xs[::-1]]
            + [(x0, y) for y in ys[::-1]])


def _draw_key(img, camera, key: Key, pressed: bool):
    if key.black:
        cv2.fillConvexPoly(img, _poly(camera, key.corners), EBONY_PRESSED if pressed else EBONY,
                           cv2.LINE_AA, SHIFT)
        # The top face is narrower than the base and catches light; pressed, it drops
        # towards the player and darkens.
        dip = 3.0 if pressed else 0.0
        top = _rect(key.x0 + 1.6, 2.0 + dip, key.x1 - 1.6, key.length - 9.0 + dip)
        cv2.fillConvexPoly(img, _poly(camera, top), EBONY if pressed else EBONY_TOP, cv2.LINE_AA, SHIFT)
    else:
        body = _rect(key.x0 + KEY_GAP / 2, 0.0, key.x1 - KEY_GAP / 2, key.length - 0.5)
        cv2.fillConvexPoly(img, _poly(camera, body), IVORY_PRESSED if pressed else IVORY, cv2.LINE_AA, SHIFT)
        if pressed:
            # The front lip of a pressed key sinks and shows a dark edge.
            lip = _rect(key.x0 + KEY_GAP / 2, key.length - 6.0, key.x1 - KEY_GAP / 2, key.length - 0.5)
            cv2.fillConvexPoly(img, _poly(camera, lip), (150, 152, 156), cv2.LINE_AA, SHIFT)


PLASTIC = (20, 20, 22)          # a digital piano's black body
PANEL = (36, 36, 40)
UPRIGHT_WOOD = (40, 68, 104)    # a brown upright: cheek blocks and key slip
FALLBOARD = (24, 40, 66)
NIGHT = (8, 8, 10)              # falling-note videos: the keys under a light bar in the dark
GLOW = (255, 236, 210)


def _fill(img, camera, rect, colour):
    cv2.fillPoly(img, [_poly(camera, _dense_rect(*rect))], colour, cv2.LINE_AA, SHIFT)


def _grain(img, colour, rng, width, height):
    """Faint streaks along the keyboard over the pixels of one colour, fixed per seed."""
    grain = cv2.resize(rng.normal(0, 6, size=(height // 6 + 1, 2)).astype(np.float32),
                       (width, height), interpolation=cv2.INTER_LINEAR)
    mask = np.all(img == colour, axis=2)
    shaded = img.astype(np.int16) + grain[:, :, None].astype(np.int16)
    img[mask] = np.clip(shaded[mask], 0, 255).astype(np.uint8)


def _instrument(img, camera, left, right, body, rng, width, height):
    """What lies around the keys: the piano's body, its panel or fallboard, cheek blocks."""
    if body == "wood":
        _fill(img, camera, (left - 80, -420, right + 80, WHITE_LENGTH + 30), WOOD)
        _grain(img, WOOD, rng, width, height)
    elif body == "digital":
        _fill(img, camera, (left - 110, -330, right + 110, WHITE_LENGTH + 45), PLASTIC)
        # The control panel behind the keys: a display and a row of lit buttons.
        _fill(img, camera, (left + 40, -150, right - 40, -40), PANEL)
        _fill(img, camera, (left + 0.42 * (right - left), -130, left + 0.58 * (right - left), -60), (70, 60, 30))
        for i in range(14):
            x = left + 80 + i * 28.0
            _fill(img, camera, (x, -110, x + 14, -96), (60, 210, 90) if i % 3 == 0 else (90, 90, 96))
        # A gloss line along the front rail.
        _fill(img, camera, (left - 110, WHITE_LENGTH + 12, right + 110, WHITE_LENGTH + 16), (70, 70, 76))
    elif body == "upright":
        _fill(img, camera, (left - 70, -420, right + 70, WHITE_LENGTH + 40), UPRIGHT_WOOD)
        _grain(img, UPRIGHT_WOOD, rng, width, height)
        # The open fallboard stands behind the keys, darker and polished.
        _fill(img, camera, (left - 70, -150, right + 70, -8), FALLBOARD)
        _fill(img, camera, (left - 70, -150, right + 70, -144), (80, 110, 150))
        # Cheek blocks either side of the keys and the key slip in front of them.
        _fill(img, camera, (left - 70, -8, left - 3, WHITE_LENGTH + 40), (52, 84, 124))
        _fill(img, camera, (right + 3, -8, right + 70, WHITE_LENGTH + 40), (52, 84, 124))
        _fill(img, camera, (left - 3, WHITE_LENGTH + 2, right + 3, WHITE_LENGTH + 40), (46, 76, 116))
    elif body == "glow":
        img[:] = NIGHT
        # Falling notes: lit bars above the keys, heading for the keys they will sound.
        for _ in range(int(rng.integers(6, 12))):
            x = float(rng.uniform(left, right - 20))
            y0 = float(rng.uniform(-420, -60))
            colour = tuple(int(c) for c in rng.integers(80, 256, 3))
            _fill(img, camera, (x, y0, x + 13, y0 + float(rng.uniform(25, 120))), colour)


def _light_bar(img, camera, left, right):
    """A glowing bar over the keys' back edge that bleeds light onto the keys."""
    glow = np.zeros_like(img)
    _fill(glow, camera, (left - 200, -7, right + 200, -1), GLOW)
    halo = cv2.GaussianBlur(glow, (0, 0), 9)
    img[:] = cv2.add(img, cv2.addWeighted(glow, 1.0, halo, 1.2, 0))


def draw_keyboard(camera: Camera, keys: list[Key], width: int, height: int, rng,
                  pressed: bool = False, body: str = "wood") -> np.ndarray:
    """The keyboard in its instrument; with `pressed`, every key drawn as if held down."""
    img = np.full((height, width, 3), FLOOR, np.uint8)
    left, right = keys[0].x0, keys[-1].x1
    _instrument(img, camera, left, right, body, rng, width, height)
    cv2.fillPoly(img, [_poly(camera, _dense_rect(left, -4, right, WHITE_LENGTH))], KEYBED, cv2.LINE_AA, SHIFT)
    cv2.fillPoly(img, [_poly(camera, _dense_rect(left, -4, right, 0))], FELT, cv2.LINE_AA, SHIFT)
    for key in keys:
        if not key.black:
            _draw_key(img, camera, key, pressed)
    for key in keys:
        if key.black:
            _draw_key(img, camera, key, pressed)
    if body == "glow":
        _light_bar(img, camera, left, right)
    return img


def key_regions(camera: Camera, keys: list[Key], width: int, height: int) -> list:
    """Per key, the (slices, mask) of the pixels it shows (white keys minus black ones)."""
    labels = np.full((height, width), -1, np.int32)
    for order in (False, True):
        for i, key in enumerate(keys):
            if key.black == order:
                cv2.fillConvexPoly(labels, _poly(camera, key.corners), i, cv2.LINE_8, SHIFT)
    regions = []
    for i in range(len(keys)):
        ys, xs = np.nonzero(labels == i)
        if len(xs) == 0:
            regions.append(None)
            continue
        sl = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
        regions.append((sl, labels[sl] == i))
    return regions


def lighting_gain(lighting: str, width: int, height: int) -> np.ndarray | None:
    """Per-pixel BGR gain (x128 as uint8 for cv2.multiply), or None for neutral light."""
    if lighting == "studio":
        return None
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    gain = np.ones((height, width, 3), np.float32)
    if lighting == "warm":
        gain *= np.array([0.78, 0.93, 1.06], np.float32)
    elif lighting == "dim":
        gain *= 0.55
    elif lighting == "uneven":
        # A window on one side and a lamp's fall-off: bright left, dim right.
        ramp = 1.12 - 0.5 * xx / width
        r = np.hypot((xx - 0.3 * width) / width, (yy - 0.3 * height) / height)
        gain *= (ramp * (1.0 - 0.35 * r))[:, :, None]
    return np.clip(gain * 128, 0, 255).astype(np.uint8)


def noise_bank(sigma: float, width: int, height: int, rng) -> list[np.ndarray]:
    if sigma <= 0:
        return []
    return [np.round(rng.normal(0, sigma, size=(height, width, 3))).astype(np.int16)
            for _ in range(NOISE_BANK)]


def develop(img: np.ndarray, gain, noise: np.ndarray | None) -> np.ndarray:
    """What the sensor delivers: slight lens blur, scene light, then sensor noise."""
    img = cv2.GaussianBlur(img, (3, 3), 0.7)
    if gain is not None:
        img = cv2.multiply(img, gain, scale=1 / 128)
    if noise is not None:
        img = cv2.add(img, noise, dtype=cv2.CV_8U)
    return img
