"""FLOPs per path of a model with a path-deciding plugin (any plugin that follows ``force``).

:func:`path_flops` runs one frame three times in a fresh session, forced to each path,
under :class:`torch.utils.flop_counter.FlopCounterMode`: the first-frame initialisation,
then the same frame as a tracked frame on the full path and on the alternative path. With
per-object and per-video reuse rates from :meth:`vosframe.Session.summary`, benchmarks can
report the FLOPs saved: ``saved = reuse_rate * (full - alt) / full``.

FlopCounterMode counts matrix multiplications and convolutions (not pooling, resizing or
element-wise work), so the numbers compare the paths' heavy compute, not wall time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from torch.utils.flop_counter import FlopCounterMode

from vosframe.core.errors import ConfigError

if TYPE_CHECKING:
    from vosframe.core.inputs import FrameLike, MaskLike
    from vosframe.core.model import VOSModel


def _counted(session: Any, frame: Any, masks: Any = None) -> float:
    with FlopCounterMode(display=False) as counter:
        session.step(frame, masks)
    return counter.get_total_flops() / 1e9


def path_flops(
    model: VOSModel, frame: FrameLike, masks: MaskLike, **session_options: Any
) -> dict[str, float]:
    """GFLOPs of one frame on each path, for all objects of ``masks`` together.

    Uses a fresh session with a forced path (``force``, a session option: the caller's
    sessions and the shared model are untouched); the model's train/eval mode is restored.

    Args:
        model: A model with a path-deciding plugin that follows ``force`` (ReuseGate,
            ScheduledReuse).
        frame: An RGB frame (``(H, W, 3)`` uint8 array or ``(3, H, W)`` tensor).
        masks: The objects' masks on that frame (label map or ``{id: mask}``).
        **session_options: Passed to ``model.new_session`` (default ``precision="fp32"``;
            ``force`` is set here).

    Returns:
        ``{"init": ..., "full": ..., "alt": ..., "saved": 1 - alt / full}`` (GFLOPs;
        ``saved`` is the fraction a frame saves on the alternative path).

    Raises:
        ConfigError: The model has no path-deciding plugin.
    """
    plugin = model.path_plugin
    if plugin is None:
        raise ConfigError(
            "path_flops needs a model with a path-deciding plugin (e.g. ReuseGate); this "
            f"{type(model).__name__} has none. Fix: use a gated model (g-frtm, g-ttvos)."
        )
    session_options.setdefault("precision", "fp32")
    session_options["force"] = "alt"  # first-frame caches for the alternative path
    was_training = model.training
    try:
        session = model.new_session(**session_options)
        out = {"init": _counted(session, frame, masks)}
        session.update_config(force="full")
        out["full"] = _counted(session, frame)
        session.update_config(force="alt")
        out["alt"] = _counted(session, frame)
    finally:
        model.train(was_training)
    out["saved"] = 1.0 - out["alt"] / out["full"] if out["full"] else 0.0
    return out
