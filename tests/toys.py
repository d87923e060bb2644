"""Three toy base models, one per state family, and a toy path plugin.

* ToyOnline: a per-object linear target model fitted online (FRTM family), refitted from a
  bounded sample memory every 3rd update.
* ToyTemplate: a per-object template vector plus a short mask history (TTVOS family).
* ToyMemory: per-object key/value memory written every 2nd frame with a hard cap (STM family).

They share a tiny extractor (strides 4/8/16) and refiner (levels 16, 8, 4), and declare
skip points F_t (stride 8), R_t@16, R_t@8 and the previous score. ``SchedulePlugin`` takes
the alternative path on a fixed schedule, reusing the cached score and refined feature: it
touches nothing but skip-point specs and per-object state.
"""

from __future__ import annotations

from collections import deque

import attrs
import torch
import torch.nn.functional as F
from torch import nn

from vosframe import (
    Decision,
    FeatureExtractor,
    ModelPlugin,
    Need,
    Reenter,
    Refiner,
    SkipPoint,
    SkipPoints,
    TargetLocalizer,
    VOSModel,
)
from vosframe.data.stress import LATE_OBJECT_CLIPS
from vosframe.data.stress import LATE_OBJECT_FRAME as LATE_OBJECT_FRAME  # for the tests

C = 8


class TinyExtractor(FeatureExtractor):
    def __init__(self) -> None:
        super().__init__()
        self.levels = nn.ModuleDict(
            {
                "4": nn.Sequential(nn.Conv2d(3, C, 3, stride=4, padding=1), nn.ReLU()),
                "8": nn.Sequential(nn.Conv2d(C, C, 3, stride=2, padding=1), nn.ReLU()),
                "16": nn.Sequential(nn.Conv2d(C, C, 3, stride=2, padding=1), nn.ReLU()),
            }
        )
        self.channels = {4: C, 8: C, 16: C}
        self.calls: dict[int, int] = {4: 0, 8: 0, 16: 0}
        for s, level in self.levels.items():
            level.register_forward_hook(
                lambda *_, s=int(s): self.calls.__setitem__(s, self.calls[s] + 1)
            )

    def preprocess(self, image: torch.Tensor) -> torch.Tensor:
        return image - 0.5


class TinyRefiner(Refiner):
    def __init__(self, score_channels: int = 1) -> None:
        super().__init__()
        self.levels = (16, 8, 4)
        self.channels = {16: C, 8: C, 4: C}
        self.convs = nn.ModuleDict(
            {str(s): nn.Conv2d(C + score_channels, C, 3, padding=1) for s in self.levels}
        )
        self.out = nn.Conv2d(C, 1, 3, padding=1)

    def stage(self, stride, x, score, features):
        f = features[stride]
        f = f.expand(score.shape[0], -1, -1, -1)
        s = F.interpolate(score, size=f.shape[-2:], mode="bilinear", align_corners=False)
        h = torch.relu(self.convs[str(stride)](torch.cat([f, s.to(f.dtype)], 1)))
        if x is not None:
            h = h + F.interpolate(x, size=h.shape[-2:], mode="bilinear", align_corners=False)
        return h

    def head(self, x, score, features, out_size):
        return F.interpolate(self.out(x), size=out_size, mode="bilinear", align_corners=False)


def _down(mask: torch.Tensor, size) -> torch.Tensor:
    return F.adaptive_avg_pool2d(mask, size)


# ---------------------------------------------------------------- online family (FRTM-like)
@attrs.define(eq=False)
class OnlineState:
    weight: torch.Tensor
    memory: deque = attrs.Factory(lambda: deque(maxlen=4))
    updates: int = 0
    refits: int = 0


class OnlineLocalizer(TargetLocalizer):
    stride, score_channels, feature_strides = 16, 1, (16,)

    def _fit(self, samples) -> torch.Tensor:
        X = torch.cat([f.flatten(2).squeeze(0).T for f, _ in samples])
        y = torch.cat([m.flatten() for _, m in samples])[:, None]
        A = X.T @ X + 1e-2 * torch.eye(X.shape[1])
        return torch.linalg.solve(A, X.T @ y).T[:, :, None, None]

    def init_object(self, features, mask, image):
        f = features[16].float()
        sample = (f, _down(mask, f.shape[-2:]))
        st = OnlineState(self._fit([sample]))
        st.memory.append(sample)
        return st

    def localize(self, features, states):
        f = features[16].float()
        return torch.cat([F.conv2d(f, s.weight) for s in states])

    def update(self, features, states, probs, frame_index):
        f = features[16].float()
        for i, s in enumerate(states):
            s.memory.append((f, _down(probs[i : i + 1], f.shape[-2:])))
            s.updates += 1
            if s.updates % 3 == 0:
                s.weight = self._fit(list(s.memory))
                s.refits += 1


# ---------------------------------------------------------------- template family (TTVOS-like)
@attrs.define(eq=False)
class TemplateState:
    template: torch.Tensor
    history: deque = attrs.Factory(lambda: deque(maxlen=3))


class TemplateLocalizer(TargetLocalizer):
    stride, score_channels, feature_strides = 16, 2, (16,)

    def init_object(self, features, mask, image):
        f = features[16].float()
        m = _down(mask, f.shape[-2:])
        st = TemplateState((f * m).sum((2, 3)) / m.sum().clamp(min=1e-6))
        st.history.append(m)
        return st

    def localize(self, features, states):
        f = features[16].float()
        out = []
        for s in states:
            sim = F.cosine_similarity(f, s.template[:, :, None, None], dim=1)[:, None]
            out.append(torch.cat([sim, torch.stack(list(s.history)).mean(0)], 1))
        return torch.cat(out)

    def update(self, features, states, probs, frame_index):
        f = features[16].float()
        for i, s in enumerate(states):
            m = _down(probs[i : i + 1], f.shape[-2:])
            cur = (f * m).sum((2, 3)) / m.sum().clamp(min=1e-6)
            s.template = 0.8 * s.template + 0.2 * cur
            s.history.append(m)


# ---------------------------------------------------------------- memory family (STM-like)
@attrs.define(eq=False)
class MemoryState:
    keys: list = attrs.Factory(list)
    values: list = attrs.Factory(list)
    cap: int = 4


class MemoryLocalizer(TargetLocalizer):
    stride, score_channels, feature_strides = 16, 1, (16,)

    def __init__(self, every: int = 2, cap: int = 4) -> None:
        super().__init__()
        self.every, self.cap = every, cap
        self.key = nn.Conv2d(C, 4, 1)

    def _write(self, s: MemoryState, f, m) -> None:
        s.keys.append(self.key(f).flatten(2))  # (1, 4, HW)
        s.values.append(m.flatten(2))  # (1, 1, HW)
        if len(s.keys) > s.cap:  # keep the first (given) frame, drop the oldest other
            del s.keys[1], s.values[1]

    def init_object(self, features, mask, image):
        f = features[16].float()
        s = MemoryState(cap=self.cap)
        self._write(s, f, _down(mask, f.shape[-2:]))
        return s

    def localize(self, features, states):
        f = features[16].float()
        q = self.key(f).flatten(2)  # (1, 4, HW)
        out = []
        for s in states:
            k, v = torch.cat(s.keys, 2), torch.cat(s.values, 2)
            att = torch.softmax(k.transpose(1, 2) @ q, dim=1)  # (1, M, HW)
            out.append((v @ att).view(1, 1, *f.shape[-2:]))
        return torch.cat(out)

    def update(self, features, states, probs, frame_index):
        if frame_index % self.every:
            return
        f = features[16].float()
        for i, s in enumerate(states):
            self._write(s, f, _down(probs[i : i + 1], f.shape[-2:]))


class _ToyModel(VOSModel):
    localizer_cls: type = OnlineLocalizer

    def __init__(self, aggregation: str = "min_odds", max_internal_size=None) -> None:
        loc = self.localizer_cls()
        super().__init__(
            TinyExtractor(),
            loc,
            TinyRefiner(loc.score_channels),
            aggregation=aggregation,
            max_internal_size=max_internal_size,
        )

    def skip_points(self) -> SkipPoints:
        return SkipPoints(
            (
                SkipPoint("F_t", "feature_cut", 8, C, "stride-8 features"),
                SkipPoint("R_t@16", "reentry", 16, C, "refiner stride-16 output"),
                SkipPoint("R_t@8", "reentry", 8, C, "refiner stride-8 output"),
                SkipPoint(
                    "prev",
                    "previous",
                    16,
                    self.localizer.score_channels,
                    "last computed score",
                    source="score",
                ),
            ),
            default_reentry="R_t@16",
        )


class ToyOnline(_ToyModel):
    localizer_cls = OnlineLocalizer


class ToyTemplate(_ToyModel):
    localizer_cls = TemplateLocalizer


class ToyMemory(_ToyModel):
    localizer_cls = MemoryLocalizer


TOY_MODELS = (ToyOnline, ToyTemplate, ToyMemory)


class SchedulePlugin(ModelPlugin):
    """Takes the alternative path on frames where ``index % period == period - 1``."""

    decides_path = True
    needs_init_outputs = True

    def __init__(self, period: int = 3, reentry: str | None = None) -> None:
        super().__init__()
        self.period = period
        self.needs = (Need("feature_cut"), Need("reentry", name=reentry), Need("previous"))
        self.deepest_seen: list[int] = []

    def decide(self, frame, objects):
        self.deepest_seen.append(frame.features.deepest)
        return [Decision(frame.index % self.period == self.period - 1) for _ in objects]

    def alternative(self, frame, objects, decisions):
        name = self.points["reentry"].name
        return [Reenter(o.last_score, o.refined[name]) for o in objects]


class NeverPlugin(SchedulePlugin):
    """Decides every frame but always takes the full path."""

    def decide(self, frame, objects):
        super().decide(frame, objects)
        return [Decision() for _ in objects]


def toy_clip(n: int = 8, h: int = 48, w: int = 64, seed: int = 0, ids=(3, 7)):
    """Frames with moving bright squares on noise; returns (frames, first label map)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    bg = rng.integers(0, 120, size=(h, w, 3), dtype=np.uint8)
    frames = []
    label0 = np.zeros((h, w), np.uint8)
    for t in range(n):
        img = bg.copy()
        for k, obj_id in enumerate(ids):
            y, x = 6 + 14 * k, 5 + 2 * t + 20 * k
            img[y : y + 12, x : x + 12] = (200 + 20 * k, 60 * k, 180 - 50 * k)
            if t == 0:
                label0[y : y + 12, x : x + 12] = obj_id
        frames.append(img)
    return frames, label0


def toy_davis(root, names=("a", "b"), n: int = 6):
    """Fully annotated toy sequences in the DAVIS layout under ``root`` (a ``Path``; the
    squares of :func:`toy_clip`, moving 2 px per frame); returns ``root``."""
    import cv2
    import numpy as np

    from vosframe.data.masks import write_mask

    for s, name in enumerate(names):
        frames, label0 = toy_clip(n, seed=s)
        (root / "JPEGImages" / name).mkdir(parents=True)
        (root / "Annotations" / name).mkdir(parents=True)
        for t, frame in enumerate(frames):
            cv2.imwrite(str(root / "JPEGImages" / name / f"{t:05d}.jpg"), frame[..., ::-1])
            labels = np.roll(label0, 2 * t, axis=1)  # the squares move 2 px per frame
            write_mask(root / "Annotations" / name / f"{t:05d}.png", labels)
    return root


LATE_OBJECT_IDS = {1: 12, 2: 40, 3: 7}
"""Clip label -> user id for :func:`late_object_clip` (non-contiguous on purpose)."""


def late_object_clip():
    """10 synthetic photo-textured frames (240x432) with 3 moving objects, for the tests of
    shipped models: objects 1 and 2 are given on frame 0, object 3 on
    :data:`LATE_OBJECT_FRAME` (:data:`vosframe.data.stress.LATE_OBJECT_CLIPS`, seed 11)."""
    return LATE_OBJECT_CLIPS.generate(seed=11)


def mask_iou(a, b) -> float:
    """IoU of two boolean arrays (1 when both are empty)."""
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0
