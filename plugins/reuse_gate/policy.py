"""The reuse gate's decision rules, as plain functions.

One implementation, used by inference (:class:`~.plugin.ReuseGate`) and by the closed-loop
replay on recorded traces (:func:`vosframe.training.gate.calibration.simulate_gate`).
"""

from __future__ import annotations

from vosframe.core.state import DecisionOptions


def gate_runs(options: DecisionOptions) -> bool:
    """True if the gate runs on tracked frames (``tau < 1``, or a forced path)."""
    return options.force is not None or options.tau < 1.0


def can_reuse(options: DecisionOptions) -> bool:
    """True if some object may take the alternative path under ``options``."""
    return options.force == "alt" or (options.force is None and options.tau < 1.0)


def takes_alt(p_reuse: float, options: DecisionOptions) -> bool:
    """The path of a ready object: the forced one, else reuse iff ``p_reuse > tau``.

    The pre-gate uses the same rule with its own probability (it never runs on forced
    frames).
    """
    return options.force == "alt" or (options.force is None and p_reuse > options.tau)


def copies(variant: str, p_reuse: float, tau2: float) -> bool:
    """True if an object on the alternative path copies its mask (``copy``; ``fusion``
    when ``p_reuse > tau2``) instead of translating features."""
    return variant == "copy" or (variant == "fusion" and p_reuse > tau2)


def copy_capped(
    run: int,
    rate: float | None,
    tau: float,
    max_reuse_run: int | None,
    drift_budget: float | None,
) -> bool:
    """True if an object that has reused ``run`` frames in a row must be computed now.

    ``max_reuse_run``: after that many in a row. ``drift_budget``: when the object's
    measured drift per frame ``rate`` (``1 - IoU`` of its last two computed masks over their
    frame gap; None until its second computed frame: no limit) times the age the copy would
    have exceeds ``drift_budget * (1 - tau)``, so lowering ``tau`` loosens it.
    """
    if max_reuse_run is not None and run >= max_reuse_run:
        return True
    if drift_budget is None or rate is None:
        return False
    return rate * (run + 1) > drift_budget * (1.0 - tau)
