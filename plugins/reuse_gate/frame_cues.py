"""What the gate reads of a frame and of its objects at inference, computed once.

:class:`FrameCues` gathers the gate's inputs from a frame and the objects' gate state and
caches what several readers share: per frame in ``frame.scratch`` (F_t as the gate sees
it, the pooled frame, each object's pixel cue and shift), per object in its
:class:`~.state.GateObjectState` (its cue mask at each grid, kept while its output mask is
the same tensor). The plugin holds one, built when it is attached.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from vosframe.core.skip_points import SkipPoint
from vosframe.core.state import FrameState, ObjectState

from .cues import (
    boundary_band,
    coarse_mask,
    estimate_shift,
    image_change_cue,
    mask_change,
    moved_cue,
    pool_image,
)
from .networks import downsample_mask
from .options import TRANSLATES, GateArch, GatePolicy
from .state import GateObjectState


def cut_feature(features: Any, cut: SkipPoint, pool: int) -> torch.Tensor:
    """F_t as the gate's modules see it: the feature cut, average-pooled by ``pool``.

    Args:
        features: The frame's features (indexable by stride), or the F_t tensor itself.
        cut: The feature-cut skip point.
        pool: The gate's ``gate_pool``.
    """
    x = features if isinstance(features, torch.Tensor) else features[cut.stride]
    return x if pool == 1 else F.avg_pool2d(x, pool, ceil_mode=True)


def observe_mask(state: GateObjectState, prob: torch.Tensor, index: int | None) -> None:
    """After a computed frame ``index``: the object's drift per frame (the drift budget).

    ``index`` None (the gate is off) drops the cache: the rate is known again two computed
    frames after the gate is turned on.
    """
    if index is None:
        state.mask, state.mask_rate = None, None
        return
    mask = coarse_mask(prob)
    if state.mask is not None:
        gap = max(1, index - state.mask_index)
        state.mask_rate = float(mask_change(mask, state.mask)[0]) / gap
    state.mask, state.mask_index = mask, index


class FrameCues:
    """The gate's inputs on a frame, with their caches.

    Args:
        key: The plugin's state key (``ObjectState.plugins[key]``, scratch keys).
        arch: The gate's architecture options.
        policy: The gate's policy options.
        points: The matched skip points.
    """

    def __init__(
        self, key: str, arch: GateArch, policy: GatePolicy, points: dict[str, SkipPoint]
    ) -> None:
        self.key, self.arch, self.policy, self.points = key, arch, policy, points

    def state(self, obj: ObjectState) -> GateObjectState | None:
        """The object's gate state (None if it has none)."""
        return obj.plugins.get(self.key)

    def prev_score(self, obj: ObjectState) -> torch.Tensor | None:
        """``S_{t-n}``: the gate's cached score, else the object's last score."""
        st = self.state(obj)
        return st.score if st is not None and st.score is not None else obj.last_score

    def cue_prob(self, obj: ObjectState) -> torch.Tensor | None:
        """The mask the cues are read around: the last computed one where it is kept (with
        ``copy_motion`` a copied frame's output has moved, with ``reuse_mask`` it was
        translated; the gate was trained on computed masks)."""
        st = self.state(obj)
        if st is not None and st.prob is not None:
            return st.prob
        return obj.last_prob

    def ready(self, obj: ObjectState) -> bool:
        """True if the object has every cache its alternative path and its gate read."""
        st, arch = self.state(obj), self.arch
        if st is None:
            return False
        if arch.motion_cue and (st.feature is None or obj.last_prob is None):
            return False
        if (arch.pixel_cue or self.policy.copy_motion) and st.image is None:
            return False
        if (self.policy.copy_motion or arch.variant == "reuse_mask") and st.prob is None:
            return False
        if arch.variant in TRANSLATES and (
            self.points["reentry"].name not in obj.refined or self.prev_score(obj) is None
        ):
            return False
        if self.points["previous"].source == "score":
            return self.prev_score(obj) is not None
        return obj.last_prob is not None

    def frame_cut(self, frame: FrameState) -> torch.Tensor:
        """:func:`cut_feature` of the frame (once per frame)."""
        key = (self.key, "cut")
        if key not in frame.scratch:
            pool = self.arch.gate_pool
            frame.scratch[key] = cut_feature(frame.features, self.points["feature_cut"], pool)
        return frame.scratch[key]

    def frame_image(self, frame: FrameState) -> torch.Tensor:
        """:func:`~.cues.pool_image` of the frame (once per frame)."""
        key = (self.key, "image")
        if key not in frame.scratch:
            frame.scratch[key] = pool_image(frame.image)
        return frame.scratch[key]

    def object_mask(self, obj: ObjectState, size: tuple[int, int]) -> torch.Tensor:
        """``(1, 1, h, w)``: :meth:`cue_prob` area-downsampled to ``size``.

        Cached in the object's state while that mask is the same tensor (the engine
        replaces ``obj.last_prob`` when the output changes and keeps it otherwise), so a
        copied object's cue masks are computed once per computed frame.
        """
        st, prob = self.state(obj), self.cue_prob(obj)
        assert st is not None and prob is not None
        if st.mask_src is not prob:
            st.mask_src, st.mask_maps = prob, {}
        size = (int(size[0]), int(size[1]))
        if size not in st.mask_maps:
            st.mask_maps[size] = downsample_mask(prob.float(), size)
        return st.mask_maps[size]

    def object_masks(self, objs: Sequence[ObjectState], size: tuple[int, int]) -> torch.Tensor:
        """``(N, 1, h, w)``: :meth:`object_mask` of every object."""
        return torch.cat([self.object_mask(o, size) for o in objs])

    def object_band(self, obj: ObjectState, size: tuple[int, int]) -> torch.Tensor:
        """:func:`~.cues.boundary_band` of :meth:`object_mask` (cached with it)."""
        mask = self.object_mask(obj, size)
        st = self.state(obj)
        assert st is not None
        key = ("band", int(size[0]), int(size[1]))
        if key not in st.mask_maps:
            st.mask_maps[key] = boundary_band(mask)
        return st.mask_maps[key]

    def object_shift(self, frame: FrameState, obj: ObjectState) -> tuple[int, int]:
        """The object's shift from its last computed frame to ``frame``, in stride-4 cells
        (once per frame and object)."""
        key = (self.key, "shift", obj.obj_id)
        if key not in frame.scratch:
            st = self.state(obj)
            assert st is not None and st.prob is not None
            mask = st.mask if st.mask is not None else coarse_mask(st.prob)
            radius = self.policy.motion_radius
            frame.scratch[key] = estimate_shift(st.image, self.frame_image(frame), mask, radius)
        return frame.scratch[key]

    def pixel_change(self, frame: FrameState, objs: Sequence[ObjectState]) -> torch.Tensor:
        """``(N, 2, 1, 1)`` :func:`~.cues.image_change_cue` of the objects on this frame
        (with ``moved_cues``, beyond each object's shift), once per frame and object: the
        pre-gate and the gate read the same values."""
        image = self.frame_image(frame)
        keys = [(self.key, "pixel", o.obj_id) for o in objs]
        todo = [o for o, k in zip(objs, keys) if k not in frame.scratch]
        if todo:
            grid = (int(image.shape[-2]), int(image.shape[-1]))
            masks = self.object_masks(todo, grid)
            states = [self.state(o) for o in todo]
            if self.arch.moved_cues:
                cue = torch.cat(
                    [
                        moved_cue(image, st.image, masks[i : i + 1], self.object_shift(frame, o))
                        for i, (o, st) in enumerate(zip(todo, states))
                    ]
                )
            else:
                last = torch.cat([st.image for st in states])  # type: ignore[union-attr]
                band = torch.cat([self.object_band(o, grid) for o in todo])
                cue = image_change_cue(image, last, masks, band=band)
            for j, o in enumerate(todo):
                frame.scratch[(self.key, "pixel", o.obj_id)] = cue[j : j + 1]
        return torch.cat([frame.scratch[k] for k in keys])
