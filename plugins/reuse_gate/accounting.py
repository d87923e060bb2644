"""FLOPs per path of a model with a path-deciding plugin (issue 5, item 5).

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

    Uses a fresh session (the caller's sessions are untouched) and the path plugin's
    ``force`` attribute, restored afterwards, as is the model's train/eval mode.

    Args:
        model: A model whose path-deciding plugin has a ``force`` attribute (ReuseGate).
        frame: An RGB frame (``(H, W, 3)`` uint8 array or ``(3, H, W)`` tensor).
        masks: The objects' masks on that frame (label map or ``{id: mask}``).
        **session_options: Passed to ``model.new_session`` (default ``precision="fp32"``).

    Returns:
        ``{"init": ..., "full": ..., "alt": ..., "saved": 1 - alt / full}`` (GFLOPs;
        ``saved`` is the fraction a frame saves on the alternative path).

    Raises:
        ConfigError: The model has no path plugin with a ``force`` attribute.
    """
    plugin = model.path_plugin
    if plugin is None or not hasattr(plugin, "force"):
        raise ConfigError(
            "path_flops needs a path-deciding plugin with a 'force' attribute (e.g. "
            f"ReuseGate); {type(model).__name__} has {type(plugin).__name__ if plugin else None}"
        )
    session_options.setdefault("precision", "fp32")
    was_training, old_force = model.training, plugin.force
    try:
        plugin.force = "alt"  # read by the engine at session creation: first-frame caches
        session = model.new_session(**session_options)
        out = {"init": _counted(session, frame, masks)}
        plugin.force = "full"
        out["full"] = _counted(session, frame)
        plugin.force = "alt"
        out["alt"] = _counted(session, frame)
    finally:
        plugin.force = old_force
        model.train(was_training)
    out["saved"] = 1.0 - out["alt"] / out["full"] if out["full"] else 0.0
    return out
