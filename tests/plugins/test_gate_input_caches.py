"""What the gate caches between frames to keep its per-frame cost low: the masks its cues
read (per object, while the output is unchanged), the pixel cue shared by the pre-gate and
the gate, and the matching module's branches run as one."""

from __future__ import annotations

import pytest
import torch
from toys import ToyOnline, toy_clip

from vosframe.plugins.reuse_gate import ReuseGate, frame_cues
from vosframe.plugins.reuse_gate.cues import boundary_band, image_change_cue, pool_image
from vosframe.plugins.reuse_gate.networks import DissimilarityModule, downsample_mask

pytestmark = pytest.mark.usefixtures("one_thread")

CASCADE = dict(  # over the paper's options: no moved copies, no pooling, no drift budget
    preset="paper",
    variant="copy",
    motion_cue=True,
    object_cue=True,
    pixel_cue=True,
    pre_gate=True,
    gate_norm=False,
    max_reuse_run=None,
)


def test_matching_branches_in_one_pass_equal_the_two_branches():
    torch.manual_seed(0)
    module = DissimilarityModule(feature_channels=12, prev_channels=1, width=16)
    feature, prev = torch.randn(1, 12, 9, 11), torch.randn(3, 1, 9, 11)
    x = torch.cat([feature.expand(3, -1, -1, -1), prev], 1)
    key, feat = module._branches(feature, prev).chunk(2, dim=1)
    torch.testing.assert_close(key, module.conv_key(x), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(feat, module.conv_feat(x), rtol=1e-5, atol=1e-5)


def test_image_change_cue_with_a_given_band_is_the_same():
    gen = torch.Generator().manual_seed(0)
    image, last = torch.rand(1, 3, 32, 48, generator=gen), torch.rand(2, 3, 32, 48, generator=gen)
    prob = (torch.rand(2, 1, 32, 48, generator=gen) > 0.7).float()
    pooled, last_pooled = pool_image(image), pool_image(last)
    mask = downsample_mask(prob, tuple(pooled.shape[-2:]))
    plain = image_change_cue(pooled, last_pooled, prob)
    given = image_change_cue(pooled, last_pooled, mask, band=boundary_band(mask))
    assert torch.equal(plain, given)


def _cascade():
    torch.manual_seed(1)
    model = ToyOnline()
    return model, model.attach_plugin(ReuseGate(**CASCADE))


def test_object_masks_are_cached_while_the_output_is_the_same_tensor():
    frames, label0 = toy_clip(5)
    model, gate = _cascade()
    session = model.new_session(precision="fp32")
    session.step(frames[0], masks=label0)
    session.update_config(force="full")
    session.step(frames[1])
    obj = session.objects[3]
    grid = (5, 7)
    first = gate.cues.object_mask(obj, grid)
    torch.testing.assert_close(first, downsample_mask(obj.last_prob.float(), grid))
    assert gate.cues.object_mask(obj, grid) is first  # computed once
    session.update_config(force="alt")  # every object copies: the output is unchanged
    prob = obj.last_prob
    session.step(frames[2])
    assert obj.last_prob is prob and gate.cues.object_mask(obj, grid) is first
    session.update_config(force="full")  # a computed frame: a new output, new masks
    session.step(frames[3])
    assert obj.last_prob is not prob
    again = gate.cues.object_mask(obj, grid)
    assert again is not first
    torch.testing.assert_close(again, downsample_mask(obj.last_prob.float(), grid))


def test_pre_gate_and_gate_read_one_pixel_cue_per_frame(monkeypatch):
    frames, label0 = toy_clip(4)
    model, gate = _cascade()
    calls = []
    original = frame_cues.image_change_cue

    def counted(*args, **kwargs):
        calls.append(args[1].shape[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(frame_cues, "image_change_cue", counted)
    session = model.new_session(precision="fp32")
    session.step(frames[0], masks=label0)
    session.step(frames[1])  # the first frame with cue caches: pre-gate, then gate
    session.step(frames[2])
    monkeypatch.undo()
    assert calls == [2, 2]  # both objects, once a frame, although both stages read it
