"""Convert the official FRTM checkpoint layout to :class:`FRTMRefiner`'s keys.

The official files (``rn18_all.pth``, ``rn101_ytvos.pth``, ...) are
``{name, epoch, stats, model, optimizer, scheduler}`` dicts whose ``model`` holds only the
refiner: 140 keys ``refiner.<TSE|RRB1|CAB|RRB2>.<layer5..layer2>.*`` and
``refiner.project.conv{1,2}.*``. Loading such a pickle needs ``torch.load(...,
weights_only=False)`` on a trusted file; this module only maps the resulting dict.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from types import MappingProxyType
from typing import Any

import torch

from vosframe.core.errors import CheckpointError

_COMPONENTS = MappingProxyType({"TSE": "tse", "RRB1": "rrb1", "CAB": "cab", "RRB2": "rrb2"})
_LAYERS = MappingProxyType({"layer5": 32, "layer4": 16, "layer3": 8, "layer2": 4})
_BACKBONES = MappingProxyType({256: "resnet18", 1024: "resnet101"})
_DETECT_KEY = "refiner.TSE.layer4.reduce.0.weight"


def official_feature_channels(backbone: str) -> dict[int, int]:
    """Feature channels per stride that the official refiner of ``backbone`` expects.

    Args:
        backbone: ``'resnet18'`` or ``'resnet101'``.

    Returns:
        A new dict ``{4: ..., 8: ..., 16: ..., 32: ...}``.
    """
    if backbone == "resnet18":
        return {4: 64, 8: 128, 16: 256, 32: 512}
    if backbone == "resnet101":
        return {4: 256, 8: 512, 16: 1024, 32: 2048}
    raise ValueError(f"unknown official FRTM backbone {backbone!r}; use resnet18 or resnet101")


def _rrb_suffixes() -> Iterator[str]:
    yield from ("conv1x1.weight", "conv1x1.bias", "bblock.0.weight", "bblock.0.bias")
    for name in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
        yield f"bblock.1.{name}"
    yield "bblock.3.weight"


def official_frtm_keys() -> list[str]:
    """The 140 ``refiner.*`` keys of an official FRTM checkpoint, in the official order."""
    suffixes = {
        "TSE": [
            f"{m}.{i}.{p}"
            for m, idx in (("reduce", (0, 2)), ("transform", (0, 2, 4)))
            for i in idx
            for p in ("weight", "bias")
        ],
        "RRB1": list(_rrb_suffixes()),
        "CAB": [f"convreluconv.{i}.{p}" for i in (0, 2) for p in ("weight", "bias")],
        "RRB2": list(_rrb_suffixes()),
    }
    keys = [
        f"refiner.{comp}.{layer}.{suffix}"
        for comp in _COMPONENTS
        for layer in _LAYERS
        for suffix in suffixes[comp]
    ]
    keys += [f"refiner.project.conv{i}.{p}" for i in (1, 2) for p in ("weight", "bias")]
    return keys


def _model_dict(state: Mapping[str, Any]) -> Mapping[str, Any]:
    if "model" in state and isinstance(state["model"], Mapping):
        return state["model"]
    return state


def detect_backbone(state: Mapping[str, Any]) -> str:
    """Detect the backbone of an official FRTM checkpoint (``'resnet18'`` or ``'resnet101'``).

    Uses ``refiner.TSE.layer4.reduce.0.weight.shape[1]`` (256 -> ResNet-18, 1024 -> ResNet-101),
    as the official ``evaluate.py`` does.

    Args:
        state: The checkpoint (``{'model': {...}}``) or its ``model`` dict.

    Raises:
        CheckpointError: If the key is missing or has an unexpected channel count.
    """
    model = _model_dict(state)
    if _DETECT_KEY not in model:
        raise CheckpointError(
            f"not an official FRTM checkpoint: no {_DETECT_KEY!r} "
            f"(found {len(model)} keys, e.g. {sorted(model)[:3]})"
        )
    cin = int(model[_DETECT_KEY].shape[1])
    if cin not in _BACKBONES:
        raise CheckpointError(
            f"{_DETECT_KEY} has {cin} input channels; expected 256 (ResNet-18) or 1024 (ResNet-101)"
        )
    return _BACKBONES[cin]


def rename_official_key(key: str) -> str | None:
    """Map one official key to this library's key (``refiner.``-prefixed), or None if unknown.

    ``refiner.TSE.layer4.reduce.0.weight`` -> ``refiner.stages.16.tse.reduce.0.weight``;
    ``refiner.project.conv1.weight`` -> ``refiner.upsampler.conv1.weight``.
    """
    parts = key.split(".")
    if len(parts) < 3 or parts[0] != "refiner":
        return None
    if parts[1] == "project" and parts[2] in ("conv1", "conv2"):
        return ".".join(["refiner", "upsampler", *parts[2:]])
    if len(parts) >= 4 and parts[1] in _COMPONENTS and parts[2] in _LAYERS:
        stride = _LAYERS[parts[2]]
        return ".".join(["refiner", "stages", str(stride), _COMPONENTS[parts[1]], *parts[3:]])
    return None


def convert_official_frtm(
    state: Mapping[str, Any], *, ignore: Collection[str] = ()
) -> dict[str, torch.Tensor]:
    """Map an official FRTM checkpoint to :class:`FRTMRefiner` keys prefixed ``refiner.``.

    The result loads into a model that holds an :class:`FRTMRefiner` (built with the
    channels of :func:`official_feature_channels` for :func:`detect_backbone`) under the
    attribute ``refiner``. The official head's weights fit both ``head='official'`` and
    ``head='fast'``.

    Args:
        state: The checkpoint dict (``{'model': {...}, ...}``) or its ``model`` dict.
        ignore: Key prefixes to drop silently, e.g. G-FRTM's
            ``('convGS.', 'Tmatching.', 'Convert_Diff.', 'refiner.Diff_process.')``.

    Returns:
        A new dict of tensors (the same tensor objects, renamed).

    Raises:
        CheckpointError: If keys are unknown or expected keys are missing; the message
            lists them.
    """
    model = _model_dict(state)
    detect_backbone(model)
    out: dict[str, torch.Tensor] = {}
    unknown: list[str] = []
    for key, value in model.items():
        if any(key.startswith(p) for p in ignore):
            continue
        new = rename_official_key(key) if key in _EXPECTED else None
        if new is None:
            unknown.append(key)
            continue
        out[new] = value
    missing = sorted(_EXPECTED - set(model))
    if unknown or missing:
        lines = []
        if unknown:
            lines.append(f"{len(unknown)} unknown key(s): {', '.join(sorted(unknown))}")
        if missing:
            lines.append(f"{len(missing)} missing key(s): {', '.join(missing)}")
        raise CheckpointError(
            "not an official FRTM refiner checkpoint (expected the 140 'refiner.*' keys); "
            + "; ".join(lines)
            + ". Pass ignore=(prefix, ...) to drop extra keys on purpose."
        )
    return out


_EXPECTED = frozenset(official_frtm_keys())
