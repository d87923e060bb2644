"""``ReuseGate``: the reuse gate of Park et al. (CVPR 2021) as one generic model plugin.

It attaches to any base model that declares a feature cut F_t, a re-entry point R_t and a
``previous`` point, and sizes every module from those specs and from the core contract's
generic attributes (``model.localizer.stride``/``score_channels``,
``model.refiner.channels``). Nothing in it knows which model it is attached to.

Per frame and per object (batched over objects): the dissimilarity module compares the
frame's F_t features and the object's previous information with the object's template;
the gate function gives ``p_reuse``; the object takes the alternative path iff
``p_reuse > tau``. There, the delta-generator gives ``Delta_t``, the estimated score is
``S_hat_t = S_{t-n} + Delta_t`` and the refine-translator maps ``cat(R_{t-n}, Delta_t)`` to
``R_hat_t``; the base model's refiner continues after the re-entry point.

Config: ``model = dict(type="FRTM", ..., plugins=[dict(type="ReuseGate", tau=0.7)])``;
``reentry="R_t@8"`` re-enters at stride 8; ``variant="fusion", tau2=0.9`` fuses.

Variants (``variant=``): ``"reuse"`` (the paper's feature reuse), ``"copy"`` (copy the
previous mask), ``"fusion"`` (copy if ``p_reuse > tau2``, else translate), ``"reuse_mask"``
(the supplement's reuseM: the previous mask translated by ``Delta_t``).

Decisions (where the paper, the official code and this framework differ):

* ``tau >= 1`` disables the gate: no gate compute, no first-frame outputs, so the model's
  output is exactly the base model's (bit-identical). Otherwise the engine computes the
  full path on an object's first frame for the caches (``needs_init_outputs``), as the
  official ``Test_Init``; a localizer that counts applies (FRTM's update schedule) then
  counts that frame, as the official G-FRTM does.
* ``S_{t-n}``, the score the delta is added to, is the last *computed* score
  (``obj.last_score`` after a full frame). Before the first full frame of an object it is
  the first mask area-downsampled to the score grid when the ``previous`` point's source is
  ``"score"`` (the official initial ``prev_score``, in training and test alike), or the
  localizer's score on the first frame when the source is ``"mask"``.
* Previous information for the dissimilarity module: ``S_{t-n}`` (source ``"score"``) or the
  last output mask ``obj.last_prob`` area-downsampled to the ``previous`` point's stride
  (source ``"mask"``), bilinearly resized to the F_t grid.
* The template is built once from the first frame (the official code never updates it).
* Masks are area-downsampled in training and test (official: bilinear / nearest).
* The gate's last conv starts with small weights so that ``p_reuse ~ 0.13`` for any input
  (see :class:`~vosframe.plugins.reuse_gate.modules.GateFunction`).
* Training: see :mod:`vosframe.plugins.reuse_gate.training`. The paper's gate target is
  the default; ``gate_target="alt_quality"`` (what the shipped G-FRTM uses) trains the gate
  to predict how much worse the alternative path is than the full path on the frame.
* Additions that are not in the paper, all off by default (the shipped G-FRTM turns them
  on): ``motion_cue`` (the gate also sees how much F_t changed since the object's last
  computed frame; the paper's gate sees only the template dissimilarity), ``gate_norm=False``
  (training runs one sample at a time, so the official gate's batch norm normalises each
  sample over its own 4x4 map) and ``max_reuse_run`` (recompute an object after that many
  consecutive reused frames; without it, one wrong gate on a moving object copied a stale
  mask for 49 frames in a row on DAVIS ``horsejump-high``), ``object_cue``, ``pixel_cue``
  and ``history_cue`` (the change relative to the object's size, the pixels' change around
  its boundary, its mask's recent change), ``gate_pool`` (the gate on a coarser grid),
  ``drift_budget`` (shorter runs of copies for objects whose computed masks change fast:
  feedback the gate cannot get from one frame's cues), ``copy_motion`` (a copy moves the
  last computed mask with the object's pixels: :mod:`~vosframe.plugins.reuse_gate.motion`).
  The shipped gates are trained on inference traces (:mod:`~vosframe.plugins.reuse_gate.traces`).
* ``copy`` returns ``AltOutput(keep_last=True)``: when every object of a frame copies, the
  frame's output is the previous one, which the session returns without recomputing it
  (with ``copy_motion``, ``AltOutput(probs=...)`` unless no object's shift changed).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, get_args

import torch

from vosframe.core.errors import ConfigError, SkipPointError
from vosframe.core.plugin import AltOutput, ModelPlugin
from vosframe.core.skip_points import Need, SkipPoint
from vosframe.core.state import DecisionOptions, FrameState, ObjectState, Path

from . import training
from .inputs import TRANSLATES, GateInputs, coarse_mask
from .modules import (
    DeltaGenerator,
    DissimilarityModule,
    GateFunction,
    MaskTranslator,
    RefineTranslator,
    TemplateGenerator,
    downsample_mask,
    probs_to_logits,
)
from .motion import MotionCopy
from .pre_gate import PreGate, PreGating
from .state import GateObjectState

if TYPE_CHECKING:
    from vosframe.core.model import VOSModel

Variant = Literal["reuse", "copy", "fusion", "reuse_mask"]
GateTarget = Literal["paper", "alt_quality"]


class ReuseGate(GateInputs, MotionCopy, PreGating, training.GateTraining, ModelPlugin):
    """The reuse gate: per object, reuse translated cached features or run the full path.

    Args:
        tau: Reuse iff ``p_reuse > tau`` (``tau >= 1``: never, exactly the base model;
            ``tau = 0``: always after the first frame).
        variant: ``"reuse"``, ``"copy"``, ``"fusion"`` or ``"reuse_mask"``.
        tau2: ``fusion`` only: copy the previous mask iff ``p_reuse > tau2`` (>= ``tau``; the
            paper gives no value).
        reentry: Name of the re-entry point (None: the model's default).
        previous: Name of the ``previous`` point (None: the model's first).
        width: Channels of the template and of the dissimilarity map (64 officially).
        translator_mid: Channels of each dilated branch of the refine-translator (48).
        merge_kernel: Kernel of the translator's merge conv (5). At stride 8 the official
            translator costs more than its level (``translator_mid=16, merge_kernel=3``: 1/3).
        mask_width: Width of the ``reuse_mask`` translator (runs at full resolution).
        m1: Gate-loss margin reached at ``margin_epochs`` (1.0 DAVIS, 0.5 YouTube-VOS).
        m2: Gate-loss tolerance (0 officially).
        margin_epochs: Epoch at which the margin reaches ``m1`` (120 officially).
        gate_bias: Initial ``(reuse, compute)`` biases of the gate's last conv.
        gate_init_std: Std of the gate's last conv weights at init (None: PyTorch default).
        gate_target: What ``p_reuse`` is trained to predict. ``"paper"`` (default): the
            paper's ``max(m, IoU(y_t, y_last))`` (Eqs. 4-5). ``"alt_quality"``: how good the
            alternative path is compared with the full path on this frame,
            ``clamp(1 - relu(IoU(full, y_t) - IoU(alt, y_t)) / quality_scale, 0, 1)``, so
            ``p_reuse > tau`` means "reusing costs at most ``(1 - tau) * quality_scale``
            IoU here" (see :mod:`~vosframe.plugins.reuse_gate.training`).
        quality_scale: IoU loss of the alternative path that makes the ``"alt_quality"``
            target 0.
        train_reuse_prob: ``"alt_quality"`` only: probability that a training frame is
            treated as reused for the caches (``S_{t-n}``, ``R_{t-n}``, ``y_last`` kept), so
            the gate and the translator see caches of varied age. None: follow the gate's
            hard decision (``p_reuse > 0.5``), as the paper.
        motion_cue: Also give the gate :func:`~vosframe.plugins.reuse_gate.modules.change_cue`
            (how much F_t changed since the object's last computed frame, overall and inside
            its last mask) as two extra input channels next to ``D_t``. Not in the paper.
        gate_pool: Average-pool F_t by this factor before the gate's modules (template,
            matching, cue, delta), so the gate runs on a coarser grid: at 360p the matching
            module costs ~4.9 ms on the stride-8 grid of EfficientNet-Lite0 and ~1.5 ms
            with ``gate_pool=2``. 1 (default): the paper's grid.
        pixel_cue: With ``motion_cue``: two more cue channels, how much the frame's pixels
            changed in a band around the object's last mask since its last computed frame
            (:func:`~vosframe.plugins.reuse_gate.modules.image_change_cue`). Not in the
            paper; the clip loop cannot train it (use ``vosframe train-gate``).
        object_cue: With ``motion_cue``: three more cue channels, the change inside and
            around the object's last mask per object cell and the object's area
            (``change_cue(object_stats=True)``). Not in the paper.
        history_cue: With ``motion_cue``: one more cue channel, how fast the object's
            computed mask changed between its last two computed frames
            (:func:`~vosframe.plugins.reuse_gate.inputs.history_channel`). An object is
            ready for the gate after its first computed frame. Not in the paper; trained
            by ``vosframe train-gate`` only, as ``pre_gate``.
        pre_gate: ``copy`` with ``pixel_cue``: a first stage that copies from pixel-level
            cues before the backbone runs (:mod:`~vosframe.plugins.reuse_gate.pre_gate`),
            when its probability exceeds ``tau + pre_margin * (1 - tau)``.
        gate_norm: Keep the batch norm of the official gate layout (see
            :class:`~vosframe.plugins.reuse_gate.modules.GateFunction`).
        max_reuse_run: Inference only: after this many consecutive alternative frames an
            object takes the full path (None: no limit, as the paper). Bounds the drift of
            a chain of reuses when the gate is wrong (a gate that keeps saying "reuse" on a
            moving object would otherwise never recompute it).
        drift_budget: Inference only: an object copies at age ``a`` only while
            ``a * mask_rate <= drift_budget * (1 - tau)``, ``mask_rate`` being its measured
            output drift per frame (:meth:`reuse_capped`); lowering ``tau`` loosens it.
        copy_motion: ``copy`` only, inference only: move the copied mask with the object's
            pixels (:mod:`~vosframe.plugins.reuse_gate.motion`), searching shifts of up to
            ``motion_radius`` cells of the stride-4 grid.
        moved_cues: With ``copy_motion`` and ``pixel_cue``: the pixel cue measures the
            change beyond the object's shift (gate input: train the gate with it).
        freeze_base: Training only: keep the base model's stages (feature extractor,
            localizer, refiner) in eval mode without gradients, so only the gate's modules
            learn and ``tau >= 1`` stays exactly the base model it was trained on.

    Attributes:
        default_tau: The configured ``tau``: the default of a new session
            (:meth:`default_options`). A session's own ``tau`` and ``force``
            (:class:`~vosframe.core.state.DecisionOptions`, ``frame.options``) decide each
            frame: ``force="full"``/``"alt"`` forces every object's path (accounting,
            ablations; the gate still runs, and ``"alt"`` still needs the first-frame
            caches, which objects get when they start while the gate runs).
    """

    decides_path = True
    has_threshold = True
    trains = True

    def __init__(
        self,
        tau: float = 0.7,
        variant: Variant = "reuse",
        tau2: float = 0.9,
        reentry: str | None = None,
        previous: str | None = None,
        width: int = 64,
        translator_mid: int = 48,
        merge_kernel: int = 5,
        mask_width: int = 8,
        m1: float = 1.0,
        m2: float = 0.0,
        margin_epochs: int = 120,
        gate_bias: Sequence[float] = (0.1, 2.0),
        gate_init_std: float | None = 1e-3,
        gate_target: GateTarget = "paper",
        quality_scale: float = 0.2,
        train_reuse_prob: float | None = None,
        motion_cue: bool = False,
        object_cue: bool = False,
        pixel_cue: bool = False,
        history_cue: bool = False,
        pre_gate: bool = False,
        pre_margin: float = 0.0,
        gate_pool: int = 1,
        gate_norm: bool = True,
        max_reuse_run: int | None = None,
        drift_budget: float | None = None,
        copy_motion: bool = False,
        motion_radius: int = 8,
        moved_cues: bool = False,
        freeze_base: bool = False,
    ) -> None:
        super().__init__()
        if variant not in get_args(Variant):
            raise ConfigError(
                f"ReuseGate.variant must be one of {get_args(Variant)}, got {variant!r}"
            )
        if not 0.0 <= float(tau) <= 1.0:
            raise ConfigError(f"ReuseGate.tau must be in [0, 1], got {tau}")
        if variant == "fusion" and not float(tau) <= float(tau2) <= 1.0:
            raise ConfigError(f"ReuseGate.tau2 must be in [tau, 1] = [{tau}, 1], got {tau2}")
        if int(margin_epochs) < 1 or float(m2) < 0:
            raise ConfigError("ReuseGate needs margin_epochs >= 1 and m2 >= 0")
        if len(tuple(gate_bias)) != 2:
            raise ConfigError(f"ReuseGate.gate_bias must be (reuse, compute), got {gate_bias}")
        if gate_target not in get_args(GateTarget):
            raise ConfigError(
                f"ReuseGate.gate_target must be one of {get_args(GateTarget)}, got {gate_target!r}"
            )
        if not float(quality_scale) > 0:
            raise ConfigError(f"ReuseGate.quality_scale must be > 0, got {quality_scale}")
        if train_reuse_prob is not None and not 0.0 <= float(train_reuse_prob) <= 1.0:
            raise ConfigError(
                f"ReuseGate.train_reuse_prob must be None or in [0, 1], got {train_reuse_prob}"
            )
        self.gate_target: GateTarget = gate_target
        self.quality_scale = float(quality_scale)
        self.train_reuse_prob = None if train_reuse_prob is None else float(train_reuse_prob)
        self.freeze_base = bool(freeze_base)
        self.motion_cue, self.gate_norm = bool(motion_cue), bool(gate_norm)
        if (object_cue or pixel_cue or history_cue) and not motion_cue:
            raise ConfigError(
                "ReuseGate.object_cue, pixel_cue and history_cue need motion_cue=True"
            )
        self.object_cue, self.pixel_cue = bool(object_cue), bool(pixel_cue)
        self.history_cue = bool(history_cue)
        if pre_gate and (variant != "copy" or not pixel_cue):
            raise ConfigError("ReuseGate.pre_gate needs variant='copy' and pixel_cue=True")
        if not 0.0 <= float(pre_margin) <= 1.0:
            raise ConfigError(f"ReuseGate.pre_margin must be in [0, 1], got {pre_margin}")
        self.pre_gate, self.pre_margin = bool(pre_gate), float(pre_margin)
        if int(gate_pool) < 1:
            raise ConfigError(f"ReuseGate.gate_pool must be >= 1, got {gate_pool}")
        self.gate_pool = int(gate_pool)
        if max_reuse_run is not None and int(max_reuse_run) < 1:
            raise ConfigError(f"ReuseGate.max_reuse_run must be None or >= 1, got {max_reuse_run}")
        self.max_reuse_run = None if max_reuse_run is None else int(max_reuse_run)
        if drift_budget is not None and not float(drift_budget) > 0:
            raise ConfigError(f"ReuseGate.drift_budget must be None or > 0, got {drift_budget}")
        self.drift_budget = None if drift_budget is None else float(drift_budget)
        if copy_motion and (variant != "copy" or int(motion_radius) < 1):
            raise ConfigError("ReuseGate.copy_motion needs variant='copy' and motion_radius >= 1")
        self.copy_motion, self.motion_radius = bool(copy_motion), int(motion_radius)
        if moved_cues and not (copy_motion and pixel_cue):
            raise ConfigError("ReuseGate.moved_cues needs copy_motion=True and pixel_cue=True")
        self.moved_cues = bool(moved_cues)
        self.default_tau, self.tau2, self.variant = float(tau), float(tau2), variant
        if int(merge_kernel) < 1 or int(merge_kernel) % 2 == 0:
            raise ConfigError(f"ReuseGate.merge_kernel must be odd and >= 1, got {merge_kernel}")
        self.width, self.translator_mid, self.mask_width = width, translator_mid, mask_width
        self.merge_kernel = int(merge_kernel)
        self.m1, self.m2, self.margin_epochs = float(m1), float(m2), int(margin_epochs)
        self.gate_bias = tuple(float(b) for b in gate_bias)
        self.gate_init_std = gate_init_std
        self.needs = (
            Need("feature_cut"),
            Need("reentry", name=reentry),
            Need("previous", name=previous),
        )
        self._owner: list[VOSModel] = []  # a list, so the model is not a submodule

    # ------------------------------------------------------------------ configuration
    needs_init_outputs = True  # when features are reused: init_outputs_needed

    def default_options(self) -> DecisionOptions:
        """A new session's options: the configured ``tau``, no forced path."""
        return DecisionOptions(tau=self.default_tau)

    @staticmethod
    def can_reuse(options: DecisionOptions) -> bool:
        """True if some object may take the alternative path under ``options``."""
        return options.force == "alt" or (options.force is None and options.tau < 1.0)

    @staticmethod
    def runs(options: DecisionOptions) -> bool:
        """True if the gate runs on tracked frames (``tau < 1``, or a forced path)."""
        return options.force is not None or options.tau < 1.0

    def init_outputs_needed(self, options: DecisionOptions) -> bool:
        """Full-path outputs on first frames: only if features are reused at all."""
        return self.can_reuse(options) and self.variant in TRANSLATES

    def clear_confidence(self, objects: Sequence[ObjectState]) -> None:
        """Forget ``p_reuse`` from earlier frames (the gate sets it again where it runs)."""
        for o in objects:
            st = self._state(o)
            if st is not None:
                st.p_reuse = math.nan

    def confidence(self, obj: ObjectState) -> float | None:
        """``p_reuse`` of the gate (or the pre-gate) on this frame; None where it did not run."""
        st = self._state(obj)
        return st.p_reuse if st is not None and math.isfinite(st.p_reuse) else None

    @property
    def model(self) -> VOSModel:
        """The model the gate is attached to."""
        if not self._owner:
            raise SkipPointError("ReuseGate is not attached to a model (model.attach_plugin)")
        return self._owner[0]

    def attach(self, model: VOSModel, points: dict[str, SkipPoint]) -> None:
        """Build the modules, sized from the matched skip points and the stages' attributes."""
        super().attach(model, points)
        loc = model.localizer
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
        c_s = loc.score_channels
        self.score_stride = loc.stride
        self.template = TemplateGenerator(cut.channels, self.width)
        self.matching = DissimilarityModule(cut.channels, prev.channels, self.width)
        cues = self.cue_channels
        self.gate = GateFunction(
            self.width + cues,
            self.gate_bias,
            self.gate_init_std,
            norm=self.gate_norm,
            cue_channels=cues,
        )
        self.delta = DeltaGenerator(self.width, c_s, cut.stride * self.gate_pool, loc.stride)
        if self.variant in TRANSLATES:
            c_r = model.refiner.channels.get(reentry.stride, reentry.channels)
            self.translator = RefineTranslator(c_r, c_s, self.translator_mid, self.merge_kernel)
        elif self.variant == "reuse_mask":
            self.mask_translator = MaskTranslator(c_s, self.mask_width)
        if self.pre_gate:
            self.pre = PreGate(5 + (1 if self.history_cue else 0))
        self._owner[:] = [model]

    # ------------------------------------------------------------------ inference
    def init_object(self, frame: FrameState, obj: ObjectState, mask: torch.Tensor) -> Any:
        """Template from the first frame; ``S_{t-n}`` before the first full frame."""
        cut = self.frame_cut(frame)
        template = self.template(cut, downsample_mask(mask.float(), cut.shape[-2:]))
        score = obj.last_score
        if self.points["previous"].source == "score":
            size = (
                obj.last_score.shape[-2:]
                if obj.last_score is not None
                else frame.features.size_at(self.score_stride)
            )
            score = training.mask_as_score(mask, size, self.model.localizer.score_channels)
        return GateObjectState(
            template,
            score,
            feature=cut if self.motion_cue else None,
            image=self.frame_image(frame) if self.pixel_cue or self.copy_motion else None,
            mask=coarse_mask(mask) if self.tracks_mask else None,
            mask_index=frame.index,
            prob=obj.last_prob if self.copy_motion else None,
        )

    def decide(self, frame: FrameState, objects: Sequence[ObjectState]) -> list[bool]:
        """Run the gate, batched over ready objects: True = alternative path.

        Objects that must be computed anyway (:meth:`reuse_capped`) skip it (``p_reuse`` NaN).
        """
        options = frame.options
        decision = [False] * len(objects)
        self.clear_confidence(objects)
        if not self.runs(options):  # the gate is off: exactly the base model
            return decision
        idx = []
        for i, o in enumerate(objects):
            st = self._state(o)
            if options.force is None and st is not None and self.reuse_capped(st, options.tau):
                st.p_reuse, st.copy, st.delta = math.nan, False, None
            elif self._ready(o):
                idx.append(i)
        if not idx:
            return decision
        objs = [objects[i] for i in idx]
        states = [self._state(o) for o in objs]
        cut = self.frame_cut(frame)
        by_score = self.points["previous"].source == "score"
        translates = self.variant in TRANSLATES
        # _ready guarantees these exist for every object that needs them
        scores = torch.cat([self._prev_score(o) for o in objs]) if by_score or translates else None
        prev = self.previous_info(
            scores,
            None if by_score else torch.cat([self.cue_prob(o) for o in objs]),
            frame.features.image_size,
            tuple(cut.shape[-2:]),
        )
        d = self.matching(cut, prev, torch.cat([s.template for s in states]))
        if self.motion_cue:
            x = self.gate_input(
                d,
                cut,
                torch.cat([s.feature for s in states]),
                self.object_masks(objs, (cut.shape[-2], cut.shape[-1])),
                history=torch.tensor([s.mask_rate for s in states]) if self.history_cue else None,
                pixel=self.pixel_change(frame, objs) if self.pixel_cue else None,
            )
        else:
            x = d
        p = GateFunction.reuse_probability(self.gate(x)).tolist()
        need_delta = []
        for k, (i, st) in enumerate(zip(idx, states)):
            st.p_reuse = p[k]
            decision[i] = options.force == "alt" or (options.force is None and p[k] > options.tau)
            st.copy = self.variant == "copy" or (self.variant == "fusion" and p[k] > self.tau2)
            st.delta = None
            if decision[i] and not st.copy:
                need_delta.append(k)
        if need_delta:
            if scores is not None:  # Delta is added to S_{t-n}: match its grid exactly
                size = tuple(scores.shape[-2:])
            else:
                size = frame.features.size_at(self.score_stride)
            delta = self.delta(d[need_delta], size)
            for j, k in enumerate(need_delta):
                states[k].delta = delta[j : j + 1]
        return decision

    def alternative(self, frame: FrameState, objects: Sequence[ObjectState]) -> AltOutput:
        """Translated score and re-entry features, or logits (copy / reuse_mask)."""
        states = [self._state(o) for o in objects]
        if self.variant == "reuse_mask":
            prob = torch.cat([o.last_prob for o in objects])
            delta = torch.cat([s.delta for s in states])
            return AltOutput(None, None, logits=self.mask_translator(prob, delta))
        copy = [i for i, s in enumerate(states) if s.copy]
        move = [i for i, s in enumerate(states) if not s.copy]
        score = refined = None
        if move:
            delta = torch.cat([states[i].delta for i in move])
            prev = torch.cat([self._prev_score(objects[i]) for i in move])
            score = prev + delta.to(prev.dtype)
            name = self.points["reentry"].name
            refined = self.translator(torch.cat([objects[i].refined[name] for i in move]), delta)
            if not copy:
                return AltOutput(score, refined)
        if not move:
            if self.copy_motion:
                return self.moved_copies(frame, objects)
            return AltOutput(None, None, keep_last=True)
        copied = probs_to_logits(torch.cat([objects[i].last_prob for i in copy]))
        size = tuple(frame.image.shape[-2:])
        start = (self.points["reentry"].stride, refined)
        moved = self.model.refiner.run(score, frame.features, size, start=start).logits
        logits = copied.new_empty((len(objects), 1, *size))
        logits[copy] = copied
        logits[move] = moved.float()
        return AltOutput(None, None, logits=logits)

    def observe(
        self, frame: FrameState, objects: Sequence[ObjectState], paths: Sequence[Path]
    ) -> None:
        """On full frames ``S_{t-n}`` becomes the frame's score; drop per-frame scratch.

        While the gate is off (``tau >= 1``, no ``force``) the cue caches are dropped
        instead of refreshed (pooling them costs ~1 ms a frame): an object becomes ready
        again after its first full frame with the gate on.
        """
        full = "full" in paths and self.runs(frame.options)
        cut = self.frame_cut(frame) if full and self.motion_cue else None
        image = self.frame_image(frame) if full and (self.pixel_cue or self.copy_motion) else None
        for obj, path in zip(objects, paths):
            st = self._state(obj)
            if st is None:
                continue
            if path == "full" and obj.last_score is not None:
                st.score = obj.last_score
            if path == "full" and self.motion_cue:
                st.feature = cut
            if path == "full" and (self.pixel_cue or self.copy_motion):
                st.image = image
            if path == "full":
                self.observe_computed(st, obj)
            if path == "full" and self.tracks_mask:
                self.observe_mask(st, obj, frame.index if full else None)
            st.run = st.run + 1 if path == "alt" else 0
            st.delta = None

    def extra_repr(self) -> str:
        """Configuration summary."""
        r = self.points.get("reentry")
        cues = [c for c in ("motion", "object", "pixel", "history") if getattr(self, f"{c}_cue")]
        return (
            f"tau={self.default_tau}, variant={self.variant!r}, reentry={r.name if r else None!r}, "
            f"m1={self.m1}, m2={self.m2}, margin_epochs={self.margin_epochs}, "
            f"gate_target={self.gate_target!r}, cues={cues}"
        )
