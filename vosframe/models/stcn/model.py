"""An STCN-style memory model as a registered base model.

After STCN (Cheng et al., "Rethinking Space-Time Networks with Improved Memory Coverage for
Efficient Video Object Segmentation", NeurIPS 2021; official code ``hkchengrex/STCN``), with
RDE-VOS's recurrent dynamic embedding as a memory mode (Li et al., "Recurrent Dynamic
Embedding for Video Object Segmentation", CVPR 2022; ``Limingxing00/RDE-VOS-CVPR2022``).

Stages:

* feature extractor = the key encoder: the shared backbone up to stride 16
  (EfficientNet-Lite0 with its ImageNet weights, or a ResNet), computed once per frame;
* localizer (:class:`~vosframe.models.stcn.localizer.MemoryLocalizer`): key projection
  (64 channels, orthogonal init), thin query value, value encoder (frame + object's mask +
  the others' masks, fused with the stride-16 feature by STCN's fusion block), the
  per-object bounded memory (``stcn`` schedule or ``rde`` embedding) and the memory read
  (L2 affinity, top-k softmax at inference, full softmax in training);
* refiner (:class:`~vosframe.models.stcn.decoder.MemoryDecoder`): STCN's decoder, stride
  16 -> 8 -> 4 with skip features, logits at input size.

Multi-object: keys are shared by all objects of a frame, values and decoding are per
object, aggregation is STCN's (``prod_logodds``: background ``prod(1 - p)``, softmax over
log-odds) through the core.

Skip points (what the unchanged ``ReuseGate`` plugin attaches to; G-STM is a config):

* ``F_t`` -- feature cut at stride 8: on reuse the key encoder's stride-16 level, the
  memory read, the decoder levels before the re-entry point and the memory write are
  skipped (the engine calls ``update`` only for objects that took the full path, so a
  reused frame is never written to memory).
* ``R_t@16`` / ``R_t@8`` / ``R_t@4`` -- the decoder's level outputs.
* ``prev`` -- the previous output mask at stride 8.

Decisions: the backbone is frozen (BatchNorm frozen as in STCN, which trains with the
network in eval mode; frozen weights also save the backbone's backward pass); objects
given on a frame are initialised one by one by the core, so the first-frame value has an
empty "others" channel (training does the same, so the model sees what inference gives);
later memory frames carry the other objects' aggregated probabilities.
"""

from __future__ import annotations

from typing import Any

import torch

from vosframe.core.errors import ConfigError
from vosframe.core.model import VOSModel
from vosframe.core.skip_points import SkipPoint, SkipPoints

from .decoder import MemoryDecoder
from .localizer import MemoryLocalizer
from .losses import bootstrap_fraction


class STCN(VOSModel):
    """STCN-style memory model with bounded memory.

    Args:
        backbone: Backbone config; built with ``max_stride=16``.
        key_channels: Key channels (64 as STCN).
        value_channels: Value channels (STCN: 512; 128 by default for a CPU: the value
            encoder, memory and decoder input scale with it).
        decoder_widths: Output channels of the decoder's stride-16, 8 and 4 levels.
        memory: Memory settings: ``mode`` (``"stcn"`` or ``"rde"``), ``every`` (write
            period), ``max_frames`` (``stcn``), ``duplicate_first`` (``rde``).
        top_k: Top-k of the inference memory read (None: full softmax).
        aggregation: Multi-object aggregation (``prod_logodds``: STCN's).
        max_internal_size: Default processing size (shorter side) for sessions.
        bootstrap: Bootstrapped cross entropy: ``start``/``end`` (training progress 0..1
            where the hardest-pixel fraction starts to fall and reaches ``top_p``) and
            ``epochs`` (progress = epoch / epochs when no hook sets :attr:`progress`).
        aux_losses: Auxiliary losses (e.g. ``UnbiasedGuidanceLoss``, ``MaskConsistencyLoss``).

    Attributes:
        progress: Training progress in ``[0, 1]`` (set by a training hook; drives the
            bootstrapped cross entropy). Not used at inference.
    """

    updates_in_training = True

    def __init__(
        self,
        backbone: dict[str, Any] | None = None,
        key_channels: int = 64,
        value_channels: int = 128,
        decoder_widths: tuple[int, int, int] = (128, 64, 32),
        memory: dict[str, Any] | None = None,
        top_k: int | None = 20,
        aggregation: str = "prod_logodds",
        max_internal_size: int | None = None,
        bootstrap: dict[str, float] | None = None,
        aux_losses: list[dict[str, Any]] | None = None,
    ) -> None:
        from vosframe.registry import BACKBONES, build_from_cfg

        cfg = dict(backbone or {"type": "EfficientNetLite0"})
        cfg.setdefault("max_stride", 16)
        extractor = build_from_cfg(cfg, BACKBONES)
        missing = {4, 8, 16} - set(extractor.channels)
        if missing:
            raise ConfigError(
                f"STCN needs backbone features at strides 4, 8 and 16; {cfg['type']} lacks "
                f"{sorted(missing)}"
            )
        c16, c8, c4 = (extractor.channels[s] for s in (16, 8, 4))
        mem = dict(memory or {})
        unknown = set(mem) - {"mode", "every", "max_frames", "duplicate_first"}
        if unknown:
            raise ConfigError(
                f"unknown memory settings {sorted(unknown)}; use mode, every, max_frames, "
                f"duplicate_first"
            )
        localizer = MemoryLocalizer(c4, c16, key_channels, value_channels, top_k=top_k, **mem)
        decoder = MemoryDecoder(localizer.score_channels, c8, c4, tuple(decoder_widths))
        super().__init__(
            extractor,
            localizer,
            decoder,
            aggregation=aggregation,
            max_internal_size=max_internal_size,
            aux_losses=aux_losses,
        )
        bs = dict(bootstrap or {})
        self.bootstrap = dict(
            start=float(bs.get("start", 0.2)),
            end=float(bs.get("end", 0.7)),
            top_p=float(bs.get("top_p", 0.15)),
            epochs=float(bs.get("epochs", 0)),
        )
        if not 0 <= self.bootstrap["start"] <= self.bootstrap["end"] <= 1:
            raise ConfigError(f"bootstrap needs 0 <= start <= end <= 1, got {bs}")
        self.progress = 0.0

    def bootstrap_fraction(self, epoch: int = 0) -> float:
        """Share of hardest pixels the cross entropy keeps now."""
        progress = self.progress
        if self.bootstrap["epochs"] > 0:
            progress = max(progress, epoch / self.bootstrap["epochs"])
        b = self.bootstrap
        return bootstrap_fraction(progress, b["start"], b["end"], b["top_p"])

    def compute_loss(
        self, batch: dict, epoch: int = 0, trainer: Any = None
    ) -> dict[str, torch.Tensor]:
        """Multi-object clip losses (:mod:`vosframe.models.stcn.training`); a plugin's
        trainer (e.g. the reuse gate's) trains through the core's generic clip loop."""
        if trainer is not None:
            return super().compute_loss(batch, epoch, trainer)
        from .training import memory_clip_loss

        return memory_clip_loss(self, batch, epoch)

    def skip_points(self) -> SkipPoints:
        """F_t at stride 8, R_t at the decoder's stride-16/8/4 outputs, previous mask."""
        c8 = self.feature_extractor.channels[8]
        ch = self.refiner.channels
        return SkipPoints(
            (
                SkipPoint("F_t", "feature_cut", 8, c8, "key encoder features up to stride 8"),
                SkipPoint("R_t@16", "reentry", 16, ch[16], "decoder stride-16 output"),
                SkipPoint("R_t@8", "reentry", 8, ch[8], "decoder stride-8 output"),
                SkipPoint("R_t@4", "reentry", 4, ch[4], "decoder stride-4 output"),
                SkipPoint("prev", "previous", 8, 1, "previous output mask", source="mask"),
            ),
            default_reentry="R_t@16",
        )
