"""``ReuseGate(copy_motion=True)``: a copied mask moves with the object's pixels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from toys import ToyOnline

from vosframe.core.errors import ConfigError
from vosframe.plugins.reuse_gate import ReuseGate
from vosframe.plugins.reuse_gate.cues import (
    coarse_mask,
    estimate_shift,
    image_change_cue,
    pool_image,
    shift_map,
    shift_mask,
)
from vosframe.training.gate.traces import SequenceTrace, moved_sample

pytestmark = pytest.mark.usefixtures("one_thread")

COPY = dict(variant="copy", motion_cue=True, object_cue=True, pixel_cue=True, gate_norm=False)


def _scene(pos: tuple[int, int], seed: int = 0, size=(30, 40), obj=6) -> torch.Tensor:
    """A ``(1, 3, h, w)`` textured object at ``pos`` over a fixed textured background."""
    rng = np.random.default_rng(seed)
    bg = rng.random((3, *size), dtype=np.float32)
    patch = np.random.default_rng(seed + 1).random((3, obj, obj), dtype=np.float32) + 1.0
    img = bg.copy()
    img[:, pos[0] : pos[0] + obj, pos[1] : pos[1] + obj] = patch
    return torch.from_numpy(img)[None]


def _box(pos, size=(30, 40), obj=6) -> torch.Tensor:
    m = torch.zeros(1, 1, *size)
    m[..., pos[0] : pos[0] + obj, pos[1] : pos[1] + obj] = 1.0
    return m


@pytest.mark.parametrize("move", [(2, -3), (0, 1), (-4, 4), (0, 0)])
def test_the_shift_follows_the_object_not_the_background(move):
    start = (10, 15)
    end = (start[0] + move[0], start[1] + move[1])
    assert estimate_shift(_scene(start), _scene(end), _box(start), radius=5) == move


def test_no_shift_for_an_empty_mask_a_static_frame_or_a_zero_radius():
    img = _scene((10, 15))
    assert estimate_shift(img, img, torch.zeros(1, 1, 30, 40), 5) == (0, 0)
    assert estimate_shift(img, img, _box((10, 15)), 5) == (0, 0)
    assert estimate_shift(img, _scene((12, 15)), _box((10, 15)), 0) == (0, 0)


def test_a_move_beyond_the_radius_stays_within_it():
    dy, dx = estimate_shift(_scene((5, 5)), _scene((5, 30)), _box((5, 5)), radius=3)
    assert abs(dy) <= 3 and abs(dx) <= 3


def test_shift_map_moves_and_fills_with_zeros():
    x = torch.arange(1.0, 13.0).reshape(1, 1, 3, 4)
    assert torch.equal(shift_map(x, 0, 0), x)
    assert torch.equal(
        shift_map(x, 1, -1)[0, 0], torch.tensor([[0.0, 0, 0, 0], [2, 3, 4, 0], [6, 7, 8, 0]])
    )
    assert shift_map(x, 3, 0).abs().sum() == 0 and shift_map(x, 0, -4).abs().sum() == 0
    # a mask moves by cells of the stride-4 grid
    m = _box((8, 12), size=(48, 64), obj=8)
    assert torch.equal(shift_mask(m, (1, -2)), _box((12, 4), size=(48, 64), obj=8))


def test_copy_motion_needs_the_copy_variant():
    with pytest.raises(ConfigError, match="copy_motion needs variant='copy'"):
        ReuseGate(preset="paper", variant="reuse", copy_motion=True)
    with pytest.raises(ConfigError, match="motion_radius must be >= 1"):
        ReuseGate(preset="paper", **COPY, copy_motion=True, motion_radius=0)


def _clip(n: int, step: int = 4, h: int = 48, w: int = 96):
    """A textured square moving ``step`` pixels right per frame over a textured background."""
    rng = np.random.default_rng(0)
    bg = rng.integers(0, 120, size=(h, w, 3), dtype=np.uint8)
    patch = np.random.default_rng(1).integers(130, 255, size=(12, 12, 3), dtype=np.uint8)
    frames, boxes = [], []
    for t in range(n):
        img = bg.copy()
        y, x = 16, 8 + step * t
        img[y : y + 12, x : x + 12] = patch
        box = np.zeros((h, w), bool)
        box[y : y + 12, x : x + 12] = True
        frames.append(img)
        boxes.append(box)
    return frames, boxes


def _run(copy_motion: bool, n: int = 9):
    torch.manual_seed(1)
    model = ToyOnline()
    gate = model.attach_plugin(
        ReuseGate(preset="paper", **COPY, tau=0.0, max_reuse_run=3, copy_motion=copy_motion)
    )
    frames, boxes = _clip(n)
    session = model.new_session(precision="fp32")
    session.step(frames[0], masks=boxes[0].astype(np.uint8) * 5)
    out = []
    for t in range(1, n):
        r = session.step(frames[t])
        st = session.objects[5].plugins[gate.key]
        out.append((r.paths[5].path, r.labels == 5, r.probs[5], st.shift))
    return session, boxes, frames, out


def test_copied_frames_move_the_last_computed_mask_with_the_object():
    session, boxes, frames, out = _run(copy_motion=True)
    assert [o[0] for o in out] == ["alt", "alt", "alt", "full", "alt", "alt", "alt", "full"]
    # copies of the given mask: 4 px a frame = 1 cell a frame of the stride-4 grid
    for t in (1, 2, 3):
        assert np.array_equal(out[t - 1][1], boxes[t]) and out[t - 1][3] == (0, t), t

    # copies of the (random toy model's) computed output of frame 4: each one that output
    # moved by the shift estimated from frame 4 to frame t (not chained copy to copy)
    def pooled(t):
        return pool_image(torch.from_numpy(frames[t]).permute(2, 0, 1)[None].float() / 255)

    computed = out[3][2][None, None]
    for t in (5, 6, 7):
        shift = estimate_shift(pooled(4), pooled(t), coarse_mask(computed), 8)
        assert out[t - 1][3] == shift, t
        assert torch.allclose(out[t - 1][2], shift_mask(computed, shift)[0, 0], atol=1e-6), t
    assert session.objects[5].plugins["ReuseGate"].shift == (0, 0)  # frame 8 was computed


def test_without_copy_motion_the_copy_stays_in_place():
    _, boxes, _, out = _run(copy_motion=False)
    assert [o[0] for o in out][:3] == ["alt"] * 3
    assert all(np.array_equal(o[1], boxes[0]) for o in out[:3])


def test_moved_cues_need_copy_motion_and_the_pixel_cue():
    with pytest.raises(ConfigError, match="moved_cues needs copy_motion=True and pixel_cue"):
        ReuseGate(preset="paper", **COPY, moved_cues=True)
    with pytest.raises(ConfigError, match="moved_cues needs"):
        ReuseGate(preset="paper", **{**COPY, "pixel_cue": False}, copy_motion=True, moved_cues=True)


def test_shift_map_can_fill_with_the_edge():
    x = torch.arange(1.0, 13.0).reshape(1, 1, 3, 4)
    expected = torch.tensor([[1.0, 1, 2, 3], [1, 1, 2, 3], [5, 5, 6, 7]])
    assert torch.equal(shift_map(x, 1, 1, edge=True)[0, 0], expected)


def _pixel_cues(moved_cues: bool) -> list[torch.Tensor]:
    torch.manual_seed(1)
    model = ToyOnline()
    gate = model.attach_plugin(
        ReuseGate(
            preset="paper",
            **COPY,
            tau=0.0,
            max_reuse_run=3,
            copy_motion=True,
            moved_cues=moved_cues,
        )
    )
    seen = []
    change = gate.cues.pixel_change
    gate.cues.pixel_change = lambda frame, objs: seen.append(change(frame, objs)) or seen[-1]
    frames, boxes = _clip(4)
    session = model.new_session(precision="fp32")
    session.step(frames[0], masks=boxes[0].astype(np.uint8) * 5)
    for frame in frames[1:]:
        assert session.step(frame).paths[5].path == "alt"
    return seen


def test_moved_cues_measure_the_change_beyond_the_shift():
    """The square moves rigidly over a static background: once moved, nothing changed."""
    raw, moved = _pixel_cues(False), _pixel_cues(True)
    assert len(raw) == len(moved) == 3
    floor = float(np.log(1e-3))
    for r, m in zip(raw, moved):
        assert float(r[0, 0]) > floor + 3  # the band around the old mask changed
        # the object's side of the band, moved: unchanged (float16-free fp32 pooling)
        assert float(m[0, 0]) == pytest.approx(floor, abs=1e-3)
        assert float(m[0, 1]) == pytest.approx(floor, abs=1e-3)


def test_trace_samples_target_the_moved_copy_and_read_the_moved_cue():
    """``moved_sample``: the target's copy is moved, and the pixel cue is the moved one."""
    frames, boxes = _clip(3)
    images = torch.cat(
        [pool_image(torch.from_numpy(f).permute(2, 0, 1)[None].float() / 255) for f in frames]
    )
    trace = SequenceTrace("clip", torch.zeros(3, 1, 1, 1), {}, images=images.half())
    prob = torch.from_numpy(boxes[0]).float()[None, None]
    gate = ReuseGate(preset="paper", **COPY, copy_motion=True, moved_cues=True)
    copied, pixel = moved_sample(gate, trace, 0, 2, 2, prob)
    assert torch.equal(copied, torch.from_numpy(boxes[2]).float()[None, None])
    ims = images.half().float()
    still = image_change_cue(ims[2:3], ims[0:1], coarse_mask(prob))
    assert float(still[0, 0]) > np.log(1e-3) + 3
    assert pixel is not None and float(pixel[0, 0]) == pytest.approx(np.log(1e-3), abs=1e-3)
    still = ReuseGate(preset="paper", **COPY)  # copy_motion and moved_cues off
    assert moved_sample(still, trace, 0, 2, 2, prob) == (prob, None)
