"""Every shipped config loads (``_base_`` chains resolve) and builds its model."""

from __future__ import annotations

from pathlib import Path

import pytest

from vosframe.builder import build_model, load_config

CONFIGS = sorted((Path(__file__).parents[1] / "configs").glob("*.py"))
CONFIGS = [c for c in CONFIGS if not c.name.startswith("__")]


def test_there_are_configs():
    assert len(CONFIGS) >= 8


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_builds(path):
    cfg = load_config(str(path))
    model = build_model(cfg.model.to_dict())
    assert model.localizer is not None and model.refiner is not None
    if "gate_traces" in cfg:  # a train-gate recipe: a base model to start from
        assert Path(cfg.load_from_vosframe).name.endswith(".pt")
