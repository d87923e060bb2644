"""Auxiliary training losses any base model can enable in its config (registered in
:data:`vosframe.registry.LOSSES`; the protocol is :mod:`vosframe.core.losses`)."""

from vosframe.losses.overlap import SoftIoULoss
from vosframe.losses.temporal import TemporalConsistencyLoss

__all__ = ["SoftIoULoss", "TemporalConsistencyLoss"]
