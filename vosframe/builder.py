"""Build base models (with their plugins) from a config dict, a config file or a class.

A plugin is enabled in config only::

    model = dict(type="FRTM", backbone=dict(type="EfficientNetLite0"),
                 plugins=[dict(type="ReuseGate", tau=0.7)])
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mmengine.config import Config, ConfigDict

from vosframe.core.errors import ConfigError
from vosframe.core.model import VOSModel
from vosframe.core.plugin import ModelPlugin
from vosframe.registry import MODELS, PLUGINS, build_from_cfg


def _plain(obj: Any) -> Any:
    if isinstance(obj, (ConfigDict, Mapping)):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_plain(v) for v in obj)
    return obj


def load_config(path: str | os.PathLike) -> Config:
    """Read an mmengine config file (``_base_`` inheritance supported).

    Raises:
        ConfigError: The file is missing or has no ``model`` entry.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {p} does not exist. Fix: check the path.")
    try:
        cfg = Config.fromfile(str(p))
    except Exception as exc:
        raise ConfigError(f"cannot read config {p}: {exc}") from exc
    if "model" not in cfg:
        raise ConfigError(f"config {p} has no 'model' entry. Fix: add model = dict(type=...).")
    return cfg


def model_cfg_of(spec: Any) -> dict:
    """Normalise a model spec (dict, Config, config path, or class) to a plain dict."""
    if isinstance(spec, (str, os.PathLike)):
        spec = load_config(spec)
    if isinstance(spec, Config):
        spec = spec.model
    if isinstance(spec, type):
        return {"type": spec}
    if not isinstance(spec, Mapping):
        raise ConfigError(
            f"cannot build a model from {type(spec).__name__}; pass a config dict, a "
            f"config file path, an mmengine Config or a VOSModel subclass"
        )
    return _plain(spec)


def build_plugin(cfg: Mapping[str, Any] | ModelPlugin) -> ModelPlugin:
    """Build a plugin from ``dict(type=..., **kwargs)`` (or pass an instance through)."""
    if isinstance(cfg, ModelPlugin):
        return cfg
    plugin = build_from_cfg(cfg, PLUGINS)
    if not isinstance(plugin, ModelPlugin):
        raise ConfigError(f"{cfg.get('type')!r} did not build a ModelPlugin (got {plugin!r})")
    return plugin


def build_model(spec: Any, **overrides: Any) -> VOSModel:
    """Build a base model and attach the plugins listed in its config.

    Args:
        spec: ``dict(type=..., plugins=[...], **kwargs)``, an mmengine ``Config`` (its
            ``model``), a config file path, or a ``VOSModel`` subclass.
        **overrides: Keyword arguments merged into the model config.

    Raises:
        ConfigError, RegistryError, SkipPointError: With the problem and the fix.
    """
    cfg = model_cfg_of(spec)
    cfg.update(overrides)
    plugin_cfgs = cfg.pop("plugins", None) or []
    if not isinstance(plugin_cfgs, (list, tuple)):
        raise ConfigError("model.plugins must be a list of plugin configs")
    model = build_from_cfg(cfg, MODELS)
    if not isinstance(model, VOSModel):
        raise ConfigError(f"{cfg.get('type')!r} did not build a VOSModel (got {type(model)})")
    for pcfg in plugin_cfgs:
        model.attach_plugin(build_plugin(pcfg))
    model.build_cfg = {
        **cfg,
        "type": _type_name(cfg["type"]),
        "plugins": [
            {**p, "type": _type_name(p["type"])}
            for p in map(_plain, plugin_cfgs)
            if isinstance(p, Mapping)
        ],
    }
    return model


def _type_name(t: Any) -> Any:
    return t if isinstance(t, str) else getattr(t, "__name__", repr(t))
