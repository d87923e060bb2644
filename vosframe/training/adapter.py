"""The mmengine ``BaseModel`` adapter and Runner hooks for vosframe models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from mmengine.hooks import Hook
from mmengine.model import BaseModel

from vosframe.core.checkpoint import save_checkpoint
from vosframe.core.model import VOSModel


class VOSTrainModel(BaseModel):
    """Wraps a :class:`VOSModel` for the mmengine Runner (loss mode only).

    The whole training compute goes through :meth:`forward`, so
    ``MMDistributedDataParallel`` (DDP) synchronises gradients.

    Args:
        model: A model config (built with :func:`vosframe.build_model`) or a model.
        trainer: A plugin's training recipe (:class:`~vosframe.core.training.PluginTrainer`)
            or its config (built from :data:`vosframe.registry.TRAINERS`); None trains the
            base model.
    """

    def __init__(self, model: dict[str, Any] | VOSModel, trainer: Any = None) -> None:
        super().__init__()
        if not isinstance(model, VOSModel):
            from vosframe.builder import build_model

            model = build_model(model)
        self.vos = model
        if isinstance(trainer, dict):
            from vosframe.registry import TRAINERS, build_from_cfg

            trainer = build_from_cfg(trainer, TRAINERS)
        self.trainer = trainer
        self.epoch = 0

    def forward(
        self,
        frames: torch.Tensor,
        masks: torch.Tensor,
        features: dict[str, torch.Tensor] | None = None,
        key: list[str] | None = None,
        mode: str = "loss",
        **_: Any,
    ) -> dict[str, torch.Tensor]:
        """``mode="loss"``: the model's clip losses."""
        if mode != "loss":
            raise ValueError("VOSTrainModel supports mode='loss' only; infer with sessions")
        batch = {
            "frames": frames.float() / 255.0,
            "masks": masks.float(),
            "features": {int(s): v.float() for s, v in (features or {}).items()},
            "keys": list(key) if key is not None else None,
        }
        return self.vos(batch, mode="loss", epoch=self.epoch, trainer=self.trainer)


def _unwrap(runner: Any) -> VOSTrainModel:
    model = runner.model
    return getattr(model, "module", model)


class EpochHook(Hook):
    """Tells the model and the dataset the current epoch (schedules, seeded sampling)."""

    priority = "HIGH"

    def before_train_epoch(self, runner: Any) -> None:
        """Set ``epoch`` on the adapter and the dataset."""
        _unwrap(runner).epoch = runner.epoch
        dataset = runner.train_dataloader.dataset
        if hasattr(dataset, "epoch"):
            dataset.epoch = runner.epoch


class ExportHook(Hook):
    """Writes vosframe checkpoints (trained weights only, JSON metadata) to the work dir.

    Args:
        exclude_prefixes: State-dict prefixes not stored (frozen weights from elsewhere).
        meta: Extra metadata (e.g. the config text and the command).
    """

    priority = "LOW"

    def __init__(
        self, exclude_prefixes: tuple[str, ...] = ("feature_extractor.",), meta: dict | None = None
    ) -> None:
        self.exclude_prefixes = tuple(exclude_prefixes)
        self.meta = dict(meta or {})

    def after_train_epoch(self, runner: Any) -> None:
        """Save ``vosframe_latest.pt`` (rank 0 only)."""
        from mmengine.dist import is_main_process

        if not is_main_process():
            return
        model = _unwrap(runner).vos
        meta = {**self.meta, "epoch": runner.epoch + 1, "iter": runner.iter}
        save_checkpoint(
            model,
            Path(runner.work_dir) / "vosframe_latest.pt",
            meta=meta,
            exclude_prefixes=self.exclude_prefixes,
        )
