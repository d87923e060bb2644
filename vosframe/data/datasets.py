"""Sequence datasets on disk: DAVIS 2016/2017 layout and a plain folder of sequences.

A dataset is a list of :class:`VideoSequence` objects. A sequence knows its frame files and
its mask files (a subset of the frames, keyed by frame name) and reads them lazily. The
YouTube-VOS layout is in :mod:`vosframe.data.youtube_vos`; training clips are sampled from
these sequences by :class:`vosframe.data.clips.ClipDataset`.

Layouts:

* DAVIS: ``<root>/JPEGImages[/480p]/<seq>/00000.jpg`` and
  ``<root>/Annotations[/480p]/<seq>/00000.png``; the sequence list comes from
  ``<root>/ImageSets/<year>/<split>.txt`` when present, else from the folders.
* Folder: ``<frames_root>/<seq>/*.jpg|png`` and optionally ``<masks_root>/<seq>/*.png``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import attrs
import numpy as np

from vosframe.core.errors import DataError, InputError
from vosframe.data.frames import list_images, natural_key, read_frame
from vosframe.data.masks import MaskFormat, is_binary_png, list_masks, read_label_png, read_mask


@attrs.frozen
class ObjectInfo:
    """What a dataset's metadata says about one object.

    Attributes:
        object_id: Label of the object in the masks.
        category: Category name (YouTube-VOS), or ``None``.
        frames: Names of the frames where the object must be segmented, from its first
            appearance on (YouTube-VOS ``meta.json``); empty when unknown.
    """

    object_id: int
    category: str | None = None
    frames: tuple[str, ...] = ()

    @property
    def first_frame(self) -> str | None:
        """Name of the frame where the object first appears (its mask is given there)."""
        return self.frames[0] if self.frames else None


@attrs.frozen(eq=False)
class VideoSequence:
    """One video: frame files and (some) mask files, read lazily.

    Attributes:
        name: Sequence name.
        frame_paths: Frame images in temporal order.
        mask_paths: Mask PNGs keyed by frame name (a subset of the frames).
        mask_format: How to read the masks (``auto`` decides once, from the first mask).
        objects: Object metadata keyed by id (YouTube-VOS), empty when unknown.
    """

    name: str
    frame_paths: tuple[Path, ...]
    mask_paths: Mapping[str, Path] = attrs.field(factory=dict)
    mask_format: MaskFormat = "auto"
    objects: Mapping[int, ObjectInfo] = attrs.field(factory=dict)

    @property
    def frame_names(self) -> list[str]:
        """Frame names (file stems) in order."""
        return [p.stem for p in self.frame_paths]

    def __len__(self) -> int:
        return len(self.frame_paths)

    @property
    def annotated_indices(self) -> list[int]:
        """Indices of the frames that have a mask."""
        return [i for i, name in enumerate(self.frame_names) if name in self.mask_paths]

    def read_frame(self, index: int) -> np.ndarray:
        """RGB ``uint8`` frame ``H x W x 3``."""
        return read_frame(self.frame_paths[index])

    def frames(self) -> Iterator[np.ndarray]:
        """Stream the frames in order."""
        for path in self.frame_paths:
            yield read_frame(path)

    def has_mask(self, index: int) -> bool:
        """Whether frame ``index`` has a mask file."""
        return self.frame_paths[index].stem in self.mask_paths

    def resolved_mask_format(self) -> MaskFormat:
        """``binary`` or ``indexed``: ``auto`` is decided from the first mask file."""
        if self.mask_format != "auto" or not self.mask_paths:
            return self.mask_format
        first = self.mask_paths[next(iter(self.mask_paths))]
        return "binary" if is_binary_png(*read_label_png(first)) else "indexed"

    def read_mask(self, index: int, fmt: MaskFormat | None = None) -> np.ndarray:
        """Label map of frame ``index``.

        Args:
            index: Frame index.
            fmt: Mask format; default :meth:`resolved_mask_format`.

        Raises:
            DataError: The frame has no mask, or the mask file is bad.
        """
        name = self.frame_paths[index].stem
        if name not in self.mask_paths:
            raise DataError(f"sequence {self.name}: frame {name} has no mask file")
        return read_mask(self.mask_paths[name], fmt or self.resolved_mask_format())

    def given_masks(self) -> dict[int, np.ndarray]:
        """Masks a semi-supervised method is given, keyed by frame index.

        Without object metadata this is the first frame's mask. With metadata
        (YouTube-VOS), each object's mask is given on its first frame: the result has one
        entry per such frame, holding only the objects that start there.

        Raises:
            DataError: The first frame (or an object's first frame) has no mask.
        """
        fmt = self.resolved_mask_format()
        if not self.objects:
            if not self.has_mask(0):
                raise DataError(
                    f"sequence {self.name}: the first frame {self.frame_paths[0].name} has no "
                    "mask; semi-supervised segmentation needs the first-frame mask"
                )
            return {0: self.read_mask(0, fmt)}
        index = {name: i for i, name in enumerate(self.frame_names)}
        given: dict[int, np.ndarray] = {}
        for obj in sorted(self.objects.values(), key=lambda o: o.object_id):
            first = obj.first_frame
            if first not in index or first not in self.mask_paths:
                raise DataError(
                    f"sequence {self.name}: object {obj.object_id} starts at frame {first}, "
                    "which has no frame or mask file; check meta.json against the folders"
                )
            t = index[first]
            full = self.read_mask(t, fmt)
            target = given.setdefault(t, np.zeros_like(full))
            target[full == obj.object_id] = obj.object_id
        return dict(sorted(given.items()))


def build_sequence(
    name: str,
    frames_dir: Path,
    masks_dir: Path | None,
    *,
    mask_format: MaskFormat = "auto",
    require: str = "first_or_all",
    objects: Mapping[int, ObjectInfo] | None = None,
) -> VideoSequence:
    """List and check one sequence's files.

    Args:
        name: Sequence name.
        frames_dir: Folder of frame images.
        masks_dir: Folder of mask PNGs, or ``None`` for frames only.
        mask_format: Mask format.
        require: Which masks must exist: ``first_or_all`` (the first frame's, and either
            only it or every frame's: DAVIS), ``first`` (at least the first frame's),
            ``any`` (at least one; YouTube-VOS) or ``none``.
        objects: Object metadata.

    Raises:
        DataError: Empty folders, non-image files, masks without a frame, a missing
            first-frame mask, or mismatched frame/mask counts.
    """
    frame_paths = tuple(list_images(frames_dir, what="frame"))
    masks: dict[str, Path] = {}
    if masks_dir is not None:
        if not masks_dir.is_dir():
            if require != "none":
                raise DataError(f"sequence {name}: mask folder {masks_dir} does not exist")
        else:
            masks = {p.stem: p for p in list_masks(masks_dir)}
    frame_names = {p.stem for p in frame_paths}
    orphans = sorted(set(masks) - frame_names, key=natural_key)
    if orphans:
        raise DataError(
            f"sequence {name}: mask(s) {orphans[:5]} in {masks_dir} have no frame with the same "
            f"name in {frames_dir}; frame and mask files must share their stem"
        )
    first = frame_paths[0].stem
    if require in ("first", "first_or_all") and first not in masks:
        raise DataError(
            f"sequence {name}: no mask for the first frame {frame_paths[0].name} in {masks_dir}; "
            "semi-supervised VOS needs the first-frame mask (as <frame stem>.png)"
        )
    if require == "first_or_all" and len(masks) not in (1, len(frame_paths)):
        raise DataError(
            f"sequence {name}: {len(frame_paths)} frames in {frames_dir} but {len(masks)} masks "
            f"in {masks_dir}; give either every frame's mask or only the first frame's"
        )
    if require == "any" and not masks:
        raise DataError(f"sequence {name}: no mask in {masks_dir}; give at least one")
    ordered = {k: masks[k] for k in sorted(masks, key=natural_key)}
    return VideoSequence(name, frame_paths, ordered, mask_format, dict(objects or {}))


@attrs.define(eq=False)
class SequenceDataset:
    """An ordered collection of :class:`VideoSequence`, indexable by position or name.

    Attributes:
        sequences: The sequences.
    """

    sequences: tuple[VideoSequence, ...]

    @property
    def names(self) -> list[str]:
        """Sequence names in order."""
        return [s.name for s in self.sequences]

    def __len__(self) -> int:
        return len(self.sequences)

    def __iter__(self) -> Iterator[VideoSequence]:
        return iter(self.sequences)

    def __getitem__(self, key: int | str) -> VideoSequence:
        if isinstance(key, str):
            for seq in self.sequences:
                if seq.name == key:
                    return seq
            raise KeyError(f"no sequence {key!r}; available: {self.names}")
        return self.sequences[key]


def _subfolders(root: Path) -> list[str]:
    if not root.is_dir():
        raise DataError(f"folder {root} does not exist; check the dataset root")
    names = [e.name for e in root.iterdir() if e.is_dir() and not e.name.startswith(".")]
    if not names:
        raise DataError(f"folder {root} holds no sequence folders")
    return sorted(names, key=natural_key)


def _select(available: Sequence[str], wanted: Sequence[str] | None, root: Path) -> list[str]:
    if wanted is None:
        return list(available)
    if isinstance(wanted, str):  # one name, not its characters
        wanted = [wanted]
    unknown = [s for s in wanted if s not in available]
    if unknown:
        raise InputError(f"sequences {unknown} are not in {root}")
    return list(wanted)


class DavisDataset(SequenceDataset):
    """DAVIS 2016 / 2017 sequences (semi-supervised layout).

    Args:
        root: Dataset root holding ``JPEGImages`` and ``Annotations`` (with or without the
            ``480p``/``Full-Resolution`` level).
        year: ``"2016"`` (binary 0/255 masks, 255 is object 1) or ``"2017"`` (indexed).
        split: Split name for ``ImageSets/<year>/<split>.txt`` (used when that file exists).
        resolution: Resolution folder name, used when present.
        sequences: Explicit sequence names (default: the split file or every folder).
        require_masks: Mask requirement (see :func:`build_sequence`); ``first_or_all``
            accepts the val/train layouts (every frame) and test-dev (first frame only).
    """

    def __init__(
        self,
        root: str | Path,
        year: str = "2017",
        split: str = "val",
        resolution: str = "480p",
        sequences: Sequence[str] | None = None,
        require_masks: str = "first_or_all",
    ) -> None:
        root = Path(root)
        if str(year) not in ("2016", "2017"):
            raise InputError(f"DAVIS year must be '2016' or '2017', got {year!r}")
        frames_root = root / "JPEGImages"
        masks_root = root / "Annotations"
        if (frames_root / resolution).is_dir():
            frames_root = frames_root / resolution
        if (masks_root / resolution).is_dir():
            masks_root = masks_root / resolution
        split_file = root / "ImageSets" / str(year) / f"{split}.txt"
        if sequences is None and split_file.is_file():
            sequences = [ln.strip() for ln in split_file.read_text().splitlines() if ln.strip()]
        names = _select(_subfolders(frames_root), sequences, frames_root)
        fmt: MaskFormat = "binary" if str(year) == "2016" else "indexed"
        super().__init__(
            tuple(
                build_sequence(
                    n, frames_root / n, masks_root / n, mask_format=fmt, require=require_masks
                )
                for n in names
            )
        )


class FolderDataset(SequenceDataset):
    """A plain folder of sequences: ``<frames_root>/<seq>/`` images, optional masks.

    Args:
        frames_root: Folder with one sub-folder of frame images per sequence.
        masks_root: Folder with one sub-folder of mask PNGs per sequence, or ``None``.
        sequences: Explicit sequence names (default: every sub-folder).
        mask_format: Mask format (``auto`` detects DAVIS-2016 binary masks).
        require_masks: Mask requirement (see :func:`build_sequence`); ignored without
            ``masks_root``.
    """

    def __init__(
        self,
        frames_root: str | Path,
        masks_root: str | Path | None = None,
        sequences: Sequence[str] | None = None,
        mask_format: MaskFormat = "auto",
        require_masks: str = "first",
    ) -> None:
        frames_root = Path(frames_root)
        masks = None if masks_root is None else Path(masks_root)
        names = _select(_subfolders(frames_root), sequences, frames_root)
        super().__init__(
            tuple(
                build_sequence(
                    n,
                    frames_root / n,
                    None if masks is None else masks / n,
                    mask_format=mask_format,
                    require="none" if masks is None else require_masks,
                )
                for n in names
            )
        )
