"""``vosframe.app.demo.run_demo`` / ``vosframe demo`` on the built-in clip, with small models."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
import torch

import vosframe
import vosframe.app.zoo
from vosframe.app.demo import run_demo
from vosframe.cli.main import main
from vosframe.data.synthetic import SyntheticClip, default_clip

try:
    from vosframe.plugins.reuse_gate import ReuseGate
except ImportError:  # the gate plugin is not in this build
    ReuseGate = None

KEYS = {
    "model", "tau", "precision", "frames", "objects", "J&F", "J", "F", "per_object", "fps",
    "fps_tracked", "ms_per_frame_median", "reuse_rate", "reuse_by_motion", "paths", "video",
    "timeline", "json",
}  # fmt: skip
SMALL = "target_model=dict(num_aug=1, init_iters=(2, 5))"


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def clip() -> SyntheticClip:
    return default_clip()


def short(clip: SyntheticClip, n: int | list[int]) -> SyntheticClip:
    """The first ``n`` frames of a clip, or the frames at the indices ``n``."""
    idx = list(range(n)) if isinstance(n, int) else n
    return SyntheticClip(
        clip.frames[idx],
        clip.masks[idx],
        tuple(clip.motion[i] for i in idx),
        clip.visible_fraction[idx],
        clip.seed,
    )


MIXED = [0, 1, 2, 10, 11, 17, 18, 34]  # start, normal, static and jump frames


def small_model(gate: bool = True):
    torch.manual_seed(0)
    plugin = (
        ReuseGate(preset="paper", tau=0.7)
        if gate and ReuseGate is not None
        else dict(type="ScheduledReuse", period=2)
    )
    return vosframe.build_model(
        dict(
            type="FRTM",
            backbone=dict(type="ResNet", depth=18),
            target_model=dict(num_aug=1, init_iters=(2, 5)),
            plugins=[plugin],
        )
    )


def test_demo_writes_video_timeline_and_reports(clip, tmp_path):
    if ReuseGate is None:
        pytest.skip("ReuseGate is not importable in this build")
    model = small_model()
    out = tmp_path / "demo"
    result = run_demo(model, out_dir=out, tau=0.0, precision="fp32", clip=short(clip, MIXED))
    assert set(result) >= KEYS
    assert result["frames"] == len(MIXED) and result["objects"] == [1, 2]
    assert 0.0 <= result["J&F"] <= 1.0 and result["fps"] > 0 and result["tau"] == 0.0
    # tau = 0: every tracked frame reuses (p_reuse > 0); the first frame is not counted
    assert result["reuse_rate"] == 1.0
    assert set(result["reuse_by_motion"]) == {"normal", "static", "jump"}
    assert result["paths"]["1"] == "I" + "A" * (len(MIXED) - 1)
    assert model.path_plugin.default_options().tau == 0.7  # the model is unchanged

    video = cv2.VideoCapture(result["video"])
    assert video.isOpened() and int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == len(MIXED)
    ok, frame = video.read()
    assert ok and frame.shape == (240, 432, 3)
    video.release()
    timeline = Path(result["timeline"])
    assert timeline.name == "gate_timeline.png"
    assert timeline.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((out / "demo.json").read_text())["J&F"] == result["J&F"]


def test_demo_with_another_path_plugin(clip, tmp_path):
    result = run_demo(
        small_model(gate=False), out_dir=tmp_path, precision="fp32", clip=short(clip, 10)
    )
    assert result["tau"] is None and result["model"] == "FRTM"
    assert result["paths"] == {"1": "IFAFAFAFAF", "2": "IFAFAFAFAF"}  # ScheduledReuse
    assert result["reuse_rate"] == pytest.approx(4 / 9)
    assert result["reuse_by_motion"] == {"normal": 0.5, "static": 0.0}
    with pytest.raises(vosframe.InputError, match="reuse gate"):
        run_demo(small_model(gate=False), out_dir=tmp_path, tau=0.5, clip=short(clip, 3))


def test_cli_demo_needs_trained_weights(monkeypatch, tmp_path, capsys):
    """No silent fallback to random weights: a clear CheckpointError, exit code 1."""
    cfg = vosframe.app.zoo.config_path("frtm/frtm_effnetlite0_davis16.py")
    monkeypatch.setattr(vosframe.app.zoo, "config_path", lambda name: cfg)
    monkeypatch.setattr(vosframe.app.zoo, "weights_path", lambda name: tmp_path / "missing.pt")
    assert main(["demo", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "no trained weights for 'g-frtm'" in err and "--checkpoint" in err
    assert not (tmp_path / "out").exists()
    assert main(["demo", "--model", "nope"]) == 1
    assert "shipped models" in capsys.readouterr().err


def test_cli_demo_with_config_json(monkeypatch, tmp_path, capsys, clip):
    import vosframe.app.demo

    monkeypatch.setattr(vosframe.app.demo, "default_clip", lambda: short(clip, 6))
    cfg = tmp_path / "small.py"
    cfg.write_text(
        f"model = dict(type='FRTM', backbone=dict(type='ResNet', depth=18), {SMALL}, "
        "plugins=[dict(type='ScheduledReuse', period=2)])\n"
    )
    out = tmp_path / "out"
    argv = [
        "demo",
        "--config",
        str(cfg),
        "--allow-untrained",
        "--out",
        str(out),
        "--precision",
        "fp32",
    ]
    assert main([*argv, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) >= KEYS and result["model"] == str(cfg) and result["frames"] == 6
    assert Path(result["video"]).is_file() and Path(result["timeline"]).is_file()
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "J&F" in text and "FPS" in text and "reuse rate" in text and "overlay video" in text
    assert main([*argv, "--tau", "0.5"]) == 1
    assert "reuse gate" in capsys.readouterr().err
