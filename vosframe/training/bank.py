"""A feature bank: the frozen backbone's features of every training frame, computed once.

The backbone of FRTM-style models is frozen, so its features are a pure function of the
frame. The bank stores, per sequence, the frames (``uint8``), the label maps and the
features at the strides the model reads (``float16``), one ``.pt`` file per sequence,
written atomically; a fingerprint (backbone config, size, strides) in each file makes a
stale bank an error instead of silently wrong features. Clips for training are then
sampled from memory (:class:`BankClipDataset`) without running the backbone.

Sources: DAVIS-layout datasets (every annotated frame, resized to the bank size) and
seeded synthetic sequences (:mod:`vosframe.data.synthetic`, including near-static and
jump motion, which the reuse gate needs) and seeded hard clips
(:func:`vosframe.data.stress.hard_clip`: hidden and returning, small, fast-deforming
objects, look-alikes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import attrs
import cv2
import numpy as np
import torch
from tqdm import tqdm

from vosframe.core.checkpoint import atomic_save
from vosframe.core.errors import ConfigError, DataError
from vosframe.core.stages import FeatureExtractor
from vosframe.data.stress import HARD_KINDS, check_hard_kinds, hard_clip


@attrs.define(eq=False)
class BankSequence:
    """One sequence in the bank.

    Attributes:
        name: Sequence name (``davis/<seq>``, ``synthetic/...`` or ``stress/...``).
        frames: ``(N, H, W, 3)`` uint8 RGB.
        masks: ``(N, H, W)`` uint8 label maps.
        features: stride -> ``(N, C, h, w)`` float16.
    """

    name: str
    frames: np.ndarray
    masks: np.ndarray
    features: dict[int, torch.Tensor]


def _resize(frame: np.ndarray, mask: np.ndarray, size: tuple[int, int]):
    h, w = size
    if frame.shape[:2] == (h, w):
        return frame, mask
    f = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
    m = cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST)
    return f, m


Source = Iterator[tuple[str, Callable[[], tuple[list[np.ndarray], list[np.ndarray]]]]]
"""Yields ``(name, load)``; ``load()`` returns the sequence's frames and label maps."""


def davis_source(
    root: str | Path,
    year: str = "2016",
    split: str = "train",
    fold: int | None = None,
    fold_table: str | None = None,
) -> Source:
    """Every sequence of a DAVIS-layout folder (annotated frames only).

    Args:
        root: DAVIS-layout folder.
        year: ``"2016"`` or ``"2017"``.
        split: Split file name (used when ``ImageSets`` exists).
        fold: Keep only the fit videos of this fold of ``fold_table``
            (:mod:`vosframe.data.folds`), so its select videos stay unseen.
        fold_table: Fold table name (default: the DAVIS-2016 train table).

    Raises:
        InputError: Unknown fold, or the folder lacks some of the table's videos.
    """
    for seq in _davis_sequences(root, year, split, fold, fold_table):
        yield f"davis/{seq.name}", partial(_load_annotated, seq)


def _davis_sequences(
    root: str | Path, year: str, split: str, fold: int | None, fold_table: str | None
) -> list:
    """The sequences of a DAVIS-layout folder (``fold``: only that fold's fit videos)."""
    from vosframe.data.datasets import DavisDataset

    dataset = DavisDataset(root, year=year, split=split, resolution="")
    keep = set(dataset.names)
    if fold is not None:
        from vosframe.data.folds import fold_table as get_table

        keep = set(get_table(fold_table).fit_of(fold, keep, root))
    return [seq for seq in dataset if seq.name in keep]


def _still(seq, i: int, key: int, length: int, recipe, donors=()):
    from vosframe.data.stills import paste_still_object, still_clip

    (frame,), (mask,) = _load_annotated(seq, only=i)
    rng = np.random.default_rng(key)
    frames, masks = still_clip(frame, mask, rng, length, frame.shape[:2], recipe)
    for donor_seq in donors:
        for _attempt in range(5):  # a frame where the donor's object is out of view: another
            j = int(rng.integers(len(donor_seq.annotated_indices)))
            (image,), (label,) = _load_annotated(donor_seq, only=j)
            obj = ((label > 0) & (label != 255)).astype(np.uint8)
            if obj.sum() >= 50:
                frames, masks = paste_still_object(frames, masks, (image, obj), rng, recipe)
                break
    return frames, masks


def _load_annotated(seq, only: int | None = None):
    """The annotated frames and label maps of ``seq`` (``only``: just that one's)."""
    idx = seq.annotated_indices
    if only is not None:
        idx = [idx[only]]
    fmt = seq.resolved_mask_format()
    return [seq.read_frame(i) for i in idx], [seq.read_mask(i, fmt) for i in idx]


def davis_stills_source(
    root: str | Path,
    year: str = "2016",
    split: str = "train",
    fold: int | None = None,
    fold_table: str | None = None,
    every: int = 6,
    length: int = 12,
    seed: int = 0,
    elastic: float = 0.02,
    paste: int = 0,
) -> Source:
    """Still-image clips (:func:`vosframe.data.stills.still_clip`) from every ``every``-th
    annotated frame of a DAVIS-layout folder's videos (``fold``: only that fold's fit
    videos, as :func:`davis_source`), named
    ``davis/<video>@still-<length>f-e<elastic>[-p<paste>]-<seed>-<frame>[+<donor video>...]``:
    the bank reuses a stored clip by name (the donors depend on the fold, so they are in the
    name), and the trained checkpoint records the clips' videos as seen.

    Args:
        root, year, split, fold, fold_table: As :func:`davis_source`.
        every: Take one frame in ``every`` (consecutive frames would give near-copies).
        length: Frames per clip.
        seed: Each clip's warps are a pure function of ``(seed, video, frame)``.
        elastic: Largest elastic displacement of the control points as a fraction of the
            shorter side (:func:`vosframe.data.stills.elastic_field`).
        paste: Objects of other videos pasted into each clip, each moving on its own
            (:func:`vosframe.data.stills.paste_still_object`), so that a single-object
            dataset's still clips also show several objects. The donors are drawn from
            the same (fit) videos as the clips, never from a fold's select videos.

    Raises:
        ConfigError: ``every`` < 1, ``length`` < 2, ``paste`` < 0, or ``paste`` > 0 with
            fewer than two videos (before any clip is made).
    """
    import zlib

    from vosframe.data.stills import StillClipRecipe

    if every < 1 or length < 2:
        raise ConfigError(
            f"a davis_stills source needs every >= 1 and length >= 2, got every={every}, "
            f"length={length}. Fix: set them in the source dict."
        )
    recipe = StillClipRecipe(elastic=elastic)
    sequences = _davis_sequences(root, year, split, fold, fold_table)
    if paste < 0 or (paste > 0 and len(sequences) < 2):
        raise ConfigError(
            f"a davis_stills source's paste must be >= 0 and, when > 0, have at least two "
            f"videos to draw other objects from; got paste={paste} with {len(sequences)} "
            "video(s). Fix: set paste=0 or point root at more videos."
        )
    tag = f"-p{paste}" if paste else ""
    for v, seq in enumerate(sequences):
        others = sequences[:v] + sequences[v + 1 :]
        for i in range(0, len(seq.annotated_indices), every):
            key = zlib.crc32(f"{seed}/{seq.name}/{i}".encode())
            pick = (
                np.random.default_rng([key, 1]).integers(len(others), size=paste) if paste else ()
            )
            donors = tuple(others[int(k)] for k in pick)
            pasted = "".join(f"+{d.name}" for d in donors)
            name = f"davis/{seq.name}@still-{length}f-e{elastic:g}{tag}-{seed}-{i}{pasted}"
            yield name, partial(_still, seq, i, key, length, recipe, donors)


def synthetic_source(
    count: int, size: tuple[int, int], length: int = 24, seed: int = 0, **generator: Any
) -> Source:
    """``count`` seeded synthetic sequences (motion modes mixed, static, jump, normal),
    named ``synthetic/<mode>-<length>f-<seed>-<i>`` plus a digest of any ``generator``
    settings, so that sources with other settings never share a stored sequence."""
    from vosframe.data.synthetic import SyntheticClipGenerator

    modes = ("mixed", "static", "jump", "normal")
    gens = {
        m: SyntheticClipGenerator(
            height=size[0], width=size[1], num_frames=length, motion=m, **generator
        )
        for m in modes
    }
    for i in range(count):
        mode = modes[i % len(modes)]

        def load(gen=gens[mode], clip_seed=seed * 1_000_003 + i):
            clip = gen.generate(clip_seed)
            return list(clip.frames), list(clip.masks)

        yield f"synthetic/{mode}-{length}f-{seed}-{i}{_settings_tag(generator)}", load


def _settings_tag(settings: dict[str, Any]) -> str:
    """A name suffix that tells apart sequences made with other generator settings (the
    bank reuses a stored sequence by its name): empty for the defaults."""
    if not settings:
        return ""
    text = json.dumps(settings, sort_keys=True, default=str)
    return "-" + hashlib.sha1(text.encode()).hexdigest()[:8]


def stress_source(
    count: int,
    size: tuple[int, int],
    length: int = 24,
    seed: int = 0,
    kinds: Sequence[str] = HARD_KINDS,
) -> Source:
    """``count`` seeded hard clips (:func:`vosframe.data.stress.hard_clip`), the ``kinds``
    in turn: objects hidden and back, small, fast-deforming, beside a look-alike.

    Raises:
        ConfigError: An unknown kind (before any clip is made).
    """
    kinds = check_hard_kinds(kinds, ConfigError)
    for i in range(count):
        kind = kinds[i % len(kinds)]

        def load(kind=kind, clip_seed=seed * 1_000_003 + i):
            frames, masks = hard_clip(
                kind, clip_seed, height=size[0], width=size[1], num_frames=length
            )
            return list(frames), list(masks)

        yield f"stress/{kind}-{length}f-{seed}-{i}", load


def mirrored(source: Source) -> Source:
    """The sequences of ``source`` flipped left-right, named ``<name>@mirror``.

    The bank computes the backbone's features of the flipped frames (exact, unlike flipping
    stored features: convolutions with stride and padding are not mirror-equivariant).
    """
    for name, load in source:

        def load_mirrored(load=load):
            frames, masks = load()
            return (
                [np.ascontiguousarray(f[:, ::-1]) for f in frames],
                [np.ascontiguousarray(m[:, ::-1]) for m in masks],
            )

        yield f"{name}@mirror", load_mirrored


class FeatureBank:
    """Builds and loads a bank of precomputed features.

    Args:
        root: Folder of the bank files.
        extractor: The frozen feature extractor (only needed to build).
        fingerprint: JSON-able description of the extractor config (stored and checked).
        size: ``(H, W)`` of the stored frames.
        strides: Feature strides to store.
    """

    def __init__(
        self,
        root: str | Path,
        fingerprint: dict[str, Any],
        size: tuple[int, int] = (240, 427),
        strides: Sequence[int] = (4, 8, 16, 32),
        extractor: FeatureExtractor | None = None,
    ) -> None:
        self.root = Path(root)
        self.size = (int(size[0]), int(size[1]))
        self.strides = tuple(int(s) for s in strides)
        self.fingerprint = json.dumps(
            {**fingerprint, "size": self.size, "strides": self.strides}, sort_keys=True
        )
        self.extractor = extractor

    def _path(self, name: str) -> Path:
        return self.root / (name.replace("/", "__") + ".pt")

    def build(self, sources: Iterable, extractor: Callable[[], FeatureExtractor], batch: int = 8):
        """Compute and store every sequence of ``sources`` not already stored.

        Args:
            sources: ``(name, load)`` pairs (see :data:`Source`).
            extractor: Returns the frozen extractor (called only if something is missing).
            batch: Frames per backbone call.

        Returns:
            The paths written.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        written = []
        for name, load in tqdm(list(sources), desc="feature bank", unit="seq"):
            path = self._path(name)
            if path.is_file() and self._header_ok(path):
                continue
            if self.extractor is None:
                self.extractor = extractor().eval()
            frames, masks = load()
            pairs = [_resize(f, m, self.size) for f, m in zip(frames, masks)]
            fr = np.stack([p[0] for p in pairs])
            ms = np.stack([p[1] for p in pairs])
            feats: dict[int, list[torch.Tensor]] = {s: [] for s in self.strides}
            with torch.no_grad():
                for i in range(0, len(fr), batch):
                    x = torch.from_numpy(fr[i : i + batch]).permute(0, 3, 1, 2).float() / 255
                    out = self.extractor(x, up_to=max(self.strides))
                    for s in self.strides:
                        feats[s].append(out[s].to(torch.float16))
            payload = {
                "fingerprint": self.fingerprint,
                "name": name,
                "frames": torch.from_numpy(fr),
                "masks": torch.from_numpy(ms),
                "features": {str(s): torch.cat(v) for s, v in feats.items()},
            }
            atomic_save(payload, path)
            written.append(path)
        return written

    def _header_ok(self, path: Path) -> bool:
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except Exception:
            return False
        return payload.get("fingerprint") == self.fingerprint

    def load(self, names: Sequence[str] | None = None) -> list[BankSequence]:
        """Load stored sequences (memory-mapped): ``names``, or every file in the bank.

        Raises:
            DataError: A sequence is missing, or was built with another backbone/size.
        """
        files = (
            [self._path(n) for n in names] if names is not None else sorted(self.root.glob("*.pt"))
        )
        missing = [str(f) for f in files if not f.is_file()]
        if not files or missing:
            raise DataError(
                f"feature bank {self.root} lacks {missing[:3] or 'every sequence'}. Fix: build "
                f"it (BankClipDataset builds what is missing)."
            )
        out = []
        for path in files:
            p = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
            if p.get("fingerprint") != self.fingerprint:
                raise DataError(
                    f"feature bank file {path} was built for {p.get('fingerprint')}, not "
                    f"{self.fingerprint}. Fix: delete the bank folder to rebuild it."
                )
            out.append(
                BankSequence(
                    p["name"],
                    p["frames"].numpy(),
                    p["masks"].numpy(),
                    {int(s): v for s, v in p["features"].items()},
                )
            )
        return out
