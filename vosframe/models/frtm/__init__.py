"""FRTM (Robinson et al., CVPR 2020) stages: online target model, refiner, converter.

* :class:`FRTMTargetModel` (a :class:`~vosframe.core.stages.TargetLocalizer`): the
  two-layer target model fitted per object with Gauss-Newton + CG on a sample memory.
* :class:`FRTMRefiner` (a :class:`~vosframe.core.stages.Refiner`): TSE / RRB / CAB / RRB
  levels at strides 32, 16, 8, 4 and an official or fast head.
* :func:`convert_official_frtm`: official checkpoint keys -> :class:`FRTMRefiner` keys.
"""

from vosframe.models.frtm.augment import AugmentParams, augment_first_frame
from vosframe.models.frtm.convert import (
    convert_official_frtm,
    detect_backbone,
    official_feature_channels,
)
from vosframe.models.frtm.memory import SampleMemory
from vosframe.models.frtm.optimizer import CGState
from vosframe.models.frtm.refiner import FRTMLevel, FRTMRefiner
from vosframe.models.frtm.target_model import PRESETS, FRTMObjectState, FRTMTargetModel

__all__ = [
    "PRESETS",
    "AugmentParams",
    "CGState",
    "FRTMLevel",
    "FRTMObjectState",
    "FRTMRefiner",
    "FRTMTargetModel",
    "SampleMemory",
    "augment_first_frame",
    "convert_official_frtm",
    "detect_backbone",
    "official_feature_channels",
]
