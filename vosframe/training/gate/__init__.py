"""Training the reuse gate (:mod:`vosframe.plugins.reuse_gate`), apart from the plugin.

* :mod:`~.clip` -- the clip-loop recipe (:class:`~.clip.GateClipTrainer`,
  ``plugin_trainer=dict(type="GateClipTrainer", ...)`` in a ``vosframe train`` config): the
  paper's loss on training clips, for every variant.
* :mod:`~.traces` -- the trace recipe of the ``copy`` gate: record the frozen base model's
  inference, train the gate on it; :mod:`~.pre_gate` fits the pre-gate on the same traces;
  :mod:`~.calibration` reports the held-out operating points; :mod:`~.recipe` runs it all
  from a config (``vosframe train-gate``).
"""

from .clip import GateClipTrainer

__all__ = ["GateClipTrainer"]
