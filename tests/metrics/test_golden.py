"""Golden test: recompute ``official_davis_jf.json`` from the PNGs.

Both settings are recomputed through the file-based evaluation (``evaluate_folders``), so
PNG reading, the DAVIS-2016 binarisation, frame selection, object counting, J, F, the
statistics and the pooling are all pinned to the official code's numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vosframe.metrics import GLOBAL_KEYS, EvaluationResult, evaluate_folders

TOL = 1e-12
pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def golden(shared_data: Path) -> dict:
    return json.loads((shared_data / "golden" / "official_davis_jf.json").read_text())


def _check(result: EvaluationResult, setting: dict) -> None:
    per_object = setting["per_object"]
    assert sorted(o.name for o in result.objects) == sorted(per_object)
    for obj in result.objects:
        ref = per_object[obj.name]
        assert list(obj.frames) == ref["evaluated_frames"], obj.name
        np.testing.assert_allclose(obj.J, ref["J_per_frame"], rtol=0, atol=TOL, err_msg=obj.name)
        np.testing.assert_allclose(obj.F, ref["F_per_frame"], rtol=0, atol=TOL, err_msg=obj.name)
        for key in ("J_mean", "J_recall", "J_decay", "F_mean", "F_recall", "F_decay"):
            assert abs(getattr(obj, key) - ref[key]) <= TOL, (obj.name, key)
    figures = result.global_figures()
    for key in GLOBAL_KEYS:
        assert abs(figures[key] - setting["global"][key]) <= TOL, key


def test_setting_a_davis16_gt_vs_osvos(shared_data: Path, golden: dict) -> None:
    setting = golden["A_davis16_gt_vs_osvos"]
    result = evaluate_folders(
        shared_data / "davis2016" / "val_480p" / "Annotations",
        shared_data / "golden" / "osvos",
        sequences=setting["sequences"],
    )
    _check(result, setting)
    assert result.global_figures()["J&F-Mean"] == pytest.approx(0.7870280335992941, abs=TOL)


def test_setting_b_multiobject_pseudo_gt(shared_data: Path, golden: dict, tmp_path: Path) -> None:
    setting = golden["B_multiobject_pseudo_gt"]
    osvos = shared_data / "golden" / "osvos"
    for seq in setting["sequences"]:  # pred[t] = gt[t-1], pred[0] = gt[0]
        frames = sorted((osvos / seq).glob("*.png"))
        (tmp_path / seq).mkdir()
        for t, path in enumerate(frames):
            (tmp_path / seq / path.name).symlink_to(frames[max(t - 1, 0)])
    result = evaluate_folders(osvos, tmp_path, sequences=setting["sequences"], gt_format="auto")
    assert not result.notes  # indexed GT: nothing binarised
    _check(result, setting)
    assert result.global_figures()["J&F-Mean"] == pytest.approx(0.6349554551395997, abs=TOL)
