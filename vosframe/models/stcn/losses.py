"""Losses of the memory model: bootstrapped cross entropy and RDE-VOS's two losses.

* :func:`bootstrapped_ce` -- STCN's ``BootstrappedCE`` (official ``model/losses.py``): plain
  cross entropy during the first part of training, then the mean over the hardest ``p``
  fraction of pixels, ``p`` decaying linearly from 1 to ``top_p``.
* :class:`UnbiasedGuidanceLoss` and :class:`MaskConsistencyLoss` -- the two losses of
  RDE-VOS (Li et al., CVPR 2022, section 3.3; official code
  ``Limingxing00/RDE-VOS-CVPR2022``, ``model/model.py``), registered in ``LOSSES`` as
  auxiliary losses any model can enable (``aux_losses=[dict(type=...)]``) if it puts the
  tensors they need into :attr:`vosframe.core.losses.LossContext.extras`.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F

from vosframe.core.errors import ConfigError
from vosframe.core.losses import AuxLoss, LossContext


def bootstrap_fraction(progress: float, start: float, end: float, top_p: float) -> float:
    """Fraction of hardest pixels kept at training ``progress`` (0..1): 1 before ``start``,
    then linear down to ``top_p`` at ``end`` (STCN: iterations 20k and 70k)."""
    if progress <= start:
        return 1.0
    if progress >= end:
        return top_p
    return 1.0 - (1.0 - top_p) * (progress - start) / (end - start)


def bootstrapped_ce(logits: torch.Tensor, target: torch.Tensor, fraction: float) -> torch.Tensor:
    """Mean cross entropy of the hardest ``fraction`` of pixels.

    Args:
        logits: ``(1, C, H, W)`` class logits (background first).
        target: ``(1, H, W)`` class indices.
        fraction: Share of pixels kept (1: plain cross entropy).
    """
    raw = F.cross_entropy(logits.float(), target, reduction="none").flatten()
    if fraction >= 1.0:
        return raw.mean()
    k = max(1, int(raw.numel() * fraction))
    return raw.topk(k, sorted=False).values.mean()


def _kl(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """``KL(softmax(teacher / T) || softmax(student / T))`` over channels, per position,
    averaged over positions.

    Decision (official vs here): the official ``nn.KLDivLoss()`` averages over *all*
    elements, i.e. divides each position's KL by the channel count as well; with 128-d
    values that makes the loss vanishingly small, so the weights would have no effect. The
    per-position KL keeps the official weights meaningful at any width.
    """
    s = F.log_softmax(student.float() / temperature, dim=1)
    t = F.softmax(teacher.float() / temperature, dim=1)
    return F.kl_div(s, t, reduction="none").sum(1).mean()


class _ExtrasLoss(AuxLoss):
    """An auxiliary loss fed by ``ctx.extras`` (see :class:`LossContext`)."""

    requires: tuple[str, ...] = ()

    def __init__(
        self,
        refiner_channels: Mapping[int, int] | None = None,
        weight: float = 5.0,
        temperature: float = 1.0,
        detach_target: bool = True,
    ) -> None:
        super().__init__()
        if temperature <= 0:
            raise ConfigError(f"{type(self).__name__}.temperature must be > 0")
        self.weight, self.temperature = float(weight), float(temperature)
        self.detach_target = bool(detach_target)

    def _get(self, ctx: LossContext) -> list[torch.Tensor | None]:
        missing = [k for k in self.requires if k not in ctx.extras]
        if missing:
            raise ConfigError(
                f"{type(self).__name__} needs {missing} from the model, which this model does "
                f"not provide. Fix: remove it from aux_losses, or use a model that provides "
                f"them (STCN with memory mode 'rde' gives both RDE losses)."
            )
        return [ctx.extras[k] for k in self.requires]


class UnbiasedGuidanceLoss(_ExtrasLoss):
    """RDE-VOS's unbiased guidance: the decoder input read from the bounded memory
    (``ctx.score``) is pulled towards the one read from the full memory
    (``ctx.extras["score_full"]``) by a KL divergence over channels.

    Decision (official vs here): the official code detaches neither side; here the
    full-memory side is the teacher and is detached by default (``detach_target``), so the
    loss moves the bounded-memory path (SAM, values) and not the teacher towards it.
    Weight 5 as the official README's stage-2 command (paper: 10).
    """

    requires = ("score_full",)

    def forward(self, ctx: LossContext) -> dict[str, torch.Tensor]:
        """``{"loss_guidance": ...}`` on frames where the model gives a full-memory score."""
        (full,) = self._get(ctx)
        if full is None:
            return {}
        target = full.detach() if self.detach_target else full
        return {"loss_guidance": self.weight * _kl(ctx.score, target, self.temperature)}


class MaskConsistencyLoss(_ExtrasLoss):
    """RDE-VOS's mask consistency: the first frame's memory value encoded from a perturbed
    mask (``ctx.extras["value_perturbed"]``, the one the memory holds) is pulled towards the
    value from the exact mask (``ctx.extras["value_gt"]``) by a KL over channels.

    The model perturbs the first-frame mask when this loss is enabled (RDE: random boxes
    dilated or eroded until the IoU falls below ``U[0.85, 1]``). Weight 5 (official README,
    stage 2). ``detach_target`` as in :class:`UnbiasedGuidanceLoss`.
    """

    requires = ("value_perturbed", "value_gt")

    def forward(self, ctx: LossContext) -> dict[str, torch.Tensor]:
        """``{"loss_consistency": ...}`` on the frame where the model gives both values."""
        perturbed, gt = self._get(ctx)
        if perturbed is None or gt is None:
            return {}
        target = gt.detach() if self.detach_target else gt
        return {"loss_consistency": self.weight * _kl(perturbed, target, self.temperature)}


def perturb_masks(
    masks: torch.Tensor, low: float = 0.85, high: float = 1.0, steps: int = 12
) -> torch.Tensor:
    """RDE-VOS's ``pgt``: dilate or erode random boxes of each mask until its IoU with the
    original falls below a target drawn from ``U[low, high]`` (or ``steps`` boxes are done).

    Args:
        masks: ``(N, 1, H, W)`` binary masks.

    Returns:
        Perturbed masks (same shape, binary).
    """
    out = []
    h, w = masks.shape[-2:]
    for m in masks.float():
        target = float(torch.empty(()).uniform_(low, high))
        cur = m[None].clone()
        for _ in range(steps):
            inter = (cur * m).sum()
            union = torch.maximum(cur, m[None]).sum().clamp(min=1)
            if float(inter / union) < target or m.sum() == 0:
                break
            bh = int(torch.randint(max(2, h // 8), max(3, h // 2), ()))
            bw = int(torch.randint(max(2, w // 8), max(3, w // 2), ()))
            y = int(torch.randint(0, max(1, h - bh), ()))
            x = int(torch.randint(0, max(1, w - bw), ()))
            box = cur[..., y : y + bh, x : x + bw]
            if bool(torch.rand(()) < 0.5):
                new = F.max_pool2d(box, 7, stride=1, padding=3)
            else:
                new = -F.max_pool2d(-box, 7, stride=1, padding=3)
            cur[..., y : y + bh, x : x + bw] = new
        out.append(cur[0])
    return torch.stack(out)
