"""The reuse gate (Park et al., CVPR 2021) as a generic plugin for any base model.

Config::

    model = dict(type="FRTM", ..., plugins=[dict(type="ReuseGate", tau=0.7)])

See :mod:`vosframe.plugins.reuse_gate.plugin` (inference and variants),
:mod:`~vosframe.plugins.reuse_gate.modules` (the modules),
:mod:`~vosframe.plugins.reuse_gate.training` (losses, margin schedule),
:mod:`~vosframe.plugins.reuse_gate.traces` (training a ``copy`` gate on inference traces,
``vosframe train-gate``) and :mod:`~vosframe.plugins.reuse_gate.accounting` (FLOPs per
path).
"""

from .accounting import path_flops
from .plugin import GateObjectState, ReuseGate
from .training import gate_probability_loss, margin

__all__ = ["GateObjectState", "ReuseGate", "gate_probability_loss", "margin", "path_flops"]
