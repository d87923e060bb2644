"""Segment a video from disk into indexed PNGs (the library side of ``vosframe segment``)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from vosframe.core.errors import DataError, InputError
from vosframe.core.model import VOSModel
from vosframe.data.frames import open_frames
from vosframe.data.masks import list_masks, read_mask, write_mask


def read_given_masks(masks: str | Path, names: list[str]) -> dict[int, np.ndarray]:
    """Read the given masks: one PNG (for the first frame) or a folder of PNGs whose stems
    match frame stems (objects may start on any of those frames).

    Returns:
        ``{frame_index: label_map}``.

    Raises:
        DataError: No mask for the first frame, or stems that match no frame.
    """
    masks = Path(masks)
    if masks.is_file():
        return {0: read_mask(masks)}
    if not masks.is_dir():
        raise DataError(f"mask source {masks} does not exist; give a PNG or a folder of PNGs")
    index = {n: i for i, n in enumerate(names)}
    out: dict[int, np.ndarray] = {}
    unknown = []
    for path in list_masks(masks):
        if path.stem in index:
            out[index[path.stem]] = read_mask(path)
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
    return out


def segment_video(
    model: VOSModel,
    frames: str | Path,
    masks: str | Path,
    out_dir: str | Path,
    *,
    session_options: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Segment every frame of a folder or video and write one indexed PNG per frame.

    PNGs are named after the input frames' stems. Outputs are written to a temporary
    folder beside ``out_dir`` and moved into place only when the whole video succeeded,
    so a failure leaves nothing half-written.

    Returns:
        The session summary (frames, time, FPS, reuse rate, per-object counts).
    """
    source = open_frames(frames)
    names = list(source.names)
    given = read_given_masks(masks, names)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        session = model.new_session(**(session_options or {}))
        for i, result in enumerate(session.propagate(iter(source), masks_at=given)):
            if result.labels.max(initial=0) > 255:
                raise InputError("object ids above 255 cannot be written as indexed PNGs")
            write_mask(tmp / f"{names[i]}.png", result.labels.astype(np.uint8))
            if progress is not None:
                progress(1)
        out_dir.mkdir(parents=True, exist_ok=True)
        for f in sorted(tmp.iterdir()):
            os.replace(f, out_dir / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    summary = session.summary()
    summary["output"] = str(out_dir)
    return summary
