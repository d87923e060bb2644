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
options (:class:`~vosframe.core.state.DecisionOptions`: the threshold ``tau``, a forced
path, and this session's values of the decider's own policy settings, which
:meth:`ModelPlugin.check_options` validates): the session starts from the decider's
:meth:`ModelPlugin.default_options` (e.g. the ``tau`` of its config), may change them
between frames
(:meth:`~vosframe.core.session.Session.update_config`), and hands them to the plugin with
every frame as ``frame.options``.

A decider returns one :class:`Decision` per object (the path, its confidence, and any data
it wants back); the engine hands each alternative object's decision back to
:meth:`ModelPlugin.alternative`, which returns one tagged result per object
(:class:`Reenter`, :class:`Logits`, :class:`Keep` or :class:`Probs`). The engine runs
every refiner tail itself, so a plugin never holds the model and keeps nothing between
its calls but the per-object state of the session.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
import torch
from torch import nn

from vosframe.core.errors import InputError
from vosframe.core.skip_points import Need, SkipPoint
from vosframe.core.state import DecisionOptions, FrameState, ObjectState, Path

if TYPE_CHECKING:
    from vosframe.core.model import VOSModel


@attrs.define(frozen=True)
class Decision:
    """A path-deciding plugin's decision for one object on one frame.

    Attributes:
        alt: True to take the alternative path.
        confidence: The decider's confidence that the alternative path is good enough
            (e.g. a gate's reuse probability); None where it has none for this frame. The
            engine records it in :class:`~vosframe.core.state.PathRecord`.
        data: Anything the decider wants back in :meth:`ModelPlugin.alternative` for this
            object (e.g. the delta it computed); the engine hands it back unchanged, so the
            plugin keeps nothing between its two calls.
    """

    alt: bool = False
    confidence: float | None = None
    data: Any = None


@attrs.define(frozen=True)
class Reenter:
    """Alternative output: re-enter the refiner at the plugin's re-entry point.

    The engine runs the refiner's tail from there (batched over every object that
    re-enters on the frame).

    Attributes:
        score: ``(1, C, h, w)`` estimated localizer score (at the localizer's stride).
        refined: ``(1, C_R, h_R, w_R)`` estimated refined feature at the re-entry point.
    """

    score: torch.Tensor
    refined: torch.Tensor


@attrs.define(frozen=True)
class Logits:
    """Alternative output: final mask logits ``(1, 1, H, W)`` at the frame's internal size
    (the refiner's tail is skipped; the probabilities are filtered and aggregated)."""

    logits: torch.Tensor


@attrs.define(frozen=True)
class Keep:
    """Alternative output: the object keeps its last output mask (``ObjectState.last_prob``)
    unchanged ("copy the previous mask"). When every tracked object of a frame keeps its
    mask and no object is added, the frame's output *is* the previous frame's output, and
    the session returns it without aggregating, resizing or labelling again."""


@attrs.define(frozen=True)
class Probs:
    """Alternative output: a new output mask ``(1, 1, H, W)`` used as it is, like a kept one
    (not filtered, and not aggregated again when every tracked object of the frame keeps
    or gives its mask), e.g. a copied mask moved with the object."""

    probs: torch.Tensor


#: What the alternative path gives for one object.
AltResult = Reenter | Logits | Keep | Probs


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
        points: The matched skip points keyed by kind, set by :meth:`attach`.
    """

    needs: ClassVar[tuple[Need, ...]] = ()
    decides_path: ClassVar[bool] = False
    has_threshold: ClassVar[bool] = False
    needs_init_outputs: ClassVar[bool] = False

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

    def check_options(self, options: DecisionOptions) -> None:
        """Refuse session options this decider cannot apply (before any frame runs).

        Called when a session is given ``path_policy`` (at creation or in
        :meth:`~vosframe.core.session.Session.update_config`). The default takes no
        ``policy`` settings; a decider with per-session policy settings overrides it.

        Raises:
            InputError: An unknown ``policy`` setting or a bad value (say which, and the
                settings it takes).
        """
        if options.policy:
            raise InputError(
                f"{type(self).__name__} has no per-session policy settings, got "
                f"{sorted(options.policy)}. Fix: leave path_policy out."
            )

    def init_outputs_needed(self, options: DecisionOptions) -> bool:
        """True if new objects need the full path's outputs on their first frame under
        ``options`` (default: :attr:`needs_init_outputs`)."""
        return self.needs_init_outputs

    def architecture(self) -> dict[str, Any]:
        """The settings that shape this plugin's weights (layer widths, inputs, ...).

        Stored beside the weights in a plugin weights file and compared when the file is
        loaded, so a config cannot disagree with the weights it runs (the default: none).
        """
        return {}

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

    def predecide(self, frame: FrameState, objects: Sequence[ObjectState]) -> list[Decision]:
        """Per object, a :class:`Decision`; ``alt=True`` takes the alternative path *without
        any features* of this frame. Called before the feature extractor runs
        (``frame.features`` is empty).

        Only for objects whose alternative path reads no feature of the current frame (for
        example, keeping the last mask). When every tracked object is decided here and no
        object is added, the frame skips the feature extractor entirely; the others go to
        :meth:`decide` as usual. The default decides nothing. ``frame.options`` holds the
        session's :class:`~vosframe.core.state.DecisionOptions`.
        """
        return [Decision() for _ in objects]

    def decide(self, frame: FrameState, objects: Sequence[ObjectState]) -> list[Decision]:
        """Per object, a :class:`Decision` (``alt=True``: the alternative path on this frame).

        ``frame.features`` holds the levels up to the feature cut only; ``frame.options``
        holds the session's :class:`~vosframe.core.state.DecisionOptions` (``tau``, a
        forced path), which the decider must follow.
        """
        return [Decision() for _ in objects]

    def alternative(
        self, frame: FrameState, objects: Sequence[ObjectState], decisions: Sequence[Decision]
    ) -> list[AltResult]:
        """One :data:`AltResult` per object on the alternative path.

        Args:
            frame: The frame (features up to the feature cut, or all levels when some
                object takes the full path).
            objects: The objects on the alternative path.
            decisions: Their decisions, as :meth:`predecide`/:meth:`decide` returned them.
        """
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
