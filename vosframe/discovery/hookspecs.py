"""Hook specifications of vosframe plugins (pluggy project name ``"vosframe"``).

A plugin distribution declares an entry point in the group ``vosframe``::

    [project.entry-points.vosframe]
    my_models = "my_package.vosframe_hooks"

and implements any of these hooks in that module, marked with :data:`vosframe.hookimpl`.
Each hook receives a ``register`` callback; call it once per object to register::

    from vosframe import hookimpl

    @hookimpl
    def register_models(register):
        register(MyModel)              # name defaults to the class name
        register(MyModel, name="my-model-v2")

Hooks run once, when vosframe first needs a registry (lazily), never per frame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

PROJECT = "vosframe"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Register = Callable[..., Any]
"""``register(obj, name=None)``: add ``obj`` (a class or factory) to the registry."""


@hookspec
def register_models(register: Register) -> None:
    """Register base models (subclasses of :class:`vosframe.core.model.VOSModel`)."""


@hookspec
def register_backbones(register: Register) -> None:
    """Register backbones (subclasses of :class:`vosframe.core.stages.FeatureExtractor`)."""


@hookspec
def register_plugins(register: Register) -> None:
    """Register model plugins (subclasses of :class:`vosframe.core.plugin.ModelPlugin`)."""


@hookspec
def register_datasets(register: Register) -> None:
    """Register datasets (``torch.utils.data.Dataset`` classes)."""


@hookspec
def register_metrics(register: Register) -> None:
    """Register metrics."""


@hookspec
def register_hooks(register: Register) -> None:
    """Register training hooks for the mmengine Runner."""


@hookspec
def register_losses(register: Register) -> None:
    """Register auxiliary training losses (see :mod:`vosframe.core.losses`)."""


@hookspec
def register_trainers(register: Register) -> None:
    """Register plugins' training recipes for the clip loop (see
    :class:`vosframe.core.training.PluginTrainer`)."""
