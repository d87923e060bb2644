"""Training of the reuse gate inside vosframe's generic unrolled clip loop.

:class:`GateClipTrainer` is the recipe (``plugin_trainer=dict(type="GateClipTrainer", ...)``
in a training config); :func:`vosframe.core.training.clip_loss` calls its
:meth:`~GateClipTrainer.init_sample` once per clip (frame 0) and
:meth:`~GateClipTrainer.frame` for frames ``1..T-1``. Per frame both paths are
computed: the full path (the localizer's score ``S`` and the refiner up to the re-entry
point, ``R``) and the gate path (``D``, ``p_reuse``, ``Delta``, ``S_hat = S_{t-n} + Delta``,
``R_hat = translator(R_{t-n}, Delta)``). A hard gate ``g`` (1 = reuse) with a
straight-through gradient mixes them::

    R_mix = g * R_hat + (1 - g) * R          S_mix = g * S_hat + (1 - g) * S
    logits = refiner.run(S_mix, features, start=(reentry stride, R_mix))

(``copy`` / ``reuse_mask``: ``logits = g * logits_alt + (1 - g) * logits_full``.)

Losses (all weights 1, as the paper's Eq. 6; ``loss_seg`` is added by the loop):

* ``loss_delta`` (L_Delta, Eq. 3) = MSE(Delta, y'_t - S_{t-n}), ``y'_t`` = the ground truth
  area-downsampled to the score grid. For a ``previous`` point with source ``"mask"`` the
  target is ``y'_t - M_{t-n}`` (supplement Eq. 2; ``M_{t-n}`` = the last output mask).
* ``loss_gate`` (L_gp, Eqs. 4-5) = ``max(m2, |p_reuse - P_target|)^2`` with
  ``P_target = max(m, IoU(y_t, y_last))``, ``y_last`` = the ground truth of the last
  computed frame, and the margin schedule ``m = m1 * min(epoch / margin_epochs, 1)``
  (:func:`margin`; the epoch is ``TrainFrame.epoch``, so no hook is needed).
* ``reuse_rate`` (logged, not a loss): the hard gate, averaged over the batch by the loop.

Decisions where the paper and the official code differ:

* **Margin.** The official code computes ``IoU.clamp(margin)`` without assigning the
  result, so ``m1`` has no effect there. The paper's Eq. 4 (``P_target = max(m, IoU)``,
  ``m`` growing to ``m1`` by epoch ``ep_T``) and the supplement ("as epoch continues, we
  force the model to reuse ... more") state the intent, which is implemented here.
* **m2.** The paper's Eq. 5, ``max(m2, |d|)^2``; the official code uses the hinge
  ``relu(|d| - m2)^2``. Both are the same for ``m2 = 0`` (the default) and have no gradient
  inside the tolerance.
* **Gate.** As the official code: no Gumbel noise; the hard decision is the argmax of the
  2-way softmax (reuse iff ``p_reuse > 0.5``, the paper's training ``tau``); the gradient
  is straight-through (``y_hard - y.detach() + y``).
* **State update.** ``S_{t-n}``, ``R_{t-n}`` and ``y_last`` change only on *computed*
  frames (``g = 0``), as at inference: ``R_{t-n} <- g * R_{t-n} + (1 - g) * R`` (this value
  is exactly the selection, with the gate's straight-through gradient). The official
  training code blends the other way round (``prevX * (1 - g) + curr_x * g``: on a compute
  step it keeps the old features), which contradicts its own inference loop; it is treated
  as a bug. ``M_{t-n}`` (the last output mask) changes every frame, as at inference. The
  graph is kept across the clip's frames (the loop sums the losses), as the official
  ``retain_graph=True``.
* **IoU of two empty masks** is 1 (the object is absent in both: reusing is right); the
  official code turns the NaN into 0.
* **Initial state** (frame 0): the template from the frame's F_t features and the area-
  downsampled mask; ``S_{t-n}`` = the mask at the score grid (source ``"score"``, official)
  or the localizer's score (source ``"mask"``); ``R_{t-n}`` = the refiner up to the
  re-entry point driven by the localizer's score on frame 0 (official ``prevX``);
  ``M_{t-n}`` = ``y_last`` = the mask. Inference uses the same rules.
* The full path's refiner levels up to the re-entry point run through ``Refiner.stage``
  (what ``Refiner.run(capture=...)`` does, without computing its tail twice).

**Alternative-path quality target** (``gate_target="alt_quality"``,
:func:`train_frame_alt_quality`; a decision against the paper).
With the paper's target the gate learns how much the *object* changed since the last
computed frame (``IoU(y_t, y_last)``, lifted by the margin ``m``). That IoU is high for
most frames of typical videos and, once ``m`` grows, the target is ~1 everywhere: the gate
learns a global reuse rate, not which frames are safe to reuse (a nearly flat ``p_reuse``;
see ``docs/reuse_gate.md``). What the gate must decide is
whether the *alternative path* is about as good as the full path on this frame, so that is
the target here. Per frame both paths run:

* full path: the base model's logits (the reference; no gradient from this target),
* alternative path: the variant's logits from the caches (translated ``R_{t-n}`` and
  ``S_hat = S_{t-n} + Delta`` for ``reuse``/``fusion``, the copied or translated previous
  mask for ``copy``/``reuse_mask``),

and ``P_target = clamp(1 - relu(IoU(full, y_t) - IoU(alt, y_t)) / quality_scale, 0, 1)``:
1 when reusing loses nothing against the ground truth, 0 when it loses ``quality_scale`` IoU
or more. ``loss_gate = max(m2, |p_reuse - P_target|)^2`` (the paper's Eq. 5 form; no
margin). The frame's returned logits are the alternative path's, so ``loss_seg`` trains the
translator and the delta-generator on *every* frame (not only on the frames the gate
happens to reuse); ``loss_delta`` is unchanged. The caches follow a random reuse decision
with probability ``train_reuse_prob`` (or the hard gate when None), so cache ages vary as
at inference. The base stages stay in eval mode without
gradients (:func:`freeze_base`, the trainer's default), so ``tau >= 1`` is exactly the
base model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, get_args

import attrs
import torch
import torch.nn.functional as F

from vosframe.core.errors import ConfigError
from vosframe.core.state import Features
from vosframe.plugins.reuse_gate import ReuseGate
from vosframe.plugins.reuse_gate.networks import downsample_mask, mask_as_score, probs_to_logits
from vosframe.plugins.reuse_gate.options import TRANSLATES

if TYPE_CHECKING:
    from vosframe.core.model import VOSModel
    from vosframe.core.stages import Refiner
    from vosframe.core.training import TrainFrame

GateTarget = Literal["paper", "alt_quality"]


def margin(epoch: float, m1: float, margin_epochs: int) -> float:
    """The gate-loss margin ``m = m1 * min(epoch / margin_epochs, 1)`` (paper Eq. 4).

    Args:
        epoch: Current epoch (``TrainFrame.epoch``; 0-based).
        m1: Final margin.
        margin_epochs: Epoch at which ``m1`` is reached (``ep_T``).
    """
    return float(m1) * min(max(float(epoch), 0.0) / float(margin_epochs), 1.0)


def mask_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU of two masks thresholded at 0.5 (1 when both are empty)."""
    a, b = a > 0.5, b > 0.5
    inter = (a & b).sum().float()
    union = (a | b).sum().float()
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))


def gate_probability_loss(
    p_reuse: torch.Tensor, iou: torch.Tensor, m: float, m2: float
) -> torch.Tensor:
    """``max(m2, |p_reuse - max(m, iou)|)^2`` (paper Eqs. 4-5), averaged.

    Args:
        p_reuse: ``(N,)`` reuse probabilities.
        iou: ``(N,)`` or scalar IoU between the current and the last computed ground truth.
        m: The margin of the epoch (:func:`margin`).
        m2: The tolerance.
    """
    target = iou.to(p_reuse.dtype).clamp(min=m)
    return (p_reuse - target).abs().clamp(min=m2).pow(2).mean()


def alt_quality_target(
    full_logits: torch.Tensor, alt_logits: torch.Tensor, gt: torch.Tensor, scale: float
) -> torch.Tensor:
    """``clamp(1 - relu(IoU(full, gt) - IoU(alt, gt)) / scale, 0, 1)`` (scalar, no grad)."""
    with torch.no_grad():
        iou_full = mask_iou((full_logits > 0).float(), gt)
        iou_alt = mask_iou((alt_logits > 0).float(), gt)
        return (1.0 - (iou_full - iou_alt).clamp(min=0) / scale).clamp(0.0, 1.0)


def refine_to(
    refiner: Refiner, score: torch.Tensor, features: Features, stride: int
) -> torch.Tensor:
    """The refiner's output at the level ``stride`` (its levels up to and including it)."""
    x = None
    for s in refiner.levels:
        x = refiner.stage(s, x, score, features)
        if s == stride:
            return x
    raise ValueError(f"{type(refiner).__name__} has no level at stride {stride}")


def freeze_base(model: VOSModel) -> None:
    """Put the base model's stages in eval mode without gradients (their BN statistics and
    weights stay as loaded). Called per clip, because the Runner sets ``train()`` on the
    whole model every epoch."""
    for stage in (model.feature_extractor, model.localizer, model.refiner):
        stage.eval()
        stage.requires_grad_(False)


def the_gate(model: VOSModel) -> ReuseGate:
    """The model's :class:`ReuseGate`.

    Raises:
        ConfigError: The model's path plugin is not a ReuseGate.
    """
    gate = model.path_plugin
    if not isinstance(gate, ReuseGate):
        raise ConfigError(
            "this trainer needs a model with a ReuseGate plugin. Fix: add "
            "plugins=[dict(type='ReuseGate', ...)] to the model config"
        )
    return gate


def _positive(_: Any, attribute: attrs.Attribute, value: float) -> None:
    if not float(value) > 0:
        raise ConfigError(f"GateClipTrainer.{attribute.name} must be > 0, got {value}")


@attrs.frozen(kw_only=True)
class GateClipTrainer:
    """The reuse gate's recipe in the clip loop (a ``plugin_trainer``).

    Args:
        gate_target: What ``p_reuse`` learns: ``"paper"`` (Eqs. 4-5) or ``"alt_quality"``
            (how much IoU the alternative path loses against the full path).
        m1: Gate-loss margin reached at ``margin_epochs`` (1.0 DAVIS, 0.5 YouTube-VOS).
        m2: Gate-loss tolerance (0 officially).
        margin_epochs: Epoch at which the margin reaches ``m1`` (120 officially).
        quality_scale: IoU loss of the alternative path that makes the ``"alt_quality"``
            target 0.
        train_reuse_prob: ``"alt_quality"`` only: probability that a training frame is
            treated as reused for the caches (None: the gate's hard decision, as the paper).
        freeze_base: Keep the base model's stages frozen (``tau >= 1`` stays exactly the
            base model); False trains them jointly, as the paper.
    """

    gate_target: GateTarget = "paper"
    m1: float = 1.0
    m2: float = 0.0
    margin_epochs: int = attrs.field(default=120, validator=_positive)
    quality_scale: float = attrs.field(default=0.2, validator=_positive)
    train_reuse_prob: float | None = None
    freeze_base: bool = True

    def __attrs_post_init__(self) -> None:
        if self.gate_target not in get_args(GateTarget):
            raise ConfigError(
                f"GateClipTrainer.gate_target must be one of {get_args(GateTarget)}, "
                f"got {self.gate_target!r}"
            )
        if float(self.m2) < 0:
            raise ConfigError(f"GateClipTrainer.m2 must be >= 0, got {self.m2}")
        p = self.train_reuse_prob
        if p is not None and not 0.0 <= float(p) <= 1.0:
            raise ConfigError(f"GateClipTrainer.train_reuse_prob must be None or in [0, 1]: {p}")

    def init_sample(
        self, model: VOSModel, features: Features, mask: torch.Tensor, state: Any
    ) -> dict[str, Any]:
        """Per-clip state at frame 0 (see :func:`init_train_sample`)."""
        return init_train_sample(self, the_gate(model), model, features, mask, state)

    def frame(self, model: VOSModel, frame: TrainFrame) -> tuple[torch.Tensor, dict[str, Any]]:
        """Logits and losses of one frame (:func:`train_frame` or
        :func:`train_frame_alt_quality`)."""
        gate = the_gate(model)
        if self.gate_target == "alt_quality":
            return train_frame_alt_quality(self, gate, model, frame)
        return train_frame(self, gate, model, frame)


def init_train_sample(
    trainer: GateClipTrainer,
    gate: ReuseGate,
    model: VOSModel,
    features: Features,
    mask: torch.Tensor,
    state: Any,
) -> dict[str, Any]:
    """Per-clip state at frame 0.

    Returns:
        ``feature`` (F_t of the last computed frame), ``template`` ``(1, K, K)``, ``score``
        (``S_{t-n}``), ``refined`` (``R_{t-n}``; translating variants), ``prev_mask``
        (``M_{t-n}``, full size) and ``last_gt``.

    Raises:
        ConfigError: The gate reads pixel cues (the clip loop keeps no pooled frames).
    """
    if gate.arch.pixel_cue:
        raise ConfigError(
            "ReuseGate(pixel_cue=True) is trained on inference traces, not in the clip loop "
            "(which keeps no pooled frames). Fix: vosframe train-gate CONFIG"
        )
    if trainer.freeze_base:
        freeze_base(model)
    cut = gate.cut_feature(features)
    mask = mask.float()
    with torch.no_grad():
        score0 = model.localizer.localize(features, [state])
    if gate.points["previous"].source == "score":
        prev = mask_as_score(mask, score0.shape[-2:], score0.shape[1])
    else:
        prev = score0
    sample: dict[str, Any] = {
        "feature": cut,
        "template": gate.make_template(cut, mask),
        "score": prev,
        "prev_mask": mask,
        "last_gt": mask,
    }
    if gate.arch.variant in TRANSLATES:
        stride = gate.points["reentry"].stride
        sample["refined"] = refine_to(model.refiner, score0, features, stride)
    return sample


def _gate_front(
    gate: ReuseGate, frame: TrainFrame
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The gate on one training frame: ``(F_t, p_reuse (1,), Delta_t)``."""
    s = frame.sample
    cut = gate.cut_feature(frame.features)
    size = tuple(frame.mask.shape[-2:])
    prev_info = gate.previous_info(s["score"], s["prev_mask"], size, tuple(cut.shape[-2:]))
    cues = gate.cue_maps(cut, s["feature"], s["prev_mask"]) if gate.arch.motion_cue else None
    d, p_reuse = gate.gate_forward(cut, prev_info, s["template"], cues)
    return cut, p_reuse, gate.delta(d, tuple(frame.score.shape[-2:]))


def _delta_loss(
    gate: ReuseGate, s: dict[str, Any], gt: torch.Tensor, delta: torch.Tensor
) -> torch.Tensor:
    """L_Delta: MSE(Delta, y'_t - S_{t-n}) (or ``- M_{t-n}`` for a mask source)."""
    gt_s = downsample_mask(gt, delta.shape[-2:])
    if gate.points["previous"].source == "score":
        base = s["score"]
    else:
        base = downsample_mask(s["prev_mask"], delta.shape[-2:])
    return F.mse_loss(delta.float(), (gt_s - base.float()).expand_as(delta))


def train_frame(
    trainer: GateClipTrainer, gate: ReuseGate, model: VOSModel, frame: TrainFrame
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Logits ``(1, 1, H, W)`` of one frame and the gate's losses (the paper's target)."""
    s, feats, gt = frame.sample, frame.features, frame.mask.float()
    size = tuple(gt.shape[-2:])
    score_full = frame.score.detach()
    cut, p_reuse, delta = _gate_front(gate, frame)
    hard = (p_reuse > 0.5).to(p_reuse.dtype)
    g = (hard - p_reuse.detach() + p_reuse).view(-1, 1, 1, 1)

    if gate.arch.variant in TRANSLATES:
        stride = gate.points["reentry"].stride
        refined_full = refine_to(model.refiner, score_full, feats, stride)
        refined_hat = gate.translator(s["refined"], delta)
        score_hat = s["score"] + delta
        refined = g * refined_hat + (1 - g) * refined_full
        score = g * score_hat + (1 - g) * score_full
        logits = model.refiner.run(score, feats, size, start=(stride, refined)).logits
        s["refined"] = g * s["refined"] + (1 - g) * refined_full
    else:
        full = model.refiner.run(score_full, feats, size).logits.float()
        if gate.arch.variant == "copy":
            alt = probs_to_logits(s["prev_mask"])
        else:
            alt = gate.mask_translator(s["prev_mask"], delta)
        logits = g * alt + (1 - g) * full

    loss_delta = _delta_loss(gate, s, gt, delta)
    iou = mask_iou(gt, s["last_gt"])
    m = margin(frame.epoch, trainer.m1, trainer.margin_epochs)
    loss_gate = gate_probability_loss(p_reuse, iou, m, trainer.m2)

    if not bool(hard.item()):  # computed: the caches follow the full path
        s["score"] = score_full
        s["last_gt"] = gt
        s["feature"] = cut
    s["prev_mask"] = torch.sigmoid(logits.detach().float())
    return logits, {
        "loss_delta": loss_delta,
        "loss_gate": loss_gate,
        "reuse_rate": hard.detach().mean(),
    }


def train_frame_alt_quality(
    trainer: GateClipTrainer, gate: ReuseGate, model: VOSModel, frame: TrainFrame
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Alternative-path logits ``(1, 1, H, W)`` and the losses with the quality target.

    See "Alternative-path quality target" in the module notes.
    """
    s, feats, gt = frame.sample, frame.features, frame.mask.float()
    size = tuple(gt.shape[-2:])
    score_full = frame.score.detach()
    cut, p_reuse, delta = _gate_front(gate, frame)
    translates = gate.arch.variant in TRANSLATES
    stride = gate.points["reentry"].stride

    with torch.no_grad():  # the reference: the base model's full path
        out = model.refiner.run(score_full, feats, size, capture=(stride,) if translates else ())
        full_logits = out.logits.float()
    if translates:
        refined_hat = gate.translator(s["refined"], delta)
        score_hat = s["score"] + delta
        alt = model.refiner.run(score_hat, feats, size, start=(stride, refined_hat)).logits
    elif gate.arch.variant == "copy":
        alt = probs_to_logits(s["prev_mask"])
    else:
        alt = gate.mask_translator(s["prev_mask"], delta)
    alt = alt.float()

    loss_delta = _delta_loss(gate, s, gt, delta)
    target = alt_quality_target(full_logits, alt, gt, trainer.quality_scale)
    loss_gate = gate_probability_loss(p_reuse, target, 0.0, trainer.m2)

    if trainer.train_reuse_prob is None:
        reuse = bool((p_reuse > 0.5).item())
    else:
        reuse = bool(torch.rand(()).item() < trainer.train_reuse_prob)
    if not reuse:  # computed: the caches follow the full path
        s["score"] = score_full
        s["last_gt"] = gt
        s["feature"] = cut
        if translates:
            s["refined"] = out.captured[stride]
    s["prev_mask"] = torch.sigmoid((alt if reuse else full_logits).detach())
    return alt, {
        "loss_delta": loss_delta,
        "loss_gate": loss_gate,
        "reuse_rate": torch.tensor(float(reuse)),
        "p_reuse": p_reuse.detach().mean(),
        "gate_target": target,
        "iou_full": mask_iou((full_logits > 0).float(), gt),
    }
