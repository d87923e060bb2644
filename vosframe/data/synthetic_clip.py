"""Synthetic clip container, motion modes and schedules (see :mod:`vosframe.data.synthetic`)."""

from __future__ import annotations

import attrs
import numpy as np

from vosframe.core.errors import InputError

STATIC_MIN_IOU = 0.9
"""Minimum IoU of every visible object with its previous mask on ``static`` frames."""

JUMP_MAX_IOU = 0.1
"""Maximum IoU of every object with its previous mask on ``jump`` frames."""

MOTION_MODES: tuple[str, ...] = ("normal", "static", "jump")
"""Per-frame motion modes (frame 0 is ``start``)."""

DEFAULT_SCHEDULE: tuple[str, ...] = (
    ("start",)
    + ("normal",) * 8
    + ("static",) * 8
    + ("jump",)
    + ("normal",) * 8
    + ("static",) * 8
    + ("jump",)
    + ("normal",) * 5
)
"""Motion schedule of :func:`default_clip` (40 frames)."""


@attrs.frozen(eq=False)
class SyntheticClip:
    """A generated clip.

    Attributes:
        frames: RGB ``uint8`` frames ``T x H x W x 3``.
        masks: ``uint8`` label maps ``T x H x W`` (objects ``1..K``).
        motion: Motion mode per frame (``start``, ``normal``, ``static``, ``jump``).
        visible_fraction: ``T x K`` visible share of each object's unoccluded area.
        seed: The seed the clip was generated from.
        backgrounds: ``T x H x W x 3`` rendered backgrounds (only with ``with_layers``).
        layers: ``T x K x H x W x 3`` each object's warped texture (only with ``with_layers``).
        full_masks: ``T x K x H x W`` unoccluded object masks (only with ``with_layers``).
    """

    frames: np.ndarray
    masks: np.ndarray
    motion: tuple[str, ...]
    visible_fraction: np.ndarray
    seed: int
    backgrounds: np.ndarray | None = None
    layers: np.ndarray | None = None
    full_masks: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def num_objects(self) -> int:
        """Number of objects ``K`` (ids ``1..K``)."""
        return self.visible_fraction.shape[1]

    def iou_to_previous(self) -> np.ndarray:
        """``T x K`` IoU of each object's mask with its previous-frame mask.

        Row 0 and entries where both masks are empty are NaN.
        """
        out = np.full((len(self), self.num_objects), np.nan)
        for t in range(1, len(self)):
            for k in range(self.num_objects):
                a, b = self.masks[t] == k + 1, self.masks[t - 1] == k + 1
                union = np.count_nonzero(a | b)
                if union:
                    out[t, k] = np.count_nonzero(a & b) / union
        return out


def make_schedule(
    rng: np.random.Generator,
    num_frames: int,
    motion: str = "mixed",
    run_length: tuple[int, int] = (3, 8),
    jump_prob: float = 0.5,
) -> tuple[str, ...]:
    """Per-frame motion modes.

    ``mixed`` alternates ``normal`` and ``static`` runs with a ``jump`` after a run with
    probability ``jump_prob``; clips of 8+ frames get at least one static run and one jump.
    ``normal``, ``static`` and ``jump`` use that mode on every frame.
    """
    if motion in MOTION_MODES:
        return ("start",) + (motion,) * (num_frames - 1)
    if motion != "mixed":
        raise InputError(f"unknown motion {motion!r}; use 'mixed' or one of {MOTION_MODES}")
    modes = ["start"]
    kind = "normal"
    while len(modes) < num_frames:
        modes += [kind] * int(rng.integers(run_length[0], run_length[1] + 1))
        if rng.random() < jump_prob:
            modes.append("jump")
        kind = "static" if kind == "normal" else "normal"
    modes = modes[:num_frames]
    if num_frames >= 8 and "static" not in modes:
        start = num_frames // 4
        modes[start : start + 3] = ["static"] * 3
    if num_frames >= 8 and "jump" not in modes:
        modes[(3 * num_frames) // 4] = "jump"
    return tuple(modes)
