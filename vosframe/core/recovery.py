"""No object lost for good: per-object track status and re-detection from the first frame.

The engine hands every object whose mask it computed on a frame to :class:`Recovery`,
which keeps a small state machine per object (:class:`~vosframe.core.state.TrackState`):

* **Collapse.** An object is *lost* when its new mask (pixels ``> 0.5``, before
  aggregation) covers fewer than ``max(min_pixels, collapse_ratio * reference)`` pixels,
  where the reference is the median area of its last ``history`` tracked frames (the given
  mask's area to begin with). Lost frames do not feed the reference.
* **Re-detection.** While an object is lost (every ``every``-th lost frame) its
  localizer scores the *whole* frame from the object's first-frame snapshot only
  (:meth:`~vosframe.core.stages.TargetLocalizer.redetect` on the
  :meth:`~vosframe.core.stages.TargetLocalizer.redetect_anchor` taken at init), and the
  refiner turns that score into a mask on the frame's features. The candidate is the
  connected component with the largest probability mass.
* **Re-entry**, gated on confidence so that an object that truly left stays lost
  quietly: the candidate's mean probability must reach ``confidence``, its area must lie
  within ``area_range`` times the reference, and ``confirm`` consecutive candidates must
  lie within one object size (square root of the reference area) of each other. Then the
  candidate replaces the object's collapsed mask (status *refound*) and, with ``reinit``,
  the object's localizer state is rebuilt from the re-found mask as if it had been given
  on this frame (its adapted state had learned the object's absence). The first-frame
  snapshot is kept, so a later loss is re-detected from the same appearance.
* An object whose own mask grows back above ``recover_ratio * reference`` is *refound*
  without re-detection.

The path-deciding plugin keeps its say: re-detection runs only on frames whose features
were all computed (some object took the full path), never resumes a feature extractor the
plugin stopped at its cut, and a lost object whose last mask is kept is not checked.

Everything here changes outputs only for lost objects: while every object is tracked,
the engine's outputs are the same tensors as without recovery. Design notes, thresholds
and costs: ``docs/robustness.md``.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import cv2
import numpy as np
import torch

from vosframe.core.errors import InputError
from vosframe.core.state import FrameState, ObjectState


def _check_policy(inst: RecoveryPolicy, *_: Any) -> None:
    lo, hi = inst.area_range
    ok = (
        0 <= inst.collapse_ratio < 1
        and inst.collapse_ratio <= inst.recover_ratio
        and inst.min_pixels >= 0
        and inst.history >= 1
        and 0 <= inst.confidence <= 1
        and 0 < lo <= 1 <= hi
        and inst.confirm >= 1
        and inst.every >= 1
        and inst.slow_after >= 0
        and inst.slow_every >= 1
    )
    if not ok:
        raise InputError(
            f"invalid recovery policy {inst!r}. Fix: 0 <= collapse_ratio <= recover_ratio, "
            f"collapse_ratio < 1, min_pixels >= 0, history >= 1, 0 <= confidence <= 1, "
            f"area_range = (lo, hi) with 0 < lo <= 1 <= hi, confirm >= 1, every >= 1, "
            f"slow_after >= 0, slow_every >= 1."
        )


@attrs.frozen
class RecoveryPolicy:
    """Thresholds of lost-object detection and re-detection (module notes).

    Attributes:
        redetect: Re-detect lost objects from their first-frame appearance (False: only
            report statuses; outputs are then the base model's).
        collapse_ratio: Lost below this fraction of the reference area.
        min_pixels: Lost below this many pixels whatever the reference.
        recover_ratio: A lost object whose own mask is back above this fraction of the
            reference is re-found.
        history: Tracked frames whose median area is the reference.
        confidence: Least mean foreground probability of a re-detected component.
        area_range: ``(lo, hi)``: a re-detected component's area must lie within
            ``[lo, hi]`` times the reference.
        confirm: Consecutive confident re-detections (in the same place) needed.
        every: Re-detect on every this-many-th lost frame (1: every lost frame).
        slow_after: After this many lost frames, re-detect only on every ``slow_every``-th
            lost frame: an object that left the video for good then costs a re-detection
            on a fraction of the frames instead of on every one, while one hidden for a
            short while is looked for at every ``every``-th frame.
        slow_every: The interval of the slow phase (see ``slow_after``).
        reinit: Rebuild the localizer state from a re-detected mask.
    """

    redetect: bool = True
    collapse_ratio: float = 0.1
    min_pixels: int = 10
    recover_ratio: float = 0.25
    history: int = 10
    confidence: float = 0.8
    area_range: tuple[float, float] = attrs.field(default=(0.25, 4.0), converter=tuple)
    confirm: int = 2
    every: int = 1
    slow_after: int = 25
    slow_every: int = 5
    reinit: bool = True

    def due(self, lost_for: int) -> bool:
        """True if an object lost for ``lost_for`` frames (1 on its first lost frame) is
        re-detected on this frame."""
        if lost_for <= self.slow_after:
            return (lost_for - 1) % self.every == 0
        return (lost_for - self.slow_after - 1) % self.slow_every == 0

    def __attrs_post_init__(self) -> None:
        _check_policy(self)

    @classmethod
    def of(cls, value: RecoveryPolicy | Mapping[str, Any] | bool | None) -> RecoveryPolicy:
        """The policy a session option names: a policy, a dict of its fields, True (the
        defaults) or False/None (statuses only, no re-detection).

        Raises:
            InputError: Another type, an unknown field, or invalid thresholds.
        """
        if isinstance(value, RecoveryPolicy):
            return value
        if value is True:
            return cls()
        if value is False or value is None:
            return cls(redetect=False)
        if isinstance(value, Mapping):
            names = {a.name for a in attrs.fields(cls)}
            unknown = sorted(set(value) - names)
            if unknown:
                raise InputError(
                    f"unknown recovery option(s) {unknown}; options are {sorted(names)}"
                )
            return cls(**value)
        raise InputError(
            f"recovery must be True, False, None, a dict or a RecoveryPolicy, got "
            f"{type(value).__name__}. Fix: e.g. recovery=dict(confidence=0.9)."
        )


@attrs.define
class Candidate:
    """A re-detected mask of one object.

    Attributes:
        probs: ``(1, 1, H, W)`` the refiner's probabilities kept on the chosen component.
        area: Pixels of the component.
        confidence: Mean probability over the component.
        center: ``(y, x)`` centroid of the component.
    """

    probs: torch.Tensor
    area: int
    confidence: float
    center: tuple[float, float]


def best_component(probs: torch.Tensor) -> Candidate | None:
    """The 8-connected component of ``probs > 0.5`` with the largest probability mass.

    Args:
        probs: ``(1, 1, H, W)`` foreground probabilities.

    Returns:
        The component (probabilities zeroed outside it), or None for an empty mask.
    """
    p = probs[0, 0].float().cpu().numpy()
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(
        (p > 0.5).astype(np.uint8), connectivity=8
    )
    if count <= 1:
        return None
    mass = np.bincount(labels.ravel(), weights=p.ravel(), minlength=count)
    mass[0] = -1.0
    k = int(mass.argmax())
    area = int(stats[k, cv2.CC_STAT_AREA])
    keep = torch.from_numpy(labels == k).to(probs.device)
    out = torch.where(keep, probs[0, 0].float(), torch.zeros((), device=probs.device))
    cx, cy = centroids[k]
    return Candidate(out[None, None], area, float(mass[k]) / area, (float(cy), float(cx)))


class Recovery:
    """Runs the policy for one engine (module notes); holds no per-video state.

    Args:
        model: The base model (its localizer re-detects, its refiner makes the mask).
        policy: The thresholds.
    """

    def __init__(self, model: Any, policy: RecoveryPolicy) -> None:
        self.model = model
        self.policy = policy

    # ------------------------------------------------------------------ lifecycle
    def start(self, obj: ObjectState, mask: torch.Tensor) -> None:
        """Begin an object's bookkeeping from its given mask (after the localizer init)."""
        obj.track.areas = deque(maxlen=self.policy.history)
        obj.track.areas.append(int((mask > 0.5).sum()))
        if self.policy.redetect:
            obj.track.anchor = self.model.localizer.redetect_anchor(obj.localizer)

    def carry(self, obj: ObjectState) -> None:
        """An object whose mask was not computed on this frame (kept by a plugin)."""
        if obj.track.status == "refound":
            obj.track.status = "tracked"

    def reference(self, obj: ObjectState) -> float:
        """The object's reference area (median of its recent tracked areas)."""
        return float(statistics.median(obj.track.areas)) if obj.track.areas else 0.0

    # ------------------------------------------------------------------ per frame
    def check(
        self, frame: FrameState, objects: Sequence[ObjectState], probs: torch.Tensor
    ) -> tuple[torch.Tensor, list[int]]:
        """Update the statuses of objects whose masks were computed; re-detect lost ones.

        Args:
            frame: The frame (re-detection runs only when all its features were computed).
            objects: The objects, in the order of ``probs``.
            probs: ``(N, 1, H, W)`` their new foreground probabilities (after the
                plugins' filters, before aggregation).

        Returns:
            The probabilities to aggregate (``probs`` itself unless an object was re-found
            by re-detection) and the indices of the objects re-found by re-detection.
        """
        p = self.policy
        areas = (probs > 0.5).flatten(1).sum(1).tolist() if objects else []
        redetect: list[int] = []
        for i, (obj, area) in enumerate(zip(objects, areas)):
            tr = obj.track
            ref = self.reference(obj)
            if tr.status != "lost":
                if area >= max(p.min_pixels, p.collapse_ratio * ref):
                    tr.status = "tracked"
                    tr.areas.append(int(area))
                    continue
                tr.status, tr.lost_for, tr.confirmations, tr.candidate = "lost", 0, 0, None
            elif area >= max(p.min_pixels, p.recover_ratio * ref):
                tr.status, tr.lost_for = "refound", 0
                tr.areas.append(int(area))
                continue
            tr.lost_for += 1
            if p.redetect and tr.anchor is not None and p.due(tr.lost_for):
                redetect.append(i)
        complete = len(frame.features.maps) >= len(self.model.feature_extractor.levels)
        if not redetect or not complete:
            return probs, []
        found = self._redetect(frame, [objects[i] for i in redetect])
        out = probs
        refound: list[int] = []
        for i, cand in zip(redetect, found):
            if cand is None:
                continue
            if out is probs:
                out = probs.clone()
            out[i : i + 1] = cand.probs.to(out.dtype)
            tr = objects[i].track
            tr.status, tr.lost_for, tr.confirmations, tr.candidate = "refound", 0, 0, None
            tr.areas.append(cand.area)
            refound.append(i)
        return out, refound

    def _redetect(
        self, frame: FrameState, objects: Sequence[ObjectState]
    ) -> list[Candidate | None]:
        """Re-detect ``objects`` on the frame; per object the candidate to adopt, if any."""
        model = self.model
        size = tuple(frame.image.shape[-2:])
        score = model.localizer.redetect(frame.features, [o.track.anchor for o in objects])
        probs = torch.sigmoid(model.refiner.run(score, frame.features, size).logits.float())
        p = self.policy
        out: list[Candidate | None] = []
        for k, obj in enumerate(objects):
            tr = obj.track
            ref = max(self.reference(obj), 1.0)
            cand = best_component(probs[k : k + 1])
            ok = (
                cand is not None
                and cand.confidence >= p.confidence
                and p.area_range[0] <= cand.area / ref <= p.area_range[1]
            )
            if not ok:
                tr.confirmations, tr.candidate = 0, None
                out.append(None)
                continue
            assert cand is not None
            near = tr.candidate is not None and (
                np.hypot(cand.center[0] - tr.candidate[0], cand.center[1] - tr.candidate[1])
                <= np.sqrt(ref)
            )
            tr.confirmations = tr.confirmations + 1 if near else 1
            tr.candidate = cand.center
            out.append(cand if tr.confirmations >= p.confirm else None)
        return out
