"""Plugin discovery through pluggy (see :mod:`vosframe.discovery.hookspecs`)."""

from vosframe.discovery.hookspecs import hookimpl
from vosframe.discovery.manager import (
    BLOCKED_ENV,
    DISABLE_AUTOLOAD_ENV,
    PluginFailure,
    PluginHost,
    default_host,
    ensure_loaded,
    failures,
    reload_plugins,
)

__all__ = [
    "BLOCKED_ENV",
    "DISABLE_AUTOLOAD_ENV",
    "PluginFailure",
    "PluginHost",
    "default_host",
    "ensure_loaded",
    "failures",
    "hookimpl",
    "reload_plugins",
]
