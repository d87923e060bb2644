"""Stress clips for lost-object handling: occlusion, exit and re-entry, leaving for good.

Built on :class:`~vosframe.data.synthetic.SyntheticClipGenerator` (its per-object layers),
so every clip is deterministic for a seed and its masks are exact. One object (id 1) is
hidden on a run of frames in one of three ways (:data:`STRESS_KINDS`):

* ``occlusion``: an opaque textured occluder covers the object's whole path over the hidden
  frames (a foreground object passing in front); the object keeps moving behind it and is
  visible again when the occluder is gone;
* ``exit``: the object is absent for the hidden frames and comes back somewhere else (the
  generator's ``jump`` moves it on the first frame after the gap);
* ``leave``: the object is absent from the first hidden frame to the end of the clip.

The ground truth labels the object only where it is visible, so its mask is empty on the
hidden frames.

:func:`hard_clip` makes training clips of the cases the shipped models failed on videos
they were not tuned on (:data:`HARD_KINDS`): the two ways of hiding an object that come
back (``occlusion``, ``exit``), ``small`` objects, fast non-rigid deformation (``deform``) and a
look-alike ``distractor``. Its clip parameters are drawn from the seed, so a seed gives
one clip; its default size is the training banks' 240x427, unlike the test suites' clips.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import cv2
import numpy as np

from vosframe.core.errors import InputError
from vosframe.data.synthetic import SyntheticClip, SyntheticClipGenerator
from vosframe.data.textures import random_texture

STRESS_KINDS: tuple[str, ...] = ("occlusion", "exit", "leave")
"""Ways a stress clip hides its object (see the module notes)."""

HARD_KINDS: tuple[str, ...] = ("occlusion", "exit", "small", "deform", "distractor")
"""Kinds of :func:`hard_clip` training clips."""


@attrs.frozen(eq=False)
class StressClip:
    """A stress clip.

    Attributes:
        frames: RGB ``uint8`` frames ``T x H x W x 3``.
        masks: ``uint8`` label maps ``T x H x W`` (the hidden object is id 1).
        kind: One of :data:`STRESS_KINDS`.
        hidden: ``(start, stop)``: the object is invisible on frames ``start .. stop - 1``.
        seed: The seed of the underlying synthetic clip.
    """

    frames: np.ndarray
    masks: np.ndarray
    kind: str
    hidden: tuple[int, int]
    seed: int

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def reappears(self) -> int | None:
        """First frame on which the object is visible again (None if it never is)."""
        return self.hidden[1] if self.hidden[1] < len(self.frames) else None


SMALL_OBJECT_CLIPS = SyntheticClipGenerator(
    height=240,
    width=432,
    num_frames=40,
    min_objects=1,
    max_objects=1,
    object_size=(0.16, 0.28),
    motion="normal",
)
"""Clips of one moving object of about 0.3-1% of a 240x432 frame over 40 frames (the
small-object suite and benchmark; check the area of the seeds you use)."""

LATE_OBJECT_CLIPS = SyntheticClipGenerator(
    height=240,
    width=432,
    num_frames=10,
    min_objects=3,
    max_objects=3,
    object_size=(0.45, 0.6),
    motion="normal",
)
"""Clips of three moving photo-textured objects over 10 frames, objects 1 and 2 given on
frame 0 and object 3 on :data:`LATE_OBJECT_FRAME` (the shipped models' multi-object tests
and ``benchmarks/synthetic_suites.py``)."""

LATE_OBJECT_FRAME = 4
"""The frame on which object 3 of a :data:`LATE_OBJECT_CLIPS` clip is first given."""


def stress_clip(
    kind: str,
    seed: int = 0,
    *,
    height: int = 192,
    width: int = 320,
    num_frames: int = 24,
    hide_at: int = 8,
    hide_for: int = 5,
    num_objects: int = 1,
    object_size: tuple[float, float] = (0.3, 0.4),
) -> StressClip:
    """Make a stress clip in which object 1 is hidden (module notes).

    Args:
        kind: ``occlusion``, ``exit`` or ``leave``.
        seed: Seed of the synthetic clip (same seed and arguments, same clip).
        height, width: Frame size.
        num_frames: Clip length.
        hide_at: First hidden frame (>= 1: frame 0 gives the object's mask).
        hide_for: Hidden frames (``leave`` hides to the end whatever this is).
        num_objects: Objects in the clip (ids ``1..num_objects``; only object 1 hides).
        object_size: Object side range as a fraction of ``min(height, width)``.

    Returns:
        The clip.

    Raises:
        InputError: An unknown kind, or a gap that does not fit in the clip.
    """
    if kind not in STRESS_KINDS:
        raise InputError(f"unknown stress kind {kind!r}; choose from {STRESS_KINDS}")
    stop = num_frames if kind == "leave" else hide_at + hide_for
    if not 1 <= hide_at < stop <= num_frames or (kind != "leave" and stop >= num_frames):
        raise InputError(
            f"the hidden frames {hide_at}..{stop - 1} must lie within frames 1..{num_frames - 2} "
            f"of a {num_frames}-frame clip. Fix: lower hide_at/hide_for or add frames."
        )
    schedule = ["start"] + ["normal"] * (num_frames - 1)
    if kind == "exit":
        schedule[stop] = "jump"
    gen = _generator(
        num_objects, height, width, num_frames, object_size=object_size, schedule=schedule
    )
    clip = gen.generate(seed, with_layers=True)
    frames, masks = _composite(clip, hide_at, stop)
    if kind == "occlusion":
        _occlude(frames, masks, clip, hide_at, stop, np.random.default_rng(seed + 7919))
    return StressClip(frames, masks, kind, (hide_at, stop), int(seed))


def check_hard_kinds(
    kinds: Sequence[str] | None, error: type[Exception] = InputError
) -> tuple[str, ...]:
    """``kinds`` as a tuple, checked to be a non-empty subset of :data:`HARD_KINDS`.

    Raises:
        error: An unknown kind or none at all (the message names the fix).
    """
    kinds = tuple(HARD_KINDS if kinds is None else kinds)
    unknown = [k for k in kinds if k not in HARD_KINDS]
    if not kinds or unknown:
        raise error(
            f"hard-clip kinds must be a non-empty subset of {HARD_KINDS}, got {kinds}. "
            f"Fix: {f'drop {unknown}' if unknown else 'name at least one'}, or leave kinds "
            "out for all of them."
        )
    return kinds


def hard_clip(
    kind: str, seed: int, *, height: int = 240, width: int = 427, num_frames: int = 24
) -> tuple[np.ndarray, np.ndarray]:
    """Make a training clip of one of the hard cases (module notes).

    * ``occlusion`` / ``exit``: :func:`stress_clip` with the hidden run drawn from the seed
      (starting on frame 2 to ``num_frames // 2``, 3 to 8 frames long) and 1-2 objects;
    * ``small``: 1-2 objects of about 0.3-2% of the frame (sides 12-28% of the shorter side);
    * ``deform``: 1-2 objects with three times the generator's elastic deformation and
      rotation and twice its scale change and speed;
    * ``distractor``: 1-2 objects and an unlabelled copy of object 1 (its texture and shape
      on every frame, moved by its own offset), behind every object.

    Args:
        kind: One of :data:`HARD_KINDS`.
        seed: Seed (the same seed and arguments give the same clip).
        height, width: Frame size.
        num_frames: Clip length (at least 12, so that a hidden run fits).

    Returns:
        ``(frames, masks)``: RGB ``uint8`` ``T x H x W x 3`` and ``uint8`` label maps
        ``T x H x W`` (objects ``1..K``, 0 elsewhere, the distractor included).

    Raises:
        InputError: An unknown kind or too short a clip.
    """
    if kind not in HARD_KINDS:
        raise InputError(f"unknown hard-clip kind {kind!r}. Fix: choose from {HARD_KINDS}.")
    if num_frames < 12:
        raise InputError(
            f"hard clips need num_frames >= 12 (a hidden run must fit), got {num_frames}. "
            "Fix: num_frames=12 or more (a bank source's length, a HardClipDataset's "
            "clip_length)."
        )
    rng = np.random.default_rng(seed)
    objects = int(rng.integers(1, 3))
    if kind in ("occlusion", "exit"):
        hide_at = int(rng.integers(2, num_frames // 2 + 1))
        hide_for = int(rng.integers(3, min(8, num_frames - hide_at - 2) + 1))
        clip = stress_clip(
            kind,
            seed,
            height=height,
            width=width,
            num_frames=num_frames,
            hide_at=hide_at,
            hide_for=hide_for,
            num_objects=objects,
        )
        return clip.frames, clip.masks
    base = _generator(objects, height, width, num_frames, motion="normal")
    if kind == "small":
        gen = attrs.evolve(base, object_size=(0.12, 0.28))
    elif kind == "deform":
        gen = attrs.evolve(
            base,
            elastic=3 * base.elastic,
            rotation=3 * base.rotation,
            scale_step=2 * base.scale_step,
            speed=2 * base.speed,
        )
    else:
        layered = base.generate(seed, with_layers=True)
        frames, _ = _composite(layered, 0, 0, _lookalike(layered, rng))
        return frames, layered.masks
    clip = gen.generate(seed)
    return clip.frames, clip.masks


def _generator(
    objects: int, height: int, width: int, num_frames: int, **options: object
) -> SyntheticClipGenerator:
    """A generator of clips with exactly ``objects`` objects."""
    return SyntheticClipGenerator(
        height=height,
        width=width,
        num_frames=num_frames,
        min_objects=objects,
        max_objects=objects,
        **options,
    )


def _lookalike(clip: SyntheticClip, rng: np.random.Generator) -> np.ndarray:
    """The clip's backgrounds with object 1's unoccluded layer drawn again at an offset of
    1.2-2 times its extent in a random direction, drifting slowly."""
    assert clip.backgrounds is not None and clip.layers is not None
    assert clip.full_masks is not None
    frames = clip.backgrounds.copy()
    _, h, w = clip.masks.shape
    ys, xs = np.nonzero(clip.full_masks[0, 0])
    extent = max(np.ptp(ys), np.ptp(xs)) + 1 if len(ys) else min(h, w) // 4
    angle = rng.uniform(0, 2 * np.pi)
    offset = rng.uniform(1.2, 2.0) * extent * np.array([np.cos(angle), np.sin(angle)])
    drift = rng.normal(0.0, 0.01 * min(h, w), size=2)
    for t in range(len(frames)):
        dx, dy = offset + t * drift
        shift = np.float32([[1, 0, dx], [0, 1, dy]])
        m = cv2.warpAffine(
            clip.full_masks[t, 0].astype(np.uint8), shift, (w, h), flags=cv2.INTER_NEAREST
        ).astype(bool)
        layer = cv2.warpAffine(clip.layers[t, 0], shift, (w, h), flags=cv2.INTER_NEAREST)
        frames[t][m] = layer[m]
    return frames


def _composite(
    clip: SyntheticClip, start: int, stop: int, backgrounds: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Frames and labels with object 1 left out on frames ``start .. stop - 1``, drawn over
    ``backgrounds`` (default: the clip's own)."""
    assert clip.backgrounds is not None and clip.layers is not None
    assert clip.full_masks is not None
    frames = (clip.backgrounds if backgrounds is None else backgrounds).copy()
    masks = np.zeros(clip.masks.shape, np.uint8)
    for t in range(len(clip)):
        for k in range(clip.num_objects):  # back to front, as the generator composites
            if k == 0 and start <= t < stop:
                continue
            m = clip.full_masks[t, k]
            frames[t][m] = clip.layers[t, k][m]
            masks[t][m] = k + 1
    return frames, masks


def _occlude(
    frames: np.ndarray,
    masks: np.ndarray,
    clip: SyntheticClip,
    start: int,
    stop: int,
    rng: np.random.Generator,
) -> None:
    """Paint an opaque occluder over object 1's path on frames ``start .. stop - 1``
    (every object is hidden where it covers them)."""
    assert clip.full_masks is not None
    path = clip.full_masks[start:stop, 0].any(0)
    ys, xs = np.nonzero(path)
    if len(ys) == 0:
        return
    h, w = path.shape
    pad = max(4, int(0.1 * min(h, w)))
    y0, y1 = max(0, ys.min() - pad), min(h, ys.max() + pad + 1)
    x0, x1 = max(0, xs.min() - pad), min(w, xs.max() + pad + 1)
    side = max(y1 - y0, x1 - x0)
    texture = cv2.resize(random_texture(rng, side), (x1 - x0, y1 - y0))
    frames[start:stop, y0:y1, x0:x1] = texture
    masks[start:stop, y0:y1, x0:x1] = 0
