"""FRTM as a registered base model (Robinson et al., CVPR 2020) on vosframe's stages.

Stages: a frozen backbone (:mod:`vosframe.models.backbones`), the online target model
(:class:`~vosframe.models.frtm.target_model.FRTMTargetModel`, stride 16) and the
refinement network (:class:`~vosframe.models.frtm.refiner.FRTMRefiner`, levels
32/16/8/4). Aggregation: FRTM's soft aggregation (background = min(1 - p), softmax of odds).

Skip points (what the reuse gate attaches to):

* ``F_t`` -- feature cut at stride 8 (the last backbone level still computed on the
  alternative path, as in G-FRTM's ``get_F8``).
* ``R_t@16`` -- output of the refiner's stride-16 level (G-FRTM's ``prevX``; the
  paper-faithful re-entry point).
* ``R_t@8`` -- output of the stride-8 level: re-entering there also skips the stride-8
  level, which on a CPU is where the time goes (``benchmarks/frtm_stages.py``).
* ``R_t@4`` -- output of the stride-4 level: only the head runs after re-entry (the
  stride-4 level is the most expensive refiner level at 480p).
* ``prev`` -- the last computed target-model score (stride 16, 1 channel).

Decisions (see also the stage classes):

* Inference resolution: ``max_internal_size`` (shorter side) is part of the config; the
  shipped config chooses it deliberately and records why.
* Target-model fit: the official code fits c=96 target models at test time with 5 samples
  (``fast``) and c=32 ones with 15 samples for training. The shipped config uses one
  converged, augmented fit in both (c=32, 8 samples, 5 Gauss-Newton steps of 10-20 CG
  iterations, regularisation 1e-5/1e-4, no pixel weighting; the ``fast`` updates at
  inference): fitted on frame 0 of DAVIS-2016 *train* videos its scores overlap the
  object with IoU 0.74 against 0.28 for ``fast``, and FRTM trained and run with it scores
  val J&F 75.0 against 66.7 (``configs/_base_/models/frtm_effnetlite0.py``). The presets
  stay the official ones; the config states the overrides.
* Backbone weights are never stored in vosframe checkpoints: ``external_prefixes``
  (``feature_extractor.``) marks them as coming from the backbone's own package or file.
"""

from __future__ import annotations

from typing import Any

from vosframe.core.model import VOSModel
from vosframe.core.skip_points import SkipPoint, SkipPoints
from vosframe.models.frtm.optimizer import fused_weight
from vosframe.models.frtm.refiner import FRTMRefiner
from vosframe.models.frtm.target_model import PRESETS, FRTMObjectState, FRTMTargetModel
from vosframe.models.frtm.tm_cache import TargetModelDiskCache, backbone_fingerprint

TM_CACHE_VERSION = 1
"""Bump when the target-model fit changes, so disk caches of older fits are not reused."""

BACKBONE_EXTERNAL = ("feature_extractor.",)


class FRTM(VOSModel):
    """FRTM: online-learned target model + refinement network.

    Args:
        backbone: Backbone config, e.g. ``dict(type="EfficientNetLite0")`` or
            ``dict(type="ResNet", depth=18, weights=None)``.
        target_model: Target-model settings: ``preset`` (``"test"``, ``"fast"``, ``"train"``)
            plus any :class:`FRTMTargetModel` argument to override.
        refiner: :class:`FRTMRefiner` arguments (e.g. ``head="fast"``).
        train_target_model: Overrides of the ``train`` preset for the target models
            fitted on training clips (e.g. ``num_aug=5`` to fit faster on a CPU).
        aggregation: Multi-object aggregation.
        max_internal_size: Default processing size (shorter side) for sessions.
        aux_losses: Auxiliary training losses, e.g.
            ``[dict(type="TemporalConsistencyLoss", level=8)]`` (the TTVOS paper applies it
            to FRTM too).
        train_tm_cache: Folder of a disk cache of the training target models
            (:mod:`~vosframe.models.frtm.tm_cache`), shared by runs with the same fitting
            settings and backbone (None: memory only, per process).
        train_refiner_batch: Training: the refiner runs on all clips of a batch at once,
            as in the official training (:class:`~vosframe.core.model.VOSModel`).
    """

    def __init__(
        self,
        backbone: dict[str, Any] | None = None,
        target_model: dict[str, Any] | None = None,
        refiner: dict[str, Any] | None = None,
        train_target_model: dict[str, Any] | None = None,
        aggregation: str = "min_odds",
        max_internal_size: int | None = None,
        aux_losses: list[dict[str, Any]] | None = None,
        train_tm_cache: str | None = None,
        train_refiner_batch: bool = False,
    ) -> None:
        from vosframe.registry import BACKBONES, build_from_cfg

        extractor = build_from_cfg(backbone or {"type": "EfficientNetLite0"}, BACKBONES)
        tm_cfg = dict(target_model or {})
        preset = tm_cfg.pop("preset", "fast")
        localizer = FRTMTargetModel.from_preset(preset, extractor.channels[16], **tm_cfg)
        ref = FRTMRefiner({s: extractor.channels[s] for s in (4, 8, 16, 32)}, **dict(refiner or {}))
        super().__init__(
            extractor,
            localizer,
            ref,
            aggregation=aggregation,
            max_internal_size=max_internal_size,
            aux_losses=aux_losses,
            train_refiner_batch=train_refiner_batch,
        )
        localizer.set_feature_fn(self._augmented_features)
        self._train_tm: FRTMTargetModel | None = None
        self._train_tm_overrides = dict(train_target_model or {})
        self._tm_cache: dict[str, object] = {}
        self._backbone_cfg = backbone
        self._tm_disk_root = train_tm_cache
        self._tm_disk: TargetModelDiskCache | None = None

    def init_training_state(self, features, mask, image, key):
        """Target model for a training clip: fitted with the ``train`` preset (c=32, as the
        official cached training target models), cached in memory (and on disk with
        ``train_tm_cache``) by the clip's stable first-frame key, and never updated during
        training (as in the official code)."""
        if self._train_tm is None:
            self._train_tm = FRTMTargetModel.from_preset(
                "train", self.localizer.in_channels, **self._train_tm_overrides
            )
            self._train_tm.set_feature_fn(self._augmented_features)
        if key is not None and key in self._tm_cache:
            return self._tm_cache[key]
        disk = self._disk_cache() if key is not None else None
        stored = disk.get(key) if disk is not None else None
        if stored is not None:
            device = features[self.localizer.stride].device
            project, filt = stored[0].to(device), stored[1].to(device)
        else:
            state = self._train_tm.init_object(features, mask, image)
            project, filt = state.project, state.filter
            if disk is not None:
                disk.put(key, project, filt)
        # Training never updates target models: keep only the weights localize() applies,
        # not the sample memory (megabytes per object, thousands of cached clips).
        frozen = FRTMObjectState(
            project,
            filt,
            fused_weight([project, filt]),
            memory=None,
            cg=None,  # type: ignore[arg-type]
        )
        if key is not None:
            self._tm_cache[key] = frozen
        return frozen

    def _disk_cache(self) -> TargetModelDiskCache | None:
        """The disk cache of training target models (None without ``train_tm_cache``)."""
        if self._tm_disk_root is None:
            return None
        if self._tm_disk is None:
            settings = {**PRESETS["train"], **self._train_tm_overrides}
            fingerprint = {
                "version": TM_CACHE_VERSION,
                "train_target_model": settings,
                "in_channels": self.localizer.in_channels,
                "backbone": backbone_fingerprint(self.feature_extractor, self._backbone_cfg),
            }
            self._tm_disk = TargetModelDiskCache(self._tm_disk_root, fingerprint)
        return self._tm_disk

    def _augmented_features(self, images):
        """Features of the first frame's augmented copies, up to the target model's stride."""
        return self.feature_extractor(images, up_to=self.localizer.stride)

    def skip_points(self) -> SkipPoints:
        """F_t at stride 8, R_t at the refiner's stride-16/8/4 outputs, previous score."""
        c8 = self.feature_extractor.channels[8]
        w = self.refiner.width
        return SkipPoints(
            (
                SkipPoint("F_t", "feature_cut", 8, c8, "backbone features up to stride 8"),
                SkipPoint("R_t@16", "reentry", 16, w, "refiner stride-16 level output (prevX)"),
                SkipPoint("R_t@8", "reentry", 8, w, "refiner stride-8 level output"),
                SkipPoint("R_t@4", "reentry", 4, w, "refiner stride-4 level output"),
                SkipPoint(
                    "prev", "previous", 16, 1, "last computed target-model score", source="score"
                ),
            ),
            default_reentry="R_t@16",
        )
