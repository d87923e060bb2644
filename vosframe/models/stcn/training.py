"""Multi-object clip training of the memory model (STCN's training propagation).

A batch holds ``B`` clips of ``T`` frames with label maps (``masks`` ``(B, T, H, W)``,
objects ``1..K`` per clip, as :class:`vosframe.data.clips.ClipDataset` gives; per-object
binary masks ``(B, T, 1, H, W)`` are read as one object). For each clip:

* frame 0: every object's first-frame memory from its given mask, with an empty "others"
  channel as at inference, where the core initialises given objects one by one (RDE's
  mask consistency: from a perturbed mask, with the exact-mask value kept for the loss);
* frame ``t >= 1``: every object reads its memory (full softmax), the decoder gives its
  logits, the objects are aggregated (``prod_logodds``, STCN's soft aggregation) and scored
  with the bootstrapped cross entropy over (background, objects); then, except on the last
  frame, the frame is written to every object's memory with the aggregated probabilities
  (STCN: frame 2 reads frames 0 and 1, frame 1's value from its own prediction; the
  gradient flows through that prediction, as the official code);
* auxiliary losses (``model.frame_losses``) get :class:`~vosframe.core.losses.LossContext`
  with ``extras``: ``score_full`` (the read of the full memory, ``rde`` mode, frames whose
  bounded memory differs from it) and ``value_perturbed`` / ``value_gt`` (frame 1).

The feature extractor runs once for all ``B * T`` frames (without gradients when frozen),
unless the batch carries precomputed features.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import torch

from vosframe.core.aggregation import _EPS
from vosframe.core.errors import InputError
from vosframe.core.losses import LossContext
from vosframe.core.state import Features

from .losses import MaskConsistencyLoss, UnbiasedGuidanceLoss, bootstrapped_ce, perturb_masks

if TYPE_CHECKING:
    from .model import STCN


def aggregate_logits(logits: torch.Tensor) -> torch.Tensor:
    """STCN's soft aggregation as class logits ``(1, K + 1, H, W)`` from per-object logits
    ``(K, 1, H, W)``: background ``prod(1 - p)``, every class ``log(p / (1 - p))``."""
    p = torch.sigmoid(logits.float()).clamp(_EPS, 1 - _EPS)
    bg = torch.prod(1 - p, dim=0, keepdim=True)
    allp = torch.cat([bg, p], 0).clamp(_EPS, 1 - _EPS)
    return torch.log(allp / (1 - allp)).transpose(0, 1)


def batch_features(
    model: STCN, frames: torch.Tensor, cached: dict | None
) -> dict[int, torch.Tensor]:
    """Features of every frame ``(B, T, C, h, w)`` keyed by stride."""
    if cached:
        return {int(s): v for s, v in cached.items()}
    b, t = frames.shape[:2]
    extractor = model.feature_extractor
    flat = frames.flatten(0, 1)
    if any(p.requires_grad for p in extractor.parameters()):
        maps = extractor(flat)
    else:
        with torch.no_grad():
            maps = extractor(flat)
    return {s: v.unflatten(0, (b, t)) for s, v in maps.items()}


def as_labels(masks: torch.Tensor) -> torch.Tensor:
    """``(B, T, H, W)`` int64 label maps from label maps or ``(B, T, 1, H, W)`` binary masks."""
    if masks.ndim == 5 and masks.shape[2] == 1:
        return (masks[:, :, 0] > 0.5).long()
    if masks.ndim == 4:
        return masks.round().long()
    raise InputError(
        f"memory-model training needs masks (B, T, H, W) label maps or (B, T, 1, H, W) binary "
        f"masks, got {tuple(masks.shape)}"
    )


def memory_clip_loss(model: STCN, batch: dict, epoch: int = 0) -> dict[str, torch.Tensor]:
    """Losses of a batch of multi-object clips (mean over clips and frames)."""
    frames = batch["frames"]
    labels = as_labels(batch["masks"])
    if frames.ndim != 5 or frames.shape[:2] != labels.shape[:2] or frames.shape[1] < 2:
        raise InputError(
            f"training batch shapes: frames {tuple(frames.shape)}, masks "
            f"{tuple(batch['masks'].shape)}; expected (B, T>=2, 3, H, W) and matching masks"
        )
    loc = model.localizer
    size = tuple(frames.shape[-2:])
    feats = batch_features(model, frames, batch.get("features"))
    consistency = any(isinstance(x, MaskConsistencyLoss) for x in model.aux_losses)
    guidance = any(isinstance(x, UnbiasedGuidanceLoss) for x in model.aux_losses)
    fraction = model.bootstrap_fraction(epoch)
    aux = model.aux_levels
    sums: dict[str, list[torch.Tensor]] = defaultdict(list)
    for b in range(frames.shape[0]):
        ids = [int(i) for i in torch.unique(labels[b, 0]).tolist() if 0 < i < 255]
        if not ids:
            continue
        target = torch.zeros_like(labels[b])
        for j, i in enumerate(ids):
            target[labels[b] == i] = j + 1
        onehot = torch.stack([(target == j + 1) for j in range(len(ids))], 1).float()
        onehot = onehot[:, :, None]  # (T, K, 1, H, W)

        def frame(t: int, b: int = b) -> Features:
            return Features({s: v[b, t][None] for s, v in feats.items()}, size)

        f0 = frame(0)
        gt0 = onehot[0]
        first = perturb_masks(gt0) if consistency else gt0
        values = loc.encode_values(f0, first)  # no "others": as the session's init
        key = loc.key(f0)
        states = [loc.init_state(key, values[j : j + 1]) for j in range(len(ids))]
        value_gt = loc.encode_values(f0, gt0) if consistency else None
        prev = gt0
        for t in range(1, frames.shape[1]):
            ft = frame(t)
            score = loc.localize(ft, states)
            extras: dict[str, torch.Tensor | None] = {}
            if guidance:
                differs = loc.mode == "rde" and any(s.rde is not None for s in states)
                extras["score_full"] = loc.read(ft, states, full=True) if differs else None
            if consistency:
                extras["value_perturbed"] = values if t == 1 else None
                extras["value_gt"] = value_gt if t == 1 else None
            out = model.refiner.run(score, ft, size, capture=aux)
            logits = out.logits
            cls = aggregate_logits(logits)
            sums["loss_seg"].append(bootstrapped_ce(cls, target[t][None], fraction))
            gt = onehot[t]
            ctx = LossContext(t, score, out.captured, logits, gt, prev, extras)
            for k, v in model.frame_losses(ctx).items():
                sums[k].append(v)
            probs = torch.softmax(cls, 1).transpose(0, 1)[1:]  # (K, 1, H, W)
            prev = probs.detach()
            if t < frames.shape[1] - 1:
                loc.update(ft, states, probs, t)
            with torch.no_grad():
                pred = cls.argmax(1)[0]
                for j in range(len(ids)):
                    p, g = pred == j + 1, target[t] == j + 1
                    union = (p | g).sum()
                    iou = (p & g).sum() / union.clamp(min=1)
                    sums["iou"].append(torch.where(union > 0, iou, torch.ones_like(iou)))
    if not sums:
        raise InputError("no clip in the batch has an object on its first frame")
    return {k: torch.stack([x.float() for x in v]).mean() for k, v in sums.items()}
