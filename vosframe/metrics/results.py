"""Result containers of an evaluation: per-object scores and pooled global figures."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

from vosframe.metrics.davis import db_statistics

GLOBAL_KEYS: tuple[str, ...] = (
    "J&F-Mean",
    "J-Mean",
    "J-Recall",
    "J-Decay",
    "F-Mean",
    "F-Recall",
    "F-Decay",
)
"""Keys of the global figures, in the official column order."""

STAT_KEYS: tuple[str, ...] = GLOBAL_KEYS[1:]
"""Per-object statistic keys (all but ``J&F-Mean``)."""


@attrs.frozen(eq=False)
class ObjectScores:
    """Per-frame J and F of one object and its Mean / Recall / Decay.

    Attributes:
        sequence: Sequence name.
        object_id: Object label in the GT.
        frames: Names of the evaluated frames.
        J: Per-frame region similarity (float64), one per evaluated frame.
        F: Per-frame boundary measure (float64).
        J_mean, J_recall, J_decay, F_mean, F_recall, F_decay: Official statistics.
        category: Object category (YouTube-VOS mode), else ``None``.
    """

    sequence: str
    object_id: int
    frames: tuple[str, ...]
    J: np.ndarray
    F: np.ndarray
    J_mean: float
    J_recall: float
    J_decay: float
    F_mean: float
    F_recall: float
    F_decay: float
    category: str | None = None

    @classmethod
    def from_frames(
        cls,
        sequence: str,
        object_id: int,
        frames: Sequence[str],
        j: Sequence[float],
        f: Sequence[float],
        davis_compat: bool = True,
        category: str | None = None,
    ) -> ObjectScores:
        """Build the scores of one object from its per-frame J and F (computes M/R/D)."""
        j_arr = np.asarray(j, dtype=np.float64)
        f_arr = np.asarray(f, dtype=np.float64)
        jm, jr, jd = db_statistics(j_arr, davis_compat)
        fm, fr, fd = db_statistics(f_arr, davis_compat)
        return cls(
            sequence, int(object_id), tuple(frames), j_arr, f_arr, jm, jr, jd, fm, fr, fd, category
        )

    @property
    def name(self) -> str:
        """Official per-object name ``<sequence>_<id>``."""
        return f"{self.sequence}_{self.object_id}"

    def stats(self) -> dict[str, float]:
        """The six statistics keyed like the global figures (``J-Mean``, ...)."""
        return {
            "J-Mean": self.J_mean,
            "J-Recall": self.J_recall,
            "J-Decay": self.J_decay,
            "F-Mean": self.F_mean,
            "F-Recall": self.F_recall,
            "F-Decay": self.F_decay,
        }


def pooled_figures(objects: Sequence[ObjectScores]) -> dict[str, float]:
    """Global figures pooled over objects, exactly as the official code.

    Each statistic is the plain ``np.mean`` over all objects (not NaN-aware, sequences are
    not averaged first) and ``J&F-Mean = (J-Mean + F-Mean) / 2``.

    Args:
        objects: Per-object scores in evaluation order.

    Returns:
        The seven figures keyed by :data:`GLOBAL_KEYS`, as fractions; NaN when empty.
    """
    if not objects:
        return dict.fromkeys(GLOBAL_KEYS, float("nan"))
    j_m = float(np.mean([o.J_mean for o in objects]))
    f_m = float(np.mean([o.F_mean for o in objects]))
    return {
        "J&F-Mean": (j_m + f_m) / 2.0,
        "J-Mean": j_m,
        "J-Recall": float(np.mean([o.J_recall for o in objects])),
        "J-Decay": float(np.mean([o.J_decay for o in objects])),
        "F-Mean": f_m,
        "F-Recall": float(np.mean([o.F_recall for o in objects])),
        "F-Decay": float(np.mean([o.F_decay for o in objects])),
    }


@attrs.frozen(eq=False)
class EvaluationResult:
    """Scores of an evaluation run.

    Attributes:
        objects: Per-object scores, sequence by sequence, objects in id order.
        notes: Remarks on how the data was read (e.g. binarised DAVIS-2016 masks).
    """

    objects: tuple[ObjectScores, ...]
    notes: tuple[str, ...] = ()

    @property
    def sequences(self) -> list[str]:
        """Sequence names in evaluation order."""
        return list(dict.fromkeys(o.sequence for o in self.objects))

    def global_figures(self) -> dict[str, float]:
        """The seven official global figures (see :func:`pooled_figures`)."""
        return pooled_figures(self.objects)

    def per_sequence(self) -> dict[str, dict[str, float]]:
        """Figures of each sequence, pooled over its own objects (same rules as global)."""
        return {
            seq: pooled_figures([o for o in self.objects if o.sequence == seq])
            for seq in self.sequences
        }

    def per_object(self) -> dict[str, dict[str, float]]:
        """Statistics of each object keyed ``<sequence>_<id>``, plus its ``J&F-Mean``."""
        return {
            o.name: {"J&F-Mean": (o.J_mean + o.F_mean) / 2.0, **o.stats()} for o in self.objects
        }

    def to_dict(self) -> dict:
        """JSON-ready dict: global figures, per-sequence figures and per-object detail.

        Per-object entries use the keys of ``official_davis_jf.json`` (``evaluated_frames``,
        ``J_per_frame``, ``F_per_frame``, ``J_mean``, ``J_recall``, ..., ``F_decay``).
        """
        return {
            "global": self.global_figures(),
            "per_sequence": self.per_sequence(),
            "per_object": {
                o.name: {
                    "evaluated_frames": list(o.frames),
                    "J_per_frame": o.J.tolist(),
                    "F_per_frame": o.F.tolist(),
                    **{f"{k[0]}_{k[2:].lower()}": v for k, v in o.stats().items()},
                    **({"category": o.category} if o.category is not None else {}),
                }
                for o in self.objects
            },
            "notes": list(self.notes),
        }
