"""`pianocam collect`: hand-crop clips from a rendered performance and its MIDI, labelled by the decoder."""
import json

import numpy as np
import pytest

from pianocam.commands.cli import main
from pianocam.fingering.crops import FRAMES, SIZE, clip_frames, crop
from pianocam.scene import SceneSpec
from pianocam.scene.source import cached_scene


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return cached_scene(SceneSpec(seed=101, keys=61, seconds=4.0, piece="scales"), tmp_path_factory.mktemp("scene"))


def test_clips_are_labelled_by_the_decoder_and_agree_with_the_truth(scene, tmp_path, capsys):
    truth = json.loads((scene / "truth.json").read_text())
    assert main(["collect", "--video", str(scene / "video.mp4"), "--midi", str(scene / "performance.mid"),
                 "--offset", "0", "--out", str(tmp_path), "--name", "s101", "--truth", str(scene / "truth.json")]) == 0
    meta = json.loads((tmp_path / "s101.json").read_text())
    with np.load(tmp_path / "s101.npz") as data:
        frames, labels, true, note = data["frames"], data["labels"], data["truth"], data["note"]
    assert frames.shape[1:] == (FRAMES, SIZE, SIZE, 3) and frames.dtype == np.uint8
    assert meta["positives"] >= 0.5 * len(truth["notes"]) and meta["negatives"] >= meta["positives"]
    assert (labels > 0).sum() == meta["positives"] and set(labels) <= {0, 1, 2, 3, 4, 5}
    # Each note's clips: its pressing fingertip (labelled by the finger) and neighbours (none), one note index.
    for n in set(note[note >= 0]):
        assert (labels[note == n] > 0).sum() == 1
    # The teacher's label is the truth's for (nearly) every clip the truth can tell.
    known = true >= 0
    assert known.mean() > 0.9 and (true[known] == labels[known]).mean() >= 0.95
    assert meta["teacher_agrees_with_truth"] >= 0.95
    assert frames.std() > 10  # crops of a hand over keys, not blank frames


def test_crop_is_scaled_to_the_box_and_padded_off_the_frame():
    image = np.full((100, 200, 3), 200, np.uint8)
    out = crop(image, (10.0, 50.0, 64.0))   # half of the square lies left of the frame
    assert out.shape == (SIZE, SIZE, 3)
    assert out[:, :40].max() == 0 and out[:, 80:].min() == 200
    assert list(clip_frames(20)) == list(range(12, 24))


def test_vision_notes_cannot_teach(scene, tmp_path, capsys):
    assert main(["collect", "--video", str(scene / "video.mp4"), "--vision", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--vision" in err[0]
