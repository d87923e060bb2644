"""Pack predictions into a YouTube-VOS submission zip (``Annotations/<vid>/<frame>.png``).

The evaluation server expects indexed PNGs at each video's original resolution, with the
object ids of ``meta.json``, one file per required frame (the union of the frames the meta
lists for the video's objects).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import attrs
import cv2
import numpy as np
from PIL import Image

from vosframe.core.errors import DataError, InputError
from vosframe.data.frames import list_images, natural_key
from vosframe.data.masks import davis_palette, list_masks, read_label_png
from vosframe.data.youtube_vos import load_youtube_vos_meta, required_frames


@attrs.frozen
class PackSummary:
    """What :func:`pack_youtube_vos` wrote.

    Attributes:
        path: The zip file.
        videos: Number of videos.
        frames: Number of PNG files.
        resized: Number of masks resized to the original resolution.
    """

    path: Path
    videos: int
    frames: int
    resized: int


def encode_indexed_png(mask: np.ndarray) -> bytes:
    """Encode a ``uint8`` label map as an indexed PNG with the DAVIS palette."""
    height, width = mask.shape
    image = Image.frombytes("P", (width, height), np.ascontiguousarray(mask, np.uint8).tobytes())
    image.putpalette(davis_palette().reshape(-1).tolist())
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _original_size(images_dir: Path, vid: str) -> tuple[int, int]:
    first = list_images(images_dir / vid, what="frame")[0]
    try:
        with Image.open(first) as image:
            width, height = image.size
    except OSError as exc:
        raise DataError(f"cannot read frame {first} to get the video size ({exc})") from None
    return height, width


def pack_youtube_vos(
    pred_dir: str | Path,
    out_zip: str | Path,
    *,
    meta_path: str | Path | None = None,
    images_dir: str | Path | None = None,
    videos: Sequence[str] | None = None,
) -> PackSummary:
    """Write a YouTube-VOS submission zip from per-video prediction folders.

    Args:
        pred_dir: ``<pred>/<vid>/<frame>.png`` label maps (an ``Annotations/`` level is
            accepted).
        out_zip: Output ``.zip`` file.
        meta_path: The split's ``meta.json``. With it, exactly the required frames of every
            meta video are packed (missing ones are an error, extra ones are left out) and
            labels are checked against the video's object ids. Without it, every PNG found
            is packed.
        images_dir: The split's ``JPEGImages`` folder; masks whose size differs from the
            video's first frame are resized to it (nearest neighbour).
        videos: Videos to pack (default: the meta's videos, else every prediction folder).

    Returns:
        A :class:`PackSummary`.

    Raises:
        DataError: Missing videos or frames, unreadable masks, or labels that are not
            objects of the video.
        InputError: ``out_zip`` is not a ``.zip`` path.
    """
    pred_root = Path(pred_dir)
    if (pred_root / "Annotations").is_dir():
        pred_root = pred_root / "Annotations"
    if not pred_root.is_dir():
        raise DataError(f"prediction folder {pred_root} does not exist; check the path")
    out_zip = Path(out_zip)
    if out_zip.suffix.lower() != ".zip":
        raise InputError(f"the submission must be a .zip file, got {out_zip}")
    meta = load_youtube_vos_meta(meta_path) if meta_path is not None else None
    if videos is not None:
        names = list(videos)
    elif meta is not None:
        names = list(meta)
    else:
        names = sorted(
            (e.name for e in pred_root.iterdir() if e.is_dir() and not e.name.startswith(".")),
            key=natural_key,
        )
    if not names:
        raise DataError(f"no video folders in {pred_root}")
    missing_videos = [v for v in names if not (pred_root / v).is_dir()]
    if missing_videos:
        raise DataError(
            f"{len(missing_videos)} video(s) have no prediction folder in {pred_root}: "
            f"{missing_videos[:5]}"
        )
    out_zip.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_zip.with_suffix(".zip.partial")
    try:
        count, resized = _write_zip(tmp, pred_root, names, meta, meta_path, images_dir)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(out_zip)
    return PackSummary(out_zip, len(names), count, resized)


def _write_zip(
    tmp: Path,
    pred_root: Path,
    names: Sequence[str],
    meta: dict | None,
    meta_path: str | Path | None,
    images_dir: str | Path | None,
) -> tuple[int, int]:
    count = resized = 0
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for vid in names:
            available = {p.stem: p for p in list_masks(pred_root / vid)}
            if meta is not None:
                if vid not in meta:
                    raise DataError(f"video {vid} is not in {meta_path}")
                frames = required_frames(meta[vid])
                missing = [f for f in frames if f not in available]
                if missing:
                    raise DataError(
                        f"video {vid}: {len(missing)} required frame(s) missing in "
                        f"{pred_root / vid}: {missing[:5]}; predict every frame meta.json lists"
                    )
                allowed = set(meta[vid]) | {0}
            else:
                frames, allowed = list(available), None
            size = _original_size(Path(images_dir), vid) if images_dir is not None else None
            for frame in frames:
                mask = read_label_png(available[frame])[0]
                if allowed is not None:
                    extra = sorted(set(np.unique(mask).tolist()) - allowed)
                    if extra:
                        raise DataError(
                            f"{available[frame]} has label(s) {extra} that are not objects of "
                            f"video {vid} (ids {sorted(allowed - {0})})"
                        )
                if size is not None and mask.shape != size:
                    mask = cv2.resize(mask, (size[1], size[0]), interpolation=cv2.INTER_NEAREST)
                    resized += 1
                archive.writestr(f"Annotations/{vid}/{frame}.png", encode_indexed_png(mask))
                count += 1
    return count, resized
