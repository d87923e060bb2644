"""benchmarks/synthetic_suites.py: its late-object clip is the shipped-model test's clip, its
summary counts what it says, and a bad checkpoint argument is refused before any work."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vosframe.app.zoo import ZOO, load_model, weights_path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks/synthetic_suites.py"
pytestmark = pytest.mark.usefixtures("one_thread")


def _suites():
    spec = importlib.util.spec_from_file_location("synthetic_suites", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_late_object_scores_every_object_after_it_is_given():
    """A model that predicts nothing scores 0 on each of the three objects (none is ever
    empty after it is given), so each figure is about its own object."""

    class Nothing:
        def new_session(self, **_):
            class S:
                def step(self, frame, masks=None):
                    return type("R", (), {"labels": np.zeros(frame.shape[:2], np.uint8)})()

            return S()

    assert _suites().late_object(Nothing(), seed=11) == [0.0, 0.0, 0.0]


def test_late_object_tells_a_spreading_mask_from_a_shrinking_one():
    """A model that labels object 2's pixels as object 1 (from frame 1 on) gives object 1
    an area ratio above 1 with the excess on another object, and object 2 an empty mask;
    object 3 is predicted exactly."""
    from vosframe.data.stress import LATE_OBJECT_CLIPS

    clip = LATE_OBJECT_CLIPS.generate(seed=11)

    class Merges:
        def new_session(self, **_):
            frames = iter(clip.masks)

            class S:
                def step(self, frame, masks=None):
                    labels = next(frames).copy()
                    labels[labels == 2] = 1
                    return type("R", (), {"labels": labels})()

            return S()

    run = _suites().late_object_run(Merges(), seed=11)
    later = clip.masks[1:]
    a1, a2 = sum(int((m == 1).sum()) for m in later), sum(int((m == 2).sum()) for m in later)
    assert run["area"][0] == pytest.approx((a1 + a2) / a1)
    assert run["on_others"][0] == pytest.approx(a2 / (a1 + a2))
    assert run["area"][1] == 0.0 and run["iou"][1] == 0.0
    assert run["area"][2] == pytest.approx(1.0) and run["on_others"][2] == 0.0
    assert run["iou"][2] == pytest.approx(1.0)


def test_summary_counts_objects_and_refinds():
    runs = [
        {
            "late_object": [[0.9, 0.5, 0.2], [0.6, 0.6, 0.6]],
            "refind": {"occlusion": [0.7, 0.1], "exit": [0.5, 0.49]},
        }
    ]
    s = _suites().summarise(runs)
    assert s["late_worst_object"] == pytest.approx((0.2 + 0.6) / 2)
    assert s["late_share_above_bound"] == pytest.approx(5 / 6)
    assert s["late_given_late_object"] == pytest.approx(0.4)
    assert s["refind_occlusion_share_above_0.5"] == 0.5
    assert s["refind_exit_share_above_0.5"] == 0.5
    assert "late_area_ratio" not in s  # a report written before areas were recorded
    runs[0] |= {"late_area": [[1.0, 0.5, 0.0]] * 2, "late_on_others": [[0.0, 0.3, 0.0]] * 2}
    s = _suites().summarise(runs)
    assert s["late_area_ratio"] == pytest.approx(0.5)
    assert s["late_on_others"] == pytest.approx(0.1)


def test_shipped_ttvos_runs_through_the_suites():
    if not weights_path(ZOO["ttvos"].weights).is_file():
        pytest.skip("shipped ttvos weights not built")
    suites = _suites()
    run = suites.run_checkpoint("ttvos", str(weights_path(ZOO["ttvos"].weights)), [11], [0])
    direct = suites.late_object(load_model("ttvos"), 11)
    assert run["late_object"] == [direct]
    assert min(direct) > 0.45  # the shipped-model test's bound, on its own clip
    assert set(run["refind"]) == {"occlusion", "exit"}


def test_bad_checkpoint_is_refused_before_any_work(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--model",
            "ttvos",
            "--checkpoint",
            "nolabel",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "LABEL=PATH" in proc.stderr
    assert not out.exists()
