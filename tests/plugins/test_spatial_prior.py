"""The filter_probs hook of the core and the SpatialPrior plugin that uses it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from toys import ToyOnline, toy_clip

from vosframe import ModelPlugin, build_plugin
from vosframe.core.errors import ConfigError
from vosframe.plugins.reuse_gate import ReuseGate
from vosframe.plugins.spatial_prior import SpatialPrior, near_components

pytestmark = pytest.mark.usefixtures("one_thread")


def _disc(h, w, cy, cx, r):
    yy, xx = np.mgrid[:h, :w]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


def test_components_far_from_the_previous_mask_are_dropped():
    previous = _disc(60, 80, 30, 20, 8)
    moved = _disc(60, 80, 31, 23, 8)
    far = _disc(60, 80, 10, 70, 4)
    drop = near_components(moved | far, previous, margin=0.5, min_radius=2)
    assert drop is not None and np.array_equal(drop, far)
    # one component, an empty previous mask, or no component near it: nothing dropped
    assert near_components(moved, previous, 0.5, 2) is None
    assert near_components(moved | far, np.zeros_like(previous), 0.5, 2) is None
    assert near_components(far | _disc(60, 80, 50, 70, 3), previous, 0.5, 2) is None


def test_the_margin_scales_with_the_object():
    previous = _disc(100, 100, 50, 30, 10)  # area ~314: sqrt ~17.7
    near = _disc(100, 100, 50, 52, 3)  # 9 px outside the previous mask
    far = _disc(100, 100, 10, 90, 3)
    both = previous | near | far
    drop = near_components(both, previous, margin=0.6, min_radius=1)  # radius ~10.6
    assert np.array_equal(drop, far)
    drop = near_components(both, previous, margin=0.2, min_radius=1)  # radius ~3.5
    assert np.array_equal(drop, near | far)


class _Recorder(ModelPlugin):
    """Zeroes object 3's new probabilities and records what the hook sees."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = []

    def filter_probs(self, frame, objects, probs):
        self.calls.append(([o.obj_id for o in objects], [o.last_prob for o in objects]))
        out = probs.clone()
        for i, o in enumerate(objects):
            if o.obj_id == 3:
                out[i] = 0.0
        return out


def test_filter_probs_sees_new_masks_before_aggregation_and_its_output_is_used():
    frames, label0 = toy_clip(4)
    torch.manual_seed(0)
    model = ToyOnline()
    rec = model.attach_plugin(_Recorder())
    session = model.new_session(precision="fp32")
    first = session.step(frames[0], masks=label0)
    assert rec.calls == []  # given masks are not filtered
    previous = {o: session.objects[o].last_prob for o in (3, 7)}
    second = session.step(frames[1])
    ids, lasts = rec.calls[-1]
    assert ids == [3, 7]
    assert all(last is previous[i] for i, last in zip(ids, lasts))  # the previous output
    assert not (second.labels == 3).any() and (first.labels == 3).any()
    assert float(second.probs[3].max()) < 0.5  # aggregated from a zero probability


def test_filter_probs_skips_objects_that_keep_their_mask():
    frames, label0 = toy_clip(4)
    torch.manual_seed(0)
    model = ToyOnline()
    model.attach_plugin(ReuseGate(preset="paper", variant="copy", motion_cue=True, gate_norm=False))
    rec = model.attach_plugin(_Recorder())
    session = model.new_session(precision="fp32")
    session.step(frames[0], masks=label0)
    session.update_config(force="alt")
    session.step(frames[1])
    assert rec.calls == []
    session.update_config(force="full")
    session.step(frames[2])
    assert rec.calls[-1][0] == [3, 7]


def test_spatial_prior_builds_by_name_and_checks_its_options():
    prior = build_plugin(dict(type="SpatialPrior", margin=0.25, min_radius=4))
    assert isinstance(prior, SpatialPrior) and prior.margin == 0.25
    with pytest.raises(ConfigError, match="margin >= 0"):
        SpatialPrior(margin=-1.0)


def test_spatial_prior_leaves_a_single_component_alone():
    frames, label0 = toy_clip(3)
    torch.manual_seed(0)
    base = ToyOnline()
    torch.manual_seed(0)
    model = ToyOnline()
    model.attach_plugin(SpatialPrior(margin=1e6))  # everything is near: nothing dropped
    a, b = base.new_session(precision="fp32"), model.new_session(precision="fp32")
    for i, frame in enumerate(frames):
        ra = a.step(frame, masks=label0 if i == 0 else None)
        rb = b.step(frame, masks=label0 if i == 0 else None)
        np.testing.assert_array_equal(ra.labels, rb.labels)
