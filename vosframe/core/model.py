"""The base-model class: three stages, declared skip points, attached plugins.

A registered base model subclasses :class:`VOSModel`, builds its three stages, and
declares the skip points it offers by overriding :meth:`VOSModel.skip_points`. Training
compute goes through :meth:`VOSModel.forward` (``mode="loss"``) so that DDP and the
mmengine Runner work; inference goes through sessions (:meth:`VOSModel.new_session`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from vosframe.core.aggregation import get_aggregator
from vosframe.core.errors import SkipPointError
from vosframe.core.losses import LossContext, build_aux_losses
from vosframe.core.plugin import ModelPlugin
from vosframe.core.skip_points import SkipPoints, resolve
from vosframe.core.stages import FeatureExtractor, Refiner, TargetLocalizer

if TYPE_CHECKING:
    from vosframe.core.session import Session


class VOSModel(nn.Module):
    """A VOS base model composed of a feature extractor, a target localizer and a refiner.

    Args:
        feature_extractor: The F_t stage.
        localizer: The target localizer.
        refiner: The R_t stage.
        aggregation: Name of the multi-object soft aggregation
            (see :mod:`vosframe.core.aggregation`).
        max_internal_size: Default for sessions: process frames whose shorter side is
            larger than this at a reduced size (None: native size).
        aux_losses: Auxiliary training losses (configs for :data:`vosframe.registry.LOSSES`,
            e.g. ``dict(type="TemporalConsistencyLoss", level=8)``); training only.
        train_refiner_batch: Training only: the clip loop runs the refiner once per frame
            on all clips of a batch (the official FRTM training's refiner call, so
            batch-norm layers see statistics over clips) instead of once per clip. Without
            a plugin trainer only (:mod:`vosframe.core.training`).

    Attributes:
        plugins: Attached plugins, in attachment order (an ``nn.ModuleList``, so their
            weights are part of the model's state dict).
        inference_defaults: Session options recorded with the model (e.g. the internal
            resolution a checkpoint was chosen for).
        aux_losses: The built auxiliary losses (an ``nn.ModuleList``).
        updates_in_training: True if the localizer state follows the clip during training
            (``localizer.update`` after every frame, e.g. TTVOS's mask history and template);
            False if it is fitted on frame 0 and kept (FRTM, as its official training).
    """

    updates_in_training: bool = False

    def __init__(
        self,
        feature_extractor: FeatureExtractor,
        localizer: TargetLocalizer,
        refiner: Refiner,
        *,
        aggregation: str = "min_odds",
        max_internal_size: int | None = None,
        aux_losses: Sequence[dict[str, Any]] | None = None,
        train_refiner_batch: bool = False,
    ) -> None:
        super().__init__()
        self.train_refiner_batch = bool(train_refiner_batch)
        self.feature_extractor = feature_extractor
        self.localizer = localizer
        self.refiner = refiner
        self.aggregation = aggregation
        self.aggregate = get_aggregator(aggregation)
        self.plugins = nn.ModuleList()
        self.inference_defaults: dict[str, Any] = {"max_internal_size": max_internal_size}
        self._check_stages()
        self.aux_losses = build_aux_losses(aux_losses, refiner.channels)

    # ------------------------------------------------------------------ declaration
    def skip_points(self) -> SkipPoints:
        """The skip points this model offers (override in subclasses; default: none)."""
        return SkipPoints(())

    def _check_stages(self) -> None:
        have = set(self.feature_extractor.strides)
        need = set(self.localizer.feature_strides) | set(self.refiner.feature_strides)
        if not need <= have:
            raise SkipPointError(
                f"{type(self).__name__}: the localizer/refiner read strides {sorted(need)} but "
                f"the feature extractor produces {sorted(have)}"
            )

    def validate_skip_points(self) -> SkipPoints:
        """Check the declared skip points against the stages; returns them.

        Raises:
            SkipPointError: A declaration does not fit the stages (a model bug).
        """
        points = self.skip_points()
        name = type(self).__name__
        cuts = points.of_kind("feature_cut")
        for cut in cuts:
            if cut.stride not in self.feature_extractor.strides:
                raise SkipPointError(
                    f"{name}: feature cut {cut.name} at stride {cut.stride} is not a level of the "
                    f"feature extractor (strides {self.feature_extractor.strides})"
                )
            if self.feature_extractor.channels[cut.stride] != cut.channels:
                raise SkipPointError(
                    f"{name}: feature cut {cut.name} declares {cut.channels} channels, the "
                    f"extractor gives {self.feature_extractor.channels[cut.stride]}"
                )
        for r in points.of_kind("reentry"):
            if r.stride not in self.refiner.levels:
                raise SkipPointError(
                    f"{name}: re-entry point {r.name} at stride {r.stride} is not a refiner level "
                    f"({self.refiner.levels})"
                )
            if self.refiner.channels[r.stride] != r.channels:
                raise SkipPointError(
                    f"{name}: re-entry point {r.name} declares {r.channels} channels, the refiner "
                    f"level gives {self.refiner.channels[r.stride]}"
                )
            tail = self.refiner.levels[self.refiner.levels.index(r.stride) + 1 :]
            for cut in cuts:
                if any(s > cut.stride for s in tail):
                    raise SkipPointError(
                        f"{name}: after re-entry at {r.name} the refiner reads strides {tail}, "
                        f"deeper than the feature cut {cut.name} (stride {cut.stride})"
                    )
        for prev in points.of_kind("previous"):
            if prev.source == "score" and (
                prev.stride != self.localizer.stride
                or prev.channels != self.localizer.score_channels
            ):
                raise SkipPointError(
                    f"{name}: previous score {prev.name} must match the localizer output "
                    f"(stride {self.localizer.stride}, {self.localizer.score_channels} ch)"
                )
        return points

    # ------------------------------------------------------------------ plugins
    def attach_plugin(self, plugin: ModelPlugin) -> ModelPlugin:
        """Validate a plugin's needs against the skip points and attach it.

        Raises:
            SkipPointError: The plugin needs a point the model lacks (the message lists
                what the model offers and what the plugin needs), or a second
                path-deciding plugin is attached.
        """
        if plugin.decides_path and self.path_plugin is not None:
            raise SkipPointError(
                f"{type(self).__name__} already has the path-deciding plugin "
                f"{type(self.path_plugin).__name__}; only one plugin may choose the path. Fix: "
                f"remove one of them from the config's plugins list."
            )
        if any(p.key == plugin.key for p in self.plugins):
            raise SkipPointError(f"plugin {plugin.key!r} is already attached")
        points = resolve(
            tuple(plugin.needs),
            self.validate_skip_points(),
            model=type(self).__name__,
            plugin=type(plugin).__name__,
        )
        plugin.attach(self, points)
        self.plugins.append(plugin)
        return plugin

    @property
    def path_plugin(self) -> ModelPlugin | None:
        """The attached plugin that decides full vs alternative path, if any."""
        for p in self.plugins:
            if p.decides_path:
                return p  # type: ignore[return-value]
        return None

    @property
    def threshold_plugin(self) -> ModelPlugin | None:
        """The path plugin if it decides by a threshold τ (a reuse gate,
        :attr:`~vosframe.core.plugin.ModelPlugin.has_threshold`), else None."""
        plugin = self.path_plugin
        return plugin if plugin is not None and plugin.has_threshold else None

    # ------------------------------------------------------------------ running
    @property
    def device(self) -> torch.device:
        """Device of the model's parameters (or buffers); CPU for a parameterless model."""
        for t in self.parameters():
            return t.device
        for t in self.buffers():
            return t.device
        return torch.device("cpu")

    def new_session(self, **options: Any) -> Session:
        """Start a streaming inference session (see :class:`vosframe.core.session.Session`)."""
        from vosframe.core.session import Session

        return Session(self, **options)

    def forward(self, *args: Any, mode: str = "loss", **kwargs: Any) -> Any:
        """Training entry point (so DDP sees the compute): ``mode="loss"`` returns a dict of
        losses from :meth:`compute_loss`."""
        if mode == "loss":
            return self.compute_loss(*args, **kwargs)
        raise ValueError(
            f"{type(self).__name__}.forward supports mode='loss'; for inference use "
            f"model.new_session().step(frame, masks)"
        )

    def compute_loss(
        self, batch: dict, epoch: int = 0, trainer: Any = None
    ) -> dict[str, torch.Tensor]:
        """Training losses for a batch of clips (see :mod:`vosframe.core.training`;
        ``trainer``: a plugin's :class:`~vosframe.core.training.PluginTrainer`)."""
        from vosframe.core.training import clip_loss

        return clip_loss(self, batch, epoch, trainer)

    @property
    def trains_localizer(self) -> bool:
        """True if some localizer parameter requires gradients (then the clip loop runs the
        localizer, and its updates, with gradients: backpropagation through time)."""
        return any(p.requires_grad for p in self.localizer.parameters())

    def frame_losses(self, ctx: LossContext) -> dict[str, torch.Tensor]:
        """Auxiliary losses of one training frame: the configured :attr:`aux_losses`.

        Override to add model-specific ones (call ``super().frame_losses(ctx)``).
        """
        out: dict[str, torch.Tensor] = {}
        for loss in self.aux_losses:
            out.update(loss(ctx))
        return out

    @property
    def aux_levels(self) -> tuple[int, ...]:
        """Refiner levels the auxiliary losses read."""
        return tuple(sorted({s for loss in self.aux_losses for s in loss.levels}))

    def init_training_state(
        self, features: Any, mask: torch.Tensor, image: torch.Tensor, key: str | None
    ) -> Any:
        """Localizer state for a training clip's first frame (no gradients).

        Override to use training-time settings or a cache keyed by ``key`` (a stable id
        of the clip's first frame and object).
        """
        return self.localizer.init_object(features, mask, image)
