"""Segment a video from disk into indexed PNGs (the library side of ``vosframe segment``).

The work is split in two so that every input is checked before the (slow) model is
built: :func:`prepare_segment` opens the frames, reads the given masks and checks the
output folder; :func:`run_segment` segments and writes. :func:`segment_video` does both.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from vosframe.app.outdir import check_output_dir, staged_output_dir
from vosframe.core.errors import DataError, InputError
from vosframe.data.frames import FolderFrames, VideoFrames, open_frames
from vosframe.data.masks import MaskFormat, list_masks, read_mask, write_mask

if TYPE_CHECKING:
    from vosframe.core.model import VOSModel


def read_given_masks(
    masks: str | Path, names: list[str], fmt: MaskFormat = "auto"
) -> dict[int, np.ndarray]:
    """Read the given masks: one PNG (for the first frame) or a folder of PNGs whose stems
    match frame stems (objects may start on any of those frames).

    Args:
        masks: A PNG or a folder of PNGs.
        names: Frame names (stems), in order.
        fmt: Mask format (see :data:`vosframe.data.masks.MaskFormat`).

    Returns:
        ``{frame_index: label_map}``.

    Raises:
        DataError: No mask for the first frame, a first mask without any object, or stems
            that match no frame.
    """
    masks = Path(masks)
    if masks.is_file():
        out = {0: read_mask(masks, fmt)}
        first = masks
    elif not masks.is_dir():
        raise DataError(f"mask source {masks} does not exist; give a PNG or a folder of PNGs")
    else:
        index = {n: i for i, n in enumerate(names)}
        out = {}
        unknown = []
        first = masks / f"{names[0]}.png"
        for path in list_masks(masks):
            if path.stem in index:
                out[index[path.stem]] = read_mask(path, fmt)
                if index[path.stem] == 0:
                    first = path
            else:
                unknown.append(path.name)
        if 0 not in out:
            raise DataError(
                f"no mask for the first frame {names[0]!r} in {masks}. Fix: add {names[0]}.png "
                f"(masks are matched to frames by file stem)."
            )
        if unknown:
            raise DataError(
                f"{len(unknown)} mask(s) in {masks} match no frame stem (e.g. {unknown[:3]}); "
                f"frames are named like {names[:3]}. Fix: rename the masks to the frame stems."
            )
    if not out[0].any():
        raise DataError(
            f"the first-frame mask {first} is all background (every pixel is 0), so there is "
            f"no object to segment. Fix: give a mask whose object pixels are non-zero (255 "
            f"or the object id), or check that it is the right file."
        )
    return out


@attrs.define(eq=False)
class SegmentJob:
    """A checked segmentation job (inputs read, output folder checked).

    Attributes:
        source: The frames.
        names: Frame names (output PNG stems).
        given: Given masks ``{frame_index: label_map}``.
        out_dir: Output folder (absolute).
    """

    source: FolderFrames | VideoFrames
    names: list[str]
    given: dict[int, np.ndarray]
    out_dir: Path


def prepare_segment(
    frames: str | Path,
    masks: str | Path,
    out_dir: str | Path,
    *,
    mask_format: MaskFormat = "auto",
    overwrite: bool = False,
    arg_names: dict[str, str] | None = None,
) -> SegmentJob:
    """Check every input of a segmentation job before any work is done.

    Args:
        frames: Folder of frames or a video file.
        masks: First-frame mask PNG or a folder of PNGs.
        out_dir: Output folder; may not be, hold or sit inside ``frames`` or ``masks``.
        mask_format: How to read the masks (``auto``, ``binary``, ``indexed``).
        overwrite: Replace an existing non-empty ``out_dir`` (as a whole, at the end).
        arg_names: Names of ``frames``/``masks``/``out``/``overwrite`` in messages
            (the CLI passes its option names).

    Raises:
        InputError: A bad output folder (see :func:`vosframe.app.outdir.check_output_dir`).
        DataError: Missing or unreadable frames or masks, or an empty first mask.
    """
    n = {"frames": "frames", "masks": "masks", "out": "out_dir", "overwrite": "overwrite=True"}
    n.update(arg_names or {})
    out = check_output_dir(
        out_dir,
        inputs={n["frames"]: frames, n["masks"]: masks},
        overwrite=overwrite,
        out_name=n["out"],
        overwrite_name=n["overwrite"],
        will_hold="one mask PNG per frame",
    )
    source = open_frames(frames)
    names = list(source.names)
    given = read_given_masks(masks, names, mask_format)
    return SegmentJob(source, names, given, out)


def run_segment(
    model: VOSModel,
    job: SegmentJob,
    *,
    session_options: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Segment a prepared job and write one indexed PNG per frame.

    Outputs are written to a hidden temporary folder beside ``job.out_dir`` and swapped
    into place only when the whole video succeeded, so a failure or an interruption
    leaves the previous output as it was and nothing half-written.

    Returns:
        The session summary (frames, time, FPS, reuse rate, per-object counts).
    """
    names = job.names
    with staged_output_dir(job.out_dir) as tmp:
        session = model.new_session(**(session_options or {}))
        for i, result in enumerate(session.propagate(iter(job.source), masks_at=job.given)):
            if result.labels.max(initial=0) > 255:
                raise InputError("object ids above 255 cannot be written as indexed PNGs")
            write_mask(tmp / f"{names[i]}.png", result.labels.astype(np.uint8))
            if progress is not None:
                progress(1)
    summary = session.summary()
    summary["output"] = str(job.out_dir)
    return summary


def segment_video(
    model: VOSModel,
    frames: str | Path,
    masks: str | Path,
    out_dir: str | Path,
    *,
    session_options: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
    mask_format: MaskFormat = "auto",
    overwrite: bool = False,
) -> dict[str, Any]:
    """Segment every frame of a folder or video and write one indexed PNG per frame.

    PNGs are named after the input frames' stems. Every input is checked first
    (:func:`prepare_segment`); outputs are written beside ``out_dir`` and swapped in
    only when the whole video succeeded (:func:`run_segment`).

    Args:
        model: The model.
        frames: Folder of frames or a video file.
        masks: First-frame mask PNG or a folder of PNGs.
        out_dir: Output folder (new, or replaced as a whole with ``overwrite=True``).
        session_options: Keyword arguments of ``model.new_session``.
        progress: Called with 1 after each frame.
        mask_format: How to read the masks (``auto``, ``binary``, ``indexed``).
        overwrite: Replace an existing non-empty ``out_dir``.

    Returns:
        The session summary (frames, time, FPS, reuse rate, per-object counts).
    """
    job = prepare_segment(frames, masks, out_dir, mask_format=mask_format, overwrite=overwrite)
    return run_segment(model, job, session_options=session_options, progress=progress)
