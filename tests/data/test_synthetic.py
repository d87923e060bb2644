"""Synthetic clips: reproducibility, exact masks, motion modes, default clip."""

from __future__ import annotations

import numpy as np
import pytest

from vosframe.core.errors import InputError
from vosframe.data import (
    JUMP_MAX_IOU,
    STATIC_MIN_IOU,
    SyntheticClipGenerator,
    davis_palette,
    default_clip,
    generate_clip,
)
from vosframe.data.textures import available_photos


def test_same_seed_same_clip_and_different_seed_differs() -> None:
    a = generate_clip(7, height=64, width=96, num_frames=6)
    b = generate_clip(7, height=64, width=96, num_frames=6)
    c = generate_clip(8, height=64, width=96, num_frames=6)
    np.testing.assert_array_equal(a.frames, b.frames)
    np.testing.assert_array_equal(a.masks, b.masks)
    assert a.motion == b.motion
    assert not np.array_equal(a.frames, c.frames)


def test_flat_masks_align_exactly_with_moved_pixels() -> None:
    gen = SyntheticClipGenerator(
        height=72,
        width=120,
        num_frames=10,
        min_objects=3,
        max_objects=3,
        textures="flat",
        background="flat",
    )
    clip = gen.generate(3)
    palette = davis_palette()
    for frame, labels in zip(clip.frames, clip.masks):
        for k in range(4):  # background is black, object k has palette colour k
            colour_match = (frame == palette[k]).all(axis=-1)
            np.testing.assert_array_equal(colour_match, labels == k)


def test_photo_masks_align_with_layers() -> None:
    clip = SyntheticClipGenerator(height=64, width=96, num_frames=8, max_objects=3).generate(
        11, with_layers=True
    )
    for t in range(len(clip)):
        labels, frame = clip.masks[t], clip.frames[t]
        np.testing.assert_array_equal(frame[labels == 0], clip.backgrounds[t][labels == 0])
        for k in range(clip.num_objects):
            sel = labels == k + 1
            np.testing.assert_array_equal(frame[sel], clip.layers[t, k][sel])
            assert not (sel & ~clip.full_masks[t, k]).any()  # visible part of the full mask


def test_motion_modes_give_the_claimed_iou() -> None:
    static_seen = jump_seen = occluded = 0
    for seed in range(12):
        clip = SyntheticClipGenerator(height=96, width=160, num_frames=24).generate(seed)
        iou = clip.iou_to_previous()
        modes = np.array(clip.motion)
        assert modes[0] == "start"
        assert (clip.visible_fraction[0] >= 0.6).all()  # every object well visible at t = 0
        if (modes == "static").any():
            assert np.nanmin(iou[modes == "static"]) >= STATIC_MIN_IOU
            static_seen += 1
        if (modes == "jump").any():
            assert np.nanmax(iou[modes == "jump"]) <= JUMP_MAX_IOU
            jump_seen += 1
        normal = iou[modes == "normal"]
        assert np.nanmean(normal) < 0.99  # normal frames really move
        occluded += bool((clip.visible_fraction < 0.9).any())
    assert static_seen == jump_seen == 12  # mixed mode always has both
    assert occluded >= 1


def test_static_and_jump_only_modes() -> None:
    static = generate_clip(1, height=64, width=96, num_frames=6, motion="static")
    assert np.nanmin(static.iou_to_previous()[1:]) >= STATIC_MIN_IOU
    jump = generate_clip(1, height=96, width=160, num_frames=6, motion="jump", max_objects=2)
    assert np.nanmax(jump.iou_to_previous()[1:]) <= JUMP_MAX_IOU


def test_default_clip() -> None:
    clip = default_clip()
    assert len(clip) == 40 and clip.num_objects == 2
    assert clip.frames.shape[1:3] == clip.masks.shape[1:] and clip.frames.shape[1] <= 480
    assert set(np.unique(clip.masks[0])) == {0, 1, 2}
    assert "static" in clip.motion and "jump" in clip.motion
    np.testing.assert_array_equal(default_clip().frames[::13], clip.frames[::13])


def test_offline_sources_and_config_errors() -> None:
    assert len(available_photos()) >= 5
    with pytest.raises(InputError):
        SyntheticClipGenerator(num_frames=5, schedule=("start", "normal"))
    with pytest.raises(InputError):
        SyntheticClipGenerator(min_objects=3, max_objects=2)
    with pytest.raises(InputError):
        generate_clip(0, motion="wobbly", num_frames=3)
