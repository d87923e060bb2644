"""Built-in plugin: registers vosframe's own models, backbones, plugins, datasets and metrics.

It goes through the same pluggy hooks as third-party plugins (see
:mod:`vosframe.discovery`). Imports happen inside the hooks, when the registries are
first used, so ``import vosframe`` stays cheap.
"""

from __future__ import annotations

from vosframe.discovery.hookspecs import Register, hookimpl


@hookimpl
def register_models(register: Register) -> None:
    """FRTM, TTVOS, ... (added as they land)."""


@hookimpl
def register_backbones(register: Register) -> None:
    """ResNet and EfficientNet-Lite0 backbones."""


@hookimpl
def register_plugins(register: Register) -> None:
    """The reuse gate and the scheduled-reuse baseline."""
    from vosframe.plugins.schedule import ScheduledReuse

    register(ScheduledReuse)
