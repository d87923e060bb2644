"""``ReuseGate``: the reuse gate of Park et al. (CVPR 2021) as one generic model plugin.

It attaches to any base model that declares a feature cut F_t, a re-entry point R_t and a
``previous`` point, and sizes its networks from those specs and from the core contract's
generic attributes (``model.localizer.stride``/``score_channels``,
``model.refiner.channels``). Nothing in it knows which model it is attached to.

Per frame and per object (batched over objects): the dissimilarity module compares the
frame's F_t and the object's previous information with the object's template; the gate
function gives ``p_reuse``; the object takes the alternative path iff ``p_reuse > tau``
(:mod:`~.policy`). There the variant (:class:`~.options.GateArch`) gives the object's
output: re-entry features ``S_hat_t = S_{t-n} + Delta_t`` and
``R_hat_t = translator(R_{t-n}, Delta_t)`` (``reuse``), its last computed mask (``copy``,
moved with its pixels under ``copy_motion``), or the last computed mask translated by
``Delta_t`` (``reuse_mask``). The engine runs the refiner's tail; the gate holds no model
and keeps nothing between ``decide`` and ``alternative`` but what its decisions carry.

Decisions where the paper, the official code and this plugin differ, and what the shipped
gates change, are written down in ``docs/reuse_gate.md``; in short: ``tau >= 1`` is
exactly the base model (no gate compute); ``S_{t-n}`` is the last *computed* score
(before an object's first full frame: its first mask at the score grid for a ``"score"``
previous point, as the official code); masks are area-downsampled in training and test;
the template is built once from the first frame.

Config: ``plugins=[dict(type="ReuseGate")]`` (the shipped copy cascade),
``dict(type="ReuseGate", preset="paper", reentry="R_t@8")`` (the paper's method), any
option of :class:`~.options.GateArch` / :class:`~.options.GatePolicy` beside a preset.
Training: :mod:`vosframe.training.gate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import torch

from vosframe.core.errors import ConfigError, InputError, SkipPointError
from vosframe.core.plugin import AltResult, Decision, Keep, Logits, ModelPlugin, Probs, Reenter
from vosframe.core.skip_points import Need, SkipPoint
from vosframe.core.state import DecisionOptions, FrameState, ObjectState, Path

from .cues import change_cue, coarse_mask, image_change_cue, pre_gate_inputs, shift_mask
from .frame_cues import FrameCues, cut_feature, observe_mask
from .networks import (
    DeltaGenerator,
    DissimilarityModule,
    GateFunction,
    MaskTranslator,
    PreGate,
    RefineTranslator,
    TemplateGenerator,
    downsample_mask,
    mask_as_score,
    resize,
)
from .options import SESSION_POLICY, TRANSLATES, GatePolicy, resolve
from .policy import can_reuse, copies, copy_capped, gate_runs, takes_alt
from .state import GateObjectState

if TYPE_CHECKING:
    from vosframe.core.model import VOSModel


@attrs.frozen
class Choice:
    """What a gate decision hands back to :meth:`ReuseGate.alternative` for one object.

    Attributes:
        copy: The object copies its mask (else it translates features or its mask).
        delta: ``Delta_t`` when the alternative path needs it.
    """

    copy: bool
    delta: torch.Tensor | None = None


class ReuseGate(ModelPlugin):
    """The reuse gate: per object, reuse cached results or run the full path.

    Args:
        preset: ``"shipped"`` (default) or ``"paper"`` (:data:`~.options.PRESETS`).
        **options: Any option of :class:`~.options.GateArch` or
            :class:`~.options.GatePolicy`, overriding the preset.

    Attributes:
        arch: The architecture options (stored beside the weights).
        policy: The policy options; ``policy.tau`` is a new session's default
            (:meth:`default_options`). Each session's own ``tau``/``force``
            (``frame.options``) decide its frames.
    """

    decides_path = True
    has_threshold = True
    needs_init_outputs = True  # when features are reused: init_outputs_needed

    def __init__(self, preset: str = "shipped", **options: Any) -> None:
        super().__init__()
        self.preset = preset
        self.arch, self.policy = resolve(preset, options)
        self.needs = (
            Need("feature_cut"),
            Need("reentry", name=self.arch.reentry),
            Need("previous", name=self.arch.previous),
        )

    # ------------------------------------------------------------------ configuration
    def architecture(self) -> dict[str, Any]:
        """The settings the weights depend on (:meth:`GateArch.stored`)."""
        return self.arch.stored()

    def default_options(self) -> DecisionOptions:
        """A new session's options: the configured ``tau``, no forced path."""
        return DecisionOptions(tau=self.policy.tau)

    def init_outputs_needed(self, options: DecisionOptions) -> bool:
        """Full-path outputs on first frames: only if features are reused at all."""
        return can_reuse(options) and self.arch.variant in TRANSLATES

    def attach(self, model: VOSModel, points: dict[str, SkipPoint]) -> None:
        """Build the networks, sized from the matched skip points and the stages."""
        super().attach(model, points)
        loc, arch = model.localizer, self.arch
        for attr in ("stride", "score_channels"):
            if not isinstance(getattr(loc, attr, None), int):
                raise SkipPointError(
                    f"ReuseGate needs model.localizer.{attr} (an int) to size its delta "
                    f"generator; {type(loc).__name__} has {getattr(loc, attr, None)!r}"
                )
        cut, reentry, prev = points["feature_cut"], points["reentry"], points["previous"]
        if prev.source not in ("score", "mask"):
            raise SkipPointError(
                f"ReuseGate needs the previous point's source ('score' or 'mask'); "
                f"{prev.describe()} has none. Fix: declare source= in the model's skip_points()."
            )
        c_s = self.score_channels = loc.score_channels
        self.score_stride = loc.stride
        self.template = TemplateGenerator(cut.channels, arch.width)
        self.matching = DissimilarityModule(cut.channels, prev.channels, arch.width)
        cues = arch.cue_channels
        self.gate = GateFunction(
            arch.width + cues, arch.gate_bias, arch.gate_init_std, arch.gate_norm, cues
        )
        self.delta = DeltaGenerator(arch.width, c_s, cut.stride * arch.gate_pool, loc.stride)
        if arch.variant in TRANSLATES:
            c_r = model.refiner.channels.get(reentry.stride, reentry.channels)
            self.translator = RefineTranslator(c_r, c_s, arch.translator_mid, arch.merge_kernel)
        elif arch.variant == "reuse_mask":
            self.mask_translator = MaskTranslator(c_s, arch.mask_width)
        if arch.pre_gate:
            self.pre = PreGate(5)
        self.cues = FrameCues(self.key, arch, self.policy, points)

    # ------------------------------------------------------------------ the gate's forward
    def cut_feature(self, features: Any) -> torch.Tensor:
        """F_t as the gate sees it (:func:`~.frame_cues.cut_feature`)."""
        return cut_feature(features, self.points["feature_cut"], self.arch.gate_pool)

    def make_template(self, cut: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``(N, K, K)`` templates from F_t (as the gate sees it) and full-size masks."""
        return self.template(cut, downsample_mask(mask.float(), cut.shape[-2:]))

    def previous_info(
        self,
        score: torch.Tensor | None,
        mask: torch.Tensor | None,
        image_size: tuple[int, int],
        size: tuple[int, int],
    ) -> torch.Tensor:
        """Previous information at the F_t grid ``size``: ``S_{t-n}`` (``(N, C, h, w)``, a
        ``"score"`` previous point) or the last output mask (``(N, 1, H, W)``, a ``"mask"``
        point) area-downsampled to the point's stride, bilinearly resized."""
        prev = self.points["previous"]
        if prev.source == "score":
            assert score is not None
            return resize(score, size)
        assert mask is not None
        h, w = image_size
        grid = (-(-h // prev.stride), -(-w // prev.stride))
        return resize(downsample_mask(mask.float(), grid), size)

    def cue_maps(
        self,
        feature: torch.Tensor,
        last_feature: torch.Tensor,
        prob: torch.Tensor,
        pixel: torch.Tensor | None = None,
        image: torch.Tensor | None = None,
        last_image: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``(N, cue_channels, h, w)`` cue maps beside ``D_t`` (``motion_cue`` on).

        Args:
            feature: ``(1, C, h, w)`` F_t of the frame.
            last_feature: ``(N, C, h, w)`` F_t of each object's last computed frame.
            prob: ``(N, 1, H, W)`` each object's cue mask (or already at the F_t grid).
            pixel: ``(N, 2, 1, 1)`` the pixel cue when already computed; else it is
                computed from ``image`` and ``last_image`` (pooled frames).
        """
        cue = change_cue(feature, last_feature, prob, object_stats=self.arch.object_cue)
        if self.arch.pixel_cue:
            if pixel is None:
                assert image is not None and last_image is not None
                pixel = image_change_cue(image, last_image, prob)
            cue = torch.cat([cue, pixel.expand(-1, -1, *cue.shape[-2:])], 1)
        return cue

    def gate_forward(
        self,
        cut: torch.Tensor,
        prev: torch.Tensor,
        template: torch.Tensor,
        cues: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The gate on ``N`` objects: ``(D_t, p_reuse (N,))``.

        The one forward used by inference, the clip loop and the training on traces.

        Args:
            cut: ``(1, C, h, w)`` F_t as the gate sees it (:meth:`cut_feature`).
            prev: ``(N, C_p, h, w)`` :meth:`previous_info`.
            template: ``(N, K, K)`` templates.
            cues: :meth:`cue_maps` (required with ``motion_cue``).
        """
        d = self.matching(cut, prev, template)
        if self.arch.motion_cue:
            assert cues is not None
            x = torch.cat([d, cues.to(d.dtype)], 1)
        else:
            x = d
        return d, GateFunction.reuse_probability(self.gate(x))

    # ------------------------------------------------------------------ inference
    def check_options(self, options: DecisionOptions) -> None:
        """Refuse a session's policy settings the gate cannot take (before any frame).

        A session may set :data:`~.options.SESSION_POLICY` (``tau2``, ``max_reuse_run``,
        ``drift_budget``): they only change which objects may take the alternative path.
        ``copy_motion`` and ``motion_radius`` change what the gate keeps per object, so
        they stay with the model's configuration.
        """
        unknown = sorted(set(options.policy) - set(SESSION_POLICY))
        if unknown:
            raise InputError(
                f"ReuseGate has no per-session policy setting(s) {unknown}. Fix: use "
                f"{', '.join(SESSION_POLICY)} (copy_motion and motion_radius: in the config)."
            )
        tau2 = options.policy.get("tau2", self.policy.tau2)
        if isinstance(tau2, bool) or not isinstance(tau2, (int, float)) or not 0 <= tau2 <= 1:
            raise InputError(f"path_policy tau2 must be a number in [0, 1], got {tau2!r}")
        try:
            self.policy_for(options)
        except (ConfigError, TypeError, ValueError) as err:
            raise InputError(f"path_policy {dict(options.policy)}: {err}") from None

    def policy_for(self, options: DecisionOptions) -> GatePolicy:
        """The policy a session decides with: the configured one, with the session's
        ``options.policy`` settings over it."""
        return attrs.evolve(self.policy, **options.policy) if options.policy else self.policy

    def _open(self, objects: Sequence[ObjectState], options: DecisionOptions) -> list[int]:
        """Objects the gate may send to the alternative path: ready, not capped."""
        p, out = self.policy_for(options), []
        for i, o in enumerate(objects):
            st = self.cues.state(o)
            if st is None or (
                options.force is None
                and copy_capped(st.run, st.mask_rate, options.tau, p.max_reuse_run, p.drift_budget)
            ):
                continue
            if self.cues.ready(o):
                out.append(i)
        return out

    def init_object(self, frame: FrameState, obj: ObjectState, mask: torch.Tensor) -> Any:
        """Template from the first frame; ``S_{t-n}`` before the first full frame."""
        cues, arch = self.cues, self.arch
        cut = cues.frame_cut(frame)
        score = obj.last_score
        if self.points["previous"].source == "score":
            size = (
                score.shape[-2:] if score is not None else frame.features.size_at(self.score_stride)
            )
            score = mask_as_score(mask, size, self.score_channels)
        motion = self.policy.copy_motion
        keep_prob = motion or arch.variant == "reuse_mask"
        budget = self.policy_for(frame.options).drift_budget
        return GateObjectState(
            self.make_template(cut, mask),
            score,
            feature=cut if arch.motion_cue else None,
            image=cues.frame_image(frame) if arch.pixel_cue or motion else None,
            mask=coarse_mask(mask) if budget is not None else None,
            mask_index=frame.index,
            prob=obj.last_prob if keep_prob else None,
        )

    def predecide(self, frame: FrameState, objects: Sequence[ObjectState]) -> list[Decision]:
        """Copy objects the pre-gate is sure about (``p > tau``) before any feature runs."""
        options = frame.options
        decisions = [Decision() for _ in objects]
        if not self.arch.pre_gate or not gate_runs(options) or options.force is not None:
            return decisions
        idx = self._open(objects, options)
        if not idx:
            return decisions
        cues = self.cues
        objs = [objects[i] for i in idx]
        states = [cues.state(o) for o in objs]
        image = cues.frame_image(frame)
        x = pre_gate_inputs(
            image,
            torch.cat([s.image for s in states]),  # type: ignore[union-attr]
            cues.object_masks(objs, (int(image.shape[-2]), int(image.shape[-1]))),
            torch.tensor([s.run + 1 for s in states]),  # type: ignore[union-attr]
            pixel=cues.pixel_change(frame, objs),
        )
        for i, p in zip(idx, self.pre(x).tolist()):
            if takes_alt(p, options):
                decisions[i] = Decision(True, p, Choice(copy=True))
        return decisions

    def decide(self, frame: FrameState, objects: Sequence[ObjectState]) -> list[Decision]:
        """Run the gate, batched over the open objects (:meth:`_open`; the others take the
        full path without a confidence)."""
        options = frame.options
        decisions = [Decision() for _ in objects]
        if not gate_runs(options):  # the gate is off: exactly the base model
            return decisions
        idx = self._open(objects, options)
        if not idx:
            return decisions
        cues, arch = self.cues, self.arch
        objs = [objects[i] for i in idx]
        states = [cues.state(o) for o in objs]
        cut = cues.frame_cut(frame)
        grid = (cut.shape[-2], cut.shape[-1])
        by_score = self.points["previous"].source == "score"
        need_score = by_score or arch.variant in TRANSLATES
        scores = torch.cat([cues.prev_score(o) for o in objs]) if need_score else None
        masks = None if by_score else torch.cat([cues.cue_prob(o) for o in objs])
        prev = self.previous_info(scores, masks, frame.features.image_size, grid)
        maps = None
        if arch.motion_cue:
            maps = self.cue_maps(
                cut,
                torch.cat([s.feature for s in states]),  # type: ignore[union-attr]
                cues.object_masks(objs, grid),
                pixel=cues.pixel_change(frame, objs) if arch.pixel_cue else None,
            )
        templates = torch.cat([s.template for s in states])  # type: ignore[union-attr]
        d, p_reuse = self.gate_forward(cut, prev, templates, maps)
        p = p_reuse.tolist()
        alt = [takes_alt(v, options) for v in p]
        tau2 = self.policy_for(options).tau2
        copy = [copies(arch.variant, v, tau2) for v in p]
        need = [k for k in range(len(idx)) if alt[k] and not copy[k]]
        delta: dict[int, torch.Tensor] = {}
        if need:
            size = (
                scores.shape[-2:]
                if scores is not None
                else frame.features.size_at(self.score_stride)
            )  # Delta is added to S_{t-n}: match its grid exactly
            out = self.delta(d[need], tuple(size))
            delta = {k: out[j : j + 1] for j, k in enumerate(need)}
        for k, i in enumerate(idx):
            decisions[i] = Decision(alt[k], p[k], Choice(copy[k], delta.get(k)))
        return decisions

    def alternative(
        self, frame: FrameState, objects: Sequence[ObjectState], decisions: Sequence[Decision]
    ) -> list[AltResult]:
        """Re-entry features, a copied (moved) mask, or translated-mask logits per object."""
        choices: list[Choice] = [d.data for d in decisions]
        if self.arch.variant == "reuse_mask":
            prob = torch.cat([self.cues.state(o).prob for o in objects])  # type: ignore[union-attr,misc]
            delta = torch.cat([c.delta for c in choices])  # type: ignore[misc]
            logits = self.mask_translator(prob, delta)
            return [Logits(logits[i : i + 1]) for i in range(len(objects))]
        results: list[AltResult] = [Keep() for _ in objects]
        move = [i for i, c in enumerate(choices) if not c.copy]
        if move:
            delta = torch.cat([choices[i].delta for i in move])  # type: ignore[misc]
            prev = torch.cat([self.cues.prev_score(objects[i]) for i in move])  # type: ignore[misc]
            score = prev + delta.to(prev.dtype)
            name = self.points["reentry"].name
            refined = self.translator(torch.cat([objects[i].refined[name] for i in move]), delta)
            for k, i in enumerate(move):
                results[i] = Reenter(score[k : k + 1], refined[k : k + 1])
        copied = [i for i, c in enumerate(choices) if c.copy]
        if copied and self.policy.copy_motion:
            self._move_copies(frame, [objects[i] for i in copied], copied, results)
        return results

    def _move_copies(
        self,
        frame: FrameState,
        objs: Sequence[ObjectState],
        where: Sequence[int],
        results: list[AltResult],
    ) -> None:
        """Each copy = the object's last computed mask moved with its pixels. When no
        object's shift differs from its current output's, all keep their masks (the frame
        costs what a plain copy costs)."""
        states = [self.cues.state(o) for o in objs]
        shifts = [self.cues.object_shift(frame, o) for o in objs]
        if all(sh == st.shift for sh, st in zip(shifts, states)):  # type: ignore[union-attr]
            return
        for i, st, sh in zip(where, states, shifts):
            results[i] = Probs(shift_mask(st.prob, sh))  # type: ignore[union-attr,arg-type]
            st.shift = sh  # type: ignore[union-attr]

    def observe(
        self, frame: FrameState, objects: Sequence[ObjectState], paths: Sequence[Path]
    ) -> None:
        """On full frames the caches follow the computed output.

        While the gate is off (``tau >= 1``, no ``force``) the cue caches are dropped
        instead of refreshed: an object is ready again after its first full frame with the
        gate on.
        """
        arch, motion = self.arch, self.policy.copy_motion
        budget = self.policy_for(frame.options).drift_budget
        full = "full" in paths and gate_runs(frame.options)
        cut = self.cues.frame_cut(frame) if full and arch.motion_cue else None
        image = self.cues.frame_image(frame) if full and (arch.pixel_cue or motion) else None
        for obj, path in zip(objects, paths):
            st = self.cues.state(obj)
            if st is None:
                continue
            st.run = st.run + 1 if path == "alt" else 0
            if path != "full":
                continue
            if obj.last_score is not None:
                st.score = obj.last_score
            if arch.motion_cue:
                st.feature = cut
            if arch.pixel_cue or motion:
                st.image = image
            if motion or arch.variant == "reuse_mask":
                st.prob, st.shift = obj.last_prob, (0, 0)
            if budget is not None:
                observe_mask(st, obj.last_prob, frame.index if full else None)

    def extra_repr(self) -> str:
        """Configuration summary."""
        r = self.points.get("reentry")
        cues = [c for c in ("motion", "object", "pixel") if getattr(self.arch, f"{c}_cue")]
        return (
            f"preset={self.preset!r}, tau={self.policy.tau}, variant={self.arch.variant!r}, "
            f"reentry={r.name if r else None!r}, cues={cues}, pre_gate={self.arch.pre_gate}"
        )
