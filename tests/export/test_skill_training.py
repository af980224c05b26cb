"""Seed 004's skill network end to end: a rendered set in PISA's layout, `pianocam train skill`, and its int8
ONNX run in ONNX Runtime beside the trained torch model; PISA's own pickles follow our sampling schemes."""
import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pianocam.export.skill import generate, layout, media

PIANOCAM = str(Path(sys.executable).with_name("pianocam"))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    if shutil.which("fluidsynth") is None:
        pytest.skip("fluidsynth not installed: the rendered takes need their sound")
    root = tmp_path_factory.mktemp("pisa-layout")
    # 4 short takes, levels 2 and 8, one 16-frame clip per sample: the smallest set with both levels on both sides
    assert generate.main(["--out", str(root), "--videos", "4", "--levels", "2,8", "--clips", "1",
                          "--passage", "1"]) == 0
    return root


def test_the_generated_set_is_in_pisas_layout_and_says_it_is_rendered(rendered):
    manifest = json.loads((rendered / "MANIFEST.json").read_text())
    assert "NOT PISA" in manifest["what"] and "NOT PISA" in (rendered / "README.md").read_text()
    for scheme in layout.SCHEMES:
        train = layout.read_annotations(rendered, scheme, "train")
        test = layout.read_annotations(rendered, scheme, "test")
        layout.check_split(train, test, scheme)
        assert {k[0] for k in train} == {1, 2} and {k[0] for k in test} == {3, 4}
        for (video, _), s in {**train, **test}.items():
            take = manifest["videos"][video - 1]
            assert s["player_level"] == take["player_level"] and s["frames"].dtype == np.int64
            assert s["frames"].max() < len(layout.frame_files(rendered, video)) == take["frames"]
    low, high = manifest["videos"][0], manifest["videos"][1]
    assert (low["player_level"], high["player_level"]) == (2, 8)
    assert low["tempo"] < high["tempo"] and low["timing_jitter_ms"] > high["timing_jitter_ms"]
    assert sum(c["kind"] == "wrong_note" for c in low["changes"]) == 2 and high["changes"] == []


def test_train_skill_runs_end_to_end_and_its_int8_onnx_agrees_with_torch(rendered, tmp_path):
    import onnxruntime as ort
    import torch

    from pianocam.export.formats import torch_outputs
    from pianocam.export.networks import pisa
    from pianocam.export.skill.train import Videos, load

    out = tmp_path / "skill"
    run = subprocess.run([PIANOCAM, "train", "skill", "--data", str(rendered), "--out", str(out), "--epochs", "1",
                          "--width", "0.125"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    manifest = json.loads((out / "pisa.int8.json").read_text())
    assert manifest["trained"] and manifest["metrics"]["rendered"] is True
    assert "NOT PISA" in manifest["training"]["data_is"]
    split = manifest["training"]["split"]
    assert split["train_videos"] == [1, 2] and split["test_videos"] == [3, 4]
    held = manifest["metrics"]["held_out"]
    assert held["samples"] == split["test_samples"] > 0 and set(held["accuracy"]) == {"video", "audio", "multimodal"}
    assert held["chance"]["uniform_over_levels"] == 0.5
    assert manifest["parity"]["ok"] and json.loads((out / "pisa.fp32.json").read_text())["parity"]["ok"]

    # The int8 graph in ONNX Runtime itself, against the trained torch weights, on the held-out samples.
    model = pisa.build(0.125)
    model.load_state_dict(torch.load(out / "pisa.torch.pt", weights_only=True))
    inputs, labels, _ = load(Videos(rendered), layout.read_annotations(rendered, "unidist", "test"))
    reference = torch_outputs(model.eval(), inputs)
    session = ort.InferenceSession(str(out / "pisa.int8.onnx"), providers=["CPUExecutionProvider"])
    ours = [np.concatenate(o) for o in zip(*[session.run(None, {k: v[i:i + 1] for k, v in inputs.items()})
                                             for i in range(len(labels))])]
    bound = manifest["parity"]["thresholds"]
    for o, r in zip(ours, reference):
        assert np.abs(o - r).max() <= bound["max_abs_diff"]
        assert (o.argmax(1) == r.argmax(1)).mean() >= bound["min_top1_agreement"]


def test_a_split_that_shares_a_video_is_refused_and_bad_data_is_one_line(tmp_path):
    with pytest.raises(ValueError, match="both train and test"):
        layout.check_split({(1, 0): {}, (2, 0): {}}, {(2, 1): {}}, "x")
    run = subprocess.run([PIANOCAM, "train", "skill", "--data", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "annotations_unidist_train.pkl" in run.stderr


def test_our_sampling_schemes_reproduce_pisas_own_pickles(shared_data):
    """Every video of PISA's release: n samples of 10 clips; our schemes over n·160 frames give its indices."""
    for scheme, sampler in (("consecutive", layout.consecutive), ("unidist", layout.unidist)):
        for part in ("train", "test"):
            with open(shared_data / "pisa-annotations" / f"annotations_{scheme}_{part}.pkl", "rb") as f:
                table = pickle.load(f)
            for video in {k[0] for k in table}:
                n = sum(k[0] == video for k in table)
                ours = sampler(n * 160, 10)
                assert len(ours) == n
                for j, frames in enumerate(ours):
                    assert np.array_equal(frames, table[(video, j)]["frames"]), (scheme, part, video, j)


def test_mel_images_follow_the_sound():
    """A clip of a 440 Hz tone lights the mel rows around 440 Hz; silence stays flat at the floor."""
    sr = 44100
    t = np.arange(sr, dtype=np.float32) / sr
    tone = media.mels(0.3 * np.sin(2 * np.pi * 440 * t), sr, np.arange(16), 30.0)
    assert tone.shape == (1, 1, 224, 224) and -1 <= tone.min() and tone.max() <= 1
    rows = tone[0, 0].mean(axis=1)
    freqs = media._mel_to_hz(np.linspace(media._hz_to_mel(20), media._hz_to_mel(8300), 224))
    assert abs(freqs[int(np.argmax(rows))] - 440) < 60
    assert np.ptp(media.mels(np.zeros(sr, np.float32), sr, np.arange(16), 30.0)) == 0
