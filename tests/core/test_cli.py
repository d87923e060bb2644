"""``vosframe models`` and ``vosframe segment`` (thin CLI over the library)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from toys import ToyOnline, toy_clip

from vosframe.cli.main import main
from vosframe.data.masks import read_mask, write_mask
from vosframe.registry import MODELS


@pytest.fixture()
def toy_video(tmp_path):
    MODELS.register_module(module=ToyOnline, force=True)
    frames, label0 = toy_clip(5)
    fdir = tmp_path / "frames"
    fdir.mkdir()
    for i, f in enumerate(frames):
        cv2.imwrite(str(fdir / f"img_{i:03d}.png"), cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    write_mask(tmp_path / "first.png", label0)
    cfg = tmp_path / "toy.py"
    cfg.write_text("model = dict(type='ToyOnline', plugins=[dict(type='ScheduledReuse')])\n")
    yield tmp_path, cfg, label0
    MODELS.unregister("ToyOnline")


def test_models_lists_skip_points_plugins_and_sources(capsys):
    assert main(["models", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    plugins = {p["name"]: p for p in info["plugins"]}
    assert plugins["ScheduledReuse"]["distribution"] == "vosframe (built-in)"
    assert plugins["ScheduledReuse"]["needs"] == ["feature_cut", "reentry"]
    assert main(["models"]) == 0
    assert "ScheduledReuse" in capsys.readouterr().out


def test_segment_writes_one_png_per_frame_with_input_stems(toy_video, capsys):
    root, cfg, label0 = toy_video
    out = root / "out"
    code = main(
        [
            "segment",
            "--config",
            str(cfg),
            "--allow-untrained",
            "--frames",
            str(root / "frames"),
            "--masks",
            str(root / "first.png"),
            "--out",
            str(out),
            "--json",
            "--precision",
            "fp32",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["frames"] == 5 and summary["reuse_rate"] == pytest.approx(0.5)
    assert sorted(p.name for p in out.iterdir()) == [f"img_{i:03d}.png" for i in range(5)]
    assert np.array_equal(read_mask(out / "img_000.png"), label0)
    assert not [p for p in root.iterdir() if "partial" in p.name]


def test_segment_errors_leave_nothing_on_disk(toy_video, capsys):
    root, cfg, label0 = toy_video
    mdir = root / "masks"
    write_mask(mdir / "frame_9.png", label0)
    out = root / "out"
    code = main(
        [
            "segment",
            "--config",
            str(cfg),
            "--allow-untrained",
            "--frames",
            str(root / "frames"),
            "--masks",
            str(mdir),
            "--out",
            str(out),
        ]
    )
    assert code == 1
    assert "no mask for the first frame 'img_000'" in capsys.readouterr().err
    assert not out.exists() and not [p for p in root.iterdir() if "partial" in p.name]
    code = main(["segment", "--model", "nope", "--frames", "x", "--masks", "y", "--out", "z"])
    assert code == 1 and "no shipped model 'nope'" in capsys.readouterr().err
