"""torchvision ResNet-18/50/101 as a :class:`~vosframe.core.stages.FeatureExtractor`.

Levels (keyed by stride; each maps the previous level's output to its own):

======  ==========================================  =========  ============
stride  modules                                     ResNet-18  ResNet-50/101
======  ==========================================  =========  ============
4       ``conv1, bn1, relu, maxpool, layer1``       64         256
8       ``layer2``                                  128        512
16      ``layer3``                                  256        1024
32      ``layer4``                                  512        2048
======  ==========================================  =========  ============

No ImageNet weights are available offline, so a ResNet starts from torchvision's random
initialisation or from a local file holding a torchvision-layout state dict
(``torchvision.models.resnet50().state_dict()`` saved with ``torch.save``). torchvision's
weight download is never used.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn
from torchvision.models import resnet

from vosframe.core.errors import ConfigError
from vosframe.core.stages import FeatureExtractor
from vosframe.models.backbones._weights import (
    FrozenBN,
    check_rgb_image,
    freeze_,
    load_mapped_state_dict,
    read_state_dict,
)

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "ResNet"]

#: ImageNet RGB mean and std (of images in [0, 1]) used by torchvision's ResNets.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

_BUILDERS = {18: resnet.resnet18, 50: resnet.resnet50, 101: resnet.resnet101}
_STRIDES = (4, 8, 16, 32)
#: torchvision top-level module -> (stride of the level holding it, key prefix in it).
_SOURCE_TO_LEVEL = {
    "conv1": (4, "conv1."),
    "bn1": (4, "bn1."),
    "layer1": (4, "layer1."),
    "layer2": (8, ""),
    "layer3": (16, ""),
    "layer4": (32, ""),
}


def _tv_to_module(key: str, max_stride: int) -> str | None:
    """Map a torchvision ResNet key to this module's key (None: a part not built)."""
    head, _, rest = key.partition(".")
    if head == "fc":
        return None
    if head not in _SOURCE_TO_LEVEL or not rest:
        return key
    stride, prefix = _SOURCE_TO_LEVEL[head]
    if stride > max_stride:
        return None
    return f"levels.{stride}.{prefix}{rest}"


def _module_to_tv(key: str) -> str:
    """Map this module's key back to the torchvision ResNet layout."""
    _, stride, rest = key.split(".", 2)
    if stride == "4":
        return rest
    return f"layer{_STRIDES.index(int(stride)) + 1}.{rest}"


class ResNet(FeatureExtractor):
    """torchvision ResNet returning features at strides 4, 8, 16 and 32.

    Args:
        depth: 18, 50 or 101.
        weights: Path of a local file holding a torchvision-layout state dict (``fc.*``
            entries and those of levels beyond ``max_stride`` are ignored), or None for
            torchvision's random initialisation.
        frozen: If True, batch norms are ``FrozenBN`` (a
            :class:`~torchvision.ops.misc.FrozenBatchNorm2d` that keeps bf16 inputs bf16),
            no parameter requires grad and :meth:`train` keeps the module in eval mode.
            If False, batch norms are ordinary ``nn.BatchNorm2d`` and everything trains.
        max_stride: Deepest level built (4, 8, 16 or 32); deeper layers are not kept.

    Raises:
        ConfigError: ``depth`` or ``max_stride`` is not supported.
        CheckpointError: ``weights`` is missing, unreadable or does not match.
    """

    def __init__(
        self,
        depth: int = 18,
        weights: str | Path | None = None,
        frozen: bool = True,
        max_stride: int = 32,
    ) -> None:
        super().__init__()
        if depth not in _BUILDERS:
            raise ConfigError(f"ResNet depth must be one of {sorted(_BUILDERS)}, got {depth!r}")
        if max_stride not in _STRIDES:
            raise ConfigError(f"ResNet max_stride must be one of {_STRIDES}, got {max_stride!r}")
        self.depth = depth
        self.frozen = frozen
        self.max_stride = max_stride
        # weights=None: torchvision builds a randomly initialised net and downloads nothing.
        net = _BUILDERS[depth](weights=None, norm_layer=FrozenBN if frozen else None)
        stem = OrderedDict(
            conv1=net.conv1, bn1=net.bn1, relu=net.relu, maxpool=net.maxpool, layer1=net.layer1
        )
        modules: dict[int, nn.Module] = {
            4: nn.Sequential(stem),
            8: net.layer2,
            16: net.layer3,
            32: net.layer4,
        }
        expansion = 4 if depth >= 50 else 1
        self.levels = nn.ModuleDict({str(s): modules[s] for s in _STRIDES if s <= max_stride})
        self.channels = {
            s: 64 * expansion * 2**i for i, s in enumerate(_STRIDES) if s <= max_stride
        }
        del net
        self.register_buffer(
            "mean", torch.tensor(IMAGENET_MEAN).reshape(1, 3, 1, 1), persistent=False
        )
        self.register_buffer(
            "std", torch.tensor(IMAGENET_STD).reshape(1, 3, 1, 1), persistent=False
        )
        if weights is not None:
            self.load_torchvision_weights(weights)
        if frozen:
            freeze_(self)

    def load_torchvision_weights(self, path: str | Path) -> None:
        """Load a torchvision-layout ResNet state dict from a local file.

        Args:
            path: File written by ``torch.save(resnetNN().state_dict(), path)`` (a
                ``{"state_dict": ...}`` or ``{"model": ...}`` wrapper is accepted).

        Raises:
            CheckpointError: The file is missing/unreadable, or keys are missing,
                unexpected or of the wrong shape (all listed in the message).
        """
        what = f"ResNet-{self.depth}"
        fix = (
            f"Fix: pass a file written by `torch.save(torchvision.models.resnet{self.depth}()"
            ".state_dict(), path)` (keys like 'conv1.weight', 'layer1.0.conv1.weight'); "
            "strip any prefix such as 'module.' or 'backbone.' from the keys, and check "
            "that the depth matches the file."
        )
        state = read_state_dict(path, what=what, fix=fix)
        load_mapped_state_dict(
            self,
            state,
            to_module=lambda k: _tv_to_module(k, self.max_stride),
            to_source=_module_to_tv,
            what=f"{what} ({str(path)!r})",
            fix=fix,
        )

    def preprocess(self, image: torch.Tensor) -> torch.Tensor:
        """Normalise with the ImageNet mean and std torchvision's ResNets were trained with.

        Args:
            image: ``(N, 3, H, W)`` RGB float tensor in ``[0, 1]``.

        Returns:
            ``(image - mean) / std`` in the model's dtype (memory format preserved).
        """
        check_rgb_image(image)
        return (image.to(self.mean.dtype) - self.mean) / self.std

    def train(self, mode: bool = True) -> ResNet:
        """Set training mode; a frozen backbone always stays in eval mode."""
        return super().train(mode and not self.frozen)
