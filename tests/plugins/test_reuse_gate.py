"""The reuse gate as one generic plugin.

The same ``ReuseGate`` class, unchanged, attaches to the three toy state families and to
FRTM through their declared skip points.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from toys import TOY_MODELS, ToyMemory, ToyOnline, toy_clip

import vosframe
from vosframe import SkipPoint, SkipPointError, SkipPoints
from vosframe.app.flops import path_flops
from vosframe.core.training import TrainFrame
from vosframe.plugins.reuse_gate import ReuseGate
from vosframe.plugins.reuse_gate.cues import change_cue
from vosframe.plugins.reuse_gate.networks import GateFunction
from vosframe.registry import PLUGINS
from vosframe.training.gate import GateClipTrainer
from vosframe.training.gate import clip as gate_training
from vosframe.training.gate.clip import gate_probability_loss, margin

VARIANTS = ("reuse", "copy", "fusion", "reuse_mask")
KEY = "ReuseGate"


# ---------------------------------------------------------------------------- helpers
pytestmark = pytest.mark.usefixtures("one_thread")


def _toy(cls, **kw):
    torch.manual_seed(1)
    model = cls()
    return model, model.attach_plugin(ReuseGate(preset="paper", **kw))


def _trainer(**kw) -> GateClipTrainer:
    """The gate's clip-loop recipe; by default the base model trains jointly (the paper)."""
    kw.setdefault("freeze_base", False)
    return GateClipTrainer(**kw)


def _p_reuse(results, obj_id) -> float:
    """The gate's ``p_reuse`` for an object on the last frame."""
    p = results[-1].paths[obj_id].confidence
    assert p is not None
    return p


def _run(model, frames, label0, precision="fp32"):
    session = model.new_session(precision=precision)
    return list(session.propagate(frames, masks=label0)), session


def _frtm(plugin: dict | None = None, **target_model):
    torch.manual_seed(0)
    cfg = dict(
        type="FRTM",
        backbone=dict(type="ResNet", depth=18, frozen=True),
        target_model=dict(num_aug=1, init_iters=(2, 5), **target_model),
    )
    if plugin is not None:
        cfg["plugins"] = [ReuseGate(preset="paper", **plugin)]
    return vosframe.build_model(cfg)


def _same(a, b) -> None:
    for x, y in zip(a, b):
        assert np.array_equal(x.labels, y.labels)
        for obj_id in x.probs:
            assert torch.equal(x.probs[obj_id], y.probs[obj_id])


def _batch(n_clips=1, t=3, h=48, w=64, shift=2):
    frames, masks = [], []
    for seed in range(n_clips):
        f, label0 = toy_clip(t, h=h, w=w, seed=seed)
        frames.append(torch.from_numpy(np.stack(f)).permute(0, 3, 1, 2).float() / 255)
        m = [np.roll(label0 == 3, shift * k, axis=1) for k in range(t)]
        masks.append(torch.from_numpy(np.stack(m))[:, None].float())
    return {"frames": torch.stack(frames), "masks": torch.stack(masks)}


def _grad_norm(module) -> float:
    return sum(float(p.grad.abs().sum()) for p in module.parameters() if p.grad is not None)


# ---------------------------------------------------------------------------- attaching
@pytest.mark.parametrize("cls", TOY_MODELS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("reentry", ["R_t@16", "R_t@8"])
def test_attaches_to_every_toy_sized_from_the_skip_points(cls, reentry):
    model, gate = _toy(cls, tau=0.5, reentry=reentry)
    pts = gate.points
    assert pts["reentry"].name == reentry
    c_s = model.localizer.score_channels
    assert gate.matching.conv_key[0].in_channels == pts["feature_cut"].channels + c_s
    assert gate.delta.conv.out_channels == c_s
    assert gate.translator.conv_multi.conv1.in_channels == pts["reentry"].channels + c_s
    assert gate.gate.layers[4].out_channels == 2
    frames, label0 = toy_clip(5)
    results, session = _run(model, frames, label0)
    st = session.objects[3].plugins[KEY]
    assert st.template.shape == (1, 64, 64)
    assert 0.0 < _p_reuse(results, 3) < 1.0


class MaskPrevious(ToyOnline):
    """A toy whose previous information is its last output mask (stride 8), not a score."""

    def skip_points(self):
        pts = super().skip_points()
        keep = tuple(p for p in pts.points if p.kind != "previous")
        prev = SkipPoint("prev_mask", "previous", 8, 1, "last output mask", source="mask")
        return SkipPoints((*keep, prev), default_reentry=pts.default_reentry)


@pytest.mark.parametrize("variant", VARIANTS)
def test_previous_mask_as_previous_information(variant):
    model, gate = _toy(MaskPrevious, tau=0.0, variant=variant)
    assert gate.points["previous"].source == "mask"
    assert gate.matching.conv_key[0].in_channels == 8 + 1
    results, session = _run(model, *toy_clip(4))
    assert all(r.path == "alt" for res in results[1:] for r in res.paths.values())
    losses = model(_batch(t=3), mode="loss", trainer=_trainer())
    assert {"loss_delta", "loss_gate"} <= set(losses)
    sum(v for k, v in losses.items() if "loss" in k).backward()
    assert _grad_norm(gate.matching) > 0


def test_missing_skip_points_are_explained():
    class NoPrevious(ToyOnline):
        def skip_points(self):
            pts = super().skip_points()
            keep = tuple(p for p in pts.points if p.kind != "previous")
            return SkipPoints(keep, default_reentry=pts.default_reentry)

    with pytest.raises(SkipPointError, match=r"needs previous, but the model offers F_t"):
        NoPrevious().attach_plugin(ReuseGate())
    with pytest.raises(SkipPointError, match=r"needs reentry named 'R_t@4'.*R_t@16"):
        ToyOnline().attach_plugin(ReuseGate(reentry="R_t@4"))


def test_bad_config_is_explained():
    with pytest.raises(vosframe.ConfigError, match="variant"):
        ReuseGate(variant="teleport")
    with pytest.raises(vosframe.ConfigError, match="tau2"):
        ReuseGate(preset="paper", tau=0.8, tau2=0.5, variant="fusion")


def test_builds_from_config_by_name():
    PLUGINS.names()  # load the built-in plugins first
    before = PLUGINS._module_dict.get(KEY)
    PLUGINS.register_module(module=ReuseGate, force=True)
    try:
        model = vosframe.build_model(
            dict(
                type="FRTM",
                backbone=dict(type="ResNet", depth=18, frozen=True),
                plugins=[dict(type=KEY, preset="paper", tau=0.7, reentry="R_t@8")],
            )
        )
    finally:
        if before is None:
            PLUGINS.unregister(KEY)
        else:
            PLUGINS.register_module(module=before, force=True)
    assert isinstance(model.path_plugin, ReuseGate)
    assert model.path_plugin.points["reentry"].name == "R_t@8"
    assert model.build_cfg["plugins"][0]["type"] == KEY


# ---------------------------------------------------------------------------- inference
@pytest.mark.parametrize("cls", TOY_MODELS, ids=lambda c: c.__name__)
def test_tau_one_is_bit_identical_on_toys(cls):
    frames, label0 = toy_clip(8)
    torch.manual_seed(1)
    base, _ = _run(cls(), frames, label0)
    gated, session = _run(_toy(cls, tau=1.0)[0], frames, label0)
    _same(base, gated)
    assert session.summary()["reuse_rate"] == 0.0


def test_tau_one_is_bit_identical_on_frtm_with_target_model_updates():
    # update_every=2 / min_pixels=0: the target model refits during the clip, so any extra
    # localizer call (e.g. scoring the first frame) would change the output
    frames, label0 = toy_clip(6, h=96, w=128, ids=(3,))
    base, _ = _run(_frtm(None, update_every=2, min_pixels=0), frames, label0)
    model = _frtm(dict(tau=1.0, reentry="R_t@8"), update_every=2, min_pixels=0)
    gated, _ = _run(model, frames, label0)
    _same(base, gated)


@pytest.mark.parametrize("cls", TOY_MODELS, ids=lambda c: c.__name__)
def test_tau_zero_always_reuses_and_skips_the_deep_level(cls):
    frames, label0 = toy_clip(6)
    model, gate = _toy(cls, tau=0.0)
    results, session = _run(model, frames, label0)
    for t, res in enumerate(results):
        assert {r.path for r in res.paths.values()} == {"init" if t == 0 else "alt"}
    assert model.feature_extractor.calls[16] == 1  # the first frame only
    assert model.feature_extractor.calls[8] == 6
    assert session.summary()["reuse_rate"] == 1.0


def test_tau_zero_on_frtm_skips_the_stride_16_backbone_level():
    model = _frtm(dict(tau=0.0, reentry="R_t@8"))
    calls = []
    model.feature_extractor.levels["16"].register_forward_hook(lambda *_: calls.append(1))
    frames, label0 = toy_clip(4, h=96, w=128, ids=(3,))
    results, _ = _run(model, frames, label0)
    assert [sorted({r.path for r in res.paths.values()}) for res in results] == [
        ["init"],
        ["alt"],
        ["alt"],
        ["alt"],
    ]
    assert len(calls) == 1


def test_caches_follow_computed_frames_only():
    model, gate = _toy(ToyOnline, tau=0.5)
    frames, label0 = toy_clip(4)
    # forced to the alternative path from the start: first-frame outputs are cached
    session = model.new_session(precision="fp32", force="alt")
    session.step(frames[0], label0)
    session.update_config(force="full")
    session.step(frames[1])
    obj = session.objects[3]
    st = obj.plugins[KEY]
    assert st.score is obj.last_score
    refined = obj.refined["R_t@16"]
    session.update_config(force="alt")
    session.step(frames[2])
    assert st.score is obj.last_score and obj.refined["R_t@16"] is refined
    assert session.step(frames[3]).paths[3].path == "alt"
    assert not hasattr(st, "delta")  # per-frame scratch is not kept in the state


def test_initial_reuse_probability_is_about_13_percent():
    gate = GateFunction(64)
    gate.eval()
    with torch.no_grad():
        p = GateFunction.reuse_probability(gate(torch.relu(torch.randn(16, 64, 30, 50) * 3)))
    assert torch.all((p > 0.11) & (p < 0.16)), p
    assert float(p.mean()) == pytest.approx(0.130, abs=0.01)
    # and on the features of a session, for every object
    model, _ = _toy(ToyMemory, tau=0.5)
    results, session = _run(model, *toy_clip(3))
    for obj_id in session.objects:
        assert 0.11 < _p_reuse(results, obj_id) < 0.16


@pytest.mark.parametrize("cls", TOY_MODELS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_runs(cls, variant):
    frames, label0 = toy_clip(4)
    model, gate = _toy(cls, tau=0.0, variant=variant, tau2=0.5)
    results, _ = _run(model, frames, label0, precision="bf16")
    assert all(r.path == "alt" for res in results[1:] for r in res.paths.values())
    assert all(torch.isfinite(p).all() for res in results for p in res.probs.values())
    if variant == "copy":  # the first mask is copied on and on
        assert all(np.array_equal(res.labels, label0) for res in results)


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_runs_on_frtm(variant):
    model = _frtm(dict(tau=0.0, variant=variant, reentry="R_t@8", tau2=0.5))
    frames, label0 = toy_clip(3, h=96, w=128)
    results, session = _run(model, frames, label0)
    assert all(r.path == "alt" for res in results[1:] for r in res.paths.values())
    assert all(torch.isfinite(p).all() for res in results for p in res.probs.values())
    assert session.summary()["reuse_rate"] == 1.0


def test_fusion_copies_and_translates_in_one_frame():
    model, gate = _toy(ToyOnline, tau=0.3, variant="fusion", tau2=0.8)
    # object 3 is very similar (copy), object 7 similar (translate)
    gate.gate.forward = lambda d: torch.tensor([[3.0, 0.0], [0.5, 0.0]])[: d.shape[0]]
    copied = []  # per frame: which objects copy (the decisions handed to the alternative)
    alternative = gate.alternative

    def recorded(frame, objects, decisions):
        copied.append({o.obj_id: d.data.copy for o, d in zip(objects, decisions)})
        return alternative(frame, objects, decisions)

    gate.alternative = recorded
    frames, label0 = toy_clip(3)
    results, session = _run(model, frames, label0)
    assert {r.path for r in results[2].paths.values()} == {"alt"}
    assert copied[-1] == {3: True, 7: False}
    assert np.array_equal(results[2].labels == 3, label0 == 3)


def test_the_gate_is_batched_over_objects():
    model, gate = _toy(ToyOnline, tau=0.5)
    sizes = []
    orig = gate.gate.forward
    gate.gate.forward = lambda d: (sizes.append(d.shape[0]), orig(d))[1]
    frames, label0 = toy_clip(3)
    _run(model, frames, label0)
    assert sizes == [2, 2]


# ---------------------------------------------------------------------------- training
def test_margin_schedule():
    assert margin(0, 1.0, 120) == 0.0
    assert margin(60, 1.0, 120) == pytest.approx(0.5)
    assert margin(120, 1.0, 120) == 1.0
    assert margin(500, 0.5, 120) == 0.5
    p = torch.tensor([0.3])
    # P_target = max(m, IoU): the margin lifts the target
    assert float(gate_probability_loss(p, torch.tensor(0.2), 0.0, 0.0)) == pytest.approx(0.01)
    assert float(gate_probability_loss(p, torch.tensor(0.2), 0.5, 0.0)) == pytest.approx(0.04)
    # max(m2, |d|)^2: the tolerance is a floor
    assert float(gate_probability_loss(p, torch.tensor(0.35), 0.0, 0.1)) == pytest.approx(0.01)


def test_gate_loss_follows_the_epoch():
    model, gate = _toy(ToyOnline)
    trainer = _trainer(m1=1.0, margin_epochs=10)
    batch = _batch(t=2, shift=20)  # the square jumps: IoU(frame 1, frame 0) = 0
    p = 0.13  # the initial reuse probability
    for epoch, target in ((0, 0.0), (5, 0.5), (10, 1.0), (40, 1.0)):
        with torch.no_grad():
            loss = model(batch, mode="loss", epoch=epoch, trainer=trainer)["loss_gate"].item()
        assert loss == pytest.approx((target - p) ** 2, abs=0.03), epoch


@pytest.mark.parametrize("cls", TOY_MODELS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("variant", VARIANTS)
def test_training_through_forward(cls, variant):
    # a gate biased to reuse, so the translators are used and get gradients
    model, gate = _toy(cls, variant=variant, reentry="R_t@8", gate_bias=(2.0, 0.1))
    losses = model(_batch(n_clips=2, t=3), mode="loss", epoch=3, trainer=_trainer())
    assert {"loss_seg", "loss_delta", "loss_gate", "reuse_rate", "iou"} <= set(losses)
    assert float(losses["reuse_rate"]) == 1.0
    sum(v for k, v in losses.items() if "loss" in k).backward()
    for conv in (gate.gate.layers[1], gate.gate.layers[4]):
        assert float(conv.weight.grad.abs().sum()) > 0
    assert _grad_norm(gate.matching) > 0 and _grad_norm(gate.template) > 0
    translator = {"reuse": "translator", "fusion": "translator", "reuse_mask": "mask_translator"}
    if variant in translator:
        assert _grad_norm(getattr(gate, translator[variant])) > 0
    if variant in ("reuse", "fusion"):  # the refiner's tail runs after the re-entry point
        assert _grad_norm(model.refiner) > 0


def test_training_on_frtm_reaches_gate_and_translator():
    model = _frtm(dict(reentry="R_t@8", gate_bias=(2.0, 0.1)), preset="train")
    gate = model.path_plugin
    losses = model(_batch(t=3, h=96, w=128), mode="loss", trainer=_trainer())
    assert {"loss_seg", "loss_delta", "loss_gate", "reuse_rate"} <= set(losses)
    sum(v for k, v in losses.items() if "loss" in k).backward()
    assert float(gate.gate.layers[1].weight.grad.abs().sum()) > 0
    assert _grad_norm(gate.translator) > 0 and _grad_norm(model.refiner) > 0


def test_default_gate_computes_and_still_learns():
    model, gate = _toy(ToyOnline)
    losses = model(_batch(t=3), mode="loss", trainer=_trainer())
    assert float(losses["reuse_rate"]) == 0.0  # p_reuse = 0.13 < 0.5
    losses["loss_gate"].backward()
    for conv in (gate.gate.layers[1], gate.gate.layers[4]):
        assert float(conv.weight.grad.abs().sum()) > 0


def test_training_caches_follow_computed_frames_only():
    batch = _batch(t=3)
    for bias, computed in (((0.1, 2.0), True), ((2.0, 0.1), False)):
        model, gate = _toy(ToyOnline, gate_bias=bias)
        trainer = _trainer()
        feats0 = vosframe.Features(model.feature_extractor(batch["frames"][0, 0][None]), (48, 64))
        mask0 = batch["masks"][0, 0][None]
        state = model.localizer.init_object(feats0, mask0, None)
        sample = trainer.init_sample(model, feats0, mask0, state)
        s0, gt0 = sample["score"], sample["last_gt"]
        feats = vosframe.Features(model.feature_extractor(batch["frames"][0, 1][None]), (48, 64))
        score = model.localizer.localize(feats, [state])
        gt = batch["masks"][0, 1][None]
        logits, _ = trainer.frame(model, TrainFrame(1, None, feats, gt, score, sample))
        assert logits.shape == (1, 1, 48, 64)
        if computed:
            assert torch.equal(sample["score"], score) and torch.equal(sample["last_gt"], gt)
        else:
            assert sample["score"] is s0 and sample["last_gt"] is gt0


def test_training_initial_state_is_the_first_mask():
    model, gate = _toy(ToyOnline)
    batch = _batch(t=2)
    feats0 = vosframe.Features(model.feature_extractor(batch["frames"][0, 0][None]), (48, 64))
    mask0 = batch["masks"][0, 0][None]
    state = model.localizer.init_object(feats0, mask0, None)
    sample = gate_training.init_train_sample(_trainer(), gate, model, feats0, mask0, state)
    want = torch.nn.functional.adaptive_avg_pool2d(mask0, (3, 4))
    assert torch.allclose(sample["score"], want)
    assert sample["refined"].shape == (1, 8, 3, 4)  # R_t@16 of the toy refiner


def test_alt_quality_target_values():
    gt = torch.zeros(1, 1, 4, 10)
    gt[..., :5] = 1
    full = gt * 20 - 10  # logits of a perfect prediction
    alt = full.clone()
    alt[..., 4] = -10  # IoU 0.8 against the ground truth
    q = gate_training.alt_quality_target
    assert float(q(full, full, gt, 0.2)) == 1.0
    assert float(q(full, alt, gt, 0.4)) == pytest.approx(0.5)  # loses 0.2 IoU of 0.4
    assert float(q(full, alt, gt, 0.1)) == 0.0
    assert float(q(alt, full, gt, 0.1)) == 1.0  # the alternative path is better: no loss


def test_alt_quality_training_trains_only_the_gate():
    model, gate = _toy(ToyOnline, variant="reuse", reentry="R_t@8")
    trainer = _trainer(gate_target="alt_quality", train_reuse_prob=0.0, freeze_base=True)
    model.train()
    losses = model(_batch(n_clips=2, t=3), mode="loss", trainer=trainer)
    assert {"loss_seg", "loss_delta", "loss_gate", "p_reuse", "gate_target"} <= set(losses)
    assert 0.0 <= float(losses["gate_target"]) <= 1.0
    assert float(losses["reuse_rate"]) == 0.0  # train_reuse_prob=0: the caches always update
    sum(v for k, v in losses.items() if "loss" in k).backward()
    assert _grad_norm(gate.gate) > 0 and _grad_norm(gate.translator) > 0
    assert _grad_norm(gate.delta) > 0 and _grad_norm(gate.matching) > 0
    for stage in (model.feature_extractor, model.localizer, model.refiner):
        assert not stage.training
        assert all(p.grad is None and not p.requires_grad for p in stage.parameters())


def test_alt_quality_caches_follow_the_random_reuse_decision():
    batch = _batch(t=3)
    for prob, computed in ((0.0, True), (1.0, False)):
        model, gate = _toy(ToyOnline)
        trainer = _trainer(gate_target="alt_quality", train_reuse_prob=prob)
        feats0 = vosframe.Features(model.feature_extractor(batch["frames"][0, 0][None]), (48, 64))
        mask0 = batch["masks"][0, 0][None]
        state = model.localizer.init_object(feats0, mask0, None)
        sample = trainer.init_sample(model, feats0, mask0, state)
        s0, r0 = sample["score"], sample["refined"]
        feats = vosframe.Features(model.feature_extractor(batch["frames"][0, 1][None]), (48, 64))
        score = model.localizer.localize(feats, [state])
        gt = batch["masks"][0, 1][None]
        logits, extra = trainer.frame(model, TrainFrame(1, None, feats, gt, score, sample))
        assert logits.shape == (1, 1, 48, 64) and logits.requires_grad
        assert float(extra["reuse_rate"]) == float(not computed)
        if computed:
            assert torch.equal(sample["score"], score) and sample["refined"] is not r0
        else:
            assert sample["score"] is s0 and sample["refined"] is r0


def test_gate_target_options_are_validated():
    with pytest.raises(vosframe.ConfigError, match="gate_target"):
        GateClipTrainer(gate_target="iou")
    with pytest.raises(vosframe.ConfigError, match="train_reuse_prob"):
        GateClipTrainer(train_reuse_prob=1.5)
    with pytest.raises(vosframe.ConfigError, match="quality_scale"):
        GateClipTrainer(quality_scale=0)
    # the recipe is the trainer's, not an option of the plugin
    with pytest.raises(vosframe.ConfigError, match="training-recipe"):
        ReuseGate(gate_target="alt_quality")


def test_change_cue_is_zero_without_change_and_marks_the_object():
    f = torch.rand(1, 8, 6, 8) + 0.5
    prob = torch.zeros(2, 1, 24, 32)
    prob[1, :, :12] = 1
    assert torch.equal(change_cue(f, f.expand(2, -1, -1, -1), prob), torch.zeros(2, 2, 6, 8))
    cue = change_cue(f, torch.cat([f, 2 * f]), prob)
    assert float(cue[1, 0].min()) > 0 and float(cue[1, 1, 3:].abs().max()) == 0.0


@pytest.mark.parametrize("cls", TOY_MODELS, ids=lambda c: c.__name__)
def test_motion_cue_gate_runs_and_trains(cls):
    model, gate = _toy(cls, tau=0.5, motion_cue=True, gate_norm=False)
    trainer = _trainer(gate_target="alt_quality", freeze_base=True)
    assert gate.gate.layers[1].in_channels == 64 + 2
    assert isinstance(gate.gate.layers[2], torch.nn.Identity)
    frames, label0 = toy_clip(5)
    results, session = _run(model, frames, label0)
    st = session.objects[3].plugins[KEY]
    assert st.feature is not None and 0.0 < _p_reuse(results, 3) < 1.0
    model.train()
    losses = model(_batch(t=3), mode="loss", trainer=trainer)
    sum(v for k, v in losses.items() if "loss" in k).backward()
    assert _grad_norm(gate.gate) > 0 and _grad_norm(gate.matching) > 0
    assert _grad_norm(gate.gate.cue_head) > 0  # the direct path of the pooled cue


def test_max_reuse_run_forces_a_full_frame():
    model, gate = _toy(ToyOnline, tau=0.0, max_reuse_run=2)
    results, _ = _run(model, *toy_clip(8))
    paths = [res.paths[3].path for res in results[1:]]
    assert paths == ["alt", "alt", "full", "alt", "alt", "full", "alt"]
    with pytest.raises(vosframe.ConfigError, match="max_reuse_run"):
        ReuseGate(max_reuse_run=0)


def test_tau_one_is_bit_identical_with_the_motion_cue():
    frames, label0 = toy_clip(5)
    torch.manual_seed(1)
    base, _ = _run(ToyOnline(), frames, label0)
    model, _ = _toy(ToyOnline, tau=1.0, motion_cue=True, gate_norm=False)
    gated, _ = _run(model, frames, label0)
    _same(base, gated)


# ---------------------------------------------------------------------------- accounting
def test_path_flops_on_frtm():
    model = _frtm(dict(tau=0.7, reentry="R_t@8"))
    frames, label0 = toy_clip(1, h=96, w=128, ids=(3,))
    flops = path_flops(model, frames[0], label0)
    assert 0 < flops["alt"] < flops["full"] < flops["init"]
    assert flops["saved"] == pytest.approx(1 - flops["alt"] / flops["full"])
    assert model.path_plugin.default_options().force is None  # the model is unchanged
    with pytest.raises(vosframe.ConfigError, match="path-deciding plugin"):
        path_flops(ToyOnline(), frames[0], label0)
