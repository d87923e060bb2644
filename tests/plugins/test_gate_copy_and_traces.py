"""The ``copy`` gate's fast path (the previous output returned as it was), the object cue
and training the gate on inference traces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from toys import ToyMemory, ToyOnline, toy_clip
from toys import toy_davis as _toy_davis

import vosframe
from vosframe.core.errors import ConfigError, DataError
from vosframe.core.plugin import Decision
from vosframe.data.davis import open_davis
from vosframe.plugins.reuse_gate import Choice, ReuseGate
from vosframe.plugins.reuse_gate.cues import (
    change_cue,
    coarse_mask,
    dilate,
    estimate_shift,
    image_change_cue,
    mask_change,
    pool_image,
    shift_mask,
)
from vosframe.training.gate import GateClipTrainer
from vosframe.training.gate import traces as gate_traces
from vosframe.training.gate.calibration import gate_calibration, simulate_gate
from vosframe.training.gate.clip import mask_iou
from vosframe.training.gate.pre_gate import train_pre_gate

pytestmark = pytest.mark.usefixtures("one_thread")

COPY = dict(variant="copy", motion_cue=True, object_cue=True, gate_norm=False)


def _toy(cls=ToyOnline, **kw):
    torch.manual_seed(1)
    model = cls()
    return model, model.attach_plugin(ReuseGate(preset="paper", **{**COPY, **kw}))


# ---------------------------------------------------------------------------- copy path
def test_all_copied_frames_return_the_previous_output_as_it_was():
    frames, label0 = toy_clip(6)
    model, gate = _toy(tau=0.0)  # every object copies after its first frame
    session = model.new_session(precision="fp32")
    first = session.step(frames[0], masks=label0)
    second = session.step(frames[1])
    assert {r.path for r in second.paths.values()} == {"alt"}
    np.testing.assert_array_equal(second.labels, first.labels)  # the given masks, exactly
    third = session.step(frames[2])
    np.testing.assert_array_equal(third.labels, second.labels)
    for obj_id in second.probs:
        assert torch.equal(third.probs[obj_id], second.probs[obj_id])
    third.labels[:] = 0  # results are the caller's: editing one does not leak into the next
    third.probs[3].zero_()
    fourth = session.step(frames[3])
    np.testing.assert_array_equal(fourth.labels, second.labels)
    assert torch.equal(fourth.probs[3], second.probs[3])


def test_the_copy_path_matches_aggregating_the_copied_masks():
    """The repeated output is what the general path gives for the same copied masks."""
    frames, label0 = toy_clip(4)
    model, gate = _toy(tau=0.0)
    session = model.new_session(precision="fp32")
    session.step(frames[0], masks=label0)
    session.update_config(force="full")
    computed = session.step(frames[1])  # a full frame: the model's own masks
    session.update_config(force=None)
    copied = session.step(frames[2])
    assert {r.path for r in copied.paths.values()} == {"alt"}
    np.testing.assert_array_equal(copied.labels, computed.labels)
    for obj_id, p in computed.probs.items():
        assert torch.equal(copied.probs[obj_id], p)


def test_removed_and_added_objects_are_not_repeated():
    frames, label0 = toy_clip(6)
    model, gate = _toy(tau=0.0)
    session = model.new_session(precision="fp32")
    session.step(frames[0], masks=label0)
    session.step(frames[1])
    session.remove(7)
    after = session.step(frames[2])
    assert list(after.probs) == [3] and 7 not in after.labels
    new = np.zeros_like(label0)
    new[40:46, 50:60] = 9
    session.step(frames[3], masks=new)
    later = session.step(frames[4])
    assert set(later.probs) == {3, 9} and (later.labels == 9).any()


def test_mixed_frames_aggregate_as_before():
    """One object copied and one computed: the general path (no repeated output)."""
    frames, label0 = toy_clip(4)
    model, gate = _toy(ToyMemory, tau=0.0, max_reuse_run=1)
    session = model.new_session(precision="fp32")
    session.step(frames[0], masks=label0)
    session.step(frames[1])
    session.objects[7].plugins[gate.key].run = 0  # object 3 must compute, object 7 copies
    out = session.step(frames[2])
    assert {i: r.path for i, r in out.paths.items()} == {3: "full", 7: "alt"}


# ---------------------------------------------------------------------------- object cue
def test_object_cue_is_relative_to_the_object_size():
    f = torch.zeros(1, 4, 8, 8)
    last = f.clone()
    last[..., :4, :] = 1.0  # the top half changed
    prob = torch.zeros(2, 1, 8, 8)
    prob[0, :, 1:3, 1:3] = 1.0  # small object inside the change
    prob[1, :, :, :] = 1.0  # the whole frame
    cue = change_cue(f, last.expand(2, -1, -1, -1), prob, object_stats=True)
    assert cue.shape == (2, 5, 8, 8)
    assert torch.all(cue[:, 2:] == cue[:, 2:, :1, :1])  # scalars as constant maps
    assert cue[0, 2, 0, 0] > cue[1, 2, 0, 0]  # the small object changed more, per cell
    assert cue[0, 4, 0, 0] < cue[1, 4, 0, 0]  # and is smaller
    still = change_cue(f, f.expand(2, -1, -1, -1), prob, object_stats=True)
    assert torch.all(still[:, :4] == 0)


def test_object_and_pixel_cues_need_the_motion_cue():
    for cue in ("object_cue", "pixel_cue"):
        with pytest.raises(ConfigError, match="object_cue and pixel_cue need motion_cue"):
            ReuseGate(preset="paper", variant="copy", **{cue: True})
    with pytest.raises(ConfigError, match="history_cue.*rejected"):  # a removed cue
        ReuseGate(preset="paper", **COPY, history_cue=True)


def test_pixel_cue_sees_a_moved_boundary():
    image = torch.zeros(1, 3, 32, 32)
    image[..., 8:16, 8:16] = 1.0
    moved = torch.roll(image, 4, dims=-1)
    prob = torch.zeros(2, 1, 32, 32)
    prob[0, :, 8:16, 8:16] = 1.0  # the square that moved
    prob[1, :, 24:30, 24:30] = 1.0  # elsewhere: nothing changed around it
    cue = image_change_cue(pool_image(moved), pool_image(image).expand(2, -1, -1, -1), prob)
    assert cue.shape == (2, 2, 1, 1)
    assert torch.all(cue[0] > cue[1] + 2.0)
    assert torch.allclose(cue[1], torch.log(torch.tensor(1e-3)))  # log(1e-3 + 0)


def test_pixel_cue_gate_runs_and_is_trained_on_traces_only():
    frames, label0 = toy_clip(4)
    model, gate = _toy(tau=0.0, pixel_cue=True)
    assert gate.arch.cue_channels == 7 and gate.gate.cue_channels == 7
    session = model.new_session(precision="fp32")
    session.step(frames[0], masks=label0)
    assert {r.path for r in session.step(frames[1]).paths.values()} == {"alt"}
    assert session.objects[3].plugins[gate.key].image.shape == (1, 3, 12, 16)
    with pytest.raises(ConfigError, match="vosframe train-gate"):
        GateClipTrainer().init_sample(model, None, torch.zeros(1, 1, 48, 64), None)


# ---------------------------------------------------------------------------- traces
@pytest.fixture(scope="module")
def toy_traces(tmp_path_factory):
    model, _ = _toy(pixel_cue=True)
    data = open_davis(_toy_davis(tmp_path_factory.mktemp("davis")))
    return model, gate_traces.record_traces(model, data, precision="fp32"), data


def test_traces_hold_what_inference_gives(toy_traces):
    model, traces, data = toy_traces
    assert [t.name for t in traces] == ["a", "b"]
    tr = traces[0]
    assert tr.features.shape[0] == 6 and set(tr.objects) == {3, 7}
    obj = tr.objects[3]
    assert obj.gt.shape == obj.prob.shape == (6, 1, 48, 64)
    assert obj.gt[0].sum() == 144 and obj.score is not None and obj.score.shape[0] == 6
    assert tr.images is not None and tr.images.shape == (6, 3, 12, 16)
    seq = next(iter(data))
    session = model.new_session(precision="fp32")  # the recorded masks are the session's
    results = list(session.propagate(seq.frames(), masks=seq.read_mask(0)))
    assert torch.allclose(obj.prob[4, 0].float(), results[4].probs[3], atol=1e-3)


def test_training_on_traces_learns_the_target_and_keeps_the_base(toy_traces):
    model, traces, data = toy_traces
    base = {k: v.clone() for k, v in model.state_dict().items() if not k.startswith("plugins")}
    gate_before = [p.clone() for p in model.path_plugin.gate.parameters()]
    hist = gate_traces.train_gate_on_traces(
        model, traces, steps=40, batch_size=4, lr=3e-3, log_every=10
    )
    assert len(hist) == 4 and hist[-1] < hist[0]
    assert any(
        not torch.equal(a, b) for a, b in zip(gate_before, model.path_plugin.gate.parameters())
    )
    for k, v in model.state_dict().items():
        if k in base:
            assert torch.equal(v, base[k]), k
    rows = gate_calibration(model, traces, taus=(0.9, 0.5, 0.1))
    reuse = [r["reuse"] for r in rows]
    assert reuse == sorted(reuse) and all(0 <= r <= 1 for r in reuse)


def test_traces_need_a_copy_gate_and_full_annotations(tmp_path, toy_traces):
    model, _ = _toy(variant="reuse", motion_cue=False, object_cue=False)
    with pytest.raises(ConfigError, match="'copy' variant only"):
        gate_traces.train_gate_on_traces(model, [], steps=1)
    root = _toy_davis(tmp_path, names=("c",))
    for t in range(1, 6):  # only the first frame's mask, as in a validation set
        (root / "Annotations" / "c" / f"{t:05d}.png").unlink()
    copy_model, _ = _toy()
    with pytest.raises(DataError, match="frames \\[1, 2, 3, 4, 5\\] have no mask"):
        gate_traces.record_traces(copy_model, open_davis(root), precision="fp32")


# ---------------------------------------------------------------------------- gate_pool
def test_gate_pool_runs_the_gate_on_a_coarser_grid():
    frames, label0 = toy_clip(4)
    model, gate = _toy(tau=0.0, gate_pool=2)
    seen = []
    gate.matching.register_forward_hook(lambda m, args, out: seen.append(tuple(out.shape[-2:])))
    session = model.new_session(precision="fp32")
    session.step(frames[0], masks=label0)
    result = session.step(frames[1])
    cut = gate.points["feature_cut"].stride
    assert seen == [(-(-48 // (2 * cut)), -(-64 // (2 * cut)))]
    assert {r.path for r in result.paths.values()} == {"alt"}
    with pytest.raises(ConfigError, match="gate_pool must be >= 1"):
        ReuseGate(gate_pool=0)


def test_train_gate_command_explains_a_config_without_traces(capsys):
    from vosframe.cli.main import main

    config = Path(__file__).parents[2] / "configs" / "frtm" / "frtm_effnetlite0_davis16.py"
    assert main(["train-gate", str(config), "--work-dir", "/nonexistent/never"]) == 1
    err = capsys.readouterr().err
    assert "gate_traces=dict(data=FOLDER" in err and "load_from_vosframe" in err


def test_traces_can_be_recorded_at_the_inference_scale(toy_traces):
    model, traces, data = toy_traces
    up = gate_traces.record_traces(model, [next(iter(data))], short_side=96, precision="fp32")
    obj = up[0].objects[3]
    assert obj.gt.shape[-2:] == (96, 128) and obj.prob.shape[-2:] == (96, 128)
    assert obj.gt[0].sum() == 4 * traces[0].objects[3].gt[0].sum()  # nearest, 2x per side
    assert up[0].features.shape[-2:] == tuple(2 * s for s in traces[0].features.shape[-2:])


def test_an_off_gate_keeps_no_cue_caches_and_recovers_when_turned_on():
    frames, label0 = toy_clip(6)
    model, gate = _toy(tau=1.0, pixel_cue=True)
    session = model.new_session(precision="fp32")
    session.step(frames[0], masks=label0)
    session.step(frames[1])
    st = session.objects[3].plugins[gate.key]
    assert st.feature is None and st.image is None  # nothing pooled while off
    session.update_config(tau=0.0)
    assert {r.path for r in session.step(frames[2]).paths.values()} == {"full"}  # not ready
    assert st.feature is not None and st.image is not None
    assert {r.path for r in session.step(frames[3]).paths.values()} == {"alt"}


def test_dilate_is_max_pool():
    x = torch.rand(2, 1, 9, 14)
    for k in (3, 5):
        assert torch.equal(dilate(x, k), torch.nn.functional.max_pool2d(x, k, 1, k // 2))


def test_traces_with_a_frame_step_see_the_subsampled_video(toy_traces):
    model, traces, data = toy_traces
    seq = next(iter(data))
    both = gate_traces.record_traces(model, [seq], frame_steps=(1, 2), precision="fp32")
    assert [(t.name, t.frame_step) for t in both] == [("a", 1), ("a", 2)]
    every2 = both[1]
    assert every2.features.shape[0] == 3 and every2.objects[3].gt.shape[0] == 3
    # the ground truth of frames 0, 2, 4 (the squares move 2 px per frame)
    assert torch.equal(every2.objects[3].gt, traces[0].objects[3].gt[::2])
    # as recorded: the base model (the gate may be trained by now), on frames 0, 2, 4 only
    session = model.new_session(precision="fp32", tau=1.0)
    frames = [seq.read_frame(i) for i in (0, 2, 4)]
    results = list(session.propagate(frames, masks=seq.read_mask(0)))
    assert torch.allclose(every2.objects[3].prob[2, 0].float(), results[2].probs[3], atol=1e-3)
    with pytest.raises(ConfigError, match="frame_step must be >= 1"):
        gate_traces.record_sequence(model, seq, frame_step=0)


def test_split_keeps_every_frame_step_of_a_video_on_one_side():
    def trace(name, step):
        return gate_traces.SequenceTrace(name, torch.zeros(1), {}, None, step)

    traces = [trace(n, k) for n in "abcdefghij" for k in (1, 2)]
    train, held = gate_traces.split_traces(traces, holdout=0.2)
    assert sorted({t.name for t in held}) == ["e", "j"]
    assert len(held) == 4 and {t.name for t in train}.isdisjoint({t.name for t in held})


@pytest.mark.parametrize("size", [(48, 64), (50, 66)])
def test_pool_image_is_the_box_average(size):
    image = torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(0))
    ref = torch.nn.functional.avg_pool2d(image, 4, ceil_mode=True)  # PIXEL_CUE_STRIDE
    for x in (image, image.contiguous(memory_format=torch.channels_last)):
        out = pool_image(x)
        assert out.shape == ref.shape and (out - ref).abs().max() < 1e-6


# ---------------------------------------------------------------------------- mask change
def test_mask_change_is_one_minus_iou():
    a = torch.zeros(3, 1, 8, 8)
    b = torch.zeros(3, 1, 8, 8)
    a[0, :, :4], b[0, :, :4] = 1, 1  # same mask
    a[1, :, :4], b[1, :, 2:6] = 1, 1  # IoU 2/6
    change = mask_change(a, b)  # object 2: both empty
    assert torch.allclose(change, torch.tensor([0.0, 1 - 2 / 6, 0.0]))


def test_closed_loop_simulation_chains_decisions_and_applies_the_cap(toy_traces):
    model, traces, _ = toy_traces
    never, always = simulate_gate(model, traces[:1], taus=(1.0, 0.0), max_reuse_run=2)
    assert never["reuse"] == 0.0 and never["j_loss"] == 0.0
    # t = 1..5 per object: copy, copy, computed (the cap), copy, copy
    assert always["reuse"] == pytest.approx(0.8)
    lost = []
    for obj in traces[0].objects.values():
        iou = [mask_iou(obj.prob[t].float(), obj.gt[t].float()) for t in range(6)]
        copies = {1: 0, 2: 0, 4: 3, 5: 3}  # frame: the computed frame it copies
        lost.append(
            sum(
                float(iou[t] - mask_iou(obj.prob[c].float(), obj.gt[t].float()))
                for t, c in copies.items()
            )
            / 5
        )
    assert always["j_loss"] == pytest.approx(sum(lost) / 2, abs=1e-6)
    assert always["j_loss_worst"] == pytest.approx(max(lost), abs=1e-6)


def test_closed_loop_simulation_applies_the_drift_budget(toy_traces):
    model, traces, _ = toy_traces
    free, tight = (
        simulate_gate(model, traces[:1], taus=(0.0,), max_reuse_run=2, drift_budget=b)[0]
        for b in (10.0, 1e-6)
    )
    assert free["reuse"] == pytest.approx(0.8)  # as with the cap alone

    # t = 1, 2 copy; t = 3 is computed and measures the drift since t = 0: the traced
    # outputs moved, so t = 4 is computed too; they did not move from t = 3 to 4 (drift 0),
    # so t = 5 copies
    def change(o, a, b):
        return float(mask_change(coarse_mask(o.prob[b : b + 1]), coarse_mask(o.prob[a : a + 1]))[0])

    for o in traces[0].objects.values():
        assert change(o, 0, 3) > 0 and change(o, 3, 4) == 0
    assert tight["reuse"] == pytest.approx(0.6)


def test_closed_loop_simulation_moves_the_copies_with_copy_motion(toy_traces):
    model, traces, _ = toy_traces
    still = simulate_gate(model, traces[:1], taus=(0.0,), max_reuse_run=2)[0]
    # the same weights with copy_motion on (a policy option: no retraining)
    motion_model, motion_gate = _toy(pixel_cue=True, copy_motion=True)
    motion_model.load_state_dict(model.state_dict())
    assert motion_gate.policy.copy_motion and not model.path_plugin.policy.copy_motion
    moved = simulate_gate(motion_model, traces[:1], taus=(0.0,), max_reuse_run=2)[0]
    assert moved["reuse"] == still["reuse"] == pytest.approx(0.8)  # the same decisions
    images = traces[0].images.float()
    lost, shifts = [], []
    for obj in traces[0].objects.values():
        total = 0.0
        for t, c in {1: 0, 2: 0, 4: 3, 5: 3}.items():
            prob, gt = obj.prob[c : c + 1].float(), obj.gt[t : t + 1].float()
            shift = estimate_shift(images[c : c + 1], images[t : t + 1], coarse_mask(prob), 8)
            shifts.append(shift)
            total += float(mask_iou(obj.prob[t : t + 1].float(), gt))
            total -= float(mask_iou(shift_mask(prob, shift), gt))
        lost.append(total / 5)
    assert any(s != (0, 0) for s in shifts)  # the toy squares move
    assert moved["j_loss"] == pytest.approx(sum(lost) / 2, abs=1e-6)
    assert moved["j_loss"] != pytest.approx(still["j_loss"], abs=1e-6)


# ---------------------------------------------------------------------------- pre-gate
def test_pre_gate_needs_the_copy_variant_and_the_pixel_cue():
    with pytest.raises(ConfigError, match="pre_gate needs variant='copy' and pixel_cue"):
        ReuseGate(preset="paper", **{**COPY, "pre_gate": True})


def _sure_pre_gate(gate, sure: bool) -> None:
    with torch.no_grad():
        gate.pre.net[2].bias.fill_(6.0 if sure else -6.0)


def test_pre_gate_is_inert_until_trained_and_then_skips_the_backbone():
    frames, label0 = toy_clip(6)
    model, gate = _toy(tau=0.5, pixel_cue=True, pre_gate=True, max_reuse_run=None)
    calls = []
    model.feature_extractor.register_forward_hook(lambda *a: calls.append(1))
    decided = []
    decide = gate.decide
    gate.decide = lambda frame, objs: (
        decided.append([o.obj_id for o in objs]) or decide(frame, objs)
    )
    session = model.new_session(precision="fp32")
    session.step(frames[0], masks=label0)
    session.step(frames[1])
    assert gate.pre(torch.zeros(1, 5)).item() < 0.05  # inert: every object reached the gate
    assert decided == [[3, 7]]
    _sure_pre_gate(gate, True)
    calls.clear()
    before = session.step(frames[2])
    assert {r.path for r in before.paths.values()} == {"alt"}
    assert calls == []  # every object copied before the backbone: no features computed
    assert session.last_frame.features.maps == {}
    again = session.step(frames[3])
    assert np.array_equal(again.labels, before.labels) and decided == [[3, 7]]


def test_pre_gate_decisions_leave_the_rest_to_the_gate():
    frames, label0 = toy_clip(4)
    model, gate = _toy(tau=0.5, pixel_cue=True, pre_gate=True)
    seen = []
    decide = gate.decide
    gate.decide = lambda frame, objs: seen.append([o.obj_id for o in objs]) or decide(frame, objs)

    def only_3(frame, objs):  # as the real pre-gate would if sure about object 3 only
        return [
            Decision(True, 0.9, Choice(copy=True)) if o.obj_id == 3 else Decision() for o in objs
        ]

    gate.predecide = only_3
    session = model.new_session(precision="fp32")
    session.step(frames[0], masks=label0)
    result = session.step(frames[1])
    assert seen == [[7]] and result.paths[3].path == "alt"


def test_pre_gate_trains_on_traces_and_joins_the_closed_loop(toy_traces):
    model, gate = _toy(pixel_cue=True, pre_gate=True)
    traces = gate_traces.record_traces(model, toy_traces[2], precision="fp32")
    hist = train_pre_gate(model, traces, steps=300)
    assert hist[-1] < hist[0]
    assert not torch.equal(gate.pre.scale, torch.ones(5))  # standardised on the samples
    _sure_pre_gate(gate, True)
    rows = simulate_gate(model, traces, taus=(0.5,), max_reuse_run=2)
    assert rows[0]["pre_gate_share"] == 1.0 and rows[0]["reuse"] == pytest.approx(0.8)


def test_train_gate_recipe_writes_a_gate_file_for_its_base(tmp_path):
    """``vosframe train-gate`` end to end on a toy: the output is the gate's own file,
    which loads onto the base weights it was trained on and is refused on others."""
    from vosframe.builder import build_model
    from vosframe.core.checkpoint import save_checkpoint
    from vosframe.core.errors import CheckpointError
    from vosframe.core.plugin_weights import load_plugin_weights, read_plugin_weights
    from vosframe.registry import MODELS
    from vosframe.training.gate.recipe import train_from_config

    MODELS.register_module(module=ToyOnline, force=True)
    try:
        gate = "dict(type='ReuseGate', preset='paper', variant='copy', motion_cue=True)"
        config = tmp_path / "toy_gate.py"
        config.write_text(
            f"model = dict(type='ToyOnline', plugins=[{gate}])\n"
            f"load_from_vosframe = {str(tmp_path / 'base.pt')!r}\n"
            f"gate_traces = dict(data={str(_toy_davis(tmp_path / 'davis'))!r}, steps=3, "
            "batch_size=2, holdout=0.5, precision='fp32')\n"
        )
        torch.manual_seed(0)
        base = build_model(str(config))
        save_checkpoint(base, tmp_path / "base.pt")
        path = train_from_config(config, tmp_path / "work", log=lambda _: None)
        assert (
            path == tmp_path / "work" / "gate.pt"
            and (tmp_path / "work" / "calibration.json").is_file()
        )
        state, meta = read_plugin_weights(path)
        assert meta["base_weights"] == "base.pt" and meta["gate_traces"]["steps"] == 3
        assert not any(k.startswith(("feature_extractor", "refiner")) for k in state)
        load_plugin_weights(base, path)  # the base it was trained on
        torch.manual_seed(1)
        with pytest.raises(CheckpointError, match="fingerprint"):
            load_plugin_weights(build_model(str(config)), path)
    finally:
        MODELS.unregister("ToyOnline")


def test_train_gate_fold_records_only_the_folds_fit_videos(tmp_path):
    """``train-gate --fold K``: the fold's select videos are never recorded, the fold's base
    model is read from ``{fold}`` in load_from_vosframe, the work dir gets ``_fold<K>``."""
    from vosframe.builder import build_model
    from vosframe.core.checkpoint import save_checkpoint
    from vosframe.core.plugin_weights import read_plugin_weights
    from vosframe.data.folds import DAVIS16_TRAIN_FOLDS
    from vosframe.registry import MODELS
    from vosframe.training.gate.recipe import train_from_config

    MODELS.register_module(module=ToyOnline, force=True)
    try:
        data = _toy_davis(tmp_path / "train", names=DAVIS16_TRAIN_FOLDS.videos, n=3)
        config = tmp_path / "toy_gate.py"
        config.write_text(
            "model = dict(type='ToyOnline', plugins=[dict(type='ReuseGate', preset='paper', "
            "variant='copy')])\n"
            f"load_from_vosframe = {str(tmp_path / 'base_fold{fold}.pt')!r}\n"
            f"gate_traces = dict(data={str(data)!r}, steps=2, batch_size=2, precision='fp32')\n"
        )
        torch.manual_seed(0)
        save_checkpoint(build_model(str(config)), tmp_path / "base_fold2.pt")
        seen = []
        log = seen.append
        path = train_from_config(config, tmp_path / "w", log=log, fold=2)
        recorded = {line.removeprefix("recorded ") for line in seen if line.startswith("recorded")}
        assert recorded == set(DAVIS16_TRAIN_FOLDS.fit(2))
        _, meta = read_plugin_weights(path)
        assert meta["base_weights"] == "base_fold2.pt" and meta["gate_traces"]["fold"] == 2
        with pytest.raises(vosframe.InputError, match="fold"):
            train_from_config(config, tmp_path / "w9", log=log, fold=9)
    finally:
        MODELS.unregister("ToyOnline")
