"""Streaming inference sessions (the Cutie/XMem ``step()`` pattern).

>>> session = model.new_session(precision="fp32")
>>> result = session.step(frame0, masks=label_map0)   # objects from the label map
>>> for result in session.propagate(frames):          # a generator; never holds the video
...     labels = result.labels

A model with a path-deciding plugin (e.g. the reuse gate) takes the decider's options per
session: ``model.new_session(tau=0.5)``, ``session.update_config(tau=0.9)`` between frames.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal

import attrs
import numpy as np
import torch
import torch.nn.functional as F

from vosframe.core.aggregation import class_argmax
from vosframe.core.budget import FrameBudget
from vosframe.core.crops import CropViews
from vosframe.core.engine import FrameEngine, FrameOutput, NewObject
from vosframe.core.errors import InputError, UnknownObjectError
from vosframe.core.inputs import FrameLike, MaskLike, frame_to_tensor, masks_to_dict, resize_frame
from vosframe.core.model import VOSModel
from vosframe.core.recovery import RecoveryPolicy
from vosframe.core.scale import SmallObjects, upscale_zoom
from vosframe.core.state import (
    DecisionOptions,
    Features,
    FrameState,
    ObjectState,
    ObjectStats,
    ObjectStatus,
    PathRecord,
)

Precision = Literal["auto", "bf16", "fp32"]


@attrs.define
class StepResult:
    """Output of :meth:`Session.step`.

    Attributes:
        index: Frame index in the session.
        labels: ``(H, W)`` label map at input size (object ids, 0 = background); dtype
            ``uint8`` when every id is <= 255, else ``int32``.
        probs: Per-object aggregated foreground probability ``(H, W)`` float32 at input size.
        paths: Per-object path (``init``/``full``/``alt``), time and track status.
        ms: Wall time of the whole step in milliseconds.
        tau: The path-decider's ``tau`` on this frame (None for a model without one); with
            a compute budget (``target_fps``) it changes from frame to frame.
    """

    index: int
    labels: np.ndarray
    probs: dict[int, torch.Tensor]
    paths: dict[int, PathRecord]
    ms: float
    tau: float | None = None

    @property
    def status(self) -> dict[int, ObjectStatus]:
        """Per-object track status after this frame: ``tracked``, ``lost`` or ``refound``
        (see :mod:`vosframe.core.recovery`)."""
        return {i: rec.status for i, rec in self.paths.items()}


def cpu_supports_bf16() -> bool:
    """True if this CPU has native bf16 matrix instructions (AMX-BF16 or AVX512-BF16)."""
    cap = torch.backends.cpu.get_cpu_capability().lower()
    if "amx" in cap or "bf16" in cap:
        return True
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
        return "amx_bf16" in flags or "avx512_bf16" in flags
    except OSError:
        return False


_OPTION_NAMES = {"policy": "path_policy"}  # DecisionOptions field -> session argument


class Session:
    """Per-video inference state for one model (create with ``model.new_session``).

    Args:
        model: The base model (plugins attached).
        device: Device to run on; default the model's device. If different, the model is
            moved there (which affects every user of the model).
        precision: ``"fp32"``, ``"bf16"`` (autocast + channels_last; CPU or CUDA), or
            ``"auto"``: bf16 on CPUs with native bf16 instructions, fp32 otherwise.
        max_internal_size: If the shorter side of a frame exceeds this, process the frame
            downscaled to it (masks are returned at input size). Default: the model's
            ``inference_defaults``.
        small_objects: How objects that span few localizer cells are tracked (see
            :mod:`vosframe.core.scale`): None or ``"off"`` (default), ``"crop"`` (each
            small object in a zoomed window that follows it, with its own child session),
            ``"upscale"`` (the whole session at a larger internal size, chosen from the
            smallest first-frame object), or a :class:`~vosframe.core.scale.SmallObjects`.
            Sessions whose objects are all large compute the same with it on or off.
        flush_denormal: Flush denormal floats to zero on the CPU (a process-wide flag
            of the calling thread; denormals slow CPU convolutions down 20-50x).
        threads: torch intra-op threads (a process-wide setting, applied here): a positive
            int, ``"auto"`` for :func:`vosframe.threads.default_threads` (one per physical
            core less one, which keeps its speed when another process is busy), or None
            (default) to leave torch's setting as it is.
        recovery: Lost-object handling (:mod:`vosframe.core.recovery`): True (default)
            re-detects lost objects from their first-frame appearance with the default
            :class:`~vosframe.core.recovery.RecoveryPolicy`; a dict of its fields or a
            policy sets thresholds; False only reports each object's status (the base
            model's outputs unchanged).
        tau: The path-deciding plugin's threshold for this session, in [0, 1] (see
            :class:`~vosframe.core.state.DecisionOptions`); default the decider's
            :meth:`~vosframe.core.plugin.ModelPlugin.default_options` (e.g. the ``tau`` of
            the model's config). Only for models with a path-deciding plugin.
        force: None (default: the decider chooses), ``"full"`` or ``"alt"`` to force
            every tracked object's path. Only for models with a path-deciding plugin.
        path_policy: This session's values of the path-deciding plugin's policy settings,
            over the model's configured ones (for the reuse gate ``tau2``,
            ``max_reuse_run``, ``drift_budget``; e.g. ``{"drift_budget": 1.0}``). Only for
            models with a path-deciding plugin, which validates them.
        target_fps: Hold this frame rate instead of a fixed ``tau``: ``tau`` is adapted
            between frames from the measured frame times (:class:`~vosframe.core.budget.
            FrameBudget`; set ``session.budget`` to one for other bounds). Only for models
            with a path-deciding plugin.

    Attributes:
        last_frame: The last stepped frame as the model saw it (``FrameState``: image and
            features at internal size), for tools that record what the model computed;
            replaced by every step.
        options: The decider's options used from the next frame on
            (:class:`~vosframe.core.state.DecisionOptions`; change them with
            :meth:`update_config`).
        budget: The compute budget that sets ``tau`` before each frame, or None.

    Raises:
        InputError: A bad ``precision``, ``tau``, ``force``, ``path_policy`` or
            ``target_fps``, or one of them for a model without a path-deciding plugin.

    Per-session memory is bounded when the localizer's state is bounded: the session keeps
    per-object state, counters and the last frame and output, never older frames.
    """

    def __init__(
        self,
        model: VOSModel,
        *,
        device: str | torch.device | None = None,
        precision: Precision = "auto",
        max_internal_size: int | None | Literal["model"] = "model",
        small_objects: SmallObjects | str | None = None,
        flush_denormal: bool = True,
        threads: int | Literal["auto"] | None = None,
        recovery: RecoveryPolicy | Mapping[str, Any] | bool | None = True,
        tau: float | None = None,
        force: str | None = None,
        path_policy: Mapping[str, Any] | None = None,
        target_fps: float | None = None,
    ) -> None:
        self.recovery = RecoveryPolicy.of(recovery)
        decider = model.path_plugin
        self.options = decider.default_options() if decider is not None else DecisionOptions()
        given = {"tau": tau, "force": force, "policy": path_policy}
        self.options = self._changed_options(
            model, **{k: v for k, v in given.items() if v is not None}
        )
        self.budget: FrameBudget | None = None
        if target_fps is not None:
            self._changed_options(model, target_fps=target_fps)  # refused without a decider
            self.budget = FrameBudget.for_fps(target_fps)
        self._tau_sum = 0.0
        if threads is not None:
            from vosframe.threads import apply_threads

            self.threads = apply_threads(threads)
        else:
            self.threads = torch.get_num_threads()
        if flush_denormal:
            torch.set_flush_denormal(True)
        if device is not None and torch.device(device) != model.device:
            model.to(device)
        self.model = model.eval()
        self.device = model.device
        if precision == "auto":
            precision = "bf16" if self.device.type == "cpu" and cpu_supports_bf16() else "fp32"
        if precision not in ("bf16", "fp32"):
            raise InputError(f"precision must be 'auto', 'bf16' or 'fp32', got {precision!r}")
        self.precision = precision
        if precision == "bf16":
            model.to(memory_format=torch.channels_last)
        if max_internal_size == "model":
            max_internal_size = model.inference_defaults.get("max_internal_size")
        self.max_internal_size = max_internal_size
        self.small_objects = SmallObjects.parse(small_objects)
        self._zoom = 1.0  # upscale mode: set from the first frame's masks
        self._crops: CropViews | None = None
        if self.small_objects is not None and self.small_objects.mode == "crop":
            self._crops = CropViews(self.small_objects, model.localizer.stride, self._new_child)
        self.engine = FrameEngine(model, self.recovery)
        self.objects: dict[int, ObjectState] = {}
        self.removed: dict[int, ObjectStats] = {}  # counters of removed objects (accounting)
        self.frame_index = 0
        self.input_size: tuple[int, int] | None = None
        self.total_ms = 0.0
        # A private copy of the last result computed from the model's output alone (no
        # given masks), which a frame whose output is unchanged (every object kept its
        # mask) returns again. Only kept when a plugin decides paths.
        self._last_output: StepResult | None = None
        # The last frame as the model saw it (image and features at internal size).
        self.last_frame: FrameState | None = None

    # ------------------------------------------------------------------ options
    def _changed_options(self, model: VOSModel, **changes: Any) -> DecisionOptions:
        """``self.options`` with ``changes``, validated (nothing is changed here)."""
        if changes and model.path_plugin is None:
            raise InputError(
                f"{'/'.join(sorted(_OPTION_NAMES.get(k, k) for k in changes))} set for a "
                f"{type(model).__name__} without a "
                "path-deciding plugin, which has no paths to choose. Fix: leave it out, or "
                "use a model with one (e.g. g-frtm, g-ttvos)."
            )
        options = attrs.evolve(
            self.options, **{k: v for k, v in changes.items() if k != "target_fps"}
        )
        if model.path_plugin is not None and "policy" in changes:
            model.path_plugin.check_options(options)
        return options

    def _set_options(self, options: DecisionOptions) -> None:
        """Use ``options`` from the next frame on (crop views included)."""
        self.options = options
        for track in self._crops.tracks.values() if self._crops is not None else ():
            track.session.options = options

    def update_config(self, **changes: Any) -> DecisionOptions:
        """Change the path-decider's options from the next stepped frame on (as Cutie's
        ``update_config``); other sessions of the model are unaffected.

        Args:
            **changes: ``tau`` (a number in [0, 1]), ``force`` (None, ``"full"``,
                ``"alt"``), ``path_policy`` (the decider's policy settings for this
                session, replacing the session's earlier ones; ``{}``: the model's
                configured policy) and/or ``target_fps`` (a number > 0: adapt ``tau`` to
                hold it; None: keep the current ``tau`` fixed from now on). A given
                ``tau`` ends a compute budget.

        Returns:
            The options now in effect.

        Raises:
            InputError: An unknown option, a bad value, or a model without a path-deciding
                plugin. Nothing is changed then.
        """
        unknown = sorted(set(changes) - {"tau", "force", "path_policy", "target_fps"})
        if unknown:
            raise InputError(
                f"unknown session option(s) {unknown}; update_config takes 'tau', 'force', "
                "'path_policy' and 'target_fps'."
            )
        if "tau" in changes and changes["tau"] is None:
            raise InputError("tau=None: give a number in [0, 1] (1 turns reuse off).")
        if "path_policy" in changes:
            changes["policy"] = changes.pop("path_policy")
        options = self._changed_options(self.model, **changes)
        budget = self.budget
        if changes.get("target_fps") is not None:
            budget = FrameBudget.for_fps(changes["target_fps"])
        elif "target_fps" in changes or "tau" in changes:
            budget = None
        self.budget = budget
        self._set_options(options)
        return options

    # ------------------------------------------------------------------ objects
    @property
    def object_ids(self) -> list[int]:
        """Ids of the objects currently tracked, in class order."""
        return list(self.objects) + list(self._crops or ())

    def remove(self, *obj_ids: int) -> None:
        """Stop tracking objects.

        Raises:
            UnknownObjectError: An id is not tracked (the message lists the tracked ids).
        """
        for obj_id in obj_ids:
            if obj_id not in self.objects and obj_id not in (self._crops or ()):
                raise UnknownObjectError(
                    f"cannot remove object {obj_id}: not tracked; tracked ids are {self.object_ids}"
                )
        for obj_id in obj_ids:
            if self._crops is not None and obj_id in self._crops:
                self.removed[obj_id] = self._crops.remove(obj_id)
                continue
            self.removed[obj_id] = self.objects.pop(obj_id).stats
        self._last_output = None

    # ------------------------------------------------------------------ stepping
    def _internal_size(self, h: int, w: int) -> tuple[int, int]:
        m = self.max_internal_size
        s = 1.0 if m is None or min(h, w) <= m else m / min(h, w)
        s *= self._zoom
        if s == 1.0:
            return h, w
        return max(1, round(h * s)), max(1, round(w * s))

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    # ------------------------------------------------------------------ small objects
    def _new_child(self) -> Session:
        """A session for one crop view: same model, precision and recovery; native size."""
        child = Session(
            self.model,
            precision=self.precision,
            max_internal_size=None,
            flush_denormal=False,
            recovery=self.recovery,
        )
        child.options = self.options  # as update_config passes them on
        return child

    def _first_zoom(self, given: Mapping[int, np.ndarray], h: int, w: int) -> float:
        """``upscale`` mode: the session's zoom from the first frame's masks (else 1)."""
        assert self.small_objects is not None
        if self.small_objects.mode != "upscale":
            return 1.0
        scale = min(self._internal_size(h, w)) / min(h, w)
        return upscale_zoom(given.values(), scale, self.model.localizer.stride, self.small_objects)

    def _route_small(self, given: Mapping[int, np.ndarray], scale: float) -> dict[int, np.ndarray]:
        """``crop`` mode: the given masks of small objects, which crop views track (re-given
        ids stop being tracked where they were); empty in the other modes."""
        if self._crops is None:
            return {}
        for obj_id in given:
            if obj_id in self._crops:
                self._crops.remove(obj_id)
        small = {i: m for i, m in given.items() if self._crops.is_small(m, scale)}
        for obj_id in small:
            self.objects.pop(obj_id, None)
        return small

    def _with_crops(
        self,
        out: FrameOutput,
        source: torch.Tensor,
        size: tuple[int, int],
        crop_given: Mapping[int, np.ndarray],
    ) -> tuple[torch.Tensor, list[ObjectState], dict[int, PathRecord]]:
        """Run the crop views and aggregate their pasted probabilities with the engine's."""
        assert self._crops is not None
        states, pasted, records = self._crops.step(source, size, set(crop_given))
        for obj_id, m in crop_given.items():
            state, prob, record = self._crops.add(obj_id, source, m, size)
            states.append(state)
            pasted.append(prob)
            records[obj_id] = record
        fg = torch.cat([out.probs[1:].float(), *(p.to(out.probs.device) for p in pasted)])
        probs = self.model.aggregate(fg)
        return probs, out.objects + states, {**out.records, **records}

    def step(self, frame: FrameLike, masks: MaskLike | None = None) -> StepResult:
        """Segment one frame.

        Args:
            frame: RGB ``uint8`` ``(H, W, 3)`` array, or a ``(3, H, W)`` tensor.
            masks: Optional masks given on this frame: a label map ``(H, W)`` of object ids
                or a dict ``{id: binary (H, W) mask}``. New ids are added; ids already
                tracked are re-initialised from the given mask; a given mask overwrites
                the prediction in its pixels. Ids not mentioned keep being tracked.

        Returns:
            The label map, per-object probabilities and paths at input size.
        """
        t_start = time.perf_counter()
        image = frame_to_tensor(frame)
        h, w = image.shape[-2:]
        if self.input_size is None:
            self.input_size = (h, w)
        elif self.input_size != (h, w):
            raise InputError(
                f"frame {self.frame_index} has size {h}x{w} but this session's frames are "
                f"{self.input_size[0]}x{self.input_size[1]}. Fix: resize frames consistently, "
                f"or start a new session for a new video."
            )
        given = masks_to_dict(masks, (h, w)) if masks is not None else {}
        if not given and not self.objects and not self._crops:
            if masks is not None:
                raise InputError(
                    f"the mask given with frame {self.frame_index} is all background (no "
                    f"pixel has an object id), so there is nothing to segment. Fix: pass a "
                    f"mask in which the objects' pixels hold their ids (0 is background)."
                )
            raise InputError(
                "no objects to segment: the first frame of a session needs masks "
                "(session.step(frame, masks=label_map)). Fix: pass the first-frame mask."
            )
        if self.frame_index == 0 and self.small_objects is not None:
            self._zoom = self._first_zoom(given, h, w)
        ih, iw = self._internal_size(h, w)
        image = image.to(self.device)
        source = image  # the input-size frame, which crop views sample
        if (ih, iw) != (h, w):
            image = resize_frame(image, (ih, iw))
        crop_given = self._route_small(given, ih / h)
        new = []
        for obj_id, m in given.items():
            if obj_id in crop_given:
                continue
            self.objects.pop(obj_id, None)
            t = torch.from_numpy(m).to(self.device, torch.float32)[None, None]
            if (ih, iw) != (h, w):
                t = (F.interpolate(t, size=(ih, iw), mode="bilinear") > 0.5).float()
            new.append(NewObject(obj_id, t))
        tracked = list(self.objects.values())
        if self.precision == "bf16":
            image = image.contiguous(memory_format=torch.channels_last)
        if self.budget is not None and self.budget.tau != self.options.tau:
            self._set_options(attrs.evolve(self.options, tau=self.budget.tau))
        frame_state = FrameState(
            self.frame_index, image, Features({}, (ih, iw)), options=self.options
        )
        with torch.no_grad(), self._autocast():
            if tracked or new or self._crops is None:
                out = self.engine.run(frame_state, tracked, new)
            else:  # only crop views: the full frame needs no model pass
                out = FrameOutput([], torch.ones((1, 1, ih, iw), device=self.device), {})
        self.objects = {o.obj_id: o for o in out.objects}
        self.last_frame = frame_state
        probs, objects, records = out.probs, out.objects, out.records
        if self._crops is not None and (self._crops or crop_given):
            probs, objects, records = self._with_crops(out, source, (ih, iw), crop_given)
        if out.unchanged and self._last_output is not None and not self._crops:
            result = self._repeat(self._last_output, out.records)
        else:
            result = self._result(probs, objects, records, (h, w), given)
            keep = not given and self.engine.decider is not None
            self._last_output = self._repeat(result, out.records) if keep else None
        self.frame_index += 1
        result.ms = (time.perf_counter() - t_start) * 1000.0
        self.total_ms += result.ms
        if self.engine.decider is not None:
            result.tau = frame_state.options.tau
            self._tau_sum += result.tau
        if self.budget is not None:
            paths = [r.path for i, r in result.paths.items() if i not in given]
            tracked = sum(p in ("full", "alt") for p in paths)
            self.budget.update(result.ms, paths.count("alt"), tracked)
        return result

    def _result(
        self,
        probs: torch.Tensor,
        objects: list[ObjectState],
        records: dict[int, PathRecord],
        size: tuple[int, int],
        given: Mapping[int, np.ndarray],
    ) -> StepResult:
        if tuple(probs.shape[-2:]) != size:
            probs = F.interpolate(probs.float(), size=size, mode="bilinear", align_corners=False)
        probs = probs[:, 0].float().cpu()
        ids = [o.obj_id for o in objects]
        lut = np.array([0, *ids], dtype=np.uint8 if max(ids, default=0) <= 255 else np.int32)
        labels = lut[class_argmax(probs).numpy()]
        for obj_id, m in given.items():  # given masks are exact at input size
            labels[m] = obj_id
        return StepResult(
            self.frame_index,
            labels,
            {i: probs[1 + k] for k, i in enumerate(ids)},
            records,
            0.0,
        )

    def _repeat(self, last: StepResult, records: dict[int, PathRecord]) -> StepResult:
        """The previous frame's labels and probabilities (copies: callers may edit them)."""
        probs = {i: p.clone() for i, p in last.probs.items()}
        return StepResult(self.frame_index, last.labels.copy(), probs, records, 0.0)

    def propagate(
        self,
        frames: Iterable[FrameLike],
        masks: MaskLike | None = None,
        *,
        masks_at: Mapping[int, MaskLike] | None = None,
    ) -> Iterator[StepResult]:
        """Segment a stream of frames lazily (a generator; the video is never held).

        Args:
            frames: Any iterable of frames (a list, a reader over a folder or a video).
            masks: Masks given with the first frame of this call.
            masks_at: Masks given on later frames, ``{offset: masks}`` with offsets
                counted from the first frame of this call (objects appearing mid-video).

        Yields:
            One :class:`StepResult` per frame.
        """
        per_frame: dict[int, Any] = dict(masks_at or {})
        if masks is not None:
            if 0 in per_frame:
                raise InputError("masks for offset 0 given twice (masks= and masks_at[0])")
            per_frame[0] = masks
        for i, frame in enumerate(frames):
            yield self.step(frame, per_frame.get(i))

    def summary(self) -> dict[str, Any]:
        """Frames, time, per-object path and status counts so far, removed objects included.

        ``lost_frames``/``refinds`` sum the objects' lost frames and re-finds; per object,
        ``status`` counts frames by track status and ``losses`` the times it was lost.
        """
        stats = {**self.removed, **{i: o.stats for i, o in self.objects.items()}}
        stats.update(self._crops.stats() if self._crops is not None else {})
        objs = {
            str(obj_id): {
                "frames": dict(st.frames),
                "ms": {k: round(v, 3) for k, v in st.ms.items()},
                "reuse_rate": st.reuse_rate,
                "status": dict(st.status),
                "losses": st.losses,
                "removed": obj_id in self.removed
                and obj_id not in self.objects
                and obj_id not in (self._crops or ()),
            }
            for obj_id, st in stats.items()
        }
        full = sum(st.frames["full"] for st in stats.values())
        alt = sum(st.frames["alt"] for st in stats.values())
        return {
            "frames": self.frame_index,
            "ms_total": self.total_ms,
            "fps": self.frame_index / (self.total_ms / 1000.0) if self.total_ms else 0.0,
            "reuse_rate": alt / (full + alt) if full + alt else 0.0,
            "tau_mean": self._tau_sum / self.frame_index
            if self.engine.decider is not None and self.frame_index
            else None,
            "lost_frames": sum(st.status["lost"] for st in stats.values()),
            "refinds": sum(st.status["refound"] for st in stats.values()),
            "objects": objs,
        }
