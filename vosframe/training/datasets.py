"""Training clips sampled from a :class:`~vosframe.training.bank.FeatureBank`."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from vosframe.core.errors import ConfigError, DataError
from vosframe.data.clips import sample_rng
from vosframe.training.bank import (
    FeatureBank,
    davis_source,
    davis_stills_source,
    mirrored,
    stress_source,
    synthetic_source,
)


def _sources(specs: Sequence[dict[str, Any]], size: tuple[int, int]):
    for spec in specs:
        spec = dict(spec)
        kind = spec.pop("type", None)
        mirror = bool(spec.pop("mirror", False))
        spec.pop("repeat_factor", None)
        spec.pop("share", None)
        if kind == "davis":
            source = davis_source(**spec)
        elif kind == "davis_stills":
            source = davis_stills_source(**spec)
        elif kind == "synthetic":
            source = synthetic_source(size=size, **spec)
        elif kind == "stress":
            source = stress_source(size=size, **spec)
        else:
            raise ConfigError(
                f"bank source type must be 'davis', 'davis_stills', 'synthetic' or 'stress', "
                f"got {kind!r}"
            )
        yield from mirrored(source) if mirror else source


def _repeat_factors(specs: Sequence[dict[str, Any]]) -> list[float]:
    """Each source's ``repeat_factor`` (default 1).

    Raises:
        ConfigError: A factor that is not a positive finite number, or a ``weight`` key
            (a :class:`~vosframe.models.stcn.data.MemoryClipDataset` source's share, which
            means something else here), before any work.
    """
    out = []
    for spec in specs:
        if "weight" in spec:
            raise ConfigError(
                f"a bank source takes repeat_factor, not weight (got weight={spec['weight']!r} "
                f"in the {spec.get('type')!r} source). Fix: repeat_factor=w makes each of its "
                f"clip candidates w times as likely; BankClipDataset.source_shares() gives the "
                f"resulting share of each source."
            )
        try:
            factor = float(spec.get("repeat_factor", 1.0))
        except (TypeError, ValueError):
            factor = float("nan")
        if not (np.isfinite(factor) and factor > 0):
            raise ConfigError(
                f"the repeat_factor of the {spec.get('type')!r} bank source must be a positive "
                f"number, got {spec.get('repeat_factor')!r}. Fix: give a factor > 0 (1 is the "
                f"default), or drop the source."
            )
        out.append(factor)
    return out


def _shares(specs: Sequence[dict[str, Any]]) -> list[float | None]:
    """Each source's ``share`` of the clips (None: the source has no share).

    Raises:
        ConfigError: A share outside (0, 1), a source with both ``share`` and
            ``repeat_factor``, shares that leave nothing to the sources without one, or
            every source with a share, before any work.
    """
    out: list[float | None] = []
    for spec in specs:
        if "share" not in spec:
            out.append(None)
            continue
        kind = spec.get("type")
        if "repeat_factor" in spec:
            raise ConfigError(
                f"the {kind!r} bank source has both share and repeat_factor. Fix: keep one "
                f"(share fixes the source's part of the clips, repeat_factor scales its "
                f"candidates)."
            )
        try:
            share = float(spec["share"])
        except (TypeError, ValueError):
            share = float("nan")
        if not 0.0 < share < 1.0:
            raise ConfigError(
                f"the share of the {kind!r} bank source must be in (0, 1), got "
                f"{spec['share']!r}. Fix: give the source's part of the clips, e.g. 0.25."
            )
        out.append(share)
    given = [x for x in out if x is not None]
    if given and (len(given) == len(out) or sum(given) >= 1.0):
        raise ConfigError(
            f"bank source shares {given} leave no part of the clips to the sources without a "
            f"share. Fix: give shares summing to less than 1 and leave at least one source "
            f"without one (it takes the rest)."
        )
    return out


class BankClipDataset(Dataset):
    """Per-object training clips (FRTM style) with precomputed backbone features.

    Item ``i``: a random (sequence, first frame, object) among those where the object has
    at least ``min_pixels`` pixels, then ``num_frames - 1`` later frames in order with
    random gaps of 1..``max_skip``; with probability ``reverse_prob`` the clip is played
    backwards (its first frame is then the latest, where the object must also have
    ``min_pixels``). Returns ``frames`` ``(T, 3, H, W)`` uint8, ``masks``
    ``(T, 1, H, W)`` uint8 (that object only), ``features`` ``{"4": (T, C, h, w), ...}``
    float16 and ``key`` (``"bank-<hash>/<seq>/<frame0>/<obj>"``, where ``<hash>`` names the
    bank's backbone, size and strides: stable across runs, so caches of per-first-frame
    work, such as fitted target models, are keyed by it).

    Args:
        root: Bank folder (built on first use if missing).
        backbone: Backbone config (e.g. ``dict(type="EfficientNetLite0")``).
        sources: Bank sources: ``dict(type="davis", root=..., split="train")`` and
            ``dict(type="synthetic", count=..., length=..., seed=...)`` and
            ``dict(type="stress", count=..., length=..., seed=..., kinds=...)`` (hard clips,
            :func:`vosframe.training.bank.stress_source`) and
            ``dict(type="davis_stills", root=..., every=..., length=..., seed=...,
            paste=0)`` (still-image clips of DAVIS frames, ``paste``: objects of other
            videos pasted in,
            :func:`vosframe.training.bank.davis_stills_source`); ``fold=k`` in a
            davis or davis_stills source keeps only the fit videos of fold ``k``
            (:mod:`vosframe.data.folds`);
            ``mirror=True`` in a source stores its sequences flipped left-right instead (as
            new sequences, features computed on the flipped frames); ``repeat_factor=w`` in
            a source makes each of its (sequence, first frame, object) candidates ``w`` times
            as likely as one of a source without it (default 1, as Detectron2's repeat
            factors), so a source's share of the clips can be set apart from how many
            candidates it has (without any factor the random stream, hence every item, is
            as before); ``share=s`` in a source (instead of ``repeat_factor``) sets that
            factor so the source makes up the part ``s`` of the clips whatever its number of
            candidates, e.g. the same DAVIS share for a fold's 24 fit videos and for all 30
            (the sources without a share split the rest as their factors say).
        size: Stored frame size ``(H, W)``.
        strides: Stored feature strides.
        num_frames: Clip length ``T``.
        max_skip: Largest gap between consecutive clip frames.
        samples_per_epoch: Dataset length.
        seed: With a seed, item ``i`` is a pure function of ``(seed, i, epoch)``.
        min_pixels: Smallest object size in the first frame.
        reverse_prob: Probability of a backwards clip (0: the random stream, hence every
            item, is the same as without the option).
    """

    def __init__(
        self,
        root: str | Path,
        backbone: dict[str, Any],
        sources: Sequence[dict[str, Any]],
        size: Sequence[int] = (240, 427),
        strides: Sequence[int] = (4, 8, 16, 32),
        num_frames: int = 3,
        max_skip: int = 5,
        samples_per_epoch: int = 1000,
        seed: int | None = None,
        min_pixels: int = 50,
        reverse_prob: float = 0.0,
    ) -> None:
        from vosframe.registry import BACKBONES, build_from_cfg

        size = (int(size[0]), int(size[1]))
        factors = _repeat_factors(sources)
        shares = _shares(sources)
        repeated = any("repeat_factor" in spec or "share" in spec for spec in sources)
        bank = FeatureBank(root, {"backbone": backbone}, size, strides)
        distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
        if not distributed or torch.distributed.get_rank() == 0:
            bank.build(_sources(sources, size), lambda: build_from_cfg(backbone, BACKBONES))
        if distributed:  # the other ranks wait for rank 0 to write the bank
            torch.distributed.barrier()
        names, source_of = [], []
        for i, spec in enumerate(sources):
            for name, _ in _sources([spec], size):
                names.append(name)
                source_of.append(i)
        self.sequences = bank.load(names=names)
        self._source_types = [str(spec.get("type")) for spec in sources]
        self.key_prefix = "bank-" + hashlib.sha1(bank.fingerprint.encode()).hexdigest()[:10]
        self.num_frames, self.max_skip = int(num_frames), int(max_skip)
        self.samples_per_epoch, self.seed = int(samples_per_epoch), seed
        if not 0.0 <= reverse_prob <= 1.0:
            raise ConfigError(f"reverse_prob must be in [0, 1], got {reverse_prob}")
        self.reverse_prob, self.min_pixels = float(reverse_prob), int(min_pixels)
        self.epoch = 0
        self.candidates: list[tuple[int, int, int]] = []
        for s, seq in enumerate(self.sequences):
            last = len(seq.masks) - self.num_frames
            for f in range(last + 1):
                ids, counts = np.unique(seq.masks[f], return_counts=True)
                for obj, n in zip(ids.tolist(), counts.tolist()):
                    if obj not in (0, 255) and n >= min_pixels:
                        self.candidates.append((s, f, obj))
        if not self.candidates:
            raise DataError(f"no training clip of {num_frames} frames in the bank {root}")
        self._owner = np.array([source_of[s] for s, _, _ in self.candidates])
        factors = self._share_factors(factors, shares)
        self._mass = np.asarray(factors)[self._owner]
        self._cumulative = np.cumsum(self._mass) if repeated else None

    def _share_factors(self, factors: list[float], shares: list[float | None]) -> list[float]:
        """Repeat factors with each ``share`` source's factor set so that its candidates
        make up that share of the clips (the sources without a share keep theirs and split
        the rest in proportion).

        Raises:
            DataError: A source with a share has no clip candidates, or the sources
                without one have none between them (nothing to share the rest).
        """
        if all(x is None for x in shares):
            return factors
        counts = np.bincount(self._owner, minlength=len(shares))
        rest = sum(f * counts[i] for i, f in enumerate(factors) if shares[i] is None)
        if rest == 0:
            raise DataError(
                f"the bank sources without a share have no training clip of {self.num_frames} "
                f"frames, so the shares {[x for x in shares if x is not None]} have nothing to "
                f"be a part of. Fix: check those sources, or drop the shares."
            )
        given = sum(x for x in shares if x is not None)
        out = list(factors)
        for i, share in enumerate(shares):
            if share is None:
                continue
            if counts[i] == 0:
                raise DataError(
                    f"the {self._source_types[i]!r} bank source has share={share} but no "
                    f"training clip of {self.num_frames} frames. Fix: check the source, or "
                    f"drop its share."
                )
            out[i] = share * rest / ((1.0 - given) * counts[i])
        return out

    def source_shares(self) -> list[tuple[str, float]]:
        """Each source's expected share of the clips, in the order of ``sources``, as
        ``(type, share)``: its candidates times its repeat factor over the total. What a recipe's
        mix of sources amounts to (a source with many short clips can dominate)."""
        mass = np.bincount(self._owner, weights=self._mass, minlength=len(self._source_types))
        total = float(mass.sum())
        return [(kind, float(m) / total) for kind, m in zip(self._source_types, mass)]

    @property
    def davis_videos(self) -> list[str]:
        """Names of the DAVIS videos the clips come from (mirrored copies included once),
        recorded in the trained checkpoint so held-out evaluations can check them."""
        names = {s.name[len("davis/") :] for s in self.sequences if s.name.startswith("davis/")}
        return sorted({n.split("@")[0] for n in names})

    def __len__(self) -> int:
        return self.samples_per_epoch

    def __getitem__(self, index: int) -> dict[str, Any]:
        rng = sample_rng(self.seed, self.epoch, index)
        if self._cumulative is None:
            pick = int(rng.integers(len(self.candidates)))
        else:
            total = self._cumulative[-1]
            pick = int(np.searchsorted(self._cumulative, rng.random() * total, side="right"))
            pick = min(pick, len(self.candidates) - 1)
        s, f0, obj = self.candidates[pick]
        seq = self.sequences[s]
        idx = [f0]
        for _ in range(self.num_frames - 1):
            room = len(seq.masks) - idx[-1] - 1
            left = self.num_frames - len(idx)
            step = int(rng.integers(1, max(1, min(self.max_skip, room - left + 1)) + 1))
            idx.append(idx[-1] + step)
        backward = self.reverse_prob > 0 and rng.random() < self.reverse_prob
        if backward and int((seq.masks[idx[-1]] == obj).sum()) >= self.min_pixels:
            idx = idx[::-1]
        frames = torch.from_numpy(np.ascontiguousarray(seq.frames[idx])).permute(0, 3, 1, 2)
        masks = torch.from_numpy((seq.masks[idx] == obj).astype(np.uint8))[:, None]
        feats = {str(k): v[idx].clone() for k, v in seq.features.items()}
        return {
            "frames": frames,
            "masks": masks,
            "features": feats,
            "key": f"{self.key_prefix}/{seq.name}/{idx[0]}/{obj}",
        }
