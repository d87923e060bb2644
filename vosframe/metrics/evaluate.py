"""DAVIS semi-supervised evaluation of sequences and folders, as the official code does it.

Protocol (``davis2017-evaluation``, semi-supervised task):

* The GT frames of a sequence are its sorted PNGs; the **first and the last frame are not
  scored**. Predictions are read only for the scored frames, with the same file names.
* Objects are the labels ``1..max(GT frame 0)``; objects that first appear later are
  ignored, and a missing id in between is scored against an empty GT.
* GT label 255 (void) is set to background; void is not used otherwise.
* A prediction label above the object count is an error (the official code exits with
  status 0 there; vosframe raises :class:`~vosframe.core.errors.DataError`).
* Per object: Mean / Recall / Decay of J and F. Globals are plain means over all objects of
  all sequences (:func:`~vosframe.metrics.results.pooled_figures`).

DAVIS-2016 masks (grayscale, values {0, 255}) are detected per sequence in ``auto`` format:
255 is then object 1, and the predictions of that sequence are binarised (any label > 0 is
the object), as DAVIS 2016 is single-object. This is what ``official_davis_jf.json`` setting
A does before running the official code.

Sequences are scored in parallel worker processes (``multiprocessing``; the job function is
importable and its arguments picklable, so it also works with the ``spawn`` start method);
small jobs run in-process.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import os
import signal
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import attrs
import numpy as np

from vosframe.core.errors import DataError, InputError
from vosframe.data.frames import natural_key
from vosframe.data.masks import (
    VOID_LABEL,
    MaskFormat,
    is_binary_png,
    list_masks,
    read_label_png,
)
from vosframe.metrics.davis import BOUND_TH, frame_scores
from vosframe.metrics.results import EvaluationResult, ObjectScores

IN_PROCESS_MAX_FRAMES = 150
"""Below this many GT frames in total, ``workers=None`` scores in the calling process."""


def count_objects(first_gt: np.ndarray, binary: bool) -> int:
    """Number of objects of a sequence: ``max`` label of its first GT frame (255 is void)."""
    if binary:
        return int(bool(np.any(first_gt)))
    labels = first_gt[first_gt != VOID_LABEL]
    return int(labels.max()) if labels.size else 0


def score_frames(
    gt_frames: Iterable[np.ndarray],
    pred_frames: Iterable[np.ndarray],
    num_objects: int,
    *,
    binary: bool = False,
    bound_th: float = BOUND_TH,
    describe: Callable[[int], str] = lambda t: f"scored frame {t}",
    error: type[Exception] = InputError,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-object, per-frame J and F of already-selected frames.

    Args:
        gt_frames: GT label maps of the scored frames.
        pred_frames: Predicted label maps, one per GT frame.
        num_objects: Objects ``1..num_objects`` are scored.
        binary: Treat both GT and prediction as binary (label > 0 is object 1).
        bound_th: Boundary tolerance of F.
        describe: Names the prediction of scored frame ``t`` in error messages.
        error: Exception class raised for a bad prediction.

    Returns:
        ``(J, F)``, each ``num_objects x num_frames`` float64.
    """
    j_rows: list[list[float]] = [[] for _ in range(num_objects)]
    f_rows: list[list[float]] = [[] for _ in range(num_objects)]
    count = 0
    pred_iter = iter(pred_frames)
    for t, gt in enumerate(gt_frames):
        pred = next(pred_iter, None)
        if pred is None:
            raise error(f"no prediction for {describe(t)}; predict every scored frame")
        gt, pred = np.asarray(gt), np.asarray(pred)
        if pred.ndim != 2 or gt.shape != pred.shape:
            raise error(
                f"{describe(t)} has shape {pred.shape} but the GT is {gt.shape}; un-pad and "
                "resize predictions to the GT resolution (F's tolerance depends on it)"
            )
        if binary:
            gt, pred = gt > 0, pred > 0
        else:
            gt = np.where(gt == VOID_LABEL, 0, gt)
            top = int(pred.max()) if pred.size else 0
            if top > num_objects:
                raise error(
                    f"{describe(t)} contains label {top}, but the first GT frame has only "
                    f"{num_objects} object(s) (labels 1..{num_objects}); objects must be "
                    "given in the first frame and keep their ids"
                )
        for k in range(1, num_objects + 1):
            j, f = frame_scores(gt == k, pred == k, bound_th)
            j_rows[k - 1].append(j)
            f_rows[k - 1].append(f)
        count += 1
    shape = (num_objects, count)
    return (
        np.asarray(j_rows, dtype=np.float64).reshape(shape),
        np.asarray(f_rows, dtype=np.float64).reshape(shape),
    )


def evaluate_sequence(
    gt_masks: Sequence[np.ndarray],
    pred_masks: Sequence[np.ndarray | None],
    *,
    name: str = "sequence",
    frame_names: Sequence[str] | None = None,
    gt_format: MaskFormat = "indexed",
    bound_th: float = BOUND_TH,
    davis_compat: bool = True,
) -> list[ObjectScores]:
    """Score one sequence held in memory with the DAVIS protocol.

    Args:
        gt_masks: GT label maps of **all** frames (the first and last are not scored).
        pred_masks: Predicted label maps, one per GT frame; entries for the first and last
            frame are ignored (may be ``None``).
        name: Sequence name used in results and messages.
        frame_names: Frame names (default ``00000``, ``00001``, ...).
        gt_format: ``indexed`` (255 is void) or ``binary`` (any label > 0 is object 1 in
            GT and prediction); ``auto`` picks binary when GT values are all in {0, 255}.
        bound_th: Boundary tolerance of F.
        davis_compat: Official ``uint8`` Decay bins (see
            :func:`~vosframe.metrics.davis.db_statistics`).

    Returns:
        One :class:`ObjectScores` per object ``1..max(gt_masks[0])``.

    Raises:
        InputError: Fewer than 3 frames, mismatched lengths or shapes, no object in the first
            GT frame, or a predicted label above the object count.
    """
    n = len(gt_masks)
    if n < 3:
        raise InputError(
            f"{name}: {n} GT frame(s); the DAVIS protocol skips the first and last frame, "
            "so a sequence needs at least 3"
        )
    if len(pred_masks) != n:
        raise InputError(f"{name}: {len(pred_masks)} predictions for {n} GT frames")
    names = [f"{i:05d}" for i in range(n)] if frame_names is None else list(frame_names)
    if len(names) != n:
        raise InputError(f"{name}: {len(names)} frame names for {n} GT frames")
    first = np.asarray(gt_masks[0])
    if gt_format == "auto":
        binary = bool(np.isin(np.unique(first), (0, 255)).all())
    elif gt_format in ("indexed", "binary"):
        binary = gt_format == "binary"
    else:
        raise InputError(f"unknown gt_format {gt_format!r}; use 'auto', 'indexed' or 'binary'")
    num_objects = count_objects(first, binary)
    if num_objects == 0:
        raise InputError(f"{name}: the first GT frame has no object; give its objects' masks")
    j, f = score_frames(
        gt_masks[1:-1],
        pred_masks[1:-1],
        num_objects,
        binary=binary,
        bound_th=bound_th,
        describe=lambda t: f"{name} prediction of frame {names[t + 1]}",
    )
    scored = names[1:-1]
    return [
        ObjectScores.from_frames(name, k + 1, scored, j[k], f[k], davis_compat)
        for k in range(num_objects)
    ]


@attrs.frozen
class SequenceJob:
    """One sequence to score from PNG folders (picklable, for worker processes).

    Attributes:
        name: Sequence name.
        gt_dir: Folder of GT PNGs (all frames).
        pred_dir: Folder of predicted PNGs with the GT's file names.
        gt_format: Mask format of the GT (see :data:`~vosframe.data.masks.MaskFormat`).
        bound_th: Boundary tolerance of F.
        davis_compat: Official ``uint8`` Decay bins.
    """

    name: str
    gt_dir: Path
    pred_dir: Path
    gt_format: MaskFormat = "auto"
    bound_th: float = BOUND_TH
    davis_compat: bool = True


def evaluate_job(job: SequenceJob) -> tuple[list[ObjectScores], bool]:
    """Score one sequence from its folders (the worker function).

    Returns:
        ``(objects, binary)``: the per-object scores and whether the GT was read as binary.

    Raises:
        DataError: Missing/corrupt/empty folders or files, fewer than 3 GT frames, an empty
            first GT frame, or a bad prediction (shape, label above the object count).
    """
    gt_paths = list_masks(job.gt_dir)
    if len(gt_paths) < 3:
        raise DataError(
            f"GT folder {job.gt_dir} has {len(gt_paths)} mask(s); the DAVIS protocol skips "
            "the first and last frame, so a sequence needs at least 3 annotated frames"
        )
    first, mode = read_label_png(gt_paths[0])
    binary = job.gt_format == "binary" or (job.gt_format == "auto" and is_binary_png(first, mode))
    num_objects = count_objects(first, binary)
    if num_objects == 0:
        raise DataError(
            f"first GT mask {gt_paths[0]} has no object; semi-supervised evaluation takes the "
            "objects from the first frame: fix or replace that mask"
        )
    scored = gt_paths[1:-1]
    if not Path(job.pred_dir).is_dir():
        raise DataError(f"prediction folder {job.pred_dir} for sequence {job.name} does not exist")
    pred_paths = [Path(job.pred_dir) / p.name for p in scored]
    missing = [p.name for p in pred_paths if not p.is_file()]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise DataError(
            f"{len(missing)} prediction(s) missing in {job.pred_dir}: {shown}; write one PNG "
            "per GT frame with the GT's file name (the first and last frame may be absent)"
        )

    def gt_frames() -> Iterable[np.ndarray]:
        for path in scored:
            array = read_label_png(path)[0]
            if array.shape != first.shape:
                raise DataError(
                    f"GT mask {path} is {array.shape[1]}x{array.shape[0]} but {gt_paths[0].name} "
                    f"is {first.shape[1]}x{first.shape[0]}; all GT masks must have one size"
                )
            yield array

    same = Path(job.pred_dir).resolve() == Path(job.gt_dir).resolve()
    gt_list = list(gt_frames()) if same else None  # self-evaluation: read each PNG once
    j, f = score_frames(
        gt_list if same else gt_frames(),
        gt_list if same else (read_label_png(p)[0] for p in pred_paths),
        num_objects,
        binary=binary,
        bound_th=job.bound_th,
        describe=lambda t: f"prediction {pred_paths[t]}",
        error=DataError,
    )
    names = [p.stem for p in scored]
    objects = [
        ObjectScores.from_frames(job.name, k + 1, names, j[k], f[k], job.davis_compat)
        for k in range(num_objects)
    ]
    return objects, binary


def resolve_annotation_root(path: str | Path) -> Path:
    """Find the folder of per-sequence GT folders.

    Accepts the folder itself, a dataset root holding ``Annotations/`` (DAVIS 2016), or one
    holding ``Annotations/480p/`` (DAVIS 2017).
    """
    root = Path(path)
    if not root.is_dir():
        raise DataError(f"GT folder {root} does not exist; check --gt")
    if (root / "Annotations").is_dir():
        root = root / "Annotations"
    if (root / "480p").is_dir():
        root = root / "480p"
    return root


def list_sequences(root: Path) -> list[str]:
    """Names of the sequence folders in ``root`` (hidden entries ignored), natural order."""
    return sorted(
        (e.name for e in root.iterdir() if e.is_dir() and not e.name.startswith(".")),
        key=natural_key,
    )


def plan_jobs(
    gt_dir: str | Path,
    pred_dir: str | Path,
    *,
    sequences: Sequence[str] | None = None,
    skip_missing: bool = False,
    gt_format: MaskFormat = "auto",
    bound_th: float = BOUND_TH,
    davis_compat: bool = True,
) -> tuple[list[SequenceJob], list[str]]:
    """Pair GT and prediction sequence folders.

    Returns:
        ``(jobs, skipped)``: one job per evaluated sequence, and the GT sequences skipped
        because the prediction lacks them (only with ``skip_missing``).
    """
    if gt_format not in ("auto", "indexed", "binary"):
        raise InputError(f"unknown gt_format {gt_format!r}; use 'auto', 'indexed' or 'binary'")
    gt_root = resolve_annotation_root(gt_dir)
    pred_root = Path(pred_dir)
    if not pred_root.is_dir():
        raise DataError(f"prediction folder {pred_root} does not exist; check --pred")
    available = list_sequences(gt_root)
    if not available:
        if any(p.suffix.lower() == ".png" for p in gt_root.iterdir()):
            # a single sequence: --gt and --pred are the sequence folders themselves
            job = SequenceJob(gt_root.name, gt_root, pred_root, gt_format, bound_th, davis_compat)
            return [job], []
        raise DataError(
            f"GT folder {gt_root} holds no sequence folders; expect <gt>/<sequence>/*.png"
        )
    names = list(available if sequences is None else sequences)
    unknown = [s for s in names if s not in available]
    if unknown:
        raise InputError(f"sequences {unknown} are not in {gt_root}; available: {available}")
    if not names:
        raise InputError("no sequence selected; pass at least one sequence name")
    missing = [s for s in names if not (pred_root / s).is_dir()]
    if missing and not skip_missing:
        raise DataError(
            f"the predictions in {pred_root} lack {len(missing)} of {len(names)} GT "
            f"sequence(s): {missing}; predict them, select sequences explicitly, or skip "
            "them (skip_missing / --skip-missing)"
        )
    jobs = [
        SequenceJob(s, gt_root / s, pred_root / s, gt_format, bound_th, davis_compat)
        for s in names
        if s not in missing
    ]
    if not jobs:
        raise DataError(f"none of the selected sequences has predictions in {pred_root}")
    return jobs, missing


def run_jobs(
    jobs: Sequence[SequenceJob], workers: int | None = None, progress: bool = False
) -> list[tuple[list[ObjectScores], bool]]:
    """Score jobs, in worker processes when worthwhile; results keep the jobs' order.

    Args:
        jobs: Sequences to score.
        workers: Process count; ``None`` picks ``min(cpu_count, len(jobs))`` and stays
            in-process for small jobs; ``1`` always runs in-process.
        progress: Show a tqdm progress bar on stderr.
    """
    if workers is not None and workers < 1:
        raise InputError(f"workers must be >= 1 (or None for automatic), got {workers}")
    sizes = [_count_files(job.gt_dir) for job in jobs]
    if workers is None:
        workers = min(os.cpu_count() or 1, len(jobs))
        if sum(sizes) < IN_PROCESS_MAX_FRAMES:
            workers = 1
    workers = min(workers, len(jobs))
    order = sorted(range(len(jobs)), key=lambda i: -sizes[i])  # longest first: better balance
    results: list[tuple[list[ObjectScores], bool] | None] = [None] * len(jobs)
    bar = _progress(len(jobs)) if progress else None
    if workers == 1:
        for i in range(len(jobs)):
            results[i] = evaluate_job(jobs[i])
            if bar is not None:
                bar.update()
    else:
        # Note: never call cv2.setNumThreads in forked workers: it deadlocks when the parent
        # already used OpenCV's thread pool (plain cv2 calls are fork-safe).
        with worker_pool(workers) as pool:
            tagged = pool.imap_unordered(_indexed_job, [(i, jobs[i]) for i in order])
            for i, result in tagged:
                results[i] = result
                if bar is not None:
                    bar.update()
    if bar is not None:
        bar.close()
    return [r for r in results if r is not None]


def worker_pool(workers: int) -> multiprocessing.pool.Pool:
    """A process pool whose workers handle signals by default (:func:`_worker_signals`)."""
    return multiprocessing.get_context().Pool(workers, initializer=_worker_signals)


def _worker_signals() -> None:
    """Default signal handling in a scoring worker: the pool stops its workers with SIGTERM
    when it closes, and a handler inherited from the parent (e.g. one that turns SIGTERM into
    ``KeyboardInterrupt`` for its own cleanup) would print a traceback from every worker.
    Ctrl-C is left to the parent, which closes the pool."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _indexed_job(item: tuple[int, SequenceJob]) -> tuple[int, tuple[list[ObjectScores], bool]]:
    index, job = item
    return index, evaluate_job(job)


def _count_files(folder: Path) -> int:
    try:
        return sum(1 for _ in os.scandir(folder))
    except OSError:
        return 0


def _progress(total: int):
    from tqdm import tqdm

    return tqdm(total=total, desc="evaluating", unit="seq", leave=False)


def evaluate_folders(
    gt_dir: str | Path,
    pred_dir: str | Path,
    *,
    sequences: Sequence[str] | None = None,
    skip_missing: bool = False,
    gt_format: MaskFormat = "auto",
    bound_th: float = BOUND_TH,
    davis_compat: bool = True,
    workers: int | None = None,
    progress: bool = False,
) -> EvaluationResult:
    """Evaluate a folder of predicted sequences against a folder of GT sequences (DAVIS).

    Args:
        gt_dir: ``<gt>/<sequence>/<frame>.png``; a dataset root with ``Annotations/`` or
            ``Annotations/480p/`` is accepted too.
        pred_dir: ``<pred>/<sequence>/<frame>.png`` (indexed or grayscale PNGs).
        sequences: Sequences to score (default: every GT sequence), in this order.
        skip_missing: Skip GT sequences without a prediction folder instead of failing.
        gt_format: ``auto`` (DAVIS-2016 {0, 255} masks become binary, see module doc),
            ``indexed`` or ``binary``.
        bound_th: Boundary tolerance of F (official 0.008 of the diagonal).
        davis_compat: Official ``uint8`` Decay bins (identical results below 256 frames).
        workers: Worker processes (``None``: automatic; ``1``: in-process).
        progress: Show a progress bar.

    Returns:
        The per-object scores; :meth:`EvaluationResult.global_figures` gives the globals.

    Raises:
        DataError: Missing, empty, corrupt or inconsistent folders and files.
        InputError: Unknown sequence names or bad arguments.
    """
    jobs, skipped = plan_jobs(
        gt_dir,
        pred_dir,
        sequences=sequences,
        skip_missing=skip_missing,
        gt_format=gt_format,
        bound_th=bound_th,
        davis_compat=davis_compat,
    )
    outputs = run_jobs(jobs, workers, progress)
    objects = tuple(o for objs, _ in outputs for o in objs)
    notes = []
    binary = [job.name for job, (_, is_bin) in zip(jobs, outputs) if is_bin]
    if binary:
        notes.append(
            f"{len(binary)} sequence(s) have DAVIS-2016 binary GT (0/255): 255 is object 1 "
            "and their predictions were binarised (label > 0)"
        )
    if skipped:
        notes.append(f"skipped {len(skipped)} sequence(s) without predictions: {skipped}")
    return EvaluationResult(objects, tuple(notes))
