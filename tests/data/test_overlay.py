"""Overlay rendering and writers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vosframe.core.errors import InputError
from vosframe.data import (
    davis_palette,
    open_frames,
    overlay,
    read_frame,
    write_overlay_frames,
    write_overlay_video,
)


def _scene(t: int = 0) -> tuple[np.ndarray, np.ndarray]:
    frame = np.full((40, 64, 3), 100, np.uint8)
    mask = np.zeros((40, 64), np.uint8)
    mask[5:25, 5 + t : 25 + t] = 1
    mask[28:38, 40:60] = 2
    return frame, mask


def test_overlay_blends_object_colours_only() -> None:
    frame, mask = _scene()
    out = overlay(frame, mask, alpha=0.5, contour=False)
    np.testing.assert_array_equal(out[mask == 0], frame[mask == 0])
    expected = np.rint(0.5 * 100 + 0.5 * davis_palette()[1].astype(float))
    np.testing.assert_array_equal(out[10, 10], expected)
    with_contour = overlay(frame, mask)
    np.testing.assert_array_equal(with_contour[5, 5], davis_palette()[1])  # outline colour
    np.testing.assert_array_equal(with_contour[15, 15], out[15, 15])  # interior unchanged


def test_overlay_input_errors() -> None:
    frame, mask = _scene()
    with pytest.raises(InputError, match="resize the mask"):
        overlay(frame, mask[:20])
    with pytest.raises(InputError, match="RGB uint8"):
        overlay(frame.astype(np.float32), mask)
    with pytest.raises(InputError, match="alpha"):
        overlay(frame, mask, alpha=2.0)


def test_write_overlay_frames_and_video(tmp_path: Path) -> None:
    scenes = [_scene(t) for t in range(5)]
    frames, masks = [s[0] for s in scenes], [s[1] for s in scenes]
    paths = write_overlay_frames(tmp_path / "png", frames, masks, names=[f"f{t}" for t in range(5)])
    assert [p.name for p in paths] == [f"f{t}.png" for t in range(5)]
    np.testing.assert_array_equal(read_frame(paths[2]), overlay(frames[2], masks[2]))
    video = write_overlay_video(tmp_path / "out" / "overlay.mp4", frames, masks, fps=5)
    decoded = list(open_frames(video))
    assert len(decoded) == 5 and decoded[0].shape == (40, 64, 3)
    with pytest.raises(InputError, match="one mask per frame"):
        write_overlay_frames(tmp_path / "bad", frames, masks[:3])
    with pytest.raises(InputError, match="no frame"):
        write_overlay_video(tmp_path / "empty.mp4", [], [])
