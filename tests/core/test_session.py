"""Streaming session API: objects, ids, overwrite, options and input errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from toys import SchedulePlugin, ToyOnline, ToyTemplate, toy_clip

from vosframe import InputError, UnknownObjectError


@pytest.fixture()
def model():
    torch.manual_seed(0)
    return ToyTemplate()


def test_objects_added_mid_video_with_noncontiguous_ids_and_removed(model):
    frames, label0 = toy_clip(6, ids=(3, 7))
    session = model.new_session(precision="fp32")
    first = {3: label0 == 3}
    r0 = session.step(frames[0], first)
    assert session.object_ids == [3] and set(np.unique(r0.labels)) <= {0, 3}
    r1 = session.step(frames[1])
    assert r1.paths[3].path == "full"
    # object 7 appears on frame 2; its mask overwrites the prediction in its pixels
    new = np.zeros_like(label0, dtype=bool)
    new[:20, :20] = True
    r2 = session.step(frames[2], {7: new})
    assert session.object_ids == [3, 7]
    assert r2.paths[7].path == "init" and r2.paths[3].path == "full"
    assert (r2.labels[new] == 7).all()
    assert float(r2.probs[3][torch.from_numpy(new)].max()) == 0.0
    r3 = session.step(frames[3])
    assert set(r3.paths) == {3, 7} and r3.labels.dtype == np.uint8
    session.remove(3)
    r4 = session.step(frames[4])
    assert set(r4.paths) == {7} and 3 not in np.unique(r4.labels)
    with pytest.raises(UnknownObjectError, match=r"not tracked; tracked ids are \[7\]"):
        session.remove(3)
    summary = session.summary()
    assert summary["objects"]["3"]["removed"] and summary["objects"]["3"]["frames"]["full"] == 3
    assert not summary["objects"]["7"]["removed"]


def test_large_ids_give_int32_labels(model):
    frames, label0 = toy_clip(3)
    session = model.new_session(precision="fp32")
    r = session.step(frames[0], {1000: label0 == 3, 5: label0 == 7})
    assert r.labels.dtype == np.int32 and set(np.unique(r.labels)) == {0, 5, 1000}
    assert set(session.step(frames[1]).paths) == {1000, 5}


def test_propagate_is_lazy_and_takes_masks_at_offsets(model):
    frames, label0 = toy_clip(5)
    consumed = []

    def stream():
        for i, f in enumerate(frames):
            consumed.append(i)
            yield f

    session = model.new_session(precision="fp32")
    gen = session.propagate(stream(), masks={3: label0 == 3}, masks_at={2: {7: label0 == 7}})
    first = next(gen)
    assert consumed == [0] and first.index == 0
    rest = list(gen)
    assert rest[1].paths[7].path == "init" and len(rest) == 4


def test_max_internal_size_returns_masks_at_input_size():
    torch.manual_seed(0)
    model = ToyOnline()
    frames, label0 = toy_clip(3, h=96, w=128)
    session = model.new_session(precision="fp32", max_internal_size=48)
    results = list(session.propagate(frames, masks=label0))
    assert all(r.labels.shape == (96, 128) for r in results)
    assert all(p.shape == (96, 128) for p in results[-1].probs.values())
    assert (results[0].labels == label0).all()


def test_bf16_session_runs_and_agrees_with_fp32():
    torch.manual_seed(0)
    model = ToyOnline()
    model.attach_plugin(SchedulePlugin(period=3))
    frames, label0 = toy_clip(6)
    fp32 = list(model.new_session(precision="fp32").propagate(frames, masks=label0))
    bf16 = list(model.new_session(precision="bf16").propagate(frames, masks=label0))
    agree = np.mean([(a.labels == b.labels).mean() for a, b in zip(fp32, bf16)])
    assert agree > 0.95


@pytest.mark.parametrize(
    ("mask", "match"),
    [
        (np.zeros((10, 10), np.uint8), r"size 10x10 .* but the frame is 48x64.*Fix: resize"),
        (np.zeros((48, 64, 3), np.uint8), r"unknown label format.*colour image"),
        (np.full((48, 64), 0.3, np.float32), r"unknown label format: dtype float32"),
        ({2: np.full((48, 64), 0.5)}, r"must be binary"),
        ({0: np.ones((48, 64), bool)}, r"out of range"),
    ],
)
def test_bad_masks_raise_clear_errors(model, mask, match):
    frames, _ = toy_clip(1)
    with pytest.raises(InputError, match=match):
        model.new_session(precision="fp32").step(frames[0], mask)


def test_bad_frames_raise_clear_errors(model):
    frames, label0 = toy_clip(2)
    session = model.new_session(precision="fp32")
    with pytest.raises(InputError, match="first frame of a session needs masks"):
        session.step(frames[0])
    with pytest.raises(InputError, match=r"RGB uint8 array of shape \(H, W, 3\)"):
        session.step(frames[0][..., 0], label0)
    session.step(frames[0], label0)
    with pytest.raises(InputError, match="has size 24x64 but this session's frames are 48x64"):
        session.step(frames[1][:24])


def test_class_argmax_matches_torch_argmax_including_ties():
    from vosframe.core.aggregation import class_argmax

    g = torch.Generator().manual_seed(0)
    p = torch.rand(4, 37, 53, generator=g)
    assert torch.equal(class_argmax(p), p.argmax(0))
    q = torch.round(p * 3) / 3  # many ties
    assert torch.equal(class_argmax(q), q.argmax(0))


@pytest.mark.parametrize("size", [(37, 53), (90, 131)])
def test_resize_frame_matches_bilinear_interpolation(size):
    """The session's OpenCV frame resize computes F.interpolate's bilinear values."""
    from vosframe.core.inputs import resize_frame

    image = torch.rand(1, 3, 61, 87, generator=torch.Generator().manual_seed(0))
    ref = F.interpolate(image, size=size, mode="bilinear", align_corners=False)
    out = resize_frame(image, size)
    assert out.shape == ref.shape
    assert (out - ref).abs().max() < 1e-4
