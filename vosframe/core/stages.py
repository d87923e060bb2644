"""Abstract stages of a VOS base model.

A base model is composed of three stages (see :class:`vosframe.core.model.VOSModel`):

* :class:`FeatureExtractor` (F_t): a stack of levels, each one a module that maps the
  previous level's output to a feature map at a larger stride. It can stop at any stride
  and later *resume* from what it computed, which is what lets a skip point cut it.
* :class:`TargetLocalizer`: per-object state initialised from a first mask, a ``localize``
  that maps features to a coarse per-object score (or encoding), and an ``update`` that
  adapts the per-object state (online learning, a template, a memory) after a frame.
* :class:`Refiner` (R_t): a sequence of levels from coarse to fine, each one combining the
  previous level's output with the score and the frame's features, and a head that maps
  the last level to mask logits at input size. Any level's output can be captured (a
  re-entry point) and the refiner can start from a given level with a supplied tensor.

Stages are stateless modules; the per-object state they read and write is held by the
session (:mod:`vosframe.core.state`).
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from typing import Any

import attrs
import torch
from torch import nn

from vosframe.core.state import Features


class FeatureExtractor(nn.Module, ABC):
    """Multi-scale feature extractor that can stop at a stride and resume later.

    Subclasses fill :attr:`levels` (an ``nn.ModuleDict`` keyed by ``str(stride)``, in
    increasing stride order) and :attr:`channels`, and implement :meth:`preprocess`.
    Level ``i`` receives the output of level ``i - 1`` (the preprocessed image for the
    first level).

    Attributes:
        levels: The levels, keyed by ``str(stride)``, in increasing stride order.
        channels: Output channels per stride.
    """

    levels: nn.ModuleDict
    channels: dict[int, int]

    @property
    def strides(self) -> tuple[int, ...]:
        """All strides this extractor can produce, ascending."""
        return tuple(int(k) for k in self.levels)

    @abstractmethod
    def preprocess(self, image: torch.Tensor) -> torch.Tensor:
        """Normalise an RGB image ``(N, 3, H, W)`` in ``[0, 1]`` the way this backbone expects."""

    def forward(self, image: torch.Tensor, up_to: int | None = None) -> dict[int, torch.Tensor]:
        """Compute features from an RGB image in ``[0, 1]``.

        Args:
            image: ``(N, 3, H, W)`` float tensor in ``[0, 1]``.
            up_to: Stop after the level with this stride (None: all levels).

        Returns:
            Feature maps keyed by stride, for every level computed.
        """
        return self.resume({0: self.preprocess(image)}, up_to=up_to)

    def resume(
        self, maps: dict[int, torch.Tensor], up_to: int | None = None
    ) -> dict[int, torch.Tensor]:
        """Continue extraction from the deepest level in ``maps``.

        Args:
            maps: Features computed so far (key 0 holds the preprocessed image if no
                level has run yet). Not modified.
            up_to: Stop after this stride (None: all levels).

        Returns:
            A new dict with the previous maps and the newly computed ones.
        """
        if up_to is not None and up_to not in self.channels:
            raise ValueError(
                f"{type(self).__name__} has no level at stride {up_to}; strides: {self.strides}"
            )
        out = dict(maps)
        x = out[max(out)]
        for key, level in self.levels.items():
            stride = int(key)
            if stride in out:
                continue
            x = level(x)
            out[stride] = x
            if up_to is not None and stride >= up_to:
                break
        out.pop(0, None)
        return out


class TargetLocalizer(nn.Module, ABC):
    """Finds each target in a frame's features, with per-object state adapted over time.

    Attributes:
        stride: Stride of the score produced by :meth:`localize`.
        score_channels: Channels of that score (1 for a score map, more for an encoding).
        feature_strides: Feature strides read by :meth:`localize` / :meth:`update`.
        bounded_state: True if the per-object state has a fixed maximum size.
    """

    stride: int
    score_channels: int
    feature_strides: tuple[int, ...]
    bounded_state: bool = True

    @abstractmethod
    def init_object(self, features: Features, mask: torch.Tensor, image: torch.Tensor) -> Any:
        """Create the per-object state from a first mask.

        Args:
            features: All feature levels of the frame the mask belongs to.
            mask: ``(1, 1, H, W)`` float mask in ``{0, 1}`` at the features' image size.
            image: ``(1, 3, H, W)`` RGB image in ``[0, 1]`` (for localizers that augment
                the first frame; others ignore it).

        Returns:
            A model-specific state object (an ``attrs`` class holding tensors).
        """

    @abstractmethod
    def localize(self, features: Features, states: Sequence[Any]) -> torch.Tensor:
        """Score every object in ``states`` on this frame: ``(N, score_channels, h, w)``."""

    def peek(self, features: Features, states: Sequence[Any]) -> torch.Tensor:
        """Score objects without advancing any schedule (e.g. an update counter).

        The engine uses it on an object's first frame, when a plugin needs the full path's
        outputs for its caches, so attaching a plugin never shifts the base model's
        schedule. Default: :meth:`localize` (for localizers without schedules).
        """
        return self.localize(features, states)

    def redetect_anchor(self, state: Any) -> Any:
        """A snapshot of an object's state right after :meth:`init_object`, kept for
        re-detection (:mod:`vosframe.core.recovery`) and never updated.

        Default: a deep copy of the state. Override to keep only what :meth:`redetect`
        reads (e.g. a fitted filter without its training samples).
        """
        return copy.deepcopy(state)

    def redetect(self, features: Features, anchors: Sequence[Any]) -> torch.Tensor:
        """Score lost objects over the whole frame from their first-frame appearance only.

        The score has the shape and meaning of :meth:`localize`'s (the refiner turns it
        into a mask), but must not depend on where the object was lately. Advances no
        schedule and changes no state.

        Args:
            features: The frame's features (all levels).
            anchors: The objects' snapshots from :meth:`redetect_anchor`.

        Returns:
            ``(N, score_channels, h, w)``. Default: :meth:`peek` on the anchors (right
            for localizers whose first-frame state holds no location prior, such as a
            fitted filter or a first-frame memory); override when it does.
        """
        return self.peek(features, anchors)

    @abstractmethod
    def update(
        self, features: Features, states: Sequence[Any], probs: torch.Tensor, frame_index: int
    ) -> None:
        """Adapt each object's state after a full-path frame, in place.

        Args:
            features: The frame's features (all levels).
            states: The objects' states, in the same order as ``probs``.
            probs: ``(N, 1, H, W)`` final (aggregated) foreground probabilities.
            frame_index: Session frame index (for schedules such as "every 8 frames").
        """


@attrs.define
class RefineOutput:
    """Result of :meth:`Refiner.run`.

    Attributes:
        logits: ``(N, 1, H, W)`` mask logits at the requested output size.
        captured: Level outputs captured during the run, keyed by stride.
    """

    logits: torch.Tensor
    captured: dict[int, torch.Tensor]


class Refiner(nn.Module, ABC):
    """Coarse-to-fine decoder: score + features -> mask logits at input size.

    Subclasses set :attr:`levels` (strides in execution order, coarse to fine) and
    :attr:`channels` (output channels of each level), and implement :meth:`stage` and
    :meth:`head`.
    """

    levels: tuple[int, ...]
    channels: dict[int, int]

    @property
    def feature_strides(self) -> tuple[int, ...]:
        """Feature strides the refiner reads (by default its levels)."""
        return self.levels

    @abstractmethod
    def stage(
        self, stride: int, x: torch.Tensor | None, score: torch.Tensor, features: Features
    ) -> torch.Tensor:
        """Run the level at ``stride`` on the previous level's output ``x`` (None first)."""

    @abstractmethod
    def head(
        self, x: torch.Tensor, score: torch.Tensor, features: Features, out_size: tuple[int, int]
    ) -> torch.Tensor:
        """Map the last level's output to ``(N, 1, *out_size)`` logits."""

    def run(
        self,
        score: torch.Tensor,
        features: Features,
        out_size: tuple[int, int],
        *,
        start: tuple[int, torch.Tensor] | None = None,
        capture: Collection[int] = (),
    ) -> RefineOutput:
        """Run the levels, optionally starting after a given level with a supplied output.

        Args:
            score: ``(N, C, h, w)`` score from the localizer (or a plugin's estimate).
            features: The frame's features.
            out_size: ``(H, W)`` of the logits.
            start: ``(stride, x)``: treat ``x`` as the output of the level at ``stride`` and
                continue with the next level (a re-entry point).
            capture: Strides whose level outputs are returned in ``captured``.

        Returns:
            The logits and the captured level outputs.
        """
        captured: dict[int, torch.Tensor] = {}
        x: torch.Tensor | None = None
        todo = self.levels
        if start is not None:
            stride, x = start
            if stride not in self.levels:
                raise ValueError(f"{type(self).__name__} has no level at stride {stride}")
            todo = self.levels[self.levels.index(stride) + 1 :]
            if stride in capture:
                captured[stride] = x
        for stride in todo:
            x = self.stage(stride, x, score, features)
            if stride in capture:
                captured[stride] = x
        assert x is not None, "a refiner needs at least one level"
        return RefineOutput(self.head(x, score, features, out_size), captured)
