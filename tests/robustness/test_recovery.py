"""Lost-object status and re-detection in the core (vosframe.core.recovery), on toys."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from toys import SchedulePlugin, ToyOnline, ToyTemplate, toy_clip

from vosframe import ModelPlugin
from vosframe.core.errors import InputError
from vosframe.core.recovery import Recovery, RecoveryPolicy, best_component
from vosframe.core.state import Features, FrameState, ObjectState
from vosframe.plugins.spatial_prior import SpatialPrior

pytestmark = pytest.mark.usefixtures("one_thread")


class _Blank(ModelPlugin):
    """Empties object 3's new mask on the frames listed (the model "loses" it)."""

    def __init__(self, frames) -> None:
        super().__init__()
        self.frames = set(frames)

    def filter_probs(self, frame, objects, probs):
        if frame.index not in self.frames:
            return probs
        out = probs.clone()
        for i, o in enumerate(objects):
            if o.obj_id == 3:
                out[i] = 0.0
        return out


def _run(model, frames, label0, **options):
    session = model.new_session(precision="fp32", **options)
    results = [session.step(f, masks=label0 if i == 0 else None) for i, f in enumerate(frames)]
    return session, results


@pytest.mark.parametrize("family", [ToyOnline, ToyTemplate])
def test_nothing_lost_gives_the_same_outputs_with_and_without_recovery(family):
    frames, label0 = toy_clip(6)
    torch.manual_seed(0)
    model = family()
    _, on = _run(model, frames, label0)
    _, off = _run(model, frames, label0, recovery=False)
    compared = 0
    for a, b in zip(on, off):
        if any(s != "tracked" for s in b.status.values()):
            break  # from here on an object is lost and recovery may act
        np.testing.assert_array_equal(a.labels, b.labels)
        assert a.status == b.status
        for k in a.probs:
            assert torch.equal(a.probs[k], b.probs[k])
        compared += 1
    assert compared >= 2


def test_a_collapsed_mask_is_reported_lost_and_counted():
    frames, label0 = toy_clip(6)
    torch.manual_seed(0)
    model = ToyOnline()
    model.attach_plugin(_Blank(frames=[2, 3]))
    session, res = _run(model, frames, label0, recovery=False)
    assert [r.status[3] for r in res[1:4]] == ["tracked", "lost", "lost"]
    assert res[2].status[7] == "tracked"
    assert not (res[2].labels == 3).any()
    # its own mask comes back on frame 4: re-found there, tracked after
    assert res[4].status[3] == "refound" and res[5].status[3] == "tracked"
    summary = session.summary()
    assert summary["lost_frames"] == 2 and summary["refinds"] == 1
    assert summary["objects"]["3"]["status"] == {"tracked": 3, "lost": 2, "refound": 1}
    assert summary["objects"]["3"]["losses"] == 1


def test_redetection_brings_a_lost_object_back_after_confirmations():
    frames, label0 = toy_clip(8)
    torch.manual_seed(0)
    model = ToyOnline()
    model.attach_plugin(_Blank(frames=range(2, 8)))  # the model never finds it again
    _, off = _run(model, frames, label0, recovery=False)
    assert all(r.status[3] == "lost" for r in off[2:])
    policy = dict(confidence=0.0, area_range=(0.01, 100.0), confirm=2)
    _, on = _run(model, frames, label0, recovery=policy)
    statuses = [r.status[3] for r in on]
    # lost on frame 2, first confident re-detection on 2, confirmed and re-entered on 3
    assert statuses[2] == "lost" and statuses[3] == "refound"
    assert (on[3].labels == 3).any()


def test_low_confidence_keeps_the_object_lost_quietly():
    frames, label0 = toy_clip(6)
    torch.manual_seed(0)
    model = ToyOnline()
    model.attach_plugin(_Blank(frames=range(2, 6)))
    _, res = _run(model, frames, label0, recovery=dict(confidence=1.0))
    assert all(r.status[3] == "lost" for r in res[2:])
    assert not any((r.labels == 3).any() for r in res[2:])


def test_redetection_runs_only_on_frames_with_all_features():
    frames, label0 = toy_clip(6)
    policy = dict(confidence=0.0, area_range=(0.01, 100.0), confirm=1)
    for period, refound in ((1, False), (2, True)):
        torch.manual_seed(0)
        model = ToyOnline()
        # period 1: always the alternative path (features up to the cut only)
        model.attach_plugin(SchedulePlugin(period=period))
        model.attach_plugin(_Blank(frames=range(1, 6)))
        _, res = _run(model, frames, label0, recovery=policy)
        statuses = [r.status[3] for r in res[1:]]
        assert ("refound" in statuses) is refound
        if not refound:  # the decider keeps its say: no deep level resumed for a re-detection
            assert set(statuses) == {"lost"}
            assert model.feature_extractor.calls[16] == 1


def test_policy_option_errors_name_the_problem():
    assert RecoveryPolicy.of(True) == RecoveryPolicy()
    assert RecoveryPolicy.of(False).redetect is False
    assert RecoveryPolicy.of(dict(confirm=3)).confirm == 3
    with pytest.raises(InputError, match="unknown recovery option"):
        RecoveryPolicy.of(dict(confirms=3))
    with pytest.raises(InputError, match="confirm >= 1"):
        RecoveryPolicy(confirm=0)
    with pytest.raises(InputError, match="recovery must be"):
        RecoveryPolicy.of("yes")


def test_best_component_takes_the_largest_probability_mass():
    p = torch.zeros(1, 1, 20, 20)
    p[0, 0, 2:5, 2:5] = 0.6  # 9 px, mass 5.4
    p[0, 0, 10:13, 10:14] = 0.9  # 12 px, mass 10.8
    cand = best_component(p)
    assert cand is not None and cand.area == 12
    assert cand.confidence == pytest.approx(0.9) and cand.center == (11.0, 11.5)
    assert float(cand.probs[0, 0, 3, 3]) == 0.0
    assert best_component(torch.zeros(1, 1, 4, 4)) is None


class _StubLocalizer:
    def redetect_anchor(self, state):
        return state

    def redetect(self, features, anchors):
        return torch.zeros(len(anchors), 1, 4, 4)


class _StubRefiner:
    def __init__(self, logits):
        self.logits = logits

    def run(self, score, features, size):
        return type("Out", (), {"logits": self.logits})


class _StubModel:
    def __init__(self, logits):
        self.localizer = _StubLocalizer()
        self.refiner = _StubRefiner(logits)
        self.feature_extractor = type("FE", (), {"levels": [4]})()


def _frame():
    features = Features({4: torch.zeros(1, 1, 4, 4)}, (16, 16))
    return FrameState(1, torch.zeros(1, 3, 16, 16), features)


def test_area_and_place_gate_the_reentry():
    logits = torch.full((1, 1, 16, 16), -10.0)
    logits[0, 0, 4:8, 4:8] = 10.0  # 16 px, confident
    rec = Recovery(_StubModel(logits), RecoveryPolicy(confirm=2, area_range=(0.5, 2.0)))
    obj = ObjectState(1, "first-frame state")
    rec.start(obj, torch.ones(1, 1, 4, 5))  # reference area 20
    empty = torch.zeros(1, 1, 16, 16)
    _, found = rec.check(_frame(), [obj], empty)
    assert obj.track.status == "lost" and found == [] and obj.track.confirmations == 1
    out, found = rec.check(_frame(), [obj], empty)
    assert found == [0] and obj.track.status == "refound"
    assert int((out > 0.5).sum()) == 16
    # a candidate far too small for the object is never adopted
    rec = Recovery(_StubModel(logits), RecoveryPolicy(confirm=1, area_range=(0.5, 2.0)))
    obj = ObjectState(1, "first-frame state")
    rec.start(obj, torch.ones(1, 1, 10, 10))  # reference area 100
    for _ in range(3):
        _, found = rec.check(_frame(), [obj], empty)
        assert found == [] and obj.track.status == "lost"


def test_spatial_prior_keeps_a_lost_objects_far_component():
    prior = SpatialPrior(margin=0.5, min_radius=2)
    obj = ObjectState(1, None)
    last = torch.zeros(1, 1, 40, 40)
    last[0, 0, 5:8, 5:8] = 1.0  # the collapsed remnant
    obj.last_prob = last
    new = torch.zeros(1, 1, 40, 40)
    new[0, 0, 5:7, 5:7] = 1.0  # a remnant near the previous mask
    new[0, 0, 25:35, 25:35] = 1.0  # the object, back far away
    frame = _frame()
    tracked = prior.filter_probs(frame, [obj], new)
    assert float(tracked[0, 0, 30, 30]) == 0.0  # tracked: the far component is dropped
    obj.track.status = "lost"
    kept = prior.filter_probs(frame, [obj], new)
    assert torch.equal(kept, new)


def test_redetection_slows_down_for_an_object_lost_for_long():
    policy = RecoveryPolicy(every=1, slow_after=4, slow_every=3)
    due = [t for t in range(1, 15) if policy.due(t)]
    assert due == [1, 2, 3, 4, 5, 8, 11, 14]
    assert [t for t in range(1, 8) if RecoveryPolicy(every=2).due(t)] == [1, 3, 5, 7]
    with pytest.raises(InputError, match="slow_every"):
        RecoveryPolicy(slow_every=0)
