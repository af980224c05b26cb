"""A PISA sample's inputs as PISA's loader makes them: 112×112 frame clips, and one mel image per clip.

Frames: each JPEG resized to 171×128 (C3D's input size), centre-cropped to 112×112, RGB / 255 then
(x - 0.5) / 0.5. Audio: the clip's stretch of the video's WAV (first to last frame of the clip), a
mel spectrogram as librosa's defaults make it (hann window, centred with zero padding, power 2,
Slaney mel filters; n_fft 2048, hop 512, 128 mels, 20-8300 Hz), power_to_db (top_db 80), standardised,
stretched to 0-255 as uint8, resized to 224×224 (bilinear), then / 255 and (x - 0.5) / 0.5. The mel is
written out here, in numpy, because librosa brings numba and a dozen packages into the export
environment and took 14-150 s to its first spectrogram on this box. Checked once against librosa 0.11.0
(a rendered take's WAV, four clips): filters within 4e-9, dB within 1e-4.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

RESIZE, CROP, MEL_SIZE = (171, 128), 112, 224
N_FFT, HOP, N_MELS, FMIN, FMAX, TOP_DB = 2048, 512, 128, 20.0, 8300.0, 80.0


def frame(path: Path) -> np.ndarray:
    """(3, 112, 112) float32 in [-1, 1]."""
    with Image.open(path) as im:
        im = im.convert("RGB").resize(RESIZE, Image.BILINEAR)
    x = np.asarray(im, np.float32) / 255.0
    top, left = (RESIZE[1] - CROP) // 2, (RESIZE[0] - CROP) // 2
    return ((x[top:top + CROP, left:left + CROP] - 0.5) / 0.5).transpose(2, 0, 1)


def clips(files: list[Path], indices: np.ndarray, clip: int = 16) -> np.ndarray:
    """(K, 3, 16, 112, 112) for a sample's frame indices, K = len(indices) / 16."""
    x = np.stack([frame(files[i]) for i in indices])          # (K*16, 3, H, W)
    return x.reshape(-1, clip, 3, CROP, CROP).transpose(0, 2, 1, 3, 4).copy()


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 in [-1, 1] and the sample rate (as librosa.load(sr=None) gives them)."""
    from scipy.io import wavfile

    sr, wav = wavfile.read(path)
    if wav.dtype.kind == "i":
        wav = wav.astype(np.float32) / float(np.iinfo(wav.dtype).max + 1)
    wav = wav.astype(np.float32)
    return (wav.mean(axis=1) if wav.ndim == 2 else wav), int(sr)


def _hz_to_mel(f):
    """Slaney's mel scale: linear to 1 kHz, logarithmic above."""
    f = np.asarray(f, np.float64)
    mel = f / (200.0 / 3)
    log = f >= 1000.0
    return np.where(log, 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0), mel)


def _mel_to_hz(m):
    m = np.asarray(m, np.float64)
    return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), m * (200.0 / 3))


@lru_cache(maxsize=4)
def mel_filters(sr: int) -> np.ndarray:
    """(128, 1 + n_fft/2) triangular filters, area-normalised (Slaney), as librosa.filters.mel."""
    freqs = np.linspace(0, sr / 2, 1 + N_FFT // 2)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(FMIN), _hz_to_mel(FMAX), N_MELS + 2))
    ramps = edges[:, None] - freqs[None, :]
    gaps = np.diff(edges)
    lower = -ramps[:-2] / gaps[:-1, None]
    upper = ramps[2:] / gaps[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    return (weights * (2.0 / (edges[2:] - edges[:-2]))[:, None]).astype(np.float32)


def mel_db(wav: np.ndarray, sr: int) -> np.ndarray:
    """(128, frames) power mel spectrogram in dB, top 80 dB kept."""
    padded = np.pad(wav.astype(np.float32), N_FFT // 2)
    if len(padded) < N_FFT:
        padded = np.pad(padded, (0, N_FFT - len(padded)))
    count = 1 + (len(padded) - N_FFT) // HOP
    window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)   # periodic hann
    windows = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:count] * window
    power = np.abs(np.fft.rfft(windows, axis=1)) ** 2            # (frames, 1025)
    db = 10.0 * np.log10(np.maximum(1e-10, mel_filters(sr) @ power.T))
    return np.maximum(db, db.max() - TOP_DB)


def mel_image(db: np.ndarray) -> np.ndarray:
    """(1, 224, 224) in [-1, 1]: standardised, stretched to uint8, resized."""
    norm = (db - db.mean()) / (db.std() + 1e-6)
    span = norm.max() - norm.min()
    scaled = (255 * (norm - norm.min()) / (span if span else 5)).astype(np.uint8)
    img = np.asarray(Image.fromarray(scaled).resize((MEL_SIZE, MEL_SIZE), Image.BILINEAR), np.float32) / 255.0
    return ((img - 0.5) / 0.5)[None]


def mels(wav: np.ndarray, sr: int, indices: np.ndarray, framerate: float, clip: int = 16) -> np.ndarray:
    """(K, 1, 224, 224): per clip, the sound from its first to its last frame."""
    out = []
    for c in np.asarray(indices).reshape(-1, clip):
        start, end = int(c[0] / framerate * sr), int(c[-1] / framerate * sr)
        out.append(mel_image(mel_db(wav[start:end], sr)))
    return np.stack(out)
