"""What a rendered scene shows: keyboard, camera, lighting, piece and hands."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from pianocam.scene.keyboard import LOWEST_MIDI
from pianocam.scene.score import HANDS, PIECES

LIGHTINGS = ("studio", "warm", "dim", "uneven")
BODIES = ("wood", "digital", "upright", "glow")
VIEWS = ("61", "whole", "edge")


@dataclass(frozen=True)
class SceneSpec:
    seed: int = 0
    keys: int = 61             # 49|61|76|88
    seconds: float = 10.0
    width: int = 960
    height: int = 540
    fps: float = 30.0
    tilt: float = 0.0          # degrees the camera leans towards the player
    rotate: float = 0.0        # degrees of in-image rotation
    distance: float = 1.0      # 1.0: 90 % of the width spans 61 keys (C2-C7); 2.0 twice as far
    lighting: str = "studio"   # studio|warm|dim|uneven
    noise: float = 2.0         # sensor noise sigma in grey levels
    tempo: float = 100.0       # BPM
    piece: str = "mixed"       # scales|arpeggios|chords|crossings|mixed
    hands: str = "both"        # both|left|right
    body: str = "wood"         # wood|digital (black body, panel)|upright (fallboard, key slip, cheek blocks)|glow
    view: str = "61"           # 61: a 61-key span framed|whole: the whole keyboard and some body|edge: edge to edge

    def __post_init__(self):
        if self.keys not in LOWEST_MIDI:
            raise ValueError(f"keys must be one of {sorted(LOWEST_MIDI)}, not {self.keys}")
        if self.lighting not in LIGHTINGS:
            raise ValueError(f"lighting must be one of {LIGHTINGS}, not {self.lighting!r}")
        if self.piece not in PIECES:
            raise ValueError(f"piece must be one of {PIECES}, not {self.piece!r}")
        if self.body not in BODIES:
            raise ValueError(f"body must be one of {BODIES}, not {self.body!r}")
        if self.view not in VIEWS:
            raise ValueError(f"view must be one of {VIEWS}, not {self.view!r}")
        if self.hands not in HANDS:
            raise ValueError(f"hands must be one of {HANDS}, not {self.hands!r}")
        for name in ("seconds", "fps", "tempo", "distance"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.width < 64 or self.height < 64:
            raise ValueError("width and height must be at least 64 px")
        if self.noise < 0:
            raise ValueError("noise must be >= 0")

    def to_dict(self) -> dict:
        return asdict(self)
