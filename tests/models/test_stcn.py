"""The STCN-style memory base model: shapes, multi-object, bounded memory, top-k,
the unchanged reuse gate on its skip points, RDE losses and a tiny `vosframe train` run."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from toys import toy_clip

import vosframe
from vosframe.core.errors import ConfigError
from vosframe.models.stcn.localizer import (
    affinity,
    memory_softmax,
    read_memory,
    state_nbytes,
)
from vosframe.plugins.reuse_gate import ReuseGate

pytestmark = pytest.mark.usefixtures("one_thread")


def _model(memory=None, plugin=None, **kw):
    torch.manual_seed(0)
    cfg = dict(type="STCN", backbone=dict(type="EfficientNetLite0", pretrained=False), **kw)
    if memory is not None:
        cfg["memory"] = memory
    if plugin is not None:
        cfg["plugins"] = [dict(type="ReuseGate", preset="paper", **plugin)]
    return vosframe.build_model(cfg).eval()


def _run(model, frames, label0, **kw):
    session = model.new_session(precision="fp32")
    return list(session.propagate(frames, masks=label0, **kw)), session


def test_shapes_and_skip_points():
    model = _model()
    loc, dec = model.localizer, model.refiner
    assert loc.score_channels == 2 * loc.value_channels
    assert dec.channels == {16: 128, 8: 64, 4: 32}
    names = [p.name for p in model.validate_skip_points().points]
    assert names == ["F_t", "R_t@16", "R_t@8", "R_t@4", "prev"]
    frames, label0 = toy_clip(2, h=72, w=100, ids=(3,))
    from vosframe.core.state import Features

    img = torch.from_numpy(frames[0]).permute(2, 0, 1)[None].float() / 255
    feats = Features(model.feature_extractor(img), (72, 100))
    st = loc.init_object(feats, torch.from_numpy(label0 == 3)[None, None].float(), img)
    assert st.first.key.shape == (1, 64, 5, 7) and st.first.value.shape == (1, 128, 5, 7)
    score = loc.localize(feats, [st, st])
    assert score.shape == (2, 256, 5, 7)
    assert dec.run(score, feats, (72, 100)).logits.shape == (2, 1, 72, 100)


def test_resnet_config_builds():
    model = vosframe.build_model(dict(type="STCN", backbone=dict(type="ResNet", depth=18)))
    assert model.feature_extractor.channels[16] == 256


def test_multi_object_late_non_contiguous_id_keeps_ids():
    frames, label0 = toy_clip(8, h=64, w=96, ids=(12, 40, 7))
    first = np.where(label0 == 7, 0, label0)
    late = np.where(label0 == 7, 7, 0).astype(np.uint8)
    results, session = _run(_model(), frames, first, masks_at={3: late})
    for i, r in enumerate(results):
        assert set(np.unique(r.labels)) <= {0, 12, 40, 7}
        assert (7 in r.probs) == (i >= 3)
    assert sorted(session.objects) == [7, 12, 40]
    # keys come from the image only: objects given on one frame share one key tensor
    first = [session.objects[i].localizer.first.key for i in (12, 40)]
    assert first[0] is first[1]


@pytest.mark.parametrize(
    "memory", [dict(mode="stcn", every=2, max_frames=3), dict(mode="rde", every=2)]
)
def test_memory_stays_bounded_over_200_frames(memory):
    model = _model(memory)
    frames, label0 = toy_clip(1, h=32, w=48, ids=(2, 5))
    rng = np.random.default_rng(0)
    session = model.new_session(precision="fp32")
    sizes, shapes = [], []
    for t in range(200):
        frame = np.clip(frames[0].astype(int) + rng.integers(-5, 6, frames[0].shape), 0, 255)
        session.step(frame.astype(np.uint8), label0 if t == 0 else None)
        states = [o.localizer for o in session.objects.values()]
        sizes.append(state_nbytes(states))
        shapes.append(sorted(tuple(t.shape) for s in states for t in s.tensors()))
    assert len(set(sizes[20:])) == 1 and len(set(map(tuple, shapes[20:]))) == 1
    assert sizes[20] > sizes[0]  # the memory did grow up to its bound
    st = next(iter(session.objects.values())).localizer
    assert not st.full  # the training-only full memory stays empty


def test_top_k_and_full_softmax():
    torch.manual_seed(0)
    logits = affinity(torch.randn(8, 30), torch.randn(8, 5))
    full = memory_softmax(logits, None)
    assert torch.allclose(full.sum(0), torch.ones(5))
    assert torch.equal(memory_softmax(logits, 30), full)
    top = memory_softmax(logits, 4)
    assert ((top > 0).sum(0) == 4).all() and torch.allclose(top.sum(0), torch.ones(5))
    assert torch.equal(top.argmax(0), full.argmax(0))
    mk, qk, mv = torch.randn(8, 30), torch.randn(8, 5), torch.randn(2, 6, 30)
    for k in (None, 4, 30):
        ref = mv @ memory_softmax(affinity(mk, qk), k)
        assert torch.allclose(read_memory(mk, qk, mv, k), ref, atol=1e-5)
    # the model reads top-k at inference, the full softmax in training
    model = _model(top_k=1)
    frames, label0 = toy_clip(3, h=64, w=96, ids=(3,))
    _, session = _run(model, frames, label0)
    from vosframe.core.state import Features

    img = torch.from_numpy(frames[2]).permute(2, 0, 1)[None].float() / 255
    feats = Features(model.feature_extractor(img), (64, 96))
    st = [session.objects[3].localizer]
    with torch.no_grad():
        eval_score = model.localizer.localize(feats, st)
        model.localizer.top_k = None
        full_score = model.localizer.localize(feats, st)
        model.localizer.top_k = 1
        model.localizer.train()
        train_score = model.localizer.localize(feats, st)
    assert torch.allclose(train_score, full_score) and not torch.allclose(eval_score, full_score)


@pytest.mark.parametrize("reentry", ["R_t@16", "R_t@8", "R_t@4"])
def test_gate_attaches_at_each_reentry_point(reentry):
    model = _model(plugin=dict(tau=0.7, reentry=reentry))
    gate = model.path_plugin
    assert isinstance(gate, ReuseGate)
    assert gate.points["feature_cut"].stride == 8
    assert gate.points["reentry"].channels == model.refiner.channels[int(reentry[4:])]
    frames, label0 = toy_clip(4, h=64, w=96, ids=(2, 3))
    results, _ = _run(model, frames, label0)
    assert len(results) == 4


def test_tau_one_is_bit_identical_and_tau_zero_never_writes_memory():
    frames, label0 = toy_clip(6, h=64, w=96, ids=(2, 3))
    base, _ = _run(_model(memory=dict(every=1)), frames, label0)
    gated, session = _run(_model(memory=dict(every=1), plugin=dict(tau=1.0)), frames, label0)
    for x, y in zip(base, gated):
        assert np.array_equal(x.labels, y.labels)
        for k in x.probs:
            assert torch.equal(x.probs[k], y.probs[k])
    assert session.summary()["reuse_rate"] == 0.0
    model = _model(memory=dict(every=1), plugin=dict(tau=0.0, reentry="R_t@4"))
    results, session = _run(model, frames, label0)
    assert session.summary()["reuse_rate"] == 1.0
    assert all(not o.localizer.frames for o in session.objects.values())


def _batch(n=3, objects=(1, 2)):
    frames, label0 = toy_clip(n, h=64, w=96, ids=objects)
    f = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float()[None] / 255
    lab = torch.from_numpy(np.stack([np.roll(label0, 2 * k, 1) for k in range(n)]))[None]
    return {"frames": f, "masks": lab.float()}


def test_rde_training_losses_and_gradients():
    model = _model(
        memory=dict(mode="rde"),
        aux_losses=[dict(type="UnbiasedGuidanceLoss"), dict(type="MaskConsistencyLoss")],
    ).train()
    losses = model(_batch(4), mode="loss")
    assert {"loss_seg", "loss_guidance", "loss_consistency", "iou"} <= set(losses)
    sum(v for k, v in losses.items() if "loss" in k).backward()
    assert any(
        p.grad is not None and p.grad.abs().sum() > 0
        for p in model.localizer.sam_value.parameters()
    )


def test_rde_losses_need_a_model_that_feeds_them():
    cfg = dict(
        type="TTVOS",
        backbone=dict(type="EfficientNetLite0", pretrained=False),
        aux_losses=[dict(type="UnbiasedGuidanceLoss")],
    )
    model = vosframe.build_model(cfg).train()
    b = _batch(2, objects=(1,))
    with pytest.raises(ConfigError, match="score_full"):
        model({"frames": b["frames"], "masks": (b["masks"][:, :, None] > 0).float()}, mode="loss")


def test_tiny_training_run_through_the_cli(tmp_path):
    from pathlib import Path

    from vosframe.cli.main import main

    base = (
        Path(__file__).resolve().parents[2]
        / "configs"
        / "_base_"
        / "models"
        / "stcn_effnetlite0.py"
    )
    cfg = tmp_path / "tiny.py"
    cfg.write_text(
        f"_base_ = [{str(base)!r}]\n"
        "model = dict(backbone=dict(pretrained=False))\n"
        "train_dataset = dict(type='MemoryClipDataset', sources=[dict(type='synthetic', seed=0)],\n"
        "    num_frames=3, size=(48, 64), max_objects=2, samples_per_epoch=2, seed=0)\n"
        "train_dataloader = dict(batch_size=1, num_workers=0)\n"
        "optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))\n"
        "train_cfg = dict(by_epoch=True, max_epochs=1)\n"
    )
    assert main(["train", str(cfg), "--work-dir", str(tmp_path / "w")]) == 0
    ckpt = tmp_path / "w" / "vosframe_latest.pt"
    assert ckpt.is_file()
    model = vosframe.load_model(config=cfg, checkpoint=ckpt)
    assert type(model).__name__ == "STCN"
    frames, label0 = toy_clip(3, h=48, w=64, ids=(4,))
    results, _ = _run(model, frames, label0)
    assert [set(np.unique(r.labels)) <= {0, 4} for r in results] == [True] * 3
