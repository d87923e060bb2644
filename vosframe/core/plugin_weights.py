"""Plugin weights files: one plugin's weights, apart from the base model they were trained on.

A plugin that learns (the reuse gate) is trained for one set of base weights: its inputs are
the base model's features and outputs. Its file holds the plugin's own state dict (keys
relative to the plugin) and, in its metadata, what it depends on::

    {"format": "vosframe-plugin", "version": 1, "state_dict": {...},
     "meta": "<JSON: plugin, architecture, base_fingerprint, base_weights, ...>"}

* ``plugin`` -- the plugin's key (its registered class name);
* ``architecture`` -- :meth:`~vosframe.core.plugin.ModelPlugin.architecture`: the settings
  that shape the weights, compared with the attached plugin's on load, so a config cannot
  disagree with the weights it runs;
* ``base_fingerprint`` -- :func:`base_fingerprint` of the model it was trained with; a model
  whose base weights differ gets a clear error instead of a gate that silently misjudges
  its features.

So a shipped gated model is the base model's file plus the gate's file, and a gate can be
trained for a user's own fine-tuned base model without storing that model twice.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from vosframe._version import __version__
from vosframe.core.checkpoint import atomic_save, check_architecture
from vosframe.core.errors import CheckpointError

if TYPE_CHECKING:
    from vosframe.core.model import VOSModel
    from vosframe.core.plugin import ModelPlugin

FORMAT = "vosframe-plugin"
_PLUGINS = "plugins."


def base_fingerprint(model: VOSModel) -> str:
    """SHA-256 over the base model's state dict (every key outside ``model.plugins``:
    names, dtypes, shapes and values), as hex."""
    h = hashlib.sha256()
    for name, value in sorted(model.state_dict().items()):
        if name.startswith(_PLUGINS):
            continue
        t = value.detach().cpu().contiguous().reshape(-1)  # 1-d: viewable as bytes
        h.update(f"{name}|{t.dtype}|{tuple(value.shape)}|".encode())
        h.update(t.view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def _prefix(model: VOSModel, plugin: ModelPlugin) -> str:
    for i, p in enumerate(model.plugins):
        if p is plugin:
            return f"{_PLUGINS}{i}."
    raise CheckpointError(f"{plugin.key} is not attached to this {type(model).__name__}")


def _plugin(model: VOSModel, key: str | None) -> ModelPlugin:
    learned = [p for p in model.plugins if any(True for _ in p.parameters())]
    if key is not None:
        for p in model.plugins:
            if p.key == key:
                return p
        attached = [p.key for p in model.plugins]
        raise CheckpointError(
            f"the weights file is for a {key} plugin, but the model has none (attached: "
            f"{attached}). Fix: enable it in the model's config, "
            f"plugins=[dict(type='{key}', ...)]."
        )
    if len(learned) != 1:
        raise CheckpointError(
            f"say which plugin to save: the model has {len(learned)} plugins with weights "
            f"({[p.key for p in learned]})"
        )
    return learned[0]


def _json(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists)."""
    return json.loads(json.dumps(value, default=str))


def save_plugin_weights(
    model: VOSModel,
    path: str | os.PathLike,
    *,
    plugin: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> Path:
    """Write one plugin's weights file (atomically).

    Args:
        model: The model the plugin is attached to (its base weights are fingerprinted).
        path: The file to write.
        plugin: The plugin's key (None: the model's only plugin with weights).
        meta: More JSON-able metadata (the recipe, the base weights' file name, ...).
    """
    p = _plugin(model, plugin)
    prefix = _prefix(model, p)
    state = {
        k[len(prefix) :]: v.detach().cpu().contiguous()
        for k, v in model.state_dict().items()
        if k.startswith(prefix)
    }
    info = {
        "vosframe_version": __version__,
        **(meta or {}),
        "plugin": p.key,
        "architecture": p.architecture(),
        "base_fingerprint": base_fingerprint(model),
    }
    try:
        text = json.dumps(info, default=str)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"plugin weights metadata must be JSON-able: {exc}") from exc
    payload = {"format": FORMAT, "version": 1, "state_dict": state, "meta": text}
    return atomic_save(payload, path)


def read_plugin_weights(
    path: str | os.PathLike,
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a plugin weights file: ``(state_dict, meta)``.

    Raises:
        CheckpointError: Missing, unreadable, or not a plugin weights file.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no plugin weights file at {path}. Fix: check the path.")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(
            f"cannot read plugin weights {path}: {type(exc).__name__}: {str(exc)[:300]}"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        hint = (
            " It is a full model checkpoint: load it with checkpoint=, not as plugin weights."
            if isinstance(payload, dict) and payload.get("format") == "vosframe-checkpoint"
            else ""
        )
        raise CheckpointError(f"{path} is not a vosframe plugin weights file.{hint}")
    return payload["state_dict"], json.loads(payload.get("meta") or "{}")


def load_plugin_weights(
    model: VOSModel, path: str | os.PathLike, *, check_base: bool = True
) -> dict[str, Any]:
    """Load a plugin weights file into the attached plugin it names; returns its metadata.

    Checked before anything is loaded: the plugin is attached, its
    :meth:`~vosframe.core.plugin.ModelPlugin.architecture` equals the file's, the keys and
    shapes match, and (``check_base``) the model's base weights are the ones the plugin was
    trained with (:func:`base_fingerprint`). Load the base weights first.

    Raises:
        CheckpointError: Naming what differs and the fix.
    """
    state, meta = read_plugin_weights(path)
    p = _plugin(model, meta.get("plugin"))
    check_architecture(p.key, meta.get("architecture", {}), _json(p.architecture()), path)
    if check_base:
        fp = base_fingerprint(model)
        if meta.get("base_fingerprint") != fp:
            trained = meta.get("base_weights") or "other base weights"
            raise CheckpointError(
                f"{path} ({p.key}) was trained on {trained} (fingerprint "
                f"{str(meta.get('base_fingerprint'))[:12]}), but this model's base weights "
                f"have fingerprint {fp[:12]}: its decisions would not fit them. Fix: load the "
                f"base weights it was trained on first, or train it for yours "
                f"(`vosframe train-gate CONFIG` with load_from_vosframe=YOUR_CHECKPOINT); "
                f"check_base=False loads it anyway."
            )
    prefix = _prefix(model, p)
    own = {k[len(prefix) :]: v for k, v in model.state_dict().items() if k.startswith(prefix)}
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [k for k in state if k in own and state[k].shape != own[k].shape]
    if missing or unexpected or shapes:
        raise CheckpointError(
            f"{path} does not match the attached {p.key}: missing {missing[:10]}, unexpected "
            f"{unexpected[:10]}, shape mismatches {shapes[:10]}. Fix: use the config it was "
            f"trained with."
        )
    p.load_state_dict(state)
    return meta
