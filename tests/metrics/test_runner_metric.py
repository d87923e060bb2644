"""DavisJF (the registered mmengine metric) agrees with the golden DAVIS numbers."""

from __future__ import annotations

import json

import pytest

from vosframe.data.masks import read_masks
from vosframe.registry import METRICS, build_from_cfg


@pytest.mark.shared_data
def test_davis_metric_matches_golden_setting_a(shared_data):
    golden = json.loads((shared_data / "golden" / "official_davis_jf.json").read_text())
    setting = golden["A_davis16_gt_vs_osvos"]
    metric = build_from_cfg(dict(type="DavisJF", gt_format="binary"), METRICS)
    seqs = setting["sequences"]
    for seq in seqs:
        gt = read_masks(shared_data / "davis2016" / "val_480p" / "Annotations" / seq)
        pred = read_masks(shared_data / "golden" / "osvos" / seq)
        names = sorted(gt)
        metric.process(
            None,
            [{"sequence": seq, "gt": [gt[n] for n in names], "pred": [pred[n] for n in names]}],
        )
    figures = metric.evaluate(size=len(seqs))
    assert figures["davis/J&F-Mean"] == pytest.approx(setting["global"]["J&F-Mean"], abs=1e-12)
