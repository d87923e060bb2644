"""The reuse gate (Park et al., CVPR 2021) as a generic plugin for any base model.

Config::

    model = dict(type="FRTM", ..., plugins=[dict(type="ReuseGate")])  # the shipped cascade
    model = dict(type="FRTM", ..., plugins=[dict(type="ReuseGate", preset="paper")])

Modules: :mod:`~vosframe.plugins.reuse_gate.plugin` (the plugin),
:mod:`~vosframe.plugins.reuse_gate.options` (option groups and presets),
:mod:`~vosframe.plugins.reuse_gate.policy` (the decision rules),
:mod:`~vosframe.plugins.reuse_gate.networks` (its networks),
:mod:`~vosframe.plugins.reuse_gate.cues` and
:mod:`~vosframe.plugins.reuse_gate.frame_cues` (its inputs). Training lives in
:mod:`vosframe.training.gate`; the design notes in ``docs/reuse_gate.md``.
"""

from .options import PRESETS, GateArch, GatePolicy
from .plugin import Choice, ReuseGate
from .state import GateObjectState

__all__ = [
    "PRESETS",
    "Choice",
    "GateArch",
    "GateObjectState",
    "GatePolicy",
    "ReuseGate",
]
