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
