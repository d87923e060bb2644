"""Generic unrolled clip training for base models and path-deciding plugins.

A training batch holds ``B`` clips of ``T`` frames with one object each (FRTM-style
per-object samples). For every clip the localizer state is initialised on frame 0
without gradients (:meth:`VOSModel.init_training_state`; FRTM fits and caches its target
model there), then frames ``1..T-1`` run the localizer and the refiner and are scored
against the ground truth. A plugin's training recipe (a :class:`PluginTrainer`, the
config's ``plugin_trainer``) takes over each frame: it receives the full path's score and
returns the frame's logits and its own losses, so plugin-specific training code stays
with the plugin's trainer and the plugin itself stays inference only.

Models whose localizer follows the clip (``model.updates_in_training``, e.g. TTVOS's mask
history and template) get ``localizer.update`` after every frame with the frame's own
predicted probability; when the localizer has trainable parameters, its outputs and
updates keep their gradients across the clip (backpropagation through time, as the
official TTVOS training). Auxiliary losses (``model.frame_losses``, e.g. the temporal
consistency loss) are added on frames the base model computes.

Frozen stages are never recomputed when the batch carries precomputed features
(``batch["features"]``: stride -> ``(B, T, C, h, w)``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any, Protocol

import attrs
import torch
import torch.nn.functional as F

from vosframe.core.errors import InputError
from vosframe.core.losses import LossContext
from vosframe.core.state import Features

if TYPE_CHECKING:
    from vosframe.core.model import VOSModel


@attrs.define(eq=False)
class TrainFrame:
    """One frame of an unrolled training clip, as a training plugin sees it.

    Attributes:
        t: Frame index in the clip (>= 1).
        image: ``(1, 3, H, W)`` in ``[0, 1]``.
        features: All feature levels of the frame.
        mask: ``(1, 1, H, W)`` ground truth of this frame.
        score: ``(1, C, h, w)`` localizer score on this frame (full path).
        sample: Per-clip scratch state of the trainer (from ``init_sample``).
        epoch: Current training epoch (for schedules).
    """

    t: int
    image: torch.Tensor
    features: Features
    mask: torch.Tensor
    score: torch.Tensor
    sample: dict[str, Any]
    epoch: int = 0


class PluginTrainer(Protocol):
    """A plugin's training recipe in the clip loop (built from a config's
    ``plugin_trainer``, registered in :data:`vosframe.registry.TRAINERS`)."""

    def init_sample(
        self, model: VOSModel, features: Features, mask: torch.Tensor, state: Any
    ) -> dict[str, Any]:
        """Per-clip scratch state at the clip's first frame."""
        ...

    def frame(self, model: VOSModel, frame: TrainFrame) -> tuple[torch.Tensor, dict[str, Any]]:
        """Logits ``(1, 1, H, W)`` and extra losses (and logged values) for one frame."""
        ...


def _frame_features(model: VOSModel, batch: dict, b: int, t: int) -> Features:
    image = batch["frames"][b, t][None]
    size = tuple(image.shape[-2:])
    cached = batch.get("features")
    if cached:
        return Features({int(s): v[b, t][None] for s, v in cached.items()}, size)
    extractor = model.feature_extractor
    if any(p.requires_grad for p in extractor.parameters()):
        return Features(extractor(image), size)
    with torch.no_grad():
        return Features(extractor(image), size)


def _close_frame(
    model: VOSModel,
    sums: dict[str, list[torch.Tensor]],
    logits: torch.Tensor,
    gt: torch.Tensor,
    feats: Features,
    state: Any,
    t: int,
) -> torch.Tensor:
    """Add a frame's segmentation loss and logged IoU, update a localizer that follows the
    clip with the frame's probability; returns that probability, detached (the next
    frame's ``prev_prob``)."""
    sums["loss_seg"].append(F.binary_cross_entropy_with_logits(logits.float(), gt))
    prob = torch.sigmoid(logits.float())
    if model.updates_in_training:
        learn_loc = model.trains_localizer
        with torch.set_grad_enabled(learn_loc):
            model.localizer.update(feats, [state], prob if learn_loc else prob.detach(), t)
    sums["iou"].append(_iou(logits, gt))
    return prob.detach()


def _iou(logits: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """IoU of the thresholded logits with the ground truth (1 when both are empty); logged."""
    with torch.no_grad():
        pred = logits.float() > 0
        inter = (pred & (gt > 0.5)).sum()
        union = (pred | (gt > 0.5)).sum()
        return torch.where(union > 0, inter / union.clamp(min=1), 1.0)


def check_batch(batch: dict) -> None:
    """Validate the shapes of a training batch.

    Raises:
        InputError: With the expected layout.
    """
    frames, masks = batch.get("frames"), batch.get("masks")
    if frames is None or masks is None:
        raise InputError("a training batch needs 'frames' (B,T,3,H,W) and 'masks' (B,T,1,H,W)")
    if frames.ndim != 5 or masks.ndim != 5 or frames.shape[:2] != masks.shape[:2]:
        raise InputError(
            f"training batch shapes: frames {tuple(frames.shape)}, masks {tuple(masks.shape)}; "
            f"expected (B,T,3,H,W) and (B,T,1,H,W) with the same B and T"
        )
    if frames.shape[1] < 2:
        raise InputError("training clips need at least 2 frames (frame 0 initialises the object)")


def clip_loss(
    model: VOSModel, batch: dict, epoch: int = 0, trainer: PluginTrainer | None = None
) -> dict[str, torch.Tensor]:
    """Losses of an unrolled batch of clips (mean over clips and frames).

    ``trainer`` (a plugin's recipe) computes each frame's logits and its own losses.
    Without one, a model with ``train_refiner_batch`` runs its refiner once per frame on
    all clips of the batch (:func:`_batched_clip_loss`) instead of once per clip.

    Returns:
        ``{"loss_seg": ..., **plugin losses}`` (keys with ``loss`` are summed by mmengine)
        plus logged extras without ``loss`` in their name.
    """
    check_batch(batch)
    if trainer is None and getattr(model, "train_refiner_batch", False):
        return _batched_clip_loss(model, batch)
    trains = trainer is not None
    learn_loc = model.trains_localizer
    aux = model.aux_levels
    sums: dict[str, list[torch.Tensor]] = defaultdict(list)
    frames, masks = batch["frames"], batch["masks"].float()
    keys = batch.get("keys") or [None] * frames.shape[0]
    for b in range(frames.shape[0]):
        feats0 = _frame_features(model, batch, b, 0)
        with torch.set_grad_enabled(learn_loc):
            state = model.init_training_state(
                feats0, masks[b, 0][None], frames[b, 0][None], keys[b]
            )
        sample = trainer.init_sample(model, feats0, masks[b, 0][None], state) if trains else {}
        prev_prob = masks[b, 0][None]
        for t in range(1, frames.shape[1]):
            feats = _frame_features(model, batch, b, t)
            gt = masks[b, t][None]
            with torch.set_grad_enabled(learn_loc):
                score = model.localizer.localize(feats, [state])
            if trains:
                frame = TrainFrame(t, frames[b, t][None], feats, gt, score, sample, epoch)
                logits, extra = trainer.frame(model, frame)  # type: ignore[union-attr]
                for k, v in extra.items():
                    sums[k].append(v)
            else:
                out = model.refiner.run(score, feats, tuple(gt.shape[-2:]), capture=aux)
                logits = out.logits
                ctx = LossContext(t, score, out.captured, logits, gt, prev_prob)
                for k, v in model.frame_losses(ctx).items():
                    sums[k].append(v)
            prev_prob = _close_frame(model, sums, logits, gt, feats, state, t)
    return {k: torch.stack([x.float() for x in v]).mean() for k, v in sums.items()}


def _batched_clip_loss(model: VOSModel, batch: dict) -> dict[str, torch.Tensor]:
    """:func:`clip_loss` without a plugin trainer, the refiner run once per frame on the
    ``B`` clips together (the official FRTM training's refiner call): its batch-norm layers
    then normalise with statistics over the clips, which their running averages estimate
    at inference. Localizers, auxiliary losses and updates stay per clip. Same losses,
    logged values and averaging as the per-clip loop."""
    learn_loc = model.trains_localizer
    aux = model.aux_levels
    sums: dict[str, list[torch.Tensor]] = defaultdict(list)
    frames, masks = batch["frames"], batch["masks"].float()
    n = frames.shape[0]
    keys = batch.get("keys") or [None] * n
    states, prev = [], []
    for b in range(n):
        feats0 = _frame_features(model, batch, b, 0)
        with torch.set_grad_enabled(learn_loc):
            states.append(
                model.init_training_state(feats0, masks[b, 0][None], frames[b, 0][None], keys[b])
            )
        prev.append(masks[b, 0][None])
    for t in range(1, frames.shape[1]):
        feats = [_frame_features(model, batch, b, t) for b in range(n)]
        with torch.set_grad_enabled(learn_loc):
            scores = [model.localizer.localize(feats[b], [states[b]]) for b in range(n)]
        stacked = Features(
            {s: torch.cat([f.maps[s] for f in feats]) for s in feats[0].maps},
            feats[0].image_size,
        )
        gts = masks[:, t]
        out = model.refiner.run(torch.cat(scores), stacked, tuple(gts.shape[-2:]), capture=aux)
        for b in range(n):
            logits, gt = out.logits[b : b + 1], gts[b : b + 1]
            captured = {s: v[b : b + 1] for s, v in out.captured.items()}
            ctx = LossContext(t, scores[b], captured, logits, gt, prev[b])
            for k, v in model.frame_losses(ctx).items():
                sums[k].append(v)
            prev[b] = _close_frame(model, sums, logits, gt, feats[b], states[b], t)
    return {k: torch.stack([x.float() for x in v]).mean() for k, v in sums.items()}
