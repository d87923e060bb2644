"""Registry objects and the build function (see the package docstring)."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from mmengine.registry import DATASETS as MM_DATASETS
from mmengine.registry import HOOKS as MM_HOOKS
from mmengine.registry import METRICS as MM_METRICS
from mmengine.registry import MODELS as MM_MODELS
from mmengine.registry import Registry

from vosframe.core.errors import ConfigError, RegistryError


class VosRegistry(Registry):
    """An mmengine ``Registry`` that loads vosframe plugins before the first lookup and
    raises :class:`RegistryError` with close matches for unknown names."""

    def get(self, key: str) -> Any:
        """Look ``key`` up (plugins are loaded first); None if absent (mmengine semantics)."""
        from vosframe.discovery import ensure_loaded

        ensure_loaded()
        return super().get(key)

    def names(self) -> list[str]:
        """Names registered here (after loading plugins), sorted."""
        from vosframe.discovery import ensure_loaded

        ensure_loaded()
        return sorted(self._module_dict)

    def lookup(self, key: str) -> Any:
        """Like :meth:`get` but raises :class:`RegistryError` naming close matches."""
        obj = self.get(key)
        if obj is None:
            names = self.names()
            close = difflib.get_close_matches(key, names, n=3, cutoff=0.5)
            lowered = [n for n in names if n.lower() == key.lower()]
            hint = lowered or close
            from vosframe.discovery import failures

            failed = "".join(
                f"\n  note: plugin {f.name!r} from {f.distribution} failed to load: {f.error}"
                for f in failures()
            )
            raise RegistryError(
                f"{key!r} is not registered in the vosframe {self.name} registry"
                + (f"; did you mean {', '.join(map(repr, hint))}?" if hint else ".")
                + f" Registered: {', '.join(names) or '(none)'}. Fix: correct the name, or "
                f"install/enable the plugin that provides it (see `vosframe models`)." + failed
            )
        return obj

    def unregister(self, name: str) -> None:
        """Remove a name (used when a plugin's registration is rolled back or reloaded)."""
        self._module_dict.pop(name, None)


MODELS = VosRegistry("model", parent=MM_MODELS, scope="vosframe")
BACKBONES = VosRegistry("backbone", scope="vosframe")
PLUGINS = VosRegistry("plugin", scope="vosframe")
DATASETS = VosRegistry("dataset", parent=MM_DATASETS, scope="vosframe")
METRICS = VosRegistry("metric", parent=MM_METRICS, scope="vosframe")
HOOKS = VosRegistry("hook", parent=MM_HOOKS, scope="vosframe")
LOSSES = VosRegistry("loss", scope="vosframe")
TRAINERS = VosRegistry("trainer", scope="vosframe")

REGISTRIES: Mapping[str, VosRegistry] = MappingProxyType(
    {
        "models": MODELS,
        "backbones": BACKBONES,
        "plugins": PLUGINS,
        "datasets": DATASETS,
        "metrics": METRICS,
        "hooks": HOOKS,
        "losses": LOSSES,
        "trainers": TRAINERS,
    }
)


def build_from_cfg(cfg: Any, registry: VosRegistry, **default_args: Any) -> Any:
    """Build an object from ``dict(type=..., **kwargs)``.

    ``type`` may be a registered name or a class/callable (for IDE navigation). This does
    not touch mmengine's global default scope.

    Raises:
        ConfigError: ``cfg`` is not a dict with ``type``.
        RegistryError: The name is unknown (with close matches).
    """
    if not isinstance(cfg, Mapping):
        raise ConfigError(f"expected a config dict with a 'type' key, got {type(cfg).__name__}")
    args = dict(cfg)
    if "type" not in args:
        raise ConfigError(
            f"config {dict(cfg)!r} has no 'type'. Fix: add type='<registered name>' "
            f"(one of: {', '.join(registry.names())})"
        )
    kind = args.pop("type")
    obj_cls = registry.lookup(kind) if isinstance(kind, str) else kind
    if not callable(obj_cls):
        raise ConfigError(f"'type' must be a registered name or a class, got {kind!r}")
    for k, v in default_args.items():
        args.setdefault(k, v)
    try:  # a signature mismatch is a config error; errors inside the constructor are not
        inspect.signature(obj_cls).bind(**args)
    except TypeError as exc:
        raise ConfigError(f"cannot build {getattr(obj_cls, '__name__', kind)}: {exc}") from exc
    except ValueError:  # no introspectable signature (some builtins): just call it
        pass
    return obj_cls(**args)
