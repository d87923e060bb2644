"""A compute budget: hold a target frame time by adapting the decider's ``tau`` online.

A user with a slow machine asks for a frame rate instead of a threshold
(``model.new_session(target_fps=15)``); :class:`FrameBudget` turns the frame times the
session measures into the ``tau`` of the next frame.

The controller has a feed-forward and an integral part. It keeps running means (EWMA) of
what a frame costs when every object takes the full path (``full_ms``) and when every
tracked object takes the alternative path (``alt_ms``), measured on the frames themselves,
and of the share of objects that took the alternative path (``reuse``). The share that
meets the target is ``needed = (full_ms - target_ms) / (full_ms - alt_ms)`` (clamped to
[0, 1]); ``tau`` moves by ``gain * (needed - reuse)`` each frame (down when more reuse is
needed), within ``[tau_min, tau_max]``. When the target is met with every frame computed,
``tau`` rises to ``tau_max`` (the base model's accuracy); when even the alternative path
is too slow, it stays at ``tau_min``. Until both costs are known, a frame slower than the
target lowers ``tau`` and a faster one raises it.

It needs no model: it sees frame times and paths only, so it works for any decider
whose alternative path is cheaper than the full one.
"""

from __future__ import annotations

import math
from typing import Any

import attrs

from vosframe.core.errors import InputError


def _positive(_: Any, attribute: attrs.Attribute, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise InputError(f"FrameBudget.{attribute.name} must be a number > 0, got {value!r}")


def _unit(_: Any, attribute: attrs.Attribute, value: float) -> None:
    if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
        raise InputError(f"FrameBudget.{attribute.name} must be in [0, 1], got {value!r}")


@attrs.define(kw_only=True)
class FrameBudget:
    """Adapts ``tau`` between frames so that frames take ``target_ms`` on average.

    Args:
        target_ms: The frame time to hold, in milliseconds (:meth:`for_fps`).
        tau_min: Lowest ``tau`` it uses (more reuse, less accuracy).
        tau_max: Highest ``tau`` it uses (1: every frame computed when the budget allows).
        gain: How far ``tau`` moves per frame per unit of reuse-share error.
        smoothing: Weight of the newest frame in the running means.

    Attributes:
        tau: The ``tau`` of the next frame (starts at ``tau_max``).
        full_ms: Running mean of frames with every object on the full path (None until
            one is seen).
        alt_ms: Running mean of frames with every tracked object on the alternative path.
        reuse: Running mean of the share of tracked objects on the alternative path.

    Raises:
        InputError: A value out of range, or ``tau_min > tau_max``.
    """

    target_ms: float = attrs.field(validator=_positive)
    tau_min: float = attrs.field(default=0.0, validator=_unit)
    tau_max: float = attrs.field(default=1.0, validator=_unit)
    gain: float = attrs.field(default=0.1, validator=_positive)
    smoothing: float = attrs.field(default=0.2, validator=_unit)
    tau: float = attrs.field(init=False)
    full_ms: float | None = attrs.field(init=False, default=None)
    alt_ms: float | None = attrs.field(init=False, default=None)
    reuse: float = attrs.field(init=False, default=0.0)

    def __attrs_post_init__(self) -> None:
        if self.tau_min > self.tau_max:
            raise InputError(
                f"FrameBudget.tau_min ({self.tau_min}) must not exceed tau_max ({self.tau_max})"
            )
        self.tau = float(self.tau_max)

    @classmethod
    def for_fps(cls, fps: float, **kwargs: Any) -> FrameBudget:
        """A budget of ``1000 / fps`` ms per frame.

        Raises:
            InputError: ``fps`` is not a number > 0.
        """
        if not (isinstance(fps, int | float) and math.isfinite(fps) and fps > 0):
            raise InputError(f"target_fps must be a number > 0, got {fps!r}")
        return cls(target_ms=1000.0 / float(fps), **kwargs)

    def _mean(self, old: float | None, new: float) -> float:
        return new if old is None else (1.0 - self.smoothing) * old + self.smoothing * new

    def needed_reuse(self) -> float | None:
        """The share of objects on the alternative path that meets the target, from the
        measured costs (None until both are known)."""
        if self.full_ms is None or self.alt_ms is None:
            return None
        if self.full_ms <= self.target_ms:
            return 0.0
        if self.alt_ms >= self.full_ms:
            return 1.0
        share = (self.full_ms - self.target_ms) / (self.full_ms - self.alt_ms)
        return min(1.0, max(0.0, share))

    def update(self, frame_ms: float, alt: int, tracked: int) -> float:
        """Account one stepped frame and return the ``tau`` of the next one.

        Args:
            frame_ms: The frame's measured time.
            alt: Tracked objects that took the alternative path on it.
            tracked: Tracked objects on it (objects given or added on the frame excluded);
                a frame without any (a first frame) only keeps ``tau``.
        """
        if tracked <= 0:
            return self.tau
        share = alt / tracked
        if alt == 0:
            self.full_ms = self._mean(self.full_ms, frame_ms)
        elif alt == tracked:
            self.alt_ms = self._mean(self.alt_ms, frame_ms)
        self.reuse = self._mean(self.reuse, share)
        needed = self.needed_reuse()
        if needed is None:  # direction only, from the frame's own time
            step = -self.gain if frame_ms > self.target_ms else self.gain
        else:
            step = -self.gain * (needed - self.reuse)
        self.tau = min(self.tau_max, max(self.tau_min, self.tau + step))
        return self.tau
