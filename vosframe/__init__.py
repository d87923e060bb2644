"""vosframe: a plugin-based framework for semi-supervised video object segmentation.

Quick start::

    import vosframe
    model = vosframe.load_model("g-frtm")   # a shipped, trained model (``vosframe models``)
    session = model.new_session()
    for result in session.propagate(frames, masks=first_label_map):
        result.labels   # (H, W) object ids

See the README for usage and ``docs/design.md`` for the design (stages, state, skip
points, plugins, registry).
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from vosframe._version import __version__

# Public names and the module that defines each, imported on first use (PEP 562) so that
# ``import vosframe`` and ``vosframe --help`` do not pay for torch until a name is needed.
_LAZY: dict[str, str] = {
    "CheckpointError": "vosframe.core.errors",
    "ConfigError": "vosframe.core.errors",
    "DataError": "vosframe.core.errors",
    "Decision": "vosframe.core.plugin",
    "FeatureExtractor": "vosframe.core.stages",
    "Features": "vosframe.core.state",
    "FrameState": "vosframe.core.state",
    "InputError": "vosframe.core.errors",
    "Keep": "vosframe.core.plugin",
    "Logits": "vosframe.core.plugin",
    "ModelPlugin": "vosframe.core.plugin",
    "Need": "vosframe.core.skip_points",
    "ObjectState": "vosframe.core.state",
    "PathRecord": "vosframe.core.state",
    "Probs": "vosframe.core.plugin",
    "Reenter": "vosframe.core.plugin",
    "Refiner": "vosframe.core.stages",
    "RegistryError": "vosframe.core.errors",
    "Session": "vosframe.core.session",
    "SkipPoint": "vosframe.core.skip_points",
    "SkipPointError": "vosframe.core.errors",
    "SkipPoints": "vosframe.core.skip_points",
    "StepResult": "vosframe.core.session",
    "TargetLocalizer": "vosframe.core.stages",
    "UnknownObjectError": "vosframe.core.errors",
    "VOSModel": "vosframe.core.model",
    "VosframeError": "vosframe.core.errors",
    "build_model": "vosframe.builder",
    "build_plugin": "vosframe.builder",
    "hookimpl": "vosframe.discovery.hookspecs",
    "load_checkpoint": "vosframe.core.checkpoint",
    "load_config": "vosframe.builder",
    "load_model": "vosframe.app.zoo",
    "read_checkpoint": "vosframe.core.checkpoint",
    "save_checkpoint": "vosframe.core.checkpoint",
}

if TYPE_CHECKING:  # static analysers see the eager imports
    from vosframe.app.zoo import load_model
    from vosframe.builder import build_model, build_plugin, load_config
    from vosframe.core.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
    from vosframe.core.errors import (
        CheckpointError,
        ConfigError,
        DataError,
        InputError,
        RegistryError,
        SkipPointError,
        UnknownObjectError,
        VosframeError,
    )
    from vosframe.core.model import VOSModel
    from vosframe.core.plugin import Decision, Keep, Logits, ModelPlugin, Probs, Reenter
    from vosframe.core.session import Session, StepResult
    from vosframe.core.skip_points import Need, SkipPoint, SkipPoints
    from vosframe.core.stages import FeatureExtractor, Refiner, TargetLocalizer
    from vosframe.core.state import Features, FrameState, ObjectState, PathRecord
    from vosframe.discovery.hookspecs import hookimpl

__all__ = [
    "CheckpointError",
    "ConfigError",
    "DataError",
    "Decision",
    "FeatureExtractor",
    "Features",
    "FrameState",
    "InputError",
    "Keep",
    "Logits",
    "ModelPlugin",
    "Need",
    "ObjectState",
    "PathRecord",
    "Probs",
    "Reenter",
    "Refiner",
    "RegistryError",
    "Session",
    "SkipPoint",
    "SkipPointError",
    "SkipPoints",
    "StepResult",
    "TargetLocalizer",
    "UnknownObjectError",
    "VOSModel",
    "VosframeError",
    "__version__",
    "build_model",
    "build_plugin",
    "hookimpl",
    "load_checkpoint",
    "load_config",
    "load_model",
    "read_checkpoint",
    "save_checkpoint",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first access."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'vosframe' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
