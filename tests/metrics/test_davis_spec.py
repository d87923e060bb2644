"""Spec unit tests of the per-frame measures and statistics (as the official
davis2017-evaluation code)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from skimage.morphology import disk as sk_disk

from vosframe.core.errors import InputError
from vosframe.metrics import (
    boundary_radius,
    db_eval_iou,
    db_statistics,
    decay_bins,
    disk,
    f_measure,
    frame_scores,
    seg2bmap,
)


def _grid(text: str) -> np.ndarray:
    return np.array([[int(c) for c in row.split()] for row in text.strip().splitlines()], bool)


SQUARE_5x5 = """
0 0 0 0 0
0 1 1 0 0
0 1 1 0 0
0 0 0 0 0
0 0 0 0 0
"""
SQUARE_5x5_BMAP = """
1 1 1 0 0
1 0 1 0 0
1 1 1 0 0
0 0 0 0 0
0 0 0 0 0
"""
BOTTOM_RIGHT_5x5 = """
0 0 0 0 0
0 0 0 0 0
0 0 0 0 0
0 0 0 1 1
0 0 0 1 1
"""
BOTTOM_RIGHT_5x5_BMAP = """
0 0 0 0 0
0 0 0 0 0
0 0 1 1 1
0 0 1 0 0
0 0 1 0 0
"""
TOP_LEFT_6x7 = """
1 1 1 0 0 0 0
1 1 1 0 0 0 0
0 0 0 0 0 0 0
0 0 0 0 0 0 0
0 0 0 0 0 0 0
0 0 0 0 0 0 0
"""
TOP_LEFT_6x7_BMAP = """
0 0 1 0 0 0 0
1 1 1 0 0 0 0
0 0 0 0 0 0 0
0 0 0 0 0 0 0
0 0 0 0 0 0 0
0 0 0 0 0 0 0
"""


@pytest.mark.parametrize(
    ("seg", "expected"),
    [
        (SQUARE_5x5, SQUARE_5x5_BMAP),  # offset by half a pixel towards the origin
        (BOTTOM_RIGHT_5x5, BOTTOM_RIGHT_5x5_BMAP),  # edges on the border give no boundary
        (TOP_LEFT_6x7, TOP_LEFT_6x7_BMAP),
    ],
)
def test_seg2bmap_hand_made(seg: str, expected: str) -> None:
    np.testing.assert_array_equal(seg2bmap(_grid(seg)), _grid(expected))


def test_seg2bmap_full_and_empty() -> None:
    assert not seg2bmap(np.zeros((4, 6), bool)).any()
    full = seg2bmap(np.ones((4, 6), bool))
    # only the east/south zero padding differs; the last row/column rules remove it
    assert not full[-1].any() and not full[:, -1].any()


@pytest.mark.parametrize(
    ("shape", "radius", "side", "pixels"),
    [
        ((480, 854), 8, 17, 197),
        ((480, 864), 8, 17, None),
        ((480, 910), 9, 19, None),
        ((720, 1280), 12, 25, None),
        ((1080, 1920), 18, 37, None),
        ((240, 427), 4, 9, None),
    ],
)
def test_disk_radius_table(shape, radius, side, pixels) -> None:
    assert boundary_radius(shape) == radius
    kernel = disk(radius)
    assert kernel.shape == (side, side)
    if pixels is not None:
        assert int(kernel.sum()) == pixels


def test_bound_th_in_pixels_and_disk_matches_skimage() -> None:
    assert boundary_radius((480, 854), 3) == 3
    for r in range(0, 20):
        np.testing.assert_array_equal(disk(r), sk_disk(r).astype(np.uint8))


def test_empty_boundary_table_and_empty_j() -> None:
    empty = np.zeros((20, 30), bool)
    obj = empty.copy()
    obj[5:10, 5:12] = True
    assert f_measure(gt=obj, pred=empty) == 0.0  # P = 1, R = 0
    assert f_measure(gt=empty, pred=obj) == 0.0  # P = 0, R = 1
    assert f_measure(gt=empty, pred=empty) == 1.0  # P = R = 1
    assert db_eval_iou(empty, empty) == 1.0
    assert db_eval_iou(obj, empty) == 0.0
    assert frame_scores(obj, obj) == (1.0, 1.0)


def _reference_f(fg: np.ndarray, gt: np.ndarray, bound_th: float = 0.008) -> float:
    """Line-by-line transcription of the official ``f_measure`` (full image, cv2.dilate)."""
    bound_pix = bound_th if bound_th >= 1 else np.ceil(bound_th * np.linalg.norm(fg.shape))
    fg_b, gt_b = seg2bmap(fg), seg2bmap(gt)
    kernel = sk_disk(bound_pix).astype(np.uint8)
    fg_dil = cv2.dilate(fg_b.astype(np.uint8), kernel)
    gt_dil = cv2.dilate(gt_b.astype(np.uint8), kernel)
    gt_match, fg_match = gt_b * fg_dil, fg_b * gt_dil
    n_fg, n_gt = np.sum(fg_b), np.sum(gt_b)
    if n_fg == 0 and n_gt > 0:
        p, r = 1, 0
    elif n_fg > 0 and n_gt == 0:
        p, r = 0, 1
    elif n_fg == 0 and n_gt == 0:
        p, r = 1, 1
    else:
        p, r = np.sum(fg_match) / float(n_fg), np.sum(gt_match) / float(n_gt)
    return 0 if p + r == 0 else 2 * p * r / (p + r)


def test_cropped_f_equals_full_image_reference() -> None:
    rng = np.random.default_rng(0)
    for _ in range(400):
        h, w = (int(v) for v in rng.integers(2, 40, 2))
        masks = []
        for _ in range(2):
            kind = rng.integers(0, 3)
            m = np.zeros((h, w), bool)
            if kind == 1:
                m = rng.random((h, w)) < rng.random()
            elif kind == 2:
                y0, x0 = rng.integers(0, h), rng.integers(0, w)
                m[y0 : rng.integers(y0, h + 1) + 1, x0 : rng.integers(x0, w + 1) + 1] = True
            masks.append(m)
        gt, pred = masks
        for bound_th in (0.008, 0.1, 2):
            assert f_measure(gt, pred, bound_th) == _reference_f(pred, gt, bound_th)


def test_shape_mismatch_is_an_error() -> None:
    with pytest.raises(InputError, match="same shape"):
        frame_scores(np.zeros((4, 4)), np.zeros((4, 5)))


def test_recall_is_strict() -> None:
    mean, recall, _ = db_statistics([0.5, 0.5, 0.51, 1.0])
    assert recall == 0.5
    assert mean == pytest.approx(0.6275)
    assert db_statistics([np.nan, 1.0, 1.0])[1] == pytest.approx(2 / 3)  # NaN is a miss


@pytest.mark.parametrize(
    ("n", "bins"),
    [
        (1, [(0, 0)] * 4),
        (2, [(0, 0), (0, 1), (1, 1), (1, 1)]),
        (3, [(0, 1), (1, 1), (1, 2), (2, 2)]),
        (4, [(0, 1), (1, 2), (2, 2), (2, 3)]),
        (5, [(0, 1), (1, 2), (2, 3), (3, 4)]),
        (38, [(0, 9), (9, 19), (19, 28), (28, 37)]),
        (48, [(0, 12), (12, 24), (24, 35), (35, 47)]),
        (98, [(0, 24), (24, 49), (49, 73), (73, 97)]),
    ],
)
def test_decay_bins(n: int, bins: list[tuple[int, int]]) -> None:
    assert decay_bins(n) == bins
    v = np.linspace(1.0, 0.0, n)
    first, last = bins[0], bins[3]
    expected = v[first[0] : first[1] + 1].mean() - v[last[0] : last[1] + 1].mean()
    assert db_statistics(v)[2] == pytest.approx(expected, abs=1e-15)


def test_decay_uint8_quirk_is_opt_out() -> None:
    v = np.linspace(1.0, 0.0, 300)
    assert math.isnan(db_statistics(v, davis_compat=True)[2])  # the official overflow
    bins = decay_bins(300, davis_compat=False)
    expected = v[bins[0][0] : bins[0][1] + 1].mean() - v[bins[3][0] : bins[3][1] + 1].mean()
    assert db_statistics(v, davis_compat=False)[2] == pytest.approx(expected)
    short = np.random.default_rng(1).random(255)
    assert db_statistics(short, True) == db_statistics(short, False)


def test_statistics_need_values() -> None:
    with pytest.raises(InputError):
        db_statistics([])
