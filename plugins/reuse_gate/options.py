"""The reuse gate's options in two groups, and its named presets.

* :class:`GateArch` -- what shapes the gate's weights (variant, widths, inputs). It is
  stored beside the weights (:meth:`~.plugin.ReuseGate.architecture`) and compared when
  a gate file is loaded, so a config cannot disagree with the weights it runs.
* :class:`GatePolicy` -- the user surface: the default ``tau`` of a session, ``tau2`` and
  the copy policy (run cap, drift budget, moved copies). Inference only; changing it needs
  no retraining.

The training recipe (targets, margins, loss weights) is not an option of the plugin: it is
the trainer's (``plugin_trainer`` in a clip-loop config, ``gate_traces`` in a trace
config; :mod:`vosframe.training.gate`).

Presets (:data:`PRESETS`): ``"shipped"`` -- the copy cascade of the shipped gated models,
what a bare ``dict(type="ReuseGate")`` builds; ``"paper"`` -- the paper's method (feature
reuse with the paper's gate inputs, no copy policy). Any option given beside a preset
overrides it.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

import attrs

from vosframe.core.errors import ConfigError

Variant = Literal["reuse", "copy", "fusion", "reuse_mask"]

#: Variants whose alternative path translates cached features (they need R_{t-n}).
TRANSLATES = ("reuse", "fusion")


def _positive_int(_: Any, attribute: attrs.Attribute, value: int) -> None:
    if int(value) < 1:
        raise ConfigError(f"ReuseGate.{attribute.name} must be >= 1, got {value}")


@attrs.frozen(kw_only=True)
class GateArch:
    """What shapes the gate's weights.

    Attributes:
        variant: The alternative path: ``"reuse"`` (the paper's feature reuse: translate
            ``R_{t-n}`` by ``Delta_t`` and re-enter the refiner), ``"copy"`` (the object's
            last computed mask), ``"fusion"`` (copy when ``p_reuse > tau2``, else
            translate) or ``"reuse_mask"`` (the supplement's reuseM: the last computed mask
            translated by ``Delta_t``).
        reentry: Name of the re-entry point (None: the model's default).
        previous: Name of the ``previous`` point (None: the model's first).
        width: Channels of the template and of the dissimilarity map ``D_t``.
        translator_mid: Channels of each dilated branch of the refine-translator.
        merge_kernel: Kernel of the translator's merge conv (odd).
        mask_width: Width of the ``reuse_mask`` translator (runs at full resolution).
        gate_norm: Keep the batch norm of the official gate layout.
        gate_pool: Average-pool F_t by this factor before the gate's modules (a coarser,
            cheaper grid for template, matching, cues and delta).
        motion_cue: The gate also sees how much F_t changed since the object's last
            computed frame (two cue channels beside ``D_t``).
        object_cue: With ``motion_cue``: that change relative to the object's size, and its
            area (three more channels).
        pixel_cue: With ``motion_cue``: how much the frame's pixels changed around the
            object's boundary (two more channels).
        moved_cues: With ``pixel_cue`` and the policy's ``copy_motion``: the pixel cue
            measures the change beyond the object's shift.
        pre_gate: ``copy`` with ``pixel_cue``: a first stage that copies from pixel cues
            before the backbone runs.
        gate_bias: Initial ``(reuse, compute)`` biases of the gate's last conv
            (initialisation only).
        gate_init_std: Std of the gate's last conv weights at init (None: PyTorch's default;
            initialisation only).
    """

    variant: Variant = "reuse"
    reentry: str | None = None
    previous: str | None = None
    width: int = attrs.field(default=64, validator=_positive_int)
    translator_mid: int = attrs.field(default=48, validator=_positive_int)
    merge_kernel: int = 5
    mask_width: int = attrs.field(default=8, validator=_positive_int)
    gate_norm: bool = True
    gate_pool: int = attrs.field(default=1, validator=_positive_int)
    motion_cue: bool = False
    object_cue: bool = False
    pixel_cue: bool = False
    moved_cues: bool = False
    pre_gate: bool = False
    gate_bias: tuple[float, float] = attrs.field(
        default=(0.1, 2.0), converter=lambda b: tuple(float(x) for x in b)
    )
    gate_init_std: float | None = 1e-3

    def __attrs_post_init__(self) -> None:
        if self.variant not in get_args(Variant):
            raise ConfigError(
                f"ReuseGate.variant must be one of {get_args(Variant)}, got {self.variant!r}"
            )
        if self.merge_kernel < 1 or self.merge_kernel % 2 == 0:
            raise ConfigError(f"ReuseGate.merge_kernel must be odd, got {self.merge_kernel}")
        if len(self.gate_bias) != 2:
            raise ConfigError(f"ReuseGate.gate_bias must be (reuse, compute): {self.gate_bias}")
        if (self.object_cue or self.pixel_cue) and not self.motion_cue:
            raise ConfigError("ReuseGate.object_cue and pixel_cue need motion_cue=True")
        if self.pre_gate and (self.variant != "copy" or not self.pixel_cue):
            raise ConfigError("ReuseGate.pre_gate needs variant='copy' and pixel_cue=True")

    @property
    def cue_channels(self) -> int:
        """Cue channels appended to ``D_t``."""
        if not self.motion_cue:
            return 0
        return 2 + (3 if self.object_cue else 0) + (2 if self.pixel_cue else 0)

    def stored(self) -> dict[str, Any]:
        """The settings the weights depend on (without the initialisation-only ones).

        ``fusion`` is stored as ``reuse``: it runs the same networks and differs only in
        copying above ``tau2`` (a policy setting), so a gate trained for feature reuse
        (for instance on traces, which train ``reuse`` only) runs as ``fusion`` and back.
        """
        out = attrs.asdict(self)
        for name in ("gate_bias", "gate_init_std"):
            out.pop(name)
        if out["variant"] == "fusion":
            out["variant"] = "reuse"
        return out


SESSION_POLICY: tuple[str, ...] = ("tau2", "max_reuse_run", "drift_budget")
"""The :class:`GatePolicy` settings a session may set for itself (``path_policy``): they
only change which objects take the alternative path, not what the gate keeps."""


@attrs.frozen(kw_only=True)
class GatePolicy:
    """How the gate decides at inference (no retraining needed to change it).

    Attributes:
        tau: A new session's threshold: reuse iff ``p_reuse > tau`` (``tau >= 1``: never,
            exactly the base model). Sessions may change it
            (:class:`~vosframe.core.state.DecisionOptions`).
        tau2: ``fusion`` only: copy iff ``p_reuse > tau2`` (>= ``tau``).
        max_reuse_run: Recompute an object after this many consecutive alternative frames
            (None: no cap, as the paper).
        drift_budget: An object copies at age ``a`` only while
            ``a * drift_rate <= drift_budget * (1 - tau)`` (:func:`~.policy.copy_capped`;
            None: no budget).
        copy_motion: ``copy`` only: move a copied mask with the object's pixels.
        motion_radius: Largest shift tried by ``copy_motion``, in stride-4 cells.
    """

    tau: float = 0.7
    tau2: float = 0.9
    max_reuse_run: int | None = None
    drift_budget: float | None = None
    copy_motion: bool = False
    motion_radius: int = attrs.field(default=8, validator=_positive_int)

    def __attrs_post_init__(self) -> None:
        if not 0.0 <= float(self.tau) <= 1.0:
            raise ConfigError(f"ReuseGate.tau must be in [0, 1], got {self.tau}")
        if self.max_reuse_run is not None and int(self.max_reuse_run) < 1:
            raise ConfigError(f"ReuseGate.max_reuse_run must be None or >= 1: {self.max_reuse_run}")
        if self.drift_budget is not None and not float(self.drift_budget) > 0:
            raise ConfigError(f"ReuseGate.drift_budget must be None or > 0: {self.drift_budget}")


PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "shipped": dict(
        variant="copy",
        motion_cue=True,
        object_cue=True,
        pixel_cue=True,
        moved_cues=True,
        pre_gate=True,
        gate_pool=2,
        gate_norm=False,
        max_reuse_run=3,
        drift_budget=2.0,
        copy_motion=True,
    ),
}
"""Named option sets; see the module notes."""

_RECIPE = (
    "m1",
    "m2",
    "margin_epochs",
    "gate_target",
    "quality_scale",
    "train_reuse_prob",
    "freeze_base",
)
_REMOVED = {
    "history_cue": "it was tried and rejected (no gain on the held-out sequences)",
    "pre_margin": "it was tried and rejected; the pre-gate copies when its p > tau",
    **{
        k: "it is a training-recipe setting: set it on the trainer "
        "(plugin_trainer=dict(type='GateClipTrainer', ...) or gate_traces=dict(...))"
        for k in _RECIPE
    },
}


def resolve(preset: str, options: dict[str, Any]) -> tuple[GateArch, GatePolicy]:
    """The options of ``preset`` overridden by ``options``, split into their two groups.

    Raises:
        ConfigError: An unknown preset or option (a removed one says why), an invalid value,
            or options that contradict each other.
    """
    if preset not in PRESETS:
        raise ConfigError(f"ReuseGate preset must be one of {sorted(PRESETS)}, got {preset!r}")
    merged = {**PRESETS[preset], **options}
    arch_names = {a.name for a in attrs.fields(GateArch)}
    policy_names = {a.name for a in attrs.fields(GatePolicy)}
    for name in merged:
        if name in _REMOVED:
            raise ConfigError(f"ReuseGate has no option {name!r}: {_REMOVED[name]}")
        if name not in arch_names | policy_names:
            raise ConfigError(
                f"ReuseGate has no option {name!r}. Options: "
                f"{', '.join(sorted(arch_names | policy_names))}"
            )
    arch = GateArch(**{k: v for k, v in merged.items() if k in arch_names})
    policy = GatePolicy(**{k: v for k, v in merged.items() if k in policy_names})
    if arch.variant == "fusion" and not float(policy.tau) <= float(policy.tau2) <= 1.0:
        raise ConfigError(
            f"ReuseGate.tau2 must be in [tau, 1] = [{policy.tau}, 1], got {policy.tau2}"
        )
    if policy.copy_motion and arch.variant != "copy":
        raise ConfigError("ReuseGate.copy_motion needs variant='copy'")
    if arch.moved_cues and not (policy.copy_motion and arch.pixel_cue):
        raise ConfigError("ReuseGate.moved_cues needs copy_motion=True and pixel_cue=True")
    return arch, policy
