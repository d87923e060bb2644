"""Model plugins: modules that attach to a base model through its declared skip points.

A plugin subclasses :class:`ModelPlugin`, lists the skip points it needs in
:attr:`ModelPlugin.needs`, and is attached once, at build time
(:meth:`vosframe.core.model.VOSModel.attach_plugin`), which validates the needs against
the model's :meth:`~vosframe.core.model.VOSModel.skip_points` and hands the plugin the
matched points so it can size its modules from them. Nothing model-specific is visible
to a plugin: it sees skip-point specs, features keyed by stride and per-object state.

At most one attached plugin may *decide the path* (``decides_path = True``): per frame
and per object it chooses between the model's full path and an alternative path that
produces the re-entry feature R_t and the score from cached state. Any number of other
plugins may observe frames (accounting, logging).

Per-object plugin state lives in the session (``ObjectState.plugins[plugin.key]``), never
in the module, so one model serves any number of sessions. So do the decider's runtime
options (:class:`~vosframe.core.state.DecisionOptions`: the threshold ``tau`` and a forced
path): the session starts from the decider's :meth:`ModelPlugin.default_options` (e.g. the
``tau`` of its config), may change them between frames
(:meth:`~vosframe.core.session.Session.update_config`), and hands them to the plugin with
every frame as ``frame.options``. A decider reports its per-object confidence through
:meth:`ModelPlugin.confidence`, which the engine stores in each
:class:`~vosframe.core.state.PathRecord`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
import torch
from torch import nn

from vosframe.core.skip_points import Need, SkipPoint
from vosframe.core.state import DecisionOptions, FrameState, ObjectState, Path

if TYPE_CHECKING:
    from vosframe.core.model import VOSModel


@attrs.define
class AltOutput:
    """What the alternative path produces for a group of objects.

    Attributes:
        score: ``(N, C, h, w)`` estimated localizer score (at the localizer's stride).
        refined: ``(N, C_R, h_R, w_R)`` estimated refined feature at the re-entry point.
        logits: Optional ``(N, 1, H, W)`` final mask logits at the frame's internal size.
            When given, the refiner's tail is skipped.
        keep_last: The objects keep their last output mask (``ObjectState.last_prob``)
            unchanged ("copy the previous mask"): no refiner tail, no logits. When every
            tracked object of a frame keeps its mask and no object is added, the frame's
            output *is* the previous frame's output, and the session returns it without
            aggregating, resizing or labelling again.
        probs: Optional ``(N, 1, H, W)`` new output masks used as they are, like the kept
            ones (not filtered, and not aggregated again when every tracked object of the
            frame has one or keeps its mask), e.g. a copied mask moved with the object.
    """

    score: torch.Tensor | None
    refined: torch.Tensor | None
    logits: torch.Tensor | None = None
    keep_last: bool = False
    probs: torch.Tensor | None = None


class ModelPlugin(nn.Module):
    """Base class of plugins attached to a base model through skip points.

    Attributes:
        needs: The skip points the plugin needs (class default; instances may override
            it in ``__init__``, e.g. to name a configured re-entry point).
        decides_path: True if the plugin chooses full vs alternative path.
        has_threshold: True if the decider's choice depends on the session's ``tau``
            (:class:`~vosframe.core.state.DecisionOptions`), so that sweeping ``tau`` is
            meaningful (a reuse gate); such a decider also follows ``force``.
        needs_init_outputs: True if the plugin may need the full-path score and refined
            features on an object's first frame (for its caches); per frame the engine
            asks :meth:`init_outputs_needed`.
        trains: True if the plugin takes part in training (:meth:`init_train_sample`,
            :meth:`train_frame`; see :mod:`vosframe.core.training`).
        points: The matched skip points keyed by kind, set by :meth:`attach`.
    """

    needs: ClassVar[tuple[Need, ...]] = ()
    decides_path: ClassVar[bool] = False
    has_threshold: ClassVar[bool] = False
    needs_init_outputs: ClassVar[bool] = False
    trains: ClassVar[bool] = False

    def __init__(self) -> None:
        super().__init__()
        self.points: dict[str, SkipPoint] = {}

    @property
    def key(self) -> str:
        """Key of this plugin's per-object state in ``ObjectState.plugins``."""
        return type(self).__name__

    def attach(self, model: VOSModel, points: dict[str, SkipPoint]) -> None:
        """Called once when the plugin is attached; build modules sized from ``points``."""
        self.points = points

    def default_options(self) -> DecisionOptions:
        """The decision options a new session starts from (path-deciding plugins).

        Read once per session, when it is created; the session's own ``tau``/``force``
        arguments and :meth:`~vosframe.core.session.Session.update_config` override them.
        The default is :class:`~vosframe.core.state.DecisionOptions`'s; a decider with a
        configured threshold returns it here.
        """
        return DecisionOptions()

    def init_outputs_needed(self, options: DecisionOptions) -> bool:
        """True if new objects need the full path's outputs on their first frame under
        ``options`` (default: :attr:`needs_init_outputs`)."""
        return self.needs_init_outputs

    def confidence(self, obj: ObjectState) -> float | None:
        """The decider's confidence for ``obj`` on the current frame, read by the engine
        after :meth:`predecide`/:meth:`decide` (e.g. a gate's reuse probability); None
        when it has none for this frame (the default)."""
        return None

    def init_object(self, frame: FrameState, obj: ObjectState, mask: torch.Tensor) -> Any:
        """Create per-object state on the object's first frame.

        Called after the localizer state exists and, if :attr:`needs_init_outputs`, after
        ``obj.last_score`` and ``obj.refined`` hold the full path's outputs for this frame.

        Args:
            frame: The frame (features hold every level).
            obj: The new object.
            mask: ``(1, 1, H, W)`` the given mask.

        Returns:
            The state stored in ``obj.plugins[self.key]`` (None for none).
        """
        return None

    def predecide(self, frame: FrameState, objects: Sequence[ObjectState]) -> list[bool]:
        """Per object, True to take the alternative path *without any features* of this
        frame; called before the feature extractor runs (``frame.features`` is empty).

        Only for objects whose alternative path reads no feature of the current frame (for
        example, keeping the last mask). When every tracked object is decided here and no
        object is added, the frame skips the feature extractor entirely; the others go to
        :meth:`decide` as usual. The default decides nothing. ``frame.options`` holds the
        session's :class:`~vosframe.core.state.DecisionOptions`.
        """
        return [False] * len(objects)

    def decide(self, frame: FrameState, objects: Sequence[ObjectState]) -> list[bool]:
        """Return, per object, True to take the alternative path on this frame.

        ``frame.features`` holds the levels up to the feature cut only; ``frame.options``
        holds the session's :class:`~vosframe.core.state.DecisionOptions` (``tau``, a
        forced path), which the decider must follow.
        """
        return [False] * len(objects)

    def alternative(self, frame: FrameState, objects: Sequence[ObjectState]) -> AltOutput:
        """Produce the score and the re-entry feature for objects on the alternative path."""
        raise NotImplementedError(f"{type(self).__name__} does not provide an alternative path")

    def filter_probs(
        self, frame: FrameState, objects: Sequence[ObjectState], probs: torch.Tensor
    ) -> torch.Tensor:
        """Adjust the new foreground probabilities of ``objects`` before aggregation.

        Called for the objects whose mask was predicted on this frame (not for objects that
        keep their last mask), before the model aggregates them and before the localizer
        learns from the result; ``obj.last_prob`` still holds the previous frame's output.

        Args:
            frame: The frame.
            objects: The objects, in the order of ``probs``.
            probs: ``(N, 1, H, W)`` float32 foreground probabilities at internal size.

        Returns:
            The probabilities to use, same shape (the default returns ``probs``).
        """
        return probs

    def observe(
        self, frame: FrameState, objects: Sequence[ObjectState], paths: Sequence[Path]
    ) -> None:
        """See the frame's outcome (``obj.last_prob`` etc. are updated) for every object."""

    # ------------------------------------------------------------------ training
    def init_train_sample(
        self, model: VOSModel, features: Any, mask: torch.Tensor, state: Any
    ) -> dict[str, Any]:
        """Per-clip scratch state at the clip's first frame (training plugins only)."""
        return {}

    def train_frame(self, model: VOSModel, frame: Any) -> tuple[torch.Tensor, dict[str, Any]]:
        """Logits ``(1, 1, H, W)`` and extra losses for one training frame
        (a :class:`vosframe.core.training.TrainFrame`)."""
        raise NotImplementedError(f"{type(self).__name__} does not train")
