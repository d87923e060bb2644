"""vosframe's registries (installed as ``vosframe.registry``).

mmengine ``Registry`` children with the explicit scope ``"vosframe"``; vosframe never
relies on mmengine's process-wide default scope. Looking a name up first loads the
plugins (built-in and third-party, through pluggy) once, lazily.

Registries: :data:`MODELS` (base models), :data:`BACKBONES`, :data:`PLUGINS` (model
plugins such as the reuse gate), :data:`DATASETS`, :data:`METRICS`, :data:`HOOKS`
(training hooks for the mmengine Runner), :data:`LOSSES` (auxiliary training losses
any base model can enable in its config), :data:`TRAINERS` (plugins' training recipes in
the clip loop, a config's ``plugin_trainer``).
"""

from vosframe.registry.core import (
    BACKBONES,
    DATASETS,
    HOOKS,
    LOSSES,
    METRICS,
    MODELS,
    PLUGINS,
    REGISTRIES,
    TRAINERS,
    VosRegistry,
    build_from_cfg,
)

__all__ = [
    "BACKBONES",
    "DATASETS",
    "HOOKS",
    "LOSSES",
    "METRICS",
    "MODELS",
    "PLUGINS",
    "REGISTRIES",
    "TRAINERS",
    "VosRegistry",
    "build_from_cfg",
]
