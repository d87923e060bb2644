"""G-TTVOS: the unchanged ReuseGate plugin on TTVOS's skip points."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from toys import toy_clip

import vosframe
from vosframe.plugins.reuse_gate import ReuseGate
from vosframe.training.gate import GateClipTrainer

pytestmark = pytest.mark.usefixtures("one_thread")


def _model(plugin: dict | None = None):
    torch.manual_seed(0)
    cfg = dict(type="TTVOS", backbone=dict(type="EfficientNetLite0", pretrained=False))
    if plugin is not None:
        cfg["plugins"] = [dict(type="ReuseGate", preset="paper", **plugin)]
    return vosframe.build_model(cfg).eval()


def _run(model, frames, label0):
    session = model.new_session(precision="fp32")
    return list(session.propagate(frames, masks=label0)), session


@pytest.mark.parametrize("reentry", ["R_t@16", "R_t@8", "R_t@4"])
def test_gate_sizes_itself_from_ttvos_skip_points(reentry):
    model = _model(dict(tau=0.7, reentry=reentry))
    gate = model.path_plugin
    assert isinstance(gate, ReuseGate)
    assert gate.points["feature_cut"].stride == 8
    assert gate.points["previous"].source == "mask"
    assert gate.points["reentry"].channels == model.refiner.channels[int(reentry[4:])]


def test_tau_one_is_bit_identical_to_ttvos():
    frames, label0 = toy_clip(6, h=64, w=96, ids=(2, 3))
    base, _ = _run(_model(), frames, label0)
    gated, session = _run(_model(dict(tau=1.0, reentry="R_t@4")), frames, label0)
    for x, y in zip(base, gated):
        assert np.array_equal(x.labels, y.labels)
        for k in x.probs:
            assert torch.equal(x.probs[k], y.probs[k])
    assert session.summary()["reuse_rate"] == 0.0


@pytest.mark.parametrize("reentry", ["R_t@16", "R_t@4"])
def test_tau_zero_skips_the_stride_16_backbone_level_and_the_update(reentry):
    model = _model(dict(tau=0.0, reentry=reentry))
    calls, updates = [], []
    model.feature_extractor.levels["16"].register_forward_hook(lambda *_: calls.append(1))
    model.localizer.update_weight.register_forward_hook(lambda *_: updates.append(1))
    frames, label0 = toy_clip(5, h=64, w=96, ids=(3,))
    results, session = _run(model, frames, label0)
    assert [sorted({r.path for r in res.paths.values()}) for res in results[1:]] == [["alt"]] * 4
    assert len(calls) == 1 and not updates
    assert session.summary()["reuse_rate"] == 1.0


def test_gate_trains_on_ttvos_through_forward():
    model = _model(dict(tau=0.7, reentry="R_t@4")).train()
    frames, label0 = toy_clip(3, h=64, w=96, seed=0)
    f = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float()[None] / 255
    m = torch.from_numpy(np.stack([np.roll(label0 == 3, 2 * k, 1) for k in range(3)]))
    batch = {"frames": f, "masks": m[None, :, None].float()}
    losses = model(batch, mode="loss", trainer=GateClipTrainer())
    assert {"loss_seg", "loss_delta", "loss_gate", "reuse_rate"} <= set(losses)
    sum(v for k, v in losses.items() if "loss" in k).backward()
    grads = [p.grad for p in model.path_plugin.gate.parameters()]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
