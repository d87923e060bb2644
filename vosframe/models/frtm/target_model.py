"""FRTM's online target model (the official ``Discriminator``) as a :class:`TargetLocalizer`."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import attrs
import torch
import torch.nn.functional as F

from vosframe.core.errors import ConfigError, InputError
from vosframe.core.stages import TargetLocalizer
from vosframe.core.state import Features
from vosframe.models.frtm.augment import AugmentParams, augment_first_frame
from vosframe.models.frtm.memory import SampleMemory, hinge_pixel_weights, label_quadratic_form
from vosframe.models.frtm.optimizer import (
    CGState,
    TargetModelProblem,
    fp32_autograd,
    fused_weight,
    gauss_newton_cg,
)

FeatureFn = Callable[[torch.Tensor], "Features | Mapping[int, torch.Tensor]"]

PRESETS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        # Official evaluate.py (FRTM default: not fast).
        "test": MappingProxyType({"init_iters": (5, 10, 10, 10, 10), "update_iters": (10,)}),
        # Official --fast (always on in G-FRTM's evaluate.py).
        "fast": MappingProxyType({"init_iters": (5, 10, 10, 10), "update_iters": (5,)}),
        # Official train.py target models (cached, never updated during training).
        "train": MappingProxyType(
            {
                "c": 32,
                "memory_size": 20,
                "num_aug": 15,
                "filter_reg": (1e-5, 1e-4),
                "precond": (1e-5, 1e-4),
                "cg_forgetting_rate": 75,
                "pixel_weighting": None,
            }
        ),
    }
)
"""Optimiser settings of the official code, for :meth:`FRTMTargetModel.from_preset`."""


@attrs.define(eq=False)
class FRTMObjectState:
    """Per-object state of the FRTM target model.

    Attributes:
        project: ``(c, C_in, 1, 1)`` projection weight (fixed after init).
        filter: ``(1, c, 3, 3)`` filter weight (updated online).
        fused: ``(1, C_in, 3, 3)`` = filter . project, the weight :meth:`localize` applies.
        memory: The training-sample memory (projected features, label quadratic forms).
        cg: Conjugate-gradient state of the filter updates.
        applies: Number of counted :meth:`FRTMTargetModel.localize` calls.
        optimized_at: ``applies`` at the last filter update (0: none since init).
        num_updates: Filter updates run since init.
        init_loss: Loss of the init problem before and after the initial optimisation.
    """

    project: torch.Tensor
    filter: torch.Tensor
    fused: torch.Tensor
    memory: SampleMemory
    cg: CGState
    applies: int = 0
    optimized_at: int = 0
    num_updates: int = 0
    init_loss: tuple[float, float] = (math.nan, math.nan)


class FRTMTargetModel(TargetLocalizer):
    """FRTM's two-layer target model, fitted online per object with Gauss-Newton + CG.

    ``score = filter(project(f16))``: a bias-free conv1x1 ``C_in -> c`` and a bias-free
    conv3x3 ``c -> 1`` on stride-16 features, regressed (L2) onto the object mask. Per
    object: the weights, a fixed-capacity sample memory, the CG state and an apply counter
    (:class:`FRTMObjectState`). The module has no parameters; all state is per object.

    * :meth:`init_object`: with ``image``, the first frame is augmented to ``num_aug``
      samples (original first, double weight) whose features come from the function set
      by :meth:`set_feature_fn`; both layers are fitted with ``init_iters`` GN steps; the
      samples are re-projected into a memory of ``memory_size`` and the filter is refitted
      once with ``update_iters`` (regularisation ``filter_reg[1]``), as in the official code.
    * :meth:`localize`: one 3x3 conv with the fused weight, batched over objects; each call
      counts as an *apply*.
    * :meth:`update`: objects whose mask has ``>= min_pixels`` pixels ``> 0.5`` push
      (projected features, soft mask) into their memory; if the apply count is a multiple
      of ``update_every`` the filter (only) is refitted with ``update_iters``.

    Decisions where the official code, the paper, or this implementation differ:

    * ``c`` = 96 as in the official ``evaluate.py`` (the README and paper say 32, which
      the ``train`` preset keeps for cached training target models).
    * The memory stores each label as its quadratic form at score resolution
      (:mod:`~vosframe.models.frtm.memory`) instead of two full-resolution maps: the same
      loss, gradient and GN matrix; at 480p 55 MB per object instead of ~310 MB, and no
      full-resolution work (an 8th-frame update with 80 samples: ~0.3 s instead of ~3 s).
    * ``filter(project(x))`` is computed as one 3x3 conv with the fused weight (exact:
      both layers are linear and bias-free), in :meth:`localize` and in the optimiser.
    * The optimiser always runs in fp32 with autograd enabled, whatever the caller's
      autocast / no_grad / inference mode (bf16 moved the official fitted weights by 31%).
    * Initial weights are drawn like ``nn.Conv2d``'s default (uniform, bound
      ``1/sqrt(fan_in)``) from a generator seeded with ``seed``, and augmentation uses the
      same seed, so initialisation is reproducible (the official code draws the weights
      from the global RNG; its authors report run-to-run variance).
    * Without ``image`` (or ``num_aug <= 1``) only the given frame is used. The augmenter
      (:mod:`~vosframe.models.frtm.augment`) warps with OpenCV instead of the CUDA NPP
      extension and gives up after ``max_retries`` (the official loop never stops, as its
      ``RuntimeError`` is created but not raised), fitting on fewer samples.
    * The pushed sample is ``project(f16)`` recomputed in fp32 from the features passed to
      :meth:`update` (the official code stores the projection made by ``apply``); both
      are the same frame's features. As in the official code a refit needs a push on that
      frame (a too-small mask on the 8th apply postpones the refit to the 16th); a second
      :meth:`update` at the same apply count does not refit again.
    * Online updates can be switched off (``update_every=None``), which the official code
      has no option for: the memory then holds only the first frame's samples and every
      frame is localised with the target model fitted on it. Refits learn from the
      model's own masks, so one bad mask is fitted into the filter and later masks get
      worse; whether that drift outweighs what refits gain is a per-recipe choice made on
      held-out training folds (``vosframe select``), and the shipped config records it.
    * The official code's ``--fast`` flag is never passed to ``Parameters`` in FRTM's
      ``evaluate.py`` (normal settings), while G-FRTM always runs fast; both are presets
      here (:meth:`from_preset`).
    * CG guards: a zero search direction gives ``alpha = 0`` and a non-finite Polak-Ribiere
      beta gives 0 (the official code would produce NaN).

    Args:
        in_channels: Channels ``C_in`` of the stride-16 features.
        c: Projected channels (96 at test, 32 in training).
        init_iters: CG iterations per GN step of the initial fit.
        update_iters: CG iterations per GN step of a filter update.
        memory_size: Memory capacity (80 at test, 20 in training).
        filter_reg: Regularisation of (project, filter).
        precond: Preconditioner diagonal of (project, filter).
        precond_lr: With ``cg_forgetting_rate``, the CG forgetting factor
            ``(1 - precond_lr) ** cg_forgetting_rate``.
        cg_forgetting_rate: 750 at test (an effective reset), 75 in training.
        update_every: Refit the filter every this many applies (``train_skipping``);
            ``None`` turns online updates off: :meth:`update` neither pushes nor refits,
            and every frame is localised with the first frame's fitted target model.
        learning_rate: Memory learning rate (weight of a new sample).
        num_aug: Samples of the first frame including the original (5 test, 15 train).
        pixel_weighting: Target influence ``tf`` of the 'hinge' weighting (None: off).
        min_pixels: Minimum foreground pixels for a memory push (and for the hinge).
        seed: Seed of the initial weights and of the augmentation.
        stride: Feature stride the model reads (16).
        augment_params: Augmentation choices (None: official test values).
    """

    score_channels = 1
    bounded_state = True

    def __init__(
        self,
        in_channels: int,
        c: int = 96,
        *,
        init_iters: Sequence[int] = (5, 10, 10, 10, 10),
        update_iters: Sequence[int] = (10,),
        memory_size: int = 80,
        filter_reg: tuple[float, float] = (1e-4, 1e-2),
        precond: tuple[float, float] = (1e-4, 1e-2),
        precond_lr: float = 0.1,
        cg_forgetting_rate: float = 750,
        update_every: int | None = 8,
        learning_rate: float = 0.1,
        num_aug: int = 5,
        pixel_weighting: float | None = 0.1,
        min_pixels: int = 10,
        seed: int = 0,
        stride: int = 16,
        augment_params: AugmentParams | None = None,
    ) -> None:
        super().__init__()
        if memory_size < max(num_aug, 1) or (update_every is not None and update_every < 1):
            raise ConfigError(
                f"need memory_size >= num_aug and update_every >= 1 or None (got "
                f"{memory_size}, {num_aug}, {update_every})"
            )
        self.in_channels, self.c = in_channels, c
        self.init_iters, self.update_iters = tuple(init_iters), tuple(update_iters)
        self.memory_size, self.num_aug = memory_size, num_aug
        self.filter_reg, self.precond = tuple(filter_reg), tuple(precond)
        self.forget_factor = (1 - precond_lr) ** cg_forgetting_rate
        self.update_every, self.learning_rate = update_every, learning_rate
        self.pixel_weighting, self.min_pixels, self.seed = pixel_weighting, min_pixels, seed
        self.stride = stride
        self.feature_strides = (stride,)
        self.augment_params = augment_params or AugmentParams()
        self._feature_fn: list[FeatureFn] = []  # a list keeps nn.Module from registering it

    @classmethod
    def from_preset(cls, preset: str, in_channels: int, **overrides: Any) -> FRTMTargetModel:
        """Build with the settings of ``preset`` (``'test'``, ``'fast'`` or ``'train'``)."""
        if preset not in PRESETS:
            raise ConfigError(f"unknown FRTM preset {preset!r}; choose from {sorted(PRESETS)}")
        return cls(in_channels, **{**PRESETS[preset], **overrides})

    def set_feature_fn(self, fn: FeatureFn | None) -> None:
        """Set the function computing features of augmented images ``(K, 3, H, W)``.

        It must return features (a :class:`Features` or a dict keyed by stride) holding at
        least :attr:`stride`. The owning model sets its (stopping) feature extractor here.
        """
        self._feature_fn[:] = [] if fn is None else [fn]

    # ------------------------------------------------------------------ init

    def init_object(
        self, features: Features, mask: torch.Tensor, image: torch.Tensor | None = None
    ) -> FRTMObjectState:
        """Fit a target model on a first frame.

        Args:
            features: The frame's features (reads :attr:`stride`).
            mask: ``(1, 1, H, W)`` mask in {0, 1} at the image size.
            image: Optional ``(1, 3, H, W)`` frame in ``[0, 1]``; when given (and
                ``num_aug > 1``) it is augmented and the augmented samples join the fit.

        Returns:
            The new object's state.
        """
        x = features[self.stride]
        if x.shape[0] != 1 or x.shape[1] != self.in_channels:
            raise InputError(
                f"expected stride-{self.stride} features (1, {self.in_channels}, h, w), "
                f"got {tuple(x.shape)}"
            )
        aug = None
        if image is not None and self.num_aug > 1:
            # Outside the fp32 block: the features of the augmented frames are computed in
            # the caller's precision (e.g. bf16 autocast), like the frame's own features.
            aug = self._augmented_samples(image, mask)
        with fp32_autograd(x.device.type):
            samples = x.detach().float().contiguous().clone()
            labels = mask.detach().float().clone().reshape(1, 1, *mask.shape[-2:])
            if aug is not None:
                samples = torch.cat((samples, aug[0].float().clone().to(samples.device)))
                labels = torch.cat((labels, aug[1].float().clone().to(labels.device)))
            gram, rhs, const = self._label_forms(labels, tuple(x.shape[-2:]))
            init_memory = SampleMemory.create(samples.shape[0], samples, gram, rhs, const)
            project, filt = self._initial_weights(x.device)
            problem = TargetModelProblem(
                samples, gram, rhs, const, init_memory.weights, self.filter_reg, self.precond
            )
            before = float(problem.loss([project, filt]))
            project, filt = gauss_newton_cg(
                problem, [project, filt], self.init_iters, CGState(), self.forget_factor
            )
            after = float(problem.loss([project, filt]))
            projected = F.conv2d(samples, project)
            # Without online updates the memory only holds the first frame's samples.
            capacity = self.memory_size if self.update_every is not None else samples.shape[0]
            memory = SampleMemory.create(capacity, projected, gram, rhs, const, self.learning_rate)
            state = FRTMObjectState(
                project,
                filt,
                fused_weight([project, filt]),
                memory,
                CGState(),
                init_loss=(before, after),
            )
            self._fit_filter(state)
        return state

    def _augmented_samples(
        self, image: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Augmented samples' stride features and masks, or None if none could be made."""
        if not self._feature_fn:
            raise ConfigError(
                "init_object got an image but no feature function is set; the owning model "
                "must call set_feature_fn(fn) (or pass image=None to skip augmentation)"
            )
        images, masks = augment_first_frame(
            image, mask, self.num_aug - 1, self.seed, self.augment_params
        )
        if images.shape[0] == 0:
            return None
        with torch.no_grad():
            fmap = self._feature_fn[0](images)[self.stride]
        return fmap.detach(), masks

    def _initial_weights(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        gen = torch.Generator().manual_seed(self.seed)

        def uniform(shape: tuple[int, ...], fan_in: int) -> torch.Tensor:
            bound = 1.0 / math.sqrt(fan_in)
            return ((torch.rand(shape, generator=gen) * 2 - 1) * bound).to(device)

        project = uniform((self.c, self.in_channels, 1, 1), self.in_channels)
        filt = uniform((1, self.c, 3, 3), self.c * 9)
        return project, filt

    def _label_forms(
        self, labels: torch.Tensor, score_size: tuple[int, int]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        wf, wb = hinge_pixel_weights(labels, self.pixel_weighting, self.min_pixels)
        return label_quadratic_form(labels, wf, wb, score_size)

    # ------------------------------------------------------------------ apply

    def localize(
        self, features: Features, states: Sequence[FRTMObjectState], *, count: bool = True
    ) -> torch.Tensor:
        """Score all objects: ``(N, 1, h16, w16)``, one conv for all of them.

        Args:
            features: The frame's features (reads :attr:`stride`, batch 1).
            states: The objects' states.
            count: Count this call as an apply (the update schedule counts applies).
                The official G-FRTM also scores frame 0 at init, which counts; vosframe
                scores init frames with :meth:`peek`, which does not, so attaching a plugin
                never moves FRTM's update schedule.
        """
        x = features[self.stride]
        if x.shape[0] != 1:
            raise InputError(f"FRTM localizes on batch-1 features, got {tuple(x.shape)}")
        n = len(states)
        if n == 0:
            return x.new_zeros(0, 1, *x.shape[-2:])
        weight = torch.cat([s.fused for s in states]).to(dtype=x.dtype)
        out = F.conv2d(x, weight, padding=1)
        if count:
            for s in states:
                s.applies += 1
        return out.reshape(n, 1, *out.shape[-2:])

    # ------------------------------------------------------------------ update

    def update(
        self,
        features: Features,
        states: Sequence[FRTMObjectState],
        probs: torch.Tensor,
        frame_index: int,
    ) -> None:
        """Push this frame into each object's memory and refit filters on schedule.

        An object is pushed if it has been applied at least once and its soft mask has at
        least ``min_pixels`` pixels ``> 0.5``; its filter is refitted if, in addition, its
        apply count is a multiple of ``update_every`` (and was not refitted at that count).
        ``frame_index`` is not used: the schedule counts applies, as the official code does.
        With ``update_every=None`` nothing is pushed or refitted.
        """
        if len(states) != probs.shape[0]:
            raise InputError(f"{len(states)} states but {probs.shape[0]} probability maps")
        if self.update_every is None:
            return
        x = features[self.stride]
        with fp32_autograd(x.device.type):
            fg = (probs.detach() > 0.5).flatten(1).sum(1).tolist()
            push = [i for i, s in enumerate(states) if s.applies > 0 and fg[i] >= self.min_pixels]
            if not push:
                return
            samples = x.detach().float()
            project = torch.cat([states[i].project for i in push])
            projected = F.conv2d(samples, project).reshape(len(push), self.c, *x.shape[-2:])
            labels = probs.detach()[push].float()
            gram, rhs, const = self._label_forms(labels, tuple(x.shape[-2:]))
            for k, i in enumerate(push):
                state = states[i]
                state.memory.push(projected[k], gram[k], rhs[k], const[k])
                if state.applies % self.update_every == 0 and state.applies != state.optimized_at:
                    self._fit_filter(state)
                    state.optimized_at = state.applies
                    state.num_updates += 1

    def _fit_filter(self, state: FRTMObjectState) -> None:
        """Refit the filter on the memory with the persistent CG state (in place)."""
        mem = state.memory
        n = mem.size
        filled = bool((mem.weights[:n] > 0).all()) and not bool((mem.weights[n:] > 0).any())
        idx = slice(0, n) if filled else mem.active()
        problem = TargetModelProblem(
            mem.samples[idx],
            mem.gram[idx],
            mem.rhs[idx],
            mem.const[idx],
            mem.weights[idx],
            self.filter_reg[1:],
            self.precond[1:],
        )
        (state.filter,) = gauss_newton_cg(
            problem, [state.filter], self.update_iters, state.cg, self.forget_factor
        )
        state.fused = fused_weight([state.project, state.filter])

    def peek(self, features: Features, states: Sequence[FRTMObjectState]) -> torch.Tensor:
        """Score without counting an apply (see :meth:`localize`)."""
        return self.localize(features, states, count=False)

    def redetect_anchor(self, state: FRTMObjectState) -> FRTMObjectState:
        """The first-frame target model without its sample memory (what re-detection
        applies: the fitted weights; the memory is megabytes per object)."""
        return FRTMObjectState(
            state.project.clone(),
            state.filter.clone(),
            state.fused.clone(),
            memory=None,  # type: ignore[arg-type]
            cg=None,  # type: ignore[arg-type]
        )

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, c={self.c}, init_iters={self.init_iters}, "
            f"update_iters={self.update_iters}, memory_size={self.memory_size}, "
            f"num_aug={self.num_aug}, update_every={self.update_every}"
        )
