"""vosframe: a plugin-based framework for semi-supervised video object segmentation.

Quick start::

    import vosframe
    model = vosframe.build_model("configs/frtm_effnetlite0.py")   # or a dict, or a class
    session = model.new_session()
    for result in session.propagate(frames, masks=first_label_map):
        result.labels   # (H, W) object ids

See the README for the design (stages, state, skip points, plugins, registry).
"""

from vosframe._version import __version__
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
from vosframe.core.plugin import AltOutput, ModelPlugin
from vosframe.core.session import Session, StepResult
from vosframe.core.skip_points import Need, SkipPoint, SkipPoints
from vosframe.core.stages import FeatureExtractor, Refiner, TargetLocalizer
from vosframe.core.state import Features, FrameState, ObjectState, PathRecord
from vosframe.discovery.hookspecs import hookimpl
from vosframe.zoo import load_model

__all__ = [
    "AltOutput",
    "CheckpointError",
    "ConfigError",
    "DataError",
    "FeatureExtractor",
    "Features",
    "FrameState",
    "InputError",
    "ModelPlugin",
    "Need",
    "ObjectState",
    "PathRecord",
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
