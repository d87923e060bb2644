"""DAVIS J&F as an mmengine ``BaseMetric`` (registered as ``DavisJF``), for Runner loops.

Each processed sample is one whole sequence: ``{"sequence": name, "gt": [label maps],
"pred": [label maps]}`` (predictions for all frames; the first and last are not scored).
The figures are the official ones (:func:`vosframe.metrics.evaluate_sequence` pooled over
objects with :func:`vosframe.metrics.results.pooled_figures`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mmengine.evaluator import BaseMetric

from vosframe.core.errors import InputError
from vosframe.metrics.davis import BOUND_TH
from vosframe.metrics.evaluate import evaluate_sequence
from vosframe.metrics.results import pooled_figures


class DavisJF(BaseMetric):
    """J&F-Mean, J and F Mean/Recall/Decay over the processed sequences.

    Args:
        gt_format: ``indexed``, ``binary`` (DAVIS 2016) or ``auto``.
        bound_th: Boundary tolerance of F.
        prefix: mmengine metric prefix (default ``davis``).
    """

    default_prefix = "davis"

    def __init__(
        self, gt_format: str = "auto", bound_th: float = BOUND_TH, prefix: str | None = None
    ) -> None:
        super().__init__(prefix=prefix)
        self.gt_format = gt_format
        self.bound_th = bound_th

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Score each sequence now and keep only its per-object scores."""
        for sample in data_samples:
            if not {"gt", "pred"} <= set(sample):
                raise InputError("DavisJF samples need 'gt' and 'pred' lists of label maps")
            self.results.extend(
                evaluate_sequence(
                    sample["gt"],
                    sample["pred"],
                    name=str(sample.get("sequence", f"sequence{len(self.results)}")),
                    gt_format=self.gt_format,
                    bound_th=self.bound_th,
                )
            )

    def compute_metrics(self, results: list) -> dict[str, float]:
        """The seven official global figures, pooled over objects."""
        return pooled_figures(results)
