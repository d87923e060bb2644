"""Training the reuse gate (:mod:`vosframe.plugins.reuse_gate`), apart from the plugin.

* :mod:`~.clip` -- the clip-loop recipe (:class:`~.clip.GateClipTrainer`,
  ``plugin_trainer=dict(type="GateClipTrainer", ...)`` in a ``vosframe train`` config): the
  paper's loss on training clips, for every variant.
* :mod:`~.traces` -- the trace recipe of the ``copy`` gate: record the frozen base model's
  inference, train the gate on it; :mod:`~.pre_gate` fits the pre-gate on the same traces;
  :mod:`~.calibration` reports the held-out operating points; :mod:`~.recipe` runs it all
  from a config (``vosframe train-gate``).
* :mod:`~.reuse_traces` -- the trace recipe of the ``reuse`` gate (the paper's feature
  reuse): its alternative path learns to give the frozen base model's own re-entry
  feature and output, then its gate function learns that path's quality.
"""

from .clip import GateClipTrainer

__all__ = ["GateClipTrainer"]
