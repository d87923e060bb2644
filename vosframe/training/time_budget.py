"""A Runner hook that trains for a wall-time budget instead of a number of epochs.

For one-shot runs on a borrowed accelerator: the run stops at the end of the epoch after
which another epoch would exceed the budget, decays the learning rate once at a fraction
of the budget, and tells the model and the dataset the training progress (elapsed /
budget) through their ``progress`` attribute when they have one (e.g. the memory model's
bootstrapped cross entropy and its max-skip curriculum).
"""

from __future__ import annotations

import time
from typing import Any

from mmengine.hooks import Hook


def _unwrap(model: Any) -> Any:
    model = getattr(model, "module", model)
    return getattr(model, "vos", model)


class TimeBudgetHook(Hook):
    """Stop training after ``seconds`` of wall time (at an epoch boundary).

    Args:
        seconds: The budget, from the start of training.
        decay_at: Fraction of the budget after which the learning rate is multiplied by
            ``gamma`` (once); None: never.
        gamma: The decay factor.
    """

    priority = "VERY_LOW"

    def __init__(self, seconds: float, decay_at: float | None = 0.8, gamma: float = 0.1) -> None:
        if seconds <= 0:
            raise ValueError(f"TimeBudgetHook needs seconds > 0, got {seconds}")
        self.seconds, self.decay_at, self.gamma = float(seconds), decay_at, float(gamma)
        self.start = 0.0
        self.epoch_start = 0.0
        self.epoch_seconds = 0.0
        self.decayed = False

    @property
    def progress(self) -> float:
        """Elapsed share of the budget, in ``[0, 1]``."""
        return min(1.0, (time.monotonic() - self.start) / self.seconds)

    def before_train(self, runner: Any) -> None:
        """Start the clock."""
        self.start = time.monotonic()

    def before_train_epoch(self, runner: Any) -> None:
        """Publish the progress to the model and the dataset."""
        self.epoch_start = time.monotonic()
        progress = self.progress
        for target in (_unwrap(runner.model), runner.train_dataloader.dataset):
            if hasattr(target, "progress"):
                target.progress = progress

    def after_train_epoch(self, runner: Any) -> None:
        """Decay the rate once; stop when another epoch would not fit."""
        now = time.monotonic()
        self.epoch_seconds = now - self.epoch_start
        elapsed = now - self.start
        if (
            self.decay_at is not None
            and not self.decayed
            and elapsed >= self.decay_at * self.seconds
        ):
            for group in runner.optim_wrapper.param_groups:
                group["lr"] *= self.gamma
            self.decayed = True
        if elapsed + self.epoch_seconds > self.seconds:
            runner.train_loop.stop_training = True
