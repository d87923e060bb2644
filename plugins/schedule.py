"""``ScheduledReuse``: take the alternative path on a fixed schedule (a baseline).

Every ``period``-th frame of each object (after its first) skips the heavy stages and
reuses the last computed score and refined feature at the configured re-entry point
unchanged. It is the no-learning baseline of the reuse gate: it shows the speed ceiling
of a skip-point placement and the accuracy cost of reusing without correction.

Config::

    model = dict(type=..., plugins=[dict(type="ScheduledReuse", period=2, reentry="R_t@16")])
"""

from __future__ import annotations

from collections.abc import Sequence

from vosframe.core.errors import ConfigError
from vosframe.core.plugin import AltResult, Decision, ModelPlugin, Reenter
from vosframe.core.skip_points import Need
from vosframe.core.state import FrameState, ObjectState


class ScheduledReuse(ModelPlugin):
    """Reuse cached state on every ``period``-th tracked frame of each object.

    Args:
        period: Frames per cycle; the last frame of each cycle takes the alternative path
            (``period=2`` reuses every other frame). Must be >= 2.
        reentry: Name of the model's re-entry point (None: the model's default).
    """

    decides_path = True
    needs_init_outputs = True

    def __init__(self, period: int = 2, reentry: str | None = None) -> None:
        super().__init__()
        if int(period) < 2:
            raise ConfigError(f"ScheduledReuse.period must be >= 2, got {period}")
        self.period = int(period)
        self.needs = (Need("feature_cut"), Need("reentry", name=reentry))

    def decide(self, frame: FrameState, objects: Sequence[ObjectState]) -> list[Decision]:
        """Alternative path when the object's frame count since its start ends a cycle, or
        the path the session forces (``frame.options.force``); ``tau`` does not apply."""
        force = frame.options.force
        if force is not None:
            return [Decision(force == "alt") for _ in objects]
        return [Decision((frame.index - o.first_frame) % self.period == 0) for o in objects]

    def alternative(
        self, frame: FrameState, objects: Sequence[ObjectState], decisions: Sequence[Decision]
    ) -> list[AltResult]:
        """The last computed score and refined feature, unchanged."""
        name = self.points["reentry"].name
        return [Reenter(o.last_score, o.refined[name]) for o in objects]
