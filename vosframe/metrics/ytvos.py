"""YouTube-VOS style evaluation: **unofficial**, the project's own convention.

The official YouTube-VOS figures come from the CodaLab server, whose code is not public, so
they cannot be reproduced exactly. This mode scores a split for which you hold the GT (for
example videos held out of ``train``) with these rules:

* Objects and their categories come from ``meta.json``; each object is scored from its own
  first frame on, on the frames ``meta.json`` lists for it (the "required" frames) that have
  a GT PNG. Its first frame (where its mask is given) is not scored; the last frame is.
* GT and predictions are indexed PNGs with the meta's object ids; GT label 255 is void
  (set to background). A predicted label that is not an object of the video is an error.
* J and F per frame are the DAVIS ones (:mod:`vosframe.metrics.davis`); Mean / Recall /
  Decay use exact bin indices (``davis_compat=False``: videos can exceed 255 frames).
* Figures: ``J_seen``/``F_seen`` and ``J_unseen``/``F_unseen`` are means over the objects of
  seen / unseen categories, ``Overall`` the mean of the available ones among the four.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import attrs
import numpy as np

from vosframe.core.errors import DataError, InputError
from vosframe.data.datasets import ObjectInfo
from vosframe.data.frames import natural_key
from vosframe.data.masks import VOID_LABEL, list_masks, read_label_png
from vosframe.data.youtube_vos import load_youtube_vos_meta
from vosframe.metrics.davis import BOUND_TH, frame_scores
from vosframe.metrics.results import EvaluationResult, ObjectScores

YTVOS_KEYS: tuple[str, ...] = ("Overall", "J_seen", "F_seen", "J_unseen", "F_unseen")
"""Keys of :meth:`YouTubeVOSResult.figures`."""


def score_video(
    name: str,
    gt: Mapping[str, np.ndarray],
    pred: Mapping[str, np.ndarray],
    objects: Mapping[int, ObjectInfo],
    *,
    bound_th: float = BOUND_TH,
) -> list[ObjectScores]:
    """Score one video's objects (in memory) with the YouTube-VOS convention above.

    Args:
        name: Video name.
        gt: GT label maps keyed by frame name (the annotated frames).
        pred: Predicted label maps keyed by frame name (at least every scored frame).
        objects: The video's objects from ``meta.json``.
        bound_th: Boundary tolerance of F.

    Returns:
        One :class:`ObjectScores` per object that has at least one scored frame.

    Raises:
        InputError: A scored frame has no prediction, a shape differs, or a prediction
            holds a label that is not an object of the video.
    """
    ids = set(objects)
    checked: set[str] = set()
    results = []
    for obj in sorted(objects.values(), key=lambda o: o.object_id):
        frames = [f for f in obj.frames[1:] if f in gt]
        if not frames:
            continue
        j_list, f_list = [], []
        for frame in frames:
            if frame not in pred:
                raise InputError(f"video {name}: no prediction for required frame {frame}")
            g, p = np.asarray(gt[frame]), np.asarray(pred[frame])
            if g.shape != p.shape:
                raise InputError(
                    f"video {name} frame {frame}: prediction is {p.shape[1]}x{p.shape[0]} but the "
                    f"GT is {g.shape[1]}x{g.shape[0]}; predict at the original resolution"
                )
            if frame not in checked:
                extra = sorted(set(np.unique(p).tolist()) - ids - {0})
                if extra:
                    raise InputError(
                        f"video {name} frame {frame}: prediction has label(s) {extra} that are "
                        f"not objects of the video (ids {sorted(ids)})"
                    )
                checked.add(frame)
            g = np.where(g == VOID_LABEL, 0, g)
            j, f = frame_scores(g == obj.object_id, p == obj.object_id, bound_th)
            j_list.append(j)
            f_list.append(f)
        results.append(
            ObjectScores.from_frames(
                name, obj.object_id, frames, j_list, f_list, False, obj.category
            )
        )
    return results


@attrs.frozen(eq=False)
class YouTubeVOSResult:
    """Scores of a YouTube-VOS style evaluation.

    Attributes:
        result: Per-object scores (with categories).
        seen_categories: Categories counted as seen; ``None`` counts every object as seen.
    """

    result: EvaluationResult
    seen_categories: frozenset[str] | None = None

    def is_seen(self, obj: ObjectScores) -> bool:
        """Whether an object belongs to a seen category."""
        return self.seen_categories is None or obj.category in self.seen_categories

    def figures(self) -> dict[str, float]:
        """``Overall``, ``J_seen``, ``F_seen``, ``J_unseen``, ``F_unseen`` (fractions; NaN
        for a group without objects; ``Overall`` averages the non-NaN ones)."""
        seen = [o for o in self.result.objects if self.is_seen(o)]
        unseen = [o for o in self.result.objects if not self.is_seen(o)]

        def mean(values: list[float]) -> float:
            return float(np.mean(values)) if values else float("nan")

        out = {
            "J_seen": mean([o.J_mean for o in seen]),
            "F_seen": mean([o.F_mean for o in seen]),
            "J_unseen": mean([o.J_mean for o in unseen]),
            "F_unseen": mean([o.F_mean for o in unseen]),
        }
        parts = [v for v in out.values() if not math.isnan(v)]
        return {"Overall": mean(parts), **out}


def evaluate_youtube_vos(
    gt_dir: str | Path,
    pred_dir: str | Path,
    meta_path: str | Path,
    *,
    seen_categories: Collection[str] | None = None,
    videos: Sequence[str] | None = None,
    bound_th: float = BOUND_TH,
) -> YouTubeVOSResult:
    """Evaluate YouTube-VOS style predictions (unofficial; see the module docs).

    Args:
        gt_dir: ``<gt>/<vid>/<frame>.png`` (or a split folder holding ``Annotations/``).
        pred_dir: ``<pred>/<vid>/<frame>.png`` (or a folder holding ``Annotations/``, as a
            submission zip unpacks).
        meta_path: ``meta.json`` with each object's category and required frames.
        seen_categories: Categories seen in training (others are unseen); ``None`` = all seen.
        videos: Videos to score (default: every video of the meta file).
        bound_th: Boundary tolerance of F.

    Returns:
        The per-object scores and the seen/unseen split.

    Raises:
        DataError: Missing folders or files, unreadable masks, or bad predictions.
    """
    meta = load_youtube_vos_meta(meta_path)
    gt_root, pred_root = _annotations(gt_dir, "GT"), _annotations(pred_dir, "prediction")
    names = list(meta) if videos is None else list(videos)
    unknown = [v for v in names if v not in meta]
    if unknown:
        raise InputError(f"videos {unknown[:5]} are not in {meta_path}")
    objects: list[ObjectScores] = []
    for vid in names:
        gt = {p.stem: read_label_png(p)[0] for p in list_masks(gt_root / vid)}
        needed = sorted(
            {f for o in meta[vid].values() for f in o.frames[1:] if f in gt}, key=natural_key
        )
        pred = {}
        for frame in needed:
            path = pred_root / vid / f"{frame}.png"
            if not path.is_file():
                raise DataError(
                    f"prediction {path} is missing; write every required frame of meta.json"
                )
            pred[frame] = read_label_png(path)[0]
        try:
            objects += score_video(vid, gt, pred, meta[vid], bound_th=bound_th)
        except InputError as exc:
            raise DataError(f"{exc} (predictions in {pred_root / vid})") from None
    seen = None if seen_categories is None else frozenset(seen_categories)
    return YouTubeVOSResult(EvaluationResult(tuple(objects)), seen)


def _annotations(path: str | Path, what: str) -> Path:
    root = Path(path)
    if not root.is_dir():
        raise DataError(f"{what} folder {root} does not exist; check the path")
    return root / "Annotations" if (root / "Annotations").is_dir() else root


def categories_of(meta_path: str | Path) -> frozenset[str]:
    """All categories named in a ``meta.json`` (e.g. the training meta: the seen ones)."""
    meta = load_youtube_vos_meta(meta_path)
    return frozenset(o.category for objs in meta.values() for o in objs.values() if o.category)
