"""What the reuse gate's modules see of a frame: F_t, the previous information, the cues."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from vosframe.core.skip_points import SkipPoint
from vosframe.core.state import FrameState, ObjectState

from .modules import (
    PIXEL_CUE_STRIDE,
    boundary_band,
    change_cue,
    downsample_mask,
    image_change_cue,
    pool_image,
    resize,
)
from .state import GateObjectState


def coarse_mask(prob: torch.Tensor) -> torch.Tensor:
    """``(N, 1, H, W)`` masks area-downsampled to the pixel cue's stride-4 grid."""
    h, w = prob.shape[-2:]
    s = PIXEL_CUE_STRIDE
    return downsample_mask(prob.float(), (-(-h // s), -(-w // s)))


def mask_change(mask: torch.Tensor, last_mask: torch.Tensor) -> torch.Tensor:
    """``(N,)`` ``1 - IoU`` of two sets of coarse masks (thresholded at 0.5; 0 if both empty)."""
    a, b = mask > 0.5, last_mask > 0.5
    inter = (a & b).sum((1, 2, 3)).float()
    union = (a | b).sum((1, 2, 3)).float()
    return torch.where(union > 0, 1.0 - inter / union.clamp(min=1.0), torch.zeros_like(union))


def copy_capped(
    run: int,
    rate: float | None,
    tau: float,
    max_reuse_run: int | None,
    drift_budget: float | None,
) -> bool:
    """True if an object that has copied ``run`` frames in a row may not copy again.

    ``max_reuse_run``: after that many copies in a row. ``drift_budget``: when the object's
    measured drift per frame ``rate`` (``1 - IoU`` of its last two computed masks over their
    frame gap; None until its second computed frame: no limit) times the age the copy would
    have exceeds ``drift_budget * (1 - tau)``.
    """
    if max_reuse_run is not None and run >= max_reuse_run:
        return True
    if drift_budget is None or rate is None:
        return False
    return rate * (run + 1) > drift_budget * (1.0 - tau)


def history_channel(rate: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """The history cue map: ``log(1e-3 + rate)`` as a constant ``(N, 1, h, w)`` map.

    ``rate`` is the object's mask change per frame between its last two computed frames
    (:func:`mask_change` divided by the number of frames between them). Motion persists:
    an object whose mask changed fast recently is likely still moving or deforming, which
    the change of the current frame alone can miss (an articulated object seen by a
    panning camera keeps a similar appearance while its legs move).
    """
    value = torch.log(rate.float().reshape(-1, 1, 1, 1) + 1e-3)
    return value.expand(-1, 1, *size)


#: Variants whose alternative path translates cached features (they need R_{t-n}).
TRANSLATES = ("reuse", "fusion")


class GateInputs:
    """Mixin of :class:`~vosframe.plugins.reuse_gate.plugin.ReuseGate`: its input helpers.

    Uses the plugin's ``key``, ``points`` (the matched skip points), ``gate_pool`` and its
    cue switches (``motion_cue``, ``object_cue``, ``pixel_cue``).
    """

    key: str
    points: dict[str, SkipPoint]
    gate_pool: int
    motion_cue: bool
    object_cue: bool
    pixel_cue: bool
    history_cue: bool
    variant: str
    max_reuse_run: int | None
    drift_budget: float | None
    copy_motion: bool
    moved_cues: bool
    moved_pixel_cue: Any

    @property
    def tracks_mask(self) -> bool:
        """True if each object's computed masks are followed (``history_cue``, ``drift_budget``)."""
        return self.history_cue or self.drift_budget is not None

    def reuse_capped(self, state: GateObjectState, tau: float) -> bool:
        """True if the object must be computed on this frame whatever the gate says
        (:func:`copy_capped` with the session's ``tau`` and the gate's ``max_reuse_run``
        and ``drift_budget``)."""
        return copy_capped(state.run, state.mask_rate, tau, self.max_reuse_run, self.drift_budget)

    @property
    def cue_channels(self) -> int:
        """Cue channels appended to ``D_t`` (:meth:`gate_input`)."""
        if not self.motion_cue:
            return 0
        extra = (3 if self.object_cue else 0) + (2 if self.pixel_cue else 0)
        return 2 + extra + (1 if self.history_cue else 0)

    def cue_prob(self, obj: ObjectState) -> torch.Tensor | None:
        """The mask the gate's cues are read around: the last computed one.

        Without ``copy_motion`` that is the last output (a copy keeps it); with it, the
        output of a copied frame has moved, and the gate (trained on the masks of the
        computed frames, as :mod:`~.traces` records them) reads the computed one.
        """
        st = self._state(obj)
        if self.copy_motion and st is not None and st.prob is not None:
            return st.prob
        return obj.last_prob

    def _state(self, obj: ObjectState) -> GateObjectState | None:
        return obj.plugins.get(self.key)

    def _prev_score(self, obj: ObjectState) -> torch.Tensor | None:
        st = self._state(obj)
        return st.score if st is not None and st.score is not None else obj.last_score

    def _ready(self, obj: ObjectState) -> bool:
        """True if the object has every cache its alternative path and its gate read."""
        st = self._state(obj)
        if st is None:
            return False
        if self.motion_cue and (st.feature is None or obj.last_prob is None):
            return False
        if (self.pixel_cue or self.copy_motion) and st.image is None:
            return False
        if self.copy_motion and st.prob is None:
            return False
        if self.history_cue and st.mask_rate is None:
            return False
        if self.variant in TRANSLATES and (
            self.points["reentry"].name not in obj.refined or self._prev_score(obj) is None
        ):
            return False
        if self.points["previous"].source == "score":
            return self._prev_score(obj) is not None
        return obj.last_prob is not None

    @staticmethod
    def observe_mask(state: Any, obj: Any, index: int | None) -> None:
        """After a computed frame ``index``: the object's mask change rate (``history_cue``).

        ``index`` None (the gate is off) drops the cache: the rate is known again two
        computed frames after the gate is turned on.
        """
        if index is None:
            state.mask, state.mask_rate = None, None
            return
        mask = coarse_mask(obj.last_prob)
        if state.mask is not None:
            gap = max(1, index - state.mask_index)
            state.mask_rate = float(mask_change(mask, state.mask)[0]) / gap
        state.mask, state.mask_index = mask, index

    def frame_cut(self, frame: FrameState) -> torch.Tensor:
        """:meth:`cut_feature` of the frame, computed once per frame (``frame.scratch``)."""
        key = (self.key, "cut")
        if key not in frame.scratch:
            frame.scratch[key] = self.cut_feature(frame.features)
        return frame.scratch[key]

    def object_mask(self, obj: ObjectState, size: tuple[int, int]) -> torch.Tensor:
        """``(1, 1, h, w)`` the object's :meth:`cue_prob` area-downsampled to ``size``.

        Cached in the object's gate state while that mask is the same tensor: the engine
        replaces ``obj.last_prob`` (never writes into it) when the output changes and keeps
        it on frames whose output is unchanged, so a copied object's masks at the cue grids
        are computed once per computed frame. The values are exactly
        :func:`downsample_mask` of the mask.
        """
        st = self._state(obj)
        prob = self.cue_prob(obj)
        assert st is not None and prob is not None
        if st.mask_src is not prob:
            st.mask_src, st.mask_maps = prob, {}
        size = (int(size[0]), int(size[1]))
        if size not in st.mask_maps:
            st.mask_maps[size] = downsample_mask(prob.float(), size)
        return st.mask_maps[size]

    def object_band(self, obj: ObjectState, size: tuple[int, int]) -> torch.Tensor:
        """:func:`boundary_band` of :meth:`object_mask` (cached with it)."""
        mask = self.object_mask(obj, size)
        st = self._state(obj)
        assert st is not None
        key = ("band", int(size[0]), int(size[1]))
        if key not in st.mask_maps:
            st.mask_maps[key] = boundary_band(mask)
        return st.mask_maps[key]

    def object_masks(self, objs: Sequence[ObjectState], size: tuple[int, int]) -> torch.Tensor:
        """``(N, 1, h, w)``: :meth:`object_mask` of every object."""
        return torch.cat([self.object_mask(o, size) for o in objs])

    def pixel_change(self, frame: FrameState, objs: Sequence[ObjectState]) -> torch.Tensor:
        """``(N, 2, 1, 1)`` :func:`image_change_cue` of the objects on this frame (with
        ``moved_cues``, after moving each object's last frame and mask by its shift).

        Computed once per frame and object (``frame.scratch``): the pre-gate and the gate
        read the same values.
        """
        image = self.frame_image(frame)
        keys = [(self.key, "pixel", o.obj_id) for o in objs]
        todo = [i for i, k in enumerate(keys) if k not in frame.scratch]
        if todo:
            states = [self._state(objs[i]) for i in todo]
            grid = (int(image.shape[-2]), int(image.shape[-1]))
            todo_objs = [objs[i] for i in todo]
            masks = self.object_masks(todo_objs, grid)
            if self.moved_cues:  # the change beyond the object's shift
                cue = self.moved_pixel_cue(frame, todo_objs, masks)
            else:
                cue = image_change_cue(
                    image,
                    torch.cat([st.image for st in states]),  # type: ignore[union-attr]
                    masks,
                    band=torch.cat([self.object_band(o, grid) for o in todo_objs]),
                )
            for j, i in enumerate(todo):
                frame.scratch[keys[i]] = cue[j : j + 1]
        return torch.cat([frame.scratch[k] for k in keys])

    def frame_image(self, frame: FrameState) -> torch.Tensor:
        """:func:`pool_image` of the frame, computed once per frame (``frame.scratch``)."""
        key = (self.key, "image")
        if key not in frame.scratch:
            frame.scratch[key] = pool_image(frame.image)
        return frame.scratch[key]

    def cut_feature(self, features: Any) -> torch.Tensor:
        """F_t as the gate's modules see it: the feature cut, average-pooled by ``gate_pool``.

        Args:
            features: The frame's features (indexable by stride), or the F_t tensor itself.
        """
        if isinstance(features, torch.Tensor):
            x = features
        else:
            x = features[self.points["feature_cut"].stride]
        if self.gate_pool == 1:
            return x
        return F.avg_pool2d(x, self.gate_pool, ceil_mode=True)

    def gate_input(
        self,
        d: torch.Tensor,
        feature: torch.Tensor,
        last_feature: torch.Tensor | None,
        prob: torch.Tensor | None,
        image: torch.Tensor | None = None,
        last_image: torch.Tensor | None = None,
        history: torch.Tensor | None = None,
        pixel: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``D_t``, with the change cues appended when ``motion_cue`` is on.

        Args:
            d: ``(N, width, h, w)`` dissimilarity maps.
            feature: ``(1, C, h, w)`` F_t of the frame.
            last_feature: ``(N, C, h, w)`` F_t of each object's last computed frame.
            prob: ``(N, 1, H, W)`` each object's last output mask (or already at the
                F_t grid).
            image: ``(1, 3, h4, w4)`` the frame pooled by :func:`pool_image` (``pixel_cue``).
            last_image: ``(N, 3, h4, w4)`` each object's last computed frame, pooled.
            history: ``(N,)`` each object's recent mask change per frame
                (:func:`history_channel`; ``history_cue``).
            pixel: ``(N, 2, 1, 1)`` :func:`image_change_cue` when already computed
                (replaces ``image`` and ``last_image``).
        """
        if not self.motion_cue:
            return d
        assert last_feature is not None and prob is not None
        cue = change_cue(feature, last_feature, prob, object_stats=self.object_cue)
        if self.pixel_cue:
            if pixel is None:
                assert image is not None and last_image is not None
                pixel = image_change_cue(image, last_image, prob)
            cue = torch.cat([cue, pixel.expand(-1, -1, *cue.shape[-2:])], 1)
        if self.history_cue:
            assert history is not None
            cue = torch.cat([cue, history_channel(history, tuple(cue.shape[-2:]))], 1)
        return torch.cat([d, cue.to(d.dtype)], 1)

    def previous_info(
        self,
        score: torch.Tensor | None,
        mask: torch.Tensor | None,
        image_size: tuple[int, int],
        size: tuple[int, int],
    ) -> torch.Tensor:
        """Previous information at the F_t grid ``size`` (the score or the downsampled mask).

        Args:
            score: ``(N, C, h, w)`` ``S_{t-n}`` (used for a ``"score"`` source).
            mask: ``(N, 1, H, W)`` last output mask (used for a ``"mask"`` source).
            image_size: ``(H, W)`` of the frame.
            size: ``(h, w)`` of F_t.
        """
        prev = self.points["previous"]
        if prev.source == "score":
            assert score is not None
            return resize(score, size)
        assert mask is not None
        h, w = image_size
        grid = (-(-h // prev.stride), -(-w // prev.stride))
        return resize(downsample_mask(mask.float(), grid), size)
