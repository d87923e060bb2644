"""Typed per-frame and per-object state, as ``attrs`` classes holding tensors.

The session owns all state; stages and plugins are stateless ``nn.Module`` objects that
read and write the state objects they are handed. This keeps one model usable by many
sessions at once and keeps session memory explicit (nothing is hidden in module buffers).
"""

from __future__ import annotations

import math
import numbers
import types
from collections import deque
from collections.abc import Mapping
from typing import Any, Literal

import attrs
import torch

from vosframe.core.errors import InputError

Path = Literal["init", "full", "alt"]
"""Which path produced an object's output on a frame.

``init``: the object's mask was given on this frame; ``full``: all stages ran;
``alt``: a plugin produced the re-entry feature and the score from cached state.
"""


@attrs.define(eq=False)
class Features:
    """Multi-scale features of one frame, keyed by stride (4, 8, 16, ...).

    Attributes:
        maps: Feature tensors ``(1, C, H/s, W/s)`` keyed by stride ``s``.
        image_size: ``(H, W)`` of the image the features were computed from.
    """

    maps: dict[int, torch.Tensor]
    image_size: tuple[int, int]

    def __getitem__(self, stride: int) -> torch.Tensor:
        try:
            return self.maps[stride]
        except KeyError:
            raise KeyError(
                f"no feature at stride {stride}; computed strides are {sorted(self.maps)}"
            ) from None

    def __contains__(self, stride: object) -> bool:
        return stride in self.maps

    @property
    def deepest(self) -> int:
        """The largest stride computed so far."""
        return max(self.maps)

    def size_at(self, stride: int) -> tuple[int, int]:
        """Spatial size ``(h, w)`` at ``stride`` (ceil division, as strided convs give)."""
        if stride in self.maps:
            return tuple(self.maps[stride].shape[-2:])  # type: ignore[return-value]
        h, w = self.image_size
        return (-(-h // stride), -(-w // stride))


Force = Literal["full", "alt"]
"""A path forced on every tracked object (see :class:`DecisionOptions`)."""

FORCES: tuple[Force, ...] = ("full", "alt")


def _check_tau(_: Any, __: Any, tau: float) -> None:
    if isinstance(tau, bool) or not isinstance(tau, numbers.Real):
        raise InputError(
            f"tau must be a number in [0, 1], got {tau!r}. Fix: pass e.g. tau=0.7 (1 turns "
            "reuse off)."
        )
    if not (math.isfinite(tau) and 0.0 <= tau <= 1.0):
        raise InputError(
            f"tau must be a finite number in [0, 1], got {tau!r}. Fix: pass e.g. tau=0.7 "
            "(1 turns reuse off)."
        )


def _check_force(_: Any, __: Any, force: Any) -> None:
    if force is not None and force not in FORCES:
        raise InputError(
            f"force must be None, 'full' or 'alt', got {force!r}. Fix: pass force=None to let "
            "the decider choose, or 'full'/'alt' to force every object's path."
        )


def _frozen_mapping(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise InputError(
            f"path_policy must be a mapping of setting names to values, got {value!r}. Fix: "
            "pass e.g. path_policy={'drift_budget': 1.0}."
        )
    return types.MappingProxyType(dict(value))


@attrs.frozen
class DecisionOptions:
    """A session's runtime options for the model's path-deciding plugin.

    They live in the session (never on the shared model), so sessions of one model may use
    different values at once; the session hands them to the plugin with every frame as
    :attr:`FrameState.options`. A decider's defaults come from
    :meth:`~vosframe.core.plugin.ModelPlugin.default_options`.

    Attributes:
        tau: Threshold on the decider's confidence, in [0, 1]: an object takes the
            alternative path iff the confidence exceeds it (deciders without a confidence
            ignore it).
        force: None (the decider chooses), ``"full"`` or ``"alt"`` (every tracked object
            takes that path; for accounting and ablations).
        policy: This session's values of the decider's own policy settings (for the reuse
            gate e.g. ``{"drift_budget": 1.0}``), over the model's configured ones; the
            decider validates them (:meth:`~vosframe.core.plugin.ModelPlugin.check_options`).
            Read-only; empty: the configured policy.

    Raises:
        InputError: ``tau`` is not a finite number in [0, 1], ``force`` is not one of
            None, ``"full"``, ``"alt"``, or ``policy`` is not a mapping with string keys.
    """

    tau: float = attrs.field(default=0.5, validator=_check_tau)
    force: Force | None = attrs.field(default=None, validator=_check_force)
    policy: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_mapping, hash=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "tau", float(self.tau))


@attrs.define(eq=False)
class FrameState:
    """What the engine knows about the frame being processed.

    Attributes:
        index: Frame index within the session (0 for the first stepped frame).
        image: The preprocessed image ``(1, 3, H, W)`` in ``[0, 1]`` at internal size.
        features: Features computed so far (grows when the full path resumes extraction).
        scratch: Values a plugin derives from the frame once and reads again within the
            same frame (key them by the plugin's ``key``); dropped with the frame.
        options: The session's options for the path-deciding plugin on this frame.
    """

    index: int
    image: torch.Tensor
    features: Features
    scratch: dict[Any, Any] = attrs.field(factory=dict)
    options: DecisionOptions = attrs.field(factory=DecisionOptions)


ObjectStatus = Literal["tracked", "lost", "refound"]
"""An object's track status on a frame (see :mod:`vosframe.core.recovery`).

``tracked``: its mask is in line with its recent area; ``lost``: its mask collapsed or
vanished and the object has not been found again (the model's own, collapsed output is
kept); ``refound``: the frame on which a lost object came back, by re-detection from its
first-frame appearance or in the model's own output (the next frame is ``tracked``).
"""


@attrs.define
class PathRecord:
    """Which path an object took on a frame, what it cost and the object's status.

    Attributes:
        path: ``init``, ``full`` or ``alt``.
        ms: Wall time in milliseconds attributed to this object. Work done for a group
            of objects at once (a batched stage) is divided evenly among them; work shared
            by all objects (feature extraction) is not included. A re-detection is
            included.
        status: The object's track status after this frame (:data:`ObjectStatus`).
        confidence: The path-deciding plugin's confidence that the alternative path is
            good enough on this frame (e.g. the reuse gate's ``p_reuse``), or None when it
            gave none (no decider, the decider did not run for the object, an init frame).
    """

    path: Path
    ms: float
    status: ObjectStatus = "tracked"
    confidence: float | None = None


@attrs.define
class ObjectStats:
    """Running per-object accounting (bounded: counters only)."""

    frames: dict[str, int] = attrs.Factory(lambda: {"init": 0, "full": 0, "alt": 0})
    ms: dict[str, float] = attrs.Factory(lambda: {"init": 0.0, "full": 0.0, "alt": 0.0})
    status: dict[str, int] = attrs.Factory(lambda: {"tracked": 0, "lost": 0, "refound": 0})
    losses: int = 0
    _last_status: ObjectStatus = "tracked"

    def record(self, rec: PathRecord) -> None:
        """Add one frame's record (``losses`` counts the frames on which it became lost)."""
        self.frames[rec.path] += 1
        self.ms[rec.path] += rec.ms
        self.status[rec.status] += 1
        if rec.status == "lost" and self._last_status != "lost":
            self.losses += 1
        self._last_status = rec.status

    @property
    def reuse_rate(self) -> float:
        """Fraction of tracked frames (init frames excluded) that took the alternative path."""
        tracked = self.frames["full"] + self.frames["alt"]
        return self.frames["alt"] / tracked if tracked else 0.0


@attrs.define(eq=False)
class TrackState:
    """One object's lost-object bookkeeping, kept by :mod:`vosframe.core.recovery`.

    Attributes:
        status: The status after the last frame (:data:`ObjectStatus`).
        areas: Mask areas (pixels ``> 0.5`` at internal size) of the last tracked
            frames, the given mask's first; their median is the reference area.
        anchor: The localizer's first-frame snapshot for re-detection
            (:meth:`~vosframe.core.stages.TargetLocalizer.redetect_anchor`; None when
            re-detection is off).
        lost_for: Consecutive frames the object has been lost.
        confirmations: Consecutive confident re-detections in the same place.
        candidate: ``(y, x)`` centre of the last confident re-detection.
    """

    status: ObjectStatus = "tracked"
    areas: deque[int] = attrs.Factory(lambda: deque(maxlen=10))
    anchor: Any = None
    lost_for: int = 0
    confirmations: int = 0
    candidate: tuple[float, float] | None = None


@attrs.define(eq=False)
class ObjectState:
    """Everything the session carries for one object between frames.

    Attributes:
        obj_id: The user's object id (any positive int; need not be contiguous).
        localizer: The target localizer's own per-object state (model-specific attrs class).
        plugins: Per-plugin per-object state, keyed by the plugin's instance name.
        last_prob: Final (aggregated) foreground probability on the last frame,
            ``(1, 1, H, W)`` at internal size. The engine replaces the tensor when the
            output changes, keeps the same tensor on frames whose output is unchanged
            (every object copied) and never writes into it, so plugins may cache values
            derived from it by identity.
        last_score: The last *computed* coarse score (output of the localizer), or None.
        refined: The last computed refined features keyed by re-entry point name.
        first_frame: Session frame index at which the object was added.
        stats: Per-path counters and times.
        track: Lost-object bookkeeping (status, recent areas, first-frame anchor).
    """

    obj_id: int
    localizer: Any
    plugins: dict[str, Any] = attrs.Factory(dict)
    last_prob: torch.Tensor | None = None
    last_score: torch.Tensor | None = None
    refined: dict[str, torch.Tensor] = attrs.Factory(dict)
    first_frame: int = 0
    stats: ObjectStats = attrs.Factory(ObjectStats)
    track: TrackState = attrs.Factory(lambda: TrackState())
