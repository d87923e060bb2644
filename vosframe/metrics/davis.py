"""Per-frame region (J) and boundary (F) measures and per-object statistics, as DAVIS does.

This is an independent implementation of ``davis2017/metrics.py`` and ``davis2017/utils.py``
from ``davisvideochallenge/davis2017-evaluation`` (commit ``ac7c43f``). It reproduces the
official numbers bit for bit (see ``tests/metrics/test_golden.py``):

* J is ``|gt & pred| / |gt | pred|`` in float64, and 1 when both masks are empty.
* F uses D. Martin's asymmetric boundary map (:func:`seg2bmap`), a tolerance disk of
  radius ``ceil(0.008 * hypot(H, W))`` taken from the *evaluated* mask's shape, ``cv2.dilate``
  and the official table for empty boundaries.
* Mean / Recall / Decay follow ``db_statistics``, including its ``uint8`` bin indices
  (see :func:`db_statistics` for the ``davis_compat`` switch).

Void pixels are not used: the semi-supervised task passes ``void_pixels=None``.
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np

from vosframe.core.errors import InputError

BOUND_TH = 0.008
"""Default boundary tolerance, as a fraction of the image diagonal (the official value)."""

DAVIS_COMPAT_MAX_FRAMES = 255
"""Longest score vector whose Decay the official ``uint8`` bin indices compute correctly."""


def boundary_radius(shape: tuple[int, ...], bound_th: float = BOUND_TH) -> int:
    """Radius in pixels of the F-measure tolerance disk for masks of ``shape``.

    Args:
        shape: ``(H, W)`` of the evaluated masks (the GT resolution, never a padded size).
        bound_th: Fraction of the image diagonal; values ``>= 1`` are a pixel count.

    Returns:
        ``ceil(bound_th * hypot(H, W))``, or ``bound_th`` itself when it is ``>= 1``.
    """
    if bound_th >= 1:
        return int(bound_th)
    return int(np.ceil(bound_th * np.linalg.norm(shape[:2])))


def disk(radius: int) -> np.ndarray:
    """Disk structuring element ``X**2 + Y**2 <= r**2`` (as ``skimage.morphology.disk``).

    Args:
        radius: Radius in pixels.

    Returns:
        ``uint8`` array of shape ``(2r + 1, 2r + 1)``.
    """
    r = int(radius)
    grid = np.arange(-r, r + 1)
    return (grid[:, None] ** 2 + grid[None, :] ** 2 <= r * r).astype(np.uint8)


def seg2bmap(seg: np.ndarray) -> np.ndarray:
    """Boundary map of a binary mask, exactly as the DAVIS / BSDS ``seg2bmap``.

    A pixel is on the boundary when it differs from its east, south or south-east
    neighbour (zero-padded). The last row only compares east neighbours, the last column
    only south neighbours, and the bottom-right pixel is never a boundary. The map is
    therefore offset by half a pixel towards the origin, and edges lying on the image
    border produce no boundary pixels.

    Args:
        seg: 2-D mask; any non-zero value is foreground.

    Returns:
        Boolean boundary map of the same shape.
    """
    seg = np.asarray(seg).astype(bool)
    if seg.ndim != 2:
        raise InputError(f"seg2bmap needs a 2-D mask, got shape {seg.shape}")
    e = np.zeros_like(seg)
    s = np.zeros_like(seg)
    se = np.zeros_like(seg)
    e[:, :-1] = seg[:, 1:]
    s[:-1, :] = seg[1:, :]
    se[:-1, :-1] = seg[1:, 1:]
    b = (seg ^ e) | (seg ^ s) | (seg ^ se)
    b[-1, :] = seg[-1, :] ^ e[-1, :]
    b[:, -1] = seg[:, -1] ^ s[:, -1]
    b[-1, -1] = False
    return b


def db_eval_iou(gt: np.ndarray, pred: np.ndarray) -> float:
    """Region similarity J of one binary mask pair (``db_eval_iou`` without void).

    Args:
        gt: Ground-truth mask (non-zero = object).
        pred: Predicted mask of the same shape.

    Returns:
        Intersection over union in float64; 1.0 when both masks are empty.
    """
    gt, pred = _check_pair(gt, pred)
    inter = int(np.count_nonzero(gt & pred))
    union = int(np.count_nonzero(gt | pred))
    return 1.0 if union == 0 else float(np.float64(inter) / np.float64(union))


def f_measure(gt: np.ndarray, pred: np.ndarray, bound_th: float = BOUND_TH) -> float:
    """Boundary measure F of one binary mask pair (``f_measure`` without void).

    Args:
        gt: Ground-truth mask (non-zero = object).
        pred: Predicted mask of the same shape.
        bound_th: Tolerance as a fraction of the diagonal of the masks' own shape.

    Returns:
        ``2PR / (P + R)`` with the official empty-boundary rules: an empty predicted
        boundary against a non-empty GT boundary gives 0, the reverse gives 0, and two
        empty boundaries give 1.
    """
    gt, pred = _check_pair(gt, pred)
    return _f_measure_bool(gt, pred, boundary_radius(gt.shape, bound_th))


def frame_scores(
    gt: np.ndarray, pred: np.ndarray, bound_th: float = BOUND_TH
) -> tuple[float, float]:
    """J and F of one binary mask pair.

    Args:
        gt: Ground-truth mask (non-zero = object).
        pred: Predicted mask of the same shape.
        bound_th: Boundary tolerance (see :func:`f_measure`).

    Returns:
        ``(J, F)`` as Python floats.
    """
    gt, pred = _check_pair(gt, pred)
    inter = int(np.count_nonzero(gt & pred))
    union = int(np.count_nonzero(gt | pred))
    j = 1.0 if union == 0 else float(np.float64(inter) / np.float64(union))
    return j, _f_measure_bool(gt, pred, boundary_radius(gt.shape, bound_th))


def _check_pair(gt: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    gt = np.asarray(gt)
    pred = np.asarray(pred)
    if gt.ndim != 2 or gt.shape != pred.shape:
        raise InputError(
            f"J/F need two 2-D masks of the same shape, got {gt.shape} and {pred.shape}; "
            "resize the prediction to the GT resolution first"
        )
    return gt.astype(bool, copy=False), pred.astype(bool, copy=False)


def _f_measure_bool(gt: np.ndarray, pred: np.ndarray, radius: int) -> float:
    """F on boolean masks, computed inside the bounding box of ``gt | pred``.

    Every boundary pixel of either mask lies in that box grown by one pixel, and
    ``seg2bmap`` of the cropped masks equals the full map restricted to the crop (rows and
    columns beyond the box are background, and the image-border rules still apply where
    the crop touches the border). Dilating inside the crop is exact too, since both
    boundaries are zero outside it. The counts, and so F, are identical to the full-image
    computation; only the cost shrinks.
    """
    union = gt | pred
    rows = np.flatnonzero(union.any(axis=1))
    if rows.size == 0:
        return 1.0  # both boundaries empty
    cols = np.flatnonzero(union.any(axis=0))
    h, w = gt.shape
    r0, r1 = max(rows[0] - 1, 0), min(rows[-1] + 2, h)
    c0, c1 = max(cols[0] - 1, 0), min(cols[-1] + 2, w)  # clamped: border rules still apply
    gt_b = _bmap_crop(gt, r0, r1, c0, c1)
    fg_b = _bmap_crop(pred, r0, r1, c0, c1)
    n_fg = int(np.count_nonzero(fg_b))
    n_gt = int(np.count_nonzero(gt_b))
    if n_fg == 0 and n_gt > 0:
        precision, recall = 1.0, 0.0
    elif n_fg > 0 and n_gt == 0:
        precision, recall = 0.0, 1.0
    elif n_fg == 0 and n_gt == 0:
        precision, recall = 1.0, 1.0
    else:
        kernel = disk(radius)
        fg_dil = cv2.dilate(fg_b.view(np.uint8), kernel)
        gt_dil = cv2.dilate(gt_b.view(np.uint8), kernel)
        fg_match = int(np.count_nonzero(fg_b & gt_dil.view(bool)))
        gt_match = int(np.count_nonzero(gt_b & fg_dil.view(bool)))
        precision = fg_match / float(n_fg)
        recall = gt_match / float(n_gt)
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def _bmap_crop(mask: np.ndarray, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
    """``seg2bmap(mask)[r0:r1, c0:c1]`` given that ``mask`` is empty outside the crop."""
    return np.ascontiguousarray(seg2bmap(mask[r0:r1, c0:c1]))


def db_statistics(
    values: np.ndarray | list[float], davis_compat: bool = True
) -> tuple[float, float, float]:
    """Mean, Recall and Decay of a per-frame score vector (``utils.db_statistics``).

    * Mean: ``nanmean(v)``.
    * Recall: ``nanmean(v > 0.5)`` (strict: 0.5 does not count; NaN counts as a miss).
    * Decay: four bins over the frames whose edges come from
      ``round(linspace(1, N, 5) + 1e-10) - 1``; neighbouring bins share their edge frame;
      ``D = nanmean(first bin) - nanmean(last bin)``.

    Args:
        values: Per-frame J or F of one object.
        davis_compat: Reproduce the official code's ``uint8`` bin indices. They overflow
            for ``N >= 256`` frames, which makes Decay NaN or wrong there (DAVIS never has
            such long sequences). With ``False`` the indices are exact integers and Decay is
            correct for any length; for ``N <= 255`` both settings give identical results.

    Returns:
        ``(M, O, D)`` as Python floats (NaN where the official code gives NaN).

    Raises:
        InputError: ``values`` is empty or not one-dimensional.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or v.size == 0:
        raise InputError(f"db_statistics needs a non-empty 1-D vector, got shape {v.shape}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        mean = np.nanmean(v)
        recall = np.nanmean(v > 0.5)
        ids = np.round(np.linspace(1, len(v), 5) + 1e-10) - 1
        ids = ids.astype(np.uint8) if davis_compat else ids.astype(np.int64)
        bins = [v[ids[i] : ids[i + 1] + 1] for i in range(4)]
        decay = np.nanmean(bins[0]) - np.nanmean(bins[3])
    return float(mean), float(recall), float(decay)


def decay_bins(n: int, davis_compat: bool = True) -> list[tuple[int, int]]:
    """Inclusive ``(first, last)`` frame indices of the four Decay bins for ``n`` frames.

    Args:
        n: Number of evaluated frames (``>= 1``).
        davis_compat: See :func:`db_statistics`.

    Returns:
        Four ``(start, stop)`` pairs with ``stop`` inclusive, as the official slicing uses.
    """
    if n < 1:
        raise InputError(f"decay_bins needs n >= 1, got {n}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        ids = np.round(np.linspace(1, n, 5) + 1e-10) - 1
        ids = ids.astype(np.uint8) if davis_compat else ids.astype(np.int64)
    return [(int(ids[i]), int(ids[i + 1])) for i in range(4)]
