"""Training clips for the memory model: DAVIS videos, synthetic and hard clips, multi-object,
with STCN's max-skip curriculum.

Items are :class:`vosframe.data.clips.ClipDataset` items (``frames`` ``(T, 3, H, W)``
uint8, ``masks`` ``(T, H, W)`` label maps, ...), drawn from the sources at random in
proportion to their ``weight``:

* ``dict(type="davis", root=..., year="2016", split="train", fold=None, exclude=())`` --
  DAVIS-layout videos, with STCN's augmentation (:class:`~vosframe.data.augment.ClipAugment`:
  per-frame random affine, crop, flip, colour); ``fold=K`` keeps only the fit videos of
  fold ``K`` (:mod:`vosframe.data.folds`; ``vosframe train --fold K`` sets it), ``exclude``
  drops named videos;
* ``dict(type="synthetic", seed=..., ...)`` -- clips from the project's synthetic
  generator (:class:`~vosframe.data.clips.SyntheticClipDataset`: objects with real-photo
  textures from scikit-image's sample images on a photo background, per-frame affine and
  elastic deformation, occlusions), the still-image stage of STM/STCN (three frames of one
  composed image under random deformations); extra keys go to the generator;
* ``dict(type="stress", seed=..., kinds=..., clip_length=16)`` -- hard synthetic clips
  (:class:`~vosframe.data.clips.HardClipDataset`: objects hidden by an occluder or gone and
  back, small objects, fast non-rigid deformation, an unlabelled look-alike), the first
  frame and later frames drawn over the whole clip.

Max-skip curriculum (STCN): ``max_skip`` is a list of ``(progress, skip)`` pairs; the skip
in force is that of the last pair whose progress is reached, where progress is
:attr:`MemoryClipDataset.progress` (set by a training hook) or ``epoch / curriculum_epochs``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from torch.utils.data import Dataset

from vosframe.core.errors import ConfigError, InputError
from vosframe.data.clips import ClipDataset, HardClipDataset, SyntheticClipDataset, sample_rng


def _davis(spec: dict[str, Any], common: dict[str, Any]) -> ClipDataset:
    from vosframe.data.datasets import DavisDataset

    spec = dict(spec)
    root = spec.pop("root")
    fold, table = spec.pop("fold", None), spec.pop("fold_table", None)
    exclude = set(spec.pop("exclude", ()))
    augment = spec.pop("augment", True)
    dataset = DavisDataset(
        root,
        year=str(spec.pop("year", "2016")),
        split=spec.pop("split", "train"),
        resolution=spec.pop("resolution", ""),
    )
    names = list(dataset.names)
    if fold is not None:
        from vosframe.data.folds import fold_table

        keep = set(fold_table(table).fit_of(fold, names, root))
        names = [n for n in names if n in keep]
    unknown = sorted(exclude - set(dataset.names))
    if unknown:
        raise ConfigError(f"exclude names videos not in {root}: {unknown}")
    names = [n for n in names if n not in exclude]
    if spec:
        raise ConfigError(f"unknown davis source keys {sorted(spec)}")
    sequences = [s for s in dataset.sequences if s.name in names]
    return ClipDataset(sequences, augment=augment, samples_per_epoch=10**9, **common)


class MemoryClipDataset(Dataset):
    """Multi-object training clips from DAVIS and synthetic sources (see the module notes).

    Args:
        sources: Source configs (``type`` ``davis``, ``synthetic`` or ``stress``, optional
            ``weight``).
        num_frames: Frames per clip.
        size: Output ``(H, W)``.
        max_objects: Most objects per clip.
        max_skip: An int, or ``(progress, skip)`` pairs (the curriculum).
        curriculum_epochs: Epochs over which progress runs from 0 to 1 (when no hook sets
            :attr:`progress`).
        samples_per_epoch: Dataset length.
        seed: With a seed, item ``i`` of epoch ``e`` picks its source from ``(seed, e, i)``.
    """

    def __init__(
        self,
        sources: Sequence[Mapping[str, Any]],
        num_frames: int = 3,
        size: Sequence[int] = (240, 432),
        max_objects: int = 3,
        max_skip: int | Sequence[Sequence[float]] = 5,
        curriculum_epochs: float = 0,
        samples_per_epoch: int = 1000,
        seed: int | None = None,
    ) -> None:
        if not sources:
            raise ConfigError("MemoryClipDataset needs at least one source")
        self.schedule = (
            [(0.0, int(max_skip))]
            if isinstance(max_skip, int)
            else sorted((float(p), int(s)) for p, s in max_skip)
        )
        if self.schedule[0][0] > 0:
            self.schedule.insert(0, (0.0, self.schedule[0][1]))
        common = dict(
            num_frames=int(num_frames),
            size=(int(size[0]), int(size[1])),
            max_objects=int(max_objects),
            max_skip=self.schedule[0][1],
        )
        self.parts: list[Dataset] = []
        weights = []
        self._videos: list[str] = []
        for spec in sources:
            spec = dict(spec)
            kind = spec.pop("type", None)
            weights.append(float(spec.pop("weight", 1.0)))
            if kind == "davis":
                part = _davis(spec, common)
                self._videos += [s.name for s in part.sequences]
            elif kind == "synthetic":
                part = SyntheticClipDataset(
                    length=10**9,
                    seed=int(spec.pop("seed", 0)),
                    num_frames=common["num_frames"],
                    size=common["size"],
                    max_objects=int(spec.pop("max_objects", max_objects)),
                    **spec,
                )
            elif kind == "stress":
                try:
                    part = HardClipDataset(
                        length=10**9,
                        seed=int(spec.pop("seed", 0)),
                        num_frames=common["num_frames"],
                        size=common["size"],
                        **spec,
                    )
                except (InputError, TypeError) as err:
                    raise ConfigError(f"stress source {spec}: {err}") from None
            else:
                raise ConfigError(
                    f"source type must be 'davis', 'synthetic' or 'stress', got {kind!r}"
                )
            self.parts.append(part)
        w = np.asarray(weights, float)
        if (w <= 0).any():
            raise ConfigError(f"source weights must be > 0, got {weights}")
        self.weights = w / w.sum()
        self.samples_per_epoch, self.seed = int(samples_per_epoch), seed
        self.curriculum_epochs = float(curriculum_epochs)
        self.epoch = 0
        self.progress: float | None = None

    @property
    def davis_videos(self) -> list[str]:
        """DAVIS videos the clips come from (recorded in trained checkpoints)."""
        return sorted(set(self._videos))

    def current_skip(self) -> int:
        """The max skip in force (curriculum)."""
        progress = self.progress
        if progress is None:
            progress = self.epoch / self.curriculum_epochs if self.curriculum_epochs else 0.0
        skip = self.schedule[0][1]
        for p, s in self.schedule:
            if progress >= p:
                skip = s
        return skip

    def __len__(self) -> int:
        return self.samples_per_epoch

    def __getitem__(self, index: int) -> dict[str, Any]:
        rng = sample_rng(self.seed, self.epoch, index)
        part = self.parts[int(rng.choice(len(self.parts), p=self.weights))]
        if isinstance(part, ClipDataset):
            part.max_skip = self.current_skip()
        inner = int(rng.integers(10**9))
        item = part[inner]
        return {"frames": item["frames"], "masks": item["masks"]}
