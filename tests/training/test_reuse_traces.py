"""Feature reuse (variant ``reuse``) trained on traces of its frozen base model."""

from __future__ import annotations

import json

import pytest
import torch
from toys import ToyOnline, toy_clip, toy_davis

from vosframe.core.errors import ConfigError, DataError
from vosframe.core.state import Features
from vosframe.data.davis import open_davis
from vosframe.plugins.reuse_gate import ReuseGate
from vosframe.plugins.reuse_gate.networks import mask_as_score
from vosframe.training.gate import reuse_traces as rt
from vosframe.training.gate import traces as gate_traces

pytestmark = pytest.mark.usefixtures("one_thread")

REUSE = dict(variant="reuse", width=16, translator_mid=8)


def _toy(reentry: str = "R_t@8", **kw):
    torch.manual_seed(1)
    model = ToyOnline()
    return model, model.attach_plugin(ReuseGate(preset="paper", reentry=reentry, **REUSE, **kw))


def _base_state(model):
    return {k: v.clone() for k, v in model.state_dict().items() if not k.startswith("plugins")}


def _assert_base_unchanged(model, base):
    for k, v in model.state_dict().items():
        if k in base:
            assert torch.equal(v, base[k]), k


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """The toy model and its reuse traces (one torch thread for the module's fixtures, which
    run before the per-test ``one_thread``)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    model, gate = _toy()
    data = open_davis(toy_davis(tmp_path_factory.mktemp("davis")))
    yield model, rt.record_reuse_traces(model, data, precision="fp32"), data
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def trained(recorded):
    """The recorded model after both training steps, with its histories and fidelities."""
    model, traces, _ = recorded
    base = _base_state(model)
    gate = model.path_plugin
    before = {k: v.clone() for k, v in gate.state_dict().items()}
    fid0 = rt.reuse_fidelity(model, traces, ages=(1, 2))
    path = rt.train_reuse_on_traces(
        model, traces, ages=(1, 2), steps=60, batch_size=4, lr=3e-3, log_every=15
    )
    after_path = {k: v.clone() for k, v in gate.state_dict().items()}
    fid1 = rt.reuse_fidelity(model, traces, ages=(1, 2))
    hist = rt.train_reuse_gate(
        model, traces, ages=(1, 2), steps=40, batch_size=4, lr=3e-3, log_every=10
    )
    return dict(
        base=base,
        before=before,
        after_path=after_path,
        path=path,
        gate=hist,
        fid0=fid0,
        fid1=fid1,
    )


# ---------------------------------------------------------------------------- recording
def test_recording_keeps_what_the_tail_reads(recorded):
    model, traces, _ = recorded
    tr = traces[0]
    assert isinstance(tr, rt.ReuseTrace) and tr.reentry == ("R_t@8", 8)
    assert rt.tail_strides(model, 8) == (4,) and rt.tail_strides(model, 16) == (8, 4)
    assert set(tr.tail) == {4} and tr.tail[4].shape == (6, 8, 12, 16)
    assert tr.tail[4].dtype == torch.bfloat16
    assert set(tr.refined) == {3, 7}
    assert tr.refined[3].shape == (6, 8, 6, 8) and tr.refined[3].dtype == torch.bfloat16
    obj = tr.objects[3]
    # the first frame's S_{t-n} is the inference one: the first mask at the score grid
    assert torch.equal(obj.score[0].float(), mask_as_score(obj.gt[0:1].float(), (3, 4), 1)[0])
    per = 2 * (8 * 12 * 16) + 2 * 2 * (8 * 6 * 8)  # tail features + R_t of two objects
    assert tr.nbytes > 6 * per


def test_the_recorded_tail_gives_the_base_model_output(recorded):
    """The tail on the recorded S_t, R_t and features reproduces the session's output, and
    the first frame's R_t is the one a gated session caches there."""
    model, traces, data = recorded
    tr = traces[0]
    for t in (1, 4):
        logits = []
        for obj_id in (3, 7):
            obj = tr.objects[obj_id]
            feats = Features({4: tr.tail[4][t : t + 1].float()}, tr.image_size)
            score, refined = obj.score[t : t + 1].float(), tr.refined[obj_id][t : t + 1].float()
            with torch.no_grad():
                out = model.refiner.run(score, feats, tr.image_size, start=(8, refined))
            logits.append(out.logits)
        probs = model.aggregate(torch.sigmoid(torch.cat(logits)))
        for k, obj_id in enumerate((3, 7)):
            recorded_prob = tr.objects[obj_id].prob[t].float()
            assert (probs[1 + k] - recorded_prob).abs().max() < 2e-2
    seq = next(iter(data))
    session = model.new_session(precision="fp32", tau=0.5)  # caches the first full path
    session.step(seq.read_frame(0), seq.read_mask(0))
    cached = session.objects[3].refined["R_t@8"]
    assert (tr.refined[3][0].float() - cached).abs().max() < 2e-2 * cached.abs().max()


def test_reuse_recipe_checks_its_gate_and_traces(recorded):
    model, traces, _ = recorded
    copy_model = ToyOnline()
    copy_model.attach_plugin(ReuseGate(preset="paper", variant="copy"))
    with pytest.raises(ConfigError, match="'reuse' variant only"):
        rt.reuse_gate(copy_model)
    with pytest.raises(ConfigError, match="'copy' variant only"):
        gate_traces.copy_gate(model)
    plain = gate_traces.SequenceTrace("x", traces[0].features, traces[0].objects)
    with pytest.raises(DataError, match="record_reuse_traces"):
        rt.train_reuse_on_traces(model, [plain], steps=1)


# ---------------------------------------------------------------------------- training
def test_training_the_path_lowers_its_loss_and_keeps_the_base(recorded, trained):
    model, _, _ = recorded
    path = trained["path"]
    assert len(path) == 4 and set(path[0]) == {"loss", "feature", "mask", "delta"}
    assert path[-1]["loss"] < 0.7 * path[0]["loss"]
    assert path[-1]["feature"] < path[0]["feature"] and path[-1]["delta"] < path[0]["delta"]
    _assert_base_unchanged(model, trained["base"])
    before, after = trained["before"], trained["after_path"]
    for prefix in ("template.", "matching.", "delta.", "translator."):
        assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith(prefix))
    # the gate function does not learn in this step (and the batch norms keep their stats)
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("gate."))
    bn = "translator.postRBB.bblock.1."
    assert torch.equal(after[bn + "running_mean"], before[bn + "running_mean"])


def test_trained_path_is_closer_to_the_base_output(trained):
    fid0, fid1 = trained["fid0"], trained["fid1"]
    assert fid1["prob_error"] < 0.5 * fid0["prob_error"]
    assert fid1["iou"] > fid0["iou"] and fid1["feature_error"] < fid0["feature_error"]


def test_gate_function_learns_the_reuse_quality_and_nothing_else(recorded, trained):
    model, traces, _ = recorded
    hist = trained["gate"]
    assert len(hist) == 4 and hist[-1] < hist[0]
    after_path, now = trained["after_path"], model.path_plugin.state_dict()
    changed = {k.split(".")[0] for k in now if not torch.equal(now[k], after_path[k])}
    assert changed == {"gate"}
    _assert_base_unchanged(model, trained["base"])
    rows = rt.reuse_calibration(model, traces, taus=(0.9, 0.5, 0.1))
    reuse = [r["reuse"] for r in rows]
    assert reuse == sorted(reuse) and all(0 <= r <= 1 for r in reuse)


def test_tau_one_is_the_base_model_bit_for_bit_after_training(recorded, trained):
    model, _, _ = recorded
    base = ToyOnline()
    base.load_state_dict(trained["base"])
    frames, label0 = toy_clip(6)
    gated = model.new_session(precision="fp32", tau=1.0)
    plain = base.new_session(precision="fp32")
    for t, frame in enumerate(frames):
        a = gated.step(frame, label0 if t == 0 else None)
        b = plain.step(frame, label0 if t == 0 else None)
        assert (a.labels == b.labels).all()
        for obj_id, p in b.probs.items():
            assert torch.equal(a.probs[obj_id], p)


def test_training_samples_mirror_the_inference_path(recorded, trained):
    """Forced reuse in a session gives what the training pass gives on the same sample
    (cache = frame 0, ages 1 and 2), up to the recording's bfloat16."""
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
                logits.append(rt.reuse_pass(model, gate, traces, (0, obj_id, t, t), d).logits)
        probs = model.aggregate(torch.sigmoid(torch.cat(logits)))
        for k, obj_id in enumerate((3, 7)):
            assert (probs[1 + k, 0] - out.probs[obj_id]).abs().max() < 2e-2


# ---------------------------------------------------------------------------- recipe
def test_train_gate_recipe_trains_a_reuse_gate(tmp_path):
    from vosframe.builder import build_model
    from vosframe.core.checkpoint import save_checkpoint
    from vosframe.core.plugin_weights import load_plugin_weights, read_plugin_weights
    from vosframe.registry import MODELS
    from vosframe.training.gate.recipe import train_from_config

    MODELS.register_module(module=ToyOnline, force=True)
    try:
        gate = (
            "dict(type='ReuseGate', preset='paper', variant='reuse', reentry='R_t@16', "
            "width=16, translator_mid=8)"
        )
        config = tmp_path / "toy_reuse.py"
        config.write_text(
            f"model = dict(type='ToyOnline', plugins=[{gate}])\n"
            f"load_from_vosframe = {str(tmp_path / 'base.pt')!r}\n"
            f"gate_traces = dict(data={str(toy_davis(tmp_path / 'davis'))!r}, steps=3, "
            "reuse_steps=3, batch_size=2, reuse_batch_size=2, holdout=0.5, ages=(1, 2), "
            "precision='fp32')\n"
        )
        torch.manual_seed(0)
        base = build_model(str(config))
        save_checkpoint(base, tmp_path / "base.pt")
        lines = []
        path = train_from_config(config, tmp_path / "work", log=lines.append)
        assert path == tmp_path / "work" / "gate.pt"
        report = json.loads((tmp_path / "work" / "calibration.json").read_text())
        assert report["held_out"] == ["b"] and len(report["reuse_path_history"]) == 1
        assert set(report["fidelity"]) == {"age_1", "age_2"}
        assert any(line.startswith("path step 3") for line in lines)
        state, meta = read_plugin_weights(path)
        assert meta["architecture"]["variant"] == "reuse"
        assert any(k.startswith("translator.") for k in state)
        assert not any(k.startswith(("feature_extractor", "refiner")) for k in state)
        load_plugin_weights(base, path)  # the base it was trained on
    finally:
        MODELS.unregister("ToyOnline")


def test_memoised_alternative_gives_the_same_targets(recorded, trained):
    """The gate stage computes each sample's reuse path once (bit-packed signs): the
    alt_quality targets are those of the plain computation, on the first and later draws."""
    from vosframe.training.gate.clip import alt_quality_target

    model, traces, _ = recorded
    gate = model.path_plugin
    plain = rt.reuse_alternative(model, gate, traces)
    memo = rt.reuse_alternative(model, gate, traces, memo=True)
    samples = gate_traces.trace_samples(traces, (1, 2))[:6]
    with torch.no_grad():
        for sample in samples * 2:  # the second round comes from the memo
            x = gate_traces.gate_inputs(gate, traces, sample)
            d, _ = gate.gate_forward(x.cut, x.prev, x.template, x.cues)
            gt = traces[sample[0]].objects[sample[1]].gt[sample[2] : sample[2] + 1].float()
            full, alt = plain(sample, d)
            m_full, m_alt = memo(sample, d)
            assert torch.equal(full > 0, m_full > 0) and torch.equal(alt > 0, m_alt > 0)
            a = alt_quality_target(full, alt, gt, 0.2)
            assert torch.equal(a, alt_quality_target(m_full, m_alt, gt, 0.2)), sample
