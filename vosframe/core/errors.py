"""Error types raised by vosframe.

Every error names the problem and the fix. They derive from the built-in exception a
caller would naturally catch (``ValueError``, ``KeyError``, ...) so that generic handlers
keep working.
"""

from __future__ import annotations


class VosframeError(Exception):
    """Base class of all errors raised deliberately by vosframe."""


class InputError(VosframeError, ValueError):
    """A frame, mask or argument handed to vosframe is malformed."""


class UnknownObjectError(VosframeError, KeyError):
    """An object id was referenced that the session does not track."""

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return str(self.args[0]) if self.args else ""


class SkipPointError(VosframeError, ValueError):
    """A plugin needs a skip point that the base model does not offer (or a declaration is bad)."""


class RegistryError(VosframeError, KeyError):
    """A name is not registered, or a registration conflicts with an existing one."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class CheckpointError(VosframeError, RuntimeError):
    """A checkpoint file is missing, unreadable, or does not match the model."""


class ConfigError(VosframeError, ValueError):
    """A configuration is malformed."""


class DataError(VosframeError, ValueError):
    """Files on disk (frames, masks, datasets) are missing, corrupt or inconsistent."""
