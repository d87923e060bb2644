"""Loading plugins: built-ins and entry points, into the registries, once and lazily.

The :class:`PluginHost` is the typed facade over a ``pluggy.PluginManager``: callers
never touch ``pm.hook``. Each plugin's ``register_*`` implementations are called one
plugin at a time with a ``register`` callback bound to that plugin, so every registered
name knows which distribution provided it, and a plugin that fails (at import, at
validation, or inside a hook) is reported with its distribution name, its partial
registrations are rolled back, and the rest keeps working.

Environment:
    ``VOSFRAME_DISABLE_PLUGIN_AUTOLOAD=1``: do not load entry points (built-ins still load).
    ``VOSFRAME_BLOCKED_PLUGINS=a,b``: skip entry points whose name or distribution is listed.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import os
import threading
import warnings
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import attrs
import pluggy

from vosframe.core.errors import RegistryError
from vosframe.discovery import hookspecs

DISABLE_AUTOLOAD_ENV = "VOSFRAME_DISABLE_PLUGIN_AUTOLOAD"
BLOCKED_ENV = "VOSFRAME_BLOCKED_PLUGINS"
ENTRY_POINT_GROUP = "vosframe"
BUILTIN_DISTRIBUTION = "vosframe (built-in)"

DEFAULT_PLUGINS: tuple[str, ...] = ("vosframe.builtin",)
"""Modules of built-in hook implementations, registered like third-party plugins."""

HOOK_TO_REGISTRY: Mapping[str, str] = {
    "register_models": "models",
    "register_backbones": "backbones",
    "register_plugins": "plugins",
    "register_datasets": "datasets",
    "register_metrics": "metrics",
    "register_hooks": "hooks",
    "register_losses": "losses",
    "register_trainers": "trainers",
}


@attrs.frozen
class PluginFailure:
    """A plugin that could not be loaded.

    Attributes:
        name: Entry-point (or module) name.
        distribution: The distribution that provides it.
        stage: ``import``, ``validate`` or the hook name that raised.
        error: The error message.
    """

    name: str
    distribution: str
    stage: str
    error: str


@attrs.frozen
class Registration:
    """Where a registered name came from."""

    registry: str
    name: str
    plugin: str
    distribution: str


class PluginHost:
    """Loads plugins into a set of registries.

    Args:
        registries: Registries keyed as in :data:`HOOK_TO_REGISTRY` values (default: the
            global ``vosframe.registry`` ones).
        builtins: Modules with built-in hook implementations.
    """

    def __init__(
        self,
        registries: Mapping[str, Any] | None = None,
        builtins: tuple[str, ...] = DEFAULT_PLUGINS,
    ) -> None:
        self._registries = registries
        self.builtins = builtins
        self.loaded = False
        self.failures: list[PluginFailure] = []
        self.registrations: list[Registration] = []
        self._lock = threading.RLock()
        self._loading = False
        self.pm = self._new_manager()

    @staticmethod
    def _new_manager() -> pluggy.PluginManager:
        pm = pluggy.PluginManager(hookspecs.PROJECT)
        pm.add_hookspecs(hookspecs)
        return pm

    @property
    def registries(self) -> Mapping[str, Any]:
        """The registries this host writes to."""
        if self._registries is None:
            from vosframe.registry import REGISTRIES

            return REGISTRIES
        return self._registries

    # ------------------------------------------------------------------ loading
    def ensure_loaded(self) -> None:
        """Load every plugin once (idempotent; re-entrant calls during loading return)."""
        if self.loaded or self._loading:
            return
        with self._lock:
            if self.loaded or self._loading:
                return
            self._loading = True
            try:
                for modname in self.builtins:
                    self._load_module(modname)
                if os.environ.get(DISABLE_AUTOLOAD_ENV, "") not in ("1", "true", "yes"):
                    self._load_entry_points()
            finally:
                self._loading = False
                self.loaded = True

    def reload(self) -> None:
        """Forget everything this host registered and load again (tests, notebooks)."""
        with self._lock:
            for reg in self.registrations:
                self.registries[reg.registry].unregister(reg.name)
            self.registrations.clear()
            self.failures.clear()
            self.pm = self._new_manager()
            self.loaded = False
        self.ensure_loaded()

    def _blocked(self) -> set[str]:
        return {s.strip() for s in os.environ.get(BLOCKED_ENV, "").split(",") if s.strip()}

    def _load_module(self, modname: str) -> None:
        try:
            module = importlib.import_module(modname)
        except Exception as exc:  # a broken built-in must not take the core down
            self._fail(modname, BUILTIN_DISTRIBUTION, "import", exc)
            return
        self._register_plugin(module, modname, BUILTIN_DISTRIBUTION)

    def _load_entry_points(self) -> None:
        blocked = self._blocked()
        for ep in md.entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist.name if ep.dist is not None else "unknown distribution"
            if ep.name in blocked or dist in blocked:
                continue
            if self.pm.get_plugin(ep.name) is not None or self.pm.is_blocked(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                self._fail(ep.name, dist, "import", exc)
                continue
            self._register_plugin(plugin, ep.name, dist)

    def _register_plugin(self, plugin: ModuleType | object, name: str, dist: str) -> None:
        try:
            self.pm.register(plugin, name=name)
            unknown = [
                hook
                for hook in dir(plugin)
                if hook.startswith("register_")
                and hook not in HOOK_TO_REGISTRY
                and callable(getattr(plugin, hook))
            ]
            if unknown:
                raise pluggy.PluginValidationError(
                    plugin, f"unknown hooks {unknown}; known: {sorted(HOOK_TO_REGISTRY)}"
                )
        except Exception as exc:
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            self._fail(name, dist, "validate", exc)
            return
        added: list[Registration] = []
        for hook_name, reg_key in HOOK_TO_REGISTRY.items():
            caller = getattr(self.pm.hook, hook_name)
            for impl in caller.get_hookimpls():
                if impl.plugin is not plugin:
                    continue
                register = self._make_register(reg_key, name, dist, added)
                try:
                    impl.function(**{a: register for a in impl.argnames})
                except Exception as exc:
                    for r in added:
                        self.registries[r.registry].unregister(r.name)
                    self.pm.unregister(plugin)
                    self._fail(name, dist, hook_name, exc)
                    return
        self.registrations.extend(added)

    def _make_register(self, reg_key: str, plugin: str, dist: str, added: list[Registration]):
        registry = self.registries[reg_key]

        def register(obj: Any, name: str | None = None) -> Any:
            key = name or getattr(obj, "__name__", None)
            if not key:
                raise RegistryError(f"register({obj!r}) needs name= (the object has no __name__)")
            previous = next(
                (r for r in self.registrations + added if r.registry == reg_key and r.name == key),
                None,
            )
            if previous is not None or key in registry._module_dict:
                owner = previous.distribution if previous else "another module"
                raise RegistryError(
                    f"{reg_key[:-1]} {key!r} from {dist} is already registered by {owner}. Fix: "
                    f"register it under another name, or block one plugin with {BLOCKED_ENV}."
                )
            registry.register_module(name=key, module=obj)
            added.append(Registration(reg_key, key, plugin, dist))
            return obj

        return register

    def _fail(self, name: str, dist: str, stage: str, exc: BaseException) -> None:
        failure = PluginFailure(name, dist, stage, f"{type(exc).__name__}: {exc}")
        self.failures.append(failure)
        warnings.warn(
            f"vosframe: plugin {name!r} from {dist} failed at {stage} and was skipped: "
            f"{failure.error}. Fix: update or uninstall {dist}, or block it with "
            f"{BLOCKED_ENV}={name}.",
            RuntimeWarning,
            stacklevel=3,
        )

    # ------------------------------------------------------------------ queries
    def source_of(self, registry: str, name: str) -> str:
        """The distribution that registered ``name`` (``"unknown"`` if registered directly)."""
        self.ensure_loaded()
        for r in self.registrations:
            if r.registry == registry and r.name == name:
                return r.distribution
        return "unknown"


_DEFAULT: dict[str, PluginHost] = {}


def default_host() -> PluginHost:
    """The host that feeds the global registries (created on first use)."""
    host = _DEFAULT.get("host")
    if host is None:
        host = _DEFAULT.setdefault("host", PluginHost())
    return host


def ensure_loaded() -> None:
    """Load built-in and third-party plugins into the global registries (once)."""
    default_host().ensure_loaded()


def reload_plugins() -> None:
    """Unregister everything loaded by the default host and load again."""
    default_host().reload()


def failures() -> list[PluginFailure]:
    """Plugins that failed to load in the default host."""
    return list(default_host().failures)
