"""Training clips: N annotated frames in order with random skips, augmented, several objects.

:class:`ClipDataset` is a ``torch.utils.data.Dataset`` over :class:`VideoSequence` objects
(DAVIS, YouTube-VOS, folders); items are dicts of tensors that batch with
:func:`collate_clips` (or torch's default collate), so the mmengine Runner's DataLoader can
use it directly.

Item layout (``T`` frames, output size ``H x W``):

* ``frames``: ``uint8`` tensor ``T x 3 x H x W`` (RGB; normalisation is the model's job);
* ``masks``: ``uint8`` tensor ``T x H x W`` label maps, objects relabelled ``1..K`` in the
  first frame, other labels set to 0;
* ``num_objects``: ``K`` (``int``), at most ``max_objects``;
* ``frame_indices``: ``int64`` tensor ``T`` (indices in the source sequence);
* ``sequence``: source sequence name (``str``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from vosframe.core.errors import DataError, InputError
from vosframe.data.augment import ClipAugment
from vosframe.data.datasets import SequenceDataset, VideoSequence


def sample_frame_positions(
    rng: np.random.Generator, available: int, num_frames: int, max_skip: int
) -> list[int]:
    """Positions ``p0 < p1 < ...`` in ``range(available)`` with gaps in ``1..max_skip``.

    Gaps are drawn uniformly, then shortened when the clip would not fit.

    Raises:
        InputError: ``available < num_frames`` or ``max_skip < 1``.
    """
    if max_skip < 1 or num_frames < 1:
        raise InputError(f"need num_frames >= 1 and max_skip >= 1, got {num_frames}, {max_skip}")
    if available < num_frames:
        raise InputError(f"cannot take {num_frames} frames from {available}")
    gaps = rng.integers(1, max_skip + 1, size=num_frames - 1)
    while gaps.sum() > available - 1:
        candidates = np.flatnonzero(gaps > 1)
        gaps[rng.choice(candidates)] -= 1
    start = int(rng.integers(0, available - int(gaps.sum())))
    return [start, *(start + np.cumsum(gaps)).tolist()]


def select_objects(
    rng: np.random.Generator, first_mask: np.ndarray, max_objects: int, min_pixels: int
) -> list[int]:
    """Up to ``max_objects`` labels visible in the first frame with ``>= min_pixels`` pixels."""
    labels, counts = np.unique(first_mask, return_counts=True)
    visible = [int(k) for k, n in zip(labels, counts) if 0 < k < 255 and n >= min_pixels]
    if len(visible) > max_objects:
        visible = sorted(rng.choice(visible, size=max_objects, replace=False).tolist())
    return visible


def relabel(masks: Sequence[np.ndarray], objects: Sequence[int]) -> np.ndarray:
    """Stack masks with ``objects[i]`` mapped to ``i + 1`` and every other label to 0."""
    lut = np.zeros(256, np.uint8)
    for i, obj in enumerate(objects):
        lut[obj] = i + 1
    return np.stack([lut[m] for m in masks])


def to_item(
    frames: Sequence[np.ndarray],
    masks: np.ndarray,
    num_objects: int,
    indices: Sequence[int],
    sequence: str,
) -> dict[str, Any]:
    """Pack a clip into the item dict described in the module docs."""
    return {
        "frames": torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).contiguous(),
        "masks": torch.from_numpy(np.ascontiguousarray(masks)),
        "num_objects": int(num_objects),
        "frame_indices": torch.as_tensor(list(indices), dtype=torch.int64),
        "sequence": sequence,
    }


def collate_clips(batch: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Batch clip items: stacks ``frames``/``masks``/``frame_indices``, lists the rest.

    Raises:
        InputError: Items differ in frame count or size.
    """
    if not batch:
        raise InputError("cannot collate an empty batch")
    shapes = {tuple(item["frames"].shape) for item in batch}
    if len(shapes) > 1:
        raise InputError(f"clips in a batch differ in shape: {sorted(shapes)}; use one size")
    return {
        "frames": torch.stack([item["frames"] for item in batch]),
        "masks": torch.stack([item["masks"] for item in batch]),
        "frame_indices": torch.stack([item["frame_indices"] for item in batch]),
        "num_objects": torch.as_tensor([item["num_objects"] for item in batch]),
        "sequence": [item["sequence"] for item in batch],
    }


def _as_sequences(sources: Any) -> list[VideoSequence]:
    if isinstance(sources, VideoSequence):
        return [sources]
    if isinstance(sources, SequenceDataset):
        return list(sources.sequences)
    out: list[VideoSequence] = []
    for item in sources:
        out.extend(_as_sequences(item))
    return out


def _as_augment(augment: ClipAugment | Mapping[str, Any] | bool) -> ClipAugment:
    if isinstance(augment, ClipAugment):
        return augment
    if isinstance(augment, Mapping):
        return ClipAugment(**augment)
    return ClipAugment() if augment else ClipAugment.disabled()


def sample_rng(seed: int | None, *keys: int) -> np.random.Generator:
    """The generator of one training sample.

    Seeded datasets draw sample ``keys`` (e.g. epoch and index) from ``(seed, *keys)``, so
    a sample is the same in every worker and run; unseeded ones follow torch's generator,
    which the DataLoader seeds per worker.
    """
    if seed is not None:
        return np.random.default_rng([seed, *keys])
    return np.random.default_rng(int(torch.randint(0, 2**62, ()).item()))


class ClipDataset(Dataset):
    """Training clips sampled from annotated frames of video sequences.

    Args:
        sequences: A dataset, a sequence, or a list of either (concatenated). Only frames
            with a mask are sampled (every frame for DAVIS, every 5th for YouTube-VOS).
        num_frames: Frames per clip ``T``.
        max_skip: Largest gap between consecutive sampled annotated frames.
        max_objects: Objects kept per clip (chosen at random among those of frame 0).
        size: Output ``(H, W)``.
        augment: A :class:`ClipAugment`, its keyword arguments, ``True`` (defaults) or
            ``False`` (centred resize-and-crop only).
        samples_per_epoch: Dataset length (default: number of sequences); item ``i`` uses
            sequence ``i % n`` when ``None``, a random sequence otherwise.
        seed: With a seed, item ``i`` is a pure function of ``(seed, i)``; without, the
            randomness comes from torch's generator (seeded per worker by the DataLoader).
        min_object_pixels: Objects smaller than this in the first (augmented) frame are
            not used.
        retries: Augmentation attempts to keep an object visible in the first frame.

    Raises:
        DataError: No sequence has ``num_frames`` annotated frames.
    """

    def __init__(
        self,
        sequences: Any,
        num_frames: int = 3,
        max_skip: int = 5,
        max_objects: int = 3,
        size: Sequence[int] = (384, 384),
        augment: ClipAugment | Mapping[str, Any] | bool = True,
        samples_per_epoch: int | None = None,
        seed: int | None = None,
        min_object_pixels: int = 100,
        retries: int = 10,
    ) -> None:
        if num_frames < 1 or max_skip < 1 or max_objects < 1:
            raise InputError("num_frames, max_skip and max_objects must be >= 1")
        self.num_frames = int(num_frames)
        self.max_skip = int(max_skip)
        self.max_objects = int(max_objects)
        self.size = (int(size[0]), int(size[1]))
        self.augment = _as_augment(augment)
        self.seed = seed
        self.min_object_pixels = int(min_object_pixels)
        self.retries = int(retries)
        all_sequences = _as_sequences(sequences)
        self.sequences = [s for s in all_sequences if len(s.annotated_indices) >= num_frames]
        if not self.sequences:
            raise DataError(
                f"none of the {len(all_sequences)} sequence(s) has {num_frames} annotated "
                "frames; lower num_frames or add annotated sequences"
            )
        self._annotated = [s.annotated_indices for s in self.sequences]
        self._formats = [s.resolved_mask_format() for s in self.sequences]
        self.samples_per_epoch = samples_per_epoch

    def __len__(self) -> int:
        return self.samples_per_epoch or len(self.sequences)

    def _rng(self, index: int) -> np.random.Generator:
        return sample_rng(self.seed, index)

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < len(self):
            raise IndexError(f"clip index {index} out of range 0..{len(self) - 1}")
        rng = self._rng(index)
        if self.samples_per_epoch is None:
            s = index % len(self.sequences)
        else:
            s = int(rng.integers(len(self.sequences)))
        seq, annotated = self.sequences[s], self._annotated[s]
        for _attempt in range(self.retries):
            positions = sample_frame_positions(rng, len(annotated), self.num_frames, self.max_skip)
            indices = [annotated[p] for p in positions]
            frames, masks = self._load(seq, s, indices)
            aug_frames, aug_masks = self.augment(rng, frames, masks, self.size)
            objects = select_objects(rng, aug_masks[0], self.max_objects, self.min_object_pixels)
            if objects:
                break
        else:  # fall back to the plain resize-crop of the last sampled frames
            aug_frames, aug_masks = ClipAugment.disabled()(rng, frames, masks, self.size)
            objects = select_objects(rng, aug_masks[0], self.max_objects, 1)
        return to_item(aug_frames, relabel(aug_masks, objects), len(objects), indices, seq.name)

    def _load(
        self, seq: VideoSequence, s: int, indices: list[int]
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        frames = [seq.read_frame(i) for i in indices]
        masks = [seq.read_mask(i, self._formats[s]) for i in indices]
        for i, frame, mask in zip(indices, frames, masks):
            if frame.shape[:2] != mask.shape:
                raise DataError(
                    f"sequence {seq.name}: frame {seq.frame_paths[i].name} is "
                    f"{frame.shape[1]}x{frame.shape[0]} but its mask is "
                    f"{mask.shape[1]}x{mask.shape[0]}; frames and masks must have one size"
                )
        return frames, masks


def _clip_seed(seed: int, index: int, length: int) -> int:
    """The seed of item ``index`` of a seeded clip dataset of ``length`` items.

    Raises:
        IndexError: ``index`` is out of range.
    """
    if not 0 <= index < length:
        raise IndexError(f"clip index {index} out of range 0..{length - 1}")
    return seed * 1_000_003 + index


class SyntheticClipDataset(Dataset):
    """Training clips made on the fly by the synthetic generator (no files needed).

    Item ``i`` is generated from seed ``seed * 1_000_003 + i``, so the dataset is
    deterministic; items have the :class:`ClipDataset` layout.

    Args:
        length: Number of items.
        seed: Base seed.
        num_frames: Frames per clip.
        size: Output ``(H, W)``.
        max_objects: Largest object count.
        motion: Motion mode of the generator (``mixed``, ``normal``, ``static``, ``jump``).
        augment: Optional colour/flip augmentation on top (``False`` by default: the
            generator already moves the objects).
        cutouts: Real ``(rgb, mask)`` cut-outs to use as objects (training data only).
        **generator_kwargs: Other :class:`~vosframe.data.synthetic.SyntheticClipGenerator`
            options.
    """

    def __init__(
        self,
        length: int = 1000,
        seed: int = 0,
        num_frames: int = 3,
        size: Sequence[int] = (240, 432),
        max_objects: int = 3,
        motion: str = "normal",
        augment: ClipAugment | Mapping[str, Any] | bool = False,
        cutouts: Sequence[tuple[np.ndarray, np.ndarray]] = (),
        **generator_kwargs: Any,
    ) -> None:
        from vosframe.data.synthetic import SyntheticClipGenerator

        if length < 1:
            raise InputError(f"length must be >= 1, got {length}")
        self.length = int(length)
        self.seed = int(seed)
        self.generator = SyntheticClipGenerator(
            height=int(size[0]),
            width=int(size[1]),
            num_frames=int(num_frames),
            max_objects=int(max_objects),
            min_objects=min(int(generator_kwargs.pop("min_objects", 1)), int(max_objects)),
            motion=motion,
            **generator_kwargs,
        )
        self.augment = None if augment is False else _as_augment(augment)
        self.cutouts = list(cutouts)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Any]:
        seed = _clip_seed(self.seed, index, self.length)
        clip = self.generator.generate(seed, cutouts=self.cutouts)
        frames, masks = list(clip.frames), list(clip.masks)
        if self.augment is not None:
            rng = np.random.default_rng([seed, 1])
            frames, masks = self.augment(rng, frames, masks, frames[0].shape[:2])
        objects = sorted(int(k) for k in np.unique(masks[0]) if k)
        return to_item(
            frames, relabel(masks, objects), len(objects), range(len(frames)), f"synthetic-{seed}"
        )


class HardClipDataset(Dataset):
    """Training clips of the hard cases (:func:`vosframe.data.stress.hard_clip`) as
    :class:`ClipDataset` items, for trainers that sample clips rather than read a bank.

    Item ``i`` is a clip of kind ``kinds[i % len(kinds)]`` from seed
    ``seed * 1_000_003 + i``, ``clip_length`` frames long, of which ``num_frames`` are kept:
    the first (every object labelled, the reference frame) and ``num_frames - 1`` later
    frames in order, drawn at random over the whole clip, so that a hidden run often falls
    between two kept frames (the object gone, then back) and a small or deforming object is
    seen far from its reference. Objects are those labelled on the first frame.

    Args:
        length: Number of items.
        seed: Base seed (the dataset is deterministic).
        num_frames: Frames per item.
        size: Frame ``(H, W)``.
        kinds: Hard-clip kinds to cycle through (a non-empty subset of
            :data:`vosframe.data.stress.HARD_KINDS`).
        clip_length: Frames of each generated clip (at least 12 and ``num_frames``).

    Raises:
        InputError: Unknown kinds, or a clip too short for a hidden run or for
            ``num_frames`` (before any clip is made).
    """

    def __init__(
        self,
        length: int = 1000,
        seed: int = 0,
        num_frames: int = 3,
        size: Sequence[int] = (240, 432),
        kinds: Sequence[str] | None = None,
        clip_length: int = 16,
    ) -> None:
        from vosframe.data.stress import check_hard_kinds

        kinds = check_hard_kinds(kinds)
        if clip_length < max(12, num_frames):
            raise InputError(
                f"clip_length must be at least 12 (a hidden run must fit) and num_frames "
                f"({num_frames}), got {clip_length}. Fix: clip_length={max(12, num_frames)}."
            )
        if length < 1 or num_frames < 2:
            raise InputError(f"need length >= 1 and num_frames >= 2, got {length} and {num_frames}")
        self.length, self.seed, self.num_frames = int(length), int(seed), int(num_frames)
        self.size = (int(size[0]), int(size[1]))
        self.kinds, self.clip_length = kinds, int(clip_length)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Any]:
        from vosframe.data.stress import hard_clip

        seed = _clip_seed(self.seed, index, self.length)
        kind = self.kinds[index % len(self.kinds)]
        frames, masks = hard_clip(
            kind, seed, height=self.size[0], width=self.size[1], num_frames=self.clip_length
        )
        rng = np.random.default_rng([seed, 2])
        later = np.sort(rng.choice(np.arange(1, self.clip_length), self.num_frames - 1, False))
        indices = [0, *later.tolist()]
        objects = sorted(int(k) for k in np.unique(masks[0]) if k)
        return to_item(
            [frames[i] for i in indices],
            relabel([masks[i] for i in indices], objects),
            len(objects),
            indices,
            f"hard-{kind}-{seed}",
        )
