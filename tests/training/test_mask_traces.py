"""The supplement's reuseM (``reuse_mask``) trained on traces of a frozen base model."""

from __future__ import annotations

import json

import attrs
import pytest
import torch
from toys import ToyOnline, toy_clip, toy_davis

from vosframe.core.errors import ConfigError
from vosframe.data.davis import open_davis
from vosframe.plugins.reuse_gate import ReuseGate
from vosframe.plugins.reuse_gate.networks import mask_as_score
from vosframe.training.gate import mask_traces as mt
from vosframe.training.gate import traces as gate_traces

pytestmark = pytest.mark.usefixtures("one_thread")

MASK = dict(variant="reuse_mask", width=16, mask_width=4)


def _toy(**kw):
    torch.manual_seed(1)
    model = ToyOnline()
    return model, model.attach_plugin(ReuseGate(preset="paper", **MASK, **kw))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """The toy model and its traces (one torch thread for the module's fixtures)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    model, _ = _toy()
    data = open_davis(toy_davis(tmp_path_factory.mktemp("davis")))
    yield model, mt.record_mask_traces(model, data, precision="fp32"), data
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def trained(recorded):
    """The recorded model after both training steps, with its histories and reports."""
    model, traces, _ = recorded
    gate = model.path_plugin
    base = {k: v.clone() for k, v in model.state_dict().items() if not k.startswith("plugins")}
    before = {k: v.clone() for k, v in gate.state_dict().items()}
    report0 = mt.mask_path_report(model, traces, ages=(1, 2))
    path = mt.train_mask_path_on_traces(
        model, traces, ages=(1, 2), steps=60, batch_size=4, lr=3e-3, log_every=15
    )
    after_path = {k: v.clone() for k, v in gate.state_dict().items()}
    report1 = mt.mask_path_report(model, traces, ages=(1, 2))
    hist = mt.train_mask_gate(
        model, traces, ages=(1, 2), steps=40, batch_size=4, lr=3e-3, log_every=10
    )
    return dict(
        base=base,
        before=before,
        after_path=after_path,
        path=path,
        gate=hist,
        report0=report0,
        report1=report1,
    )


def test_first_frame_score_is_the_one_inference_reads(recorded):
    _, traces, _ = recorded
    for obj in traces[0].objects.values():
        want = mask_as_score(obj.gt[0:1].float(), obj.score.shape[-2:], obj.score.shape[1])
        assert torch.allclose(obj.score[0:1].float(), want.float(), atol=1e-2)


def test_path_training_lowers_its_loss_and_touches_only_the_path(recorded, trained):
    model, _, _ = recorded
    path = trained["path"]
    assert len(path) == 4 and set(path[0]) == {"loss", "mask", "delta"}
    assert path[-1]["loss"] < 0.7 * path[0]["loss"]
    assert path[-1]["mask"] < 0.5 * path[0]["mask"]
    before, after = trained["before"], trained["after_path"]
    for prefix in ("template.", "matching.", "delta.", "mask_translator."):
        assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith(prefix))
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("gate."))
    for k, v in model.state_dict().items():
        if k in trained["base"]:
            assert torch.equal(v, trained["base"][k]), k


def test_trained_path_comes_closer_to_the_base_output(trained):
    f0, f1 = trained["report0"]["fidelity"], trained["report1"]["fidelity"]
    assert f1["mask_loss"] < 0.5 * f0["mask_loss"]
    assert f0["iou_copy"] == pytest.approx(f1["iou_copy"])  # the copies do not change


def test_gate_function_learns_and_nothing_else(recorded, trained):
    model, _, _ = recorded
    assert len(trained["gate"]) == 4 and trained["gate"][-1] < trained["gate"][0]
    after_path, now = trained["after_path"], model.path_plugin.state_dict()
    changed = {k.split(".")[0] for k in now if not torch.equal(now[k], after_path[k])}
    assert changed == {"gate"}
    rows = trained["report1"]["calibration"]
    reuse = [r["reuse"] for r in rows]
    assert reuse == sorted(reuse) and all(0 <= r <= 1 for r in reuse)


def test_training_pass_mirrors_the_inference_path(recorded, trained):
    """Forced alternative in a session gives the training pass's mask on the same sample
    (cache = frame 0, ages 1 and 2)."""
    model, traces, data = recorded
    gate = model.path_plugin
    seq = next(iter(data))
    session = model.new_session(precision="fp32", tau=0.5, force="alt")
    session.step(seq.read_frame(0), seq.read_mask(0))
    for t in (1, 2):
        out = session.step(seq.read_frame(t))
        assert {r.path for r in out.paths.values()} == {"alt"}
        logits = []
        with torch.no_grad():
            for obj_id in (3, 7):
                x = gate_traces.gate_inputs(gate, traces, (0, obj_id, t, t))
                d, _ = gate.gate_forward(x.cut, x.prev, x.template, x.cues)
                logits.append(mt.mask_pass(gate, traces, (0, obj_id, t, t), d).logits)
        probs = model.aggregate(torch.sigmoid(torch.cat(logits)))
        for k, obj_id in enumerate((3, 7)):
            assert (probs[1 + k, 0] - out.probs[obj_id]).abs().max() < 2e-2


def test_tau_one_stays_the_base_model(recorded, trained):
    model, _, _ = recorded
    base = ToyOnline()
    base.load_state_dict(trained["base"])
    frames, label0 = toy_clip(5)
    gated, plain = model.new_session(precision="fp32", tau=1.0), base.new_session(precision="fp32")
    for t, frame in enumerate(frames):
        a = gated.step(frame, label0 if t == 0 else None)
        b = plain.step(frame, label0 if t == 0 else None)
        for obj_id, p in b.probs.items():
            assert torch.equal(a.probs[obj_id], p)


def test_without_recorded_scores_the_delta_loss_is_zero(recorded):
    """A model whose previous point is a mask records no score: only the mask loss."""
    model, traces, _ = recorded
    gate = model.path_plugin
    tr = traces[0]
    objs = {i: attrs.evolve(o, score=None) for i, o in tr.objects.items()}
    bare = [attrs.evolve(tr, objects=objs)]
    obj_id = next(iter(objs))
    with torch.no_grad():
        x = gate_traces.gate_inputs(gate, traces, (0, obj_id, 2, 1))
        d, _ = gate.gate_forward(x.cut, x.prev, x.template, x.cues)
        p = mt.mask_pass(gate, bare, (0, obj_id, 2, 1), d)
        losses = mt.mask_losses(p)
    assert p.score_change is None and p.delta.shape[-2:] == tr.objects[obj_id].score.shape[-2:]
    assert float(losses["delta"]) == 0.0 and float(losses["mask"]) >= -1e-6


def test_other_variants_are_refused_naming_the_recipes():
    torch.manual_seed(0)
    model = ToyOnline()
    model.attach_plugin(ReuseGate(preset="paper", variant="fusion", width=16, translator_mid=8))
    with pytest.raises(ConfigError, match="'reuse_mask' gates.*'fusion' config runs"):
        mt.mask_gate(model)


def test_train_gate_recipe_trains_a_reuse_mask_gate(tmp_path):
    from vosframe.builder import build_model
    from vosframe.core.checkpoint import save_checkpoint
    from vosframe.core.plugin_weights import load_plugin_weights, read_plugin_weights
    from vosframe.registry import MODELS
    from vosframe.training.gate.recipe import train_from_config

    MODELS.register_module(module=ToyOnline, force=True)
    try:
        gate = (
            "dict(type='ReuseGate', preset='paper', variant='reuse_mask', width=16, mask_width=4)"
        )
        config = tmp_path / "toy_mask.py"
        config.write_text(
            f"model = dict(type='ToyOnline', plugins=[{gate}])\n"
            f"load_from_vosframe = {str(tmp_path / 'base.pt')!r}\n"
            f"gate_traces = dict(data={str(toy_davis(tmp_path / 'davis'))!r}, steps=3, "
            "mask_steps=3, batch_size=2, mask_batch_size=2, holdout=0.5, ages=(1, 2), "
            "precision='fp32')\n"
        )
        torch.manual_seed(0)
        base = build_model(str(config))
        save_checkpoint(base, tmp_path / "base.pt")
        lines = []
        path = train_from_config(config, tmp_path / "work", log=lines.append)
        report = json.loads((tmp_path / "work" / "calibration.json").read_text())
        assert report["held_out"] == ["b"] and len(report["mask_path_history"]) == 1
        assert set(report["fidelity"]) == set(report["calibration"]) == {"age_1", "age_2"}
        assert any(line.startswith("path step 3") for line in lines)
        state, meta = read_plugin_weights(path)
        assert meta["architecture"]["variant"] == "reuse_mask"
        assert any(k.startswith("mask_translator.") for k in state)
        load_plugin_weights(base, path)
    finally:
        MODELS.unregister("ToyOnline")


def test_no_delta_target_from_a_given_first_mask_of_a_mask_previous_model(recorded, monkeypatch):
    """A model whose previous point is a mask computed no score on an object's first frame
    (its mask was given): samples cached there get no L_Delta target, later ones do."""
    model, traces, _ = recorded
    gate = model.path_plugin
    prev = attrs.evolve(gate.points["previous"], source="mask")
    monkeypatch.setitem(gate.points, "previous", prev)
    obj_id = next(iter(traces[0].objects))
    with torch.no_grad():
        for (t, n), has_target in {(2, 2): False, (2, 1): True}.items():
            x = gate_traces.gate_inputs(gate, traces, (0, obj_id, t, n))
            d, _ = gate.gate_forward(x.cut, x.prev, x.template, x.cues)
            p = mt.mask_pass(gate, traces, (0, obj_id, t, n), d)
            assert (p.score_change is not None) == has_target


def test_an_untrained_mask_translator_copies_the_previous_mask():
    from vosframe.plugins.reuse_gate.networks import MaskTranslator

    torch.manual_seed(0)
    prev = (torch.rand(1, 1, 32, 48) > 0.7).float()
    logits = MaskTranslator(3, 8)(prev, torch.randn(1, 3, 2, 3))
    assert torch.equal(logits > 0, prev > 0.5)


def test_the_hard_target_is_the_thresholded_base_mask():
    """``target="hard"``: 0 loss for logits that give the base's thresholded mask with full
    confidence whatever the base's soft values; the soft target charges them, and charges
    a path that is as unsure as the base nothing (the hard one does)."""
    base = torch.tensor([[[[2.0, 0.3], [-0.2, -3.0]]]])  # soft where the base is unsure
    sure = torch.where(base > 0, 30.0, -30.0)
    hard_sure = mt.mask_losses(mt.MaskPass(torch.zeros(1), sure, base, None), "hard")
    hard_same = mt.mask_losses(mt.MaskPass(torch.zeros(1), base, base, None), "hard")
    soft_same = mt.mask_losses(mt.MaskPass(torch.zeros(1), base, base, None), "soft")
    soft_sure = mt.mask_losses(mt.MaskPass(torch.zeros(1), sure, base, None), "soft")
    assert float(hard_sure["mask"]) == pytest.approx(0.0, abs=1e-6)
    assert float(soft_same["mask"]) == pytest.approx(0.0, abs=1e-6)
    assert float(hard_same["mask"]) > 0.2 and float(soft_sure["mask"]) > 1.0
    with pytest.raises(ConfigError, match="mask target must be one of"):
        mt.mask_losses(mt.MaskPass(torch.zeros(1), base, base, None), "gt")


def test_the_path_trains_on_the_hard_target_and_refuses_an_unknown_one(recorded):
    model, traces, _ = recorded
    copy, _ = _toy()
    copy.load_state_dict(model.state_dict())
    hist = mt.train_mask_path_on_traces(
        copy, traces, ages=(1,), steps=30, batch_size=4, lr=3e-3, log_every=15, target="hard"
    )
    assert hist[-1]["mask"] < hist[0]["mask"]
    with pytest.raises(ConfigError, match="mask target must be one of"):
        mt.train_mask_path_on_traces(copy, traces, steps=1, target="gt")


def test_the_recipe_refuses_an_unknown_mask_target_before_recording(tmp_path):
    from vosframe.builder import build_model
    from vosframe.core.checkpoint import save_checkpoint
    from vosframe.registry import MODELS
    from vosframe.training.gate.recipe import train_from_config

    MODELS.register_module(module=ToyOnline, force=True)
    try:
        config = tmp_path / "toy_mask.py"
        config.write_text(
            "model = dict(type='ToyOnline', plugins=[dict(type='ReuseGate', preset='paper', "
            "variant='reuse_mask', width=16, mask_width=4)])\n"
            f"load_from_vosframe = {str(tmp_path / 'base.pt')!r}\n"
            f"gate_traces = dict(data={str(toy_davis(tmp_path / 'davis'))!r}, mask_target='gt')\n"
        )
        torch.manual_seed(0)
        save_checkpoint(build_model(str(config)), tmp_path / "base.pt")
        words = "mask target must be one of.*Fix: set gate_traces.mask_target"
        with pytest.raises(ConfigError, match=words):
            train_from_config(config, tmp_path / "work")
        assert not (tmp_path / "work").exists()
    finally:
        MODELS.unregister("ToyOnline")
