"""Evaluation metrics: DAVIS J/F exactly as the official code, and a YouTube-VOS mode.

Python API::

    from vosframe.metrics import evaluate_folders
    result = evaluate_folders("DAVIS/Annotations/480p", "my_results")
    result.global_figures()   # {"J&F-Mean": ..., "J-Mean": ..., ...} as fractions

See :mod:`vosframe.metrics.evaluate` for the protocol, :mod:`vosframe.metrics.davis` for
the per-frame measures and :mod:`vosframe.metrics.ytvos` for the (unofficial) YouTube-VOS
mode.
"""

from vosframe.metrics.davis import (
    BOUND_TH,
    boundary_radius,
    db_eval_iou,
    db_statistics,
    decay_bins,
    disk,
    f_measure,
    frame_scores,
    seg2bmap,
)
from vosframe.metrics.evaluate import (
    SequenceJob,
    evaluate_folders,
    evaluate_job,
    evaluate_sequence,
    plan_jobs,
    run_jobs,
)
from vosframe.metrics.report import format_table, global_json, write_csv
from vosframe.metrics.results import (
    GLOBAL_KEYS,
    EvaluationResult,
    ObjectScores,
    pooled_figures,
)
from vosframe.metrics.ytvos import (
    YTVOS_KEYS,
    YouTubeVOSResult,
    categories_of,
    evaluate_youtube_vos,
    score_video,
)

__all__ = [
    "BOUND_TH",
    "GLOBAL_KEYS",
    "YTVOS_KEYS",
    "EvaluationResult",
    "ObjectScores",
    "SequenceJob",
    "YouTubeVOSResult",
    "boundary_radius",
    "categories_of",
    "db_eval_iou",
    "db_statistics",
    "decay_bins",
    "disk",
    "evaluate_folders",
    "evaluate_job",
    "evaluate_sequence",
    "evaluate_youtube_vos",
    "f_measure",
    "format_table",
    "frame_scores",
    "global_json",
    "plan_jobs",
    "pooled_figures",
    "run_jobs",
    "score_video",
    "seg2bmap",
    "write_csv",
]
