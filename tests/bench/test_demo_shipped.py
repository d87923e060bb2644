"""The README's main job: `vosframe demo` with the shipped G-FRTM, offline."""

from __future__ import annotations

import json

import pytest

from vosframe.app.zoo import ZOO, weights_path
from vosframe.cli.main import main

pytestmark = pytest.mark.skipif(
    not weights_path(ZOO["g-frtm"].weights).is_file(), reason="shipped G-FRTM weights not built"
)


def test_demo_runs_with_the_shipped_gfrtm(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # measured 0.591 (bf16, 72% reuse); untrained weights give ~0. The margin covers fp32-only CPUs.
    assert out["J&F"] > 0.4 and out["fps"] > 0 and 0 <= out["reuse_rate"] <= 1
    assert (tmp_path / "demo" / "overlay.mp4").stat().st_size > 0
    assert (tmp_path / "demo" / "gate_timeline.png").stat().st_size > 0
