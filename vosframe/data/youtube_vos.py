"""YouTube-VOS layout: ``meta.json``, sparse annotations, objects that start mid-video.

Layout: ``<root>/<split>/JPEGImages/<vid>/<frame>.jpg``, ``<root>/<split>/Annotations/<vid>/
<frame>.png`` and ``<root>/<split>/meta.json`` with
``{"videos": {vid: {"objects": {id: {"category": c, "frames": [...]}}}}}``.

* ``train``: frames and masks every 5th frame of the 30 fps video (``00000``, ``00005``...).
* ``valid``: masks only on the frames where objects first appear; ``meta.json`` lists, per
  object, the frames where it must be predicted (from its first appearance on).
* ``valid_all_frames``: the dense 30 fps frames of the valid videos (use with
  ``frames_split="valid_all_frames"``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from vosframe.core.errors import DataError, InputError
from vosframe.data.datasets import ObjectInfo, SequenceDataset, build_sequence
from vosframe.data.frames import natural_key

VideoMeta = dict[int, ObjectInfo]
"""Objects of one video keyed by id."""


def load_youtube_vos_meta(path: str | Path) -> dict[str, VideoMeta]:
    """Parse a YouTube-VOS ``meta.json``.

    Args:
        path: The ``meta.json`` file.

    Returns:
        Per video (sorted by name), its objects keyed by integer id, with category and
        frame list (frames in natural order).

    Raises:
        DataError: The file is missing, not JSON, or not in the YouTube-VOS structure.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"YouTube-VOS meta file {path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"YouTube-VOS meta file {path} is not valid JSON ({exc})") from None
    videos = data.get("videos") if isinstance(data, dict) else None
    if not isinstance(videos, dict):
        raise DataError(
            f"{path} has no 'videos' mapping; expected "
            '{"videos": {vid: {"objects": {id: {"category": ..., "frames": [...]}}}}}'
        )
    meta: dict[str, VideoMeta] = {}
    for vid in sorted(videos, key=natural_key):
        objects = videos[vid].get("objects") if isinstance(videos[vid], dict) else None
        if not isinstance(objects, dict):
            raise DataError(f"{path}: video {vid!r} has no 'objects' mapping")
        parsed: VideoMeta = {}
        for key, obj in objects.items():
            if not str(key).isdigit() or not 1 <= int(key) <= 254:
                raise DataError(f"{path}: video {vid!r} has object id {key!r}; ids are 1..254")
            frames = obj.get("frames", []) if isinstance(obj, dict) else None
            if not isinstance(frames, list):
                raise DataError(f"{path}: video {vid!r} object {key}: 'frames' is not a list")
            parsed[int(key)] = ObjectInfo(
                int(key),
                obj.get("category"),
                tuple(sorted((str(f) for f in frames), key=natural_key)),
            )
        meta[vid] = dict(sorted(parsed.items()))
    return meta


def required_frames(objects: Mapping[int, ObjectInfo]) -> list[str]:
    """Frames a submission must contain for one video: the union of its objects' frames."""
    return sorted({f for o in objects.values() for f in o.frames}, key=natural_key)


class YouTubeVOSDataset(SequenceDataset):
    """YouTube-VOS sequences with per-object metadata.

    Args:
        root: Dataset root holding ``<split>/``.
        split: ``train``, ``valid`` or ``test`` (the annotation folder and ``meta.json``).
        frames_split: Folder of the frames, default ``split`` (``valid_all_frames`` for the
            dense frames of ``valid``).
        meta_path: ``meta.json`` (default ``<root>/<split>/meta.json``).
        videos: Explicit video names (default: every video in the meta file).
    """

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        frames_split: str | None = None,
        meta_path: str | Path | None = None,
        videos: Sequence[str] | None = None,
    ) -> None:
        root = Path(root)
        meta = load_youtube_vos_meta(meta_path or root / split / "meta.json")
        frames_root = root / (frames_split or split) / "JPEGImages"
        masks_root = root / split / "Annotations"
        names = list(meta) if videos is None else list(videos)
        unknown = [v for v in names if v not in meta]
        if unknown:
            raise InputError(f"videos {unknown[:5]} are not in the meta file of {root / split}")
        sequences = []
        for vid in names:
            seq = build_sequence(
                vid,
                frames_root / vid,
                masks_root / vid,
                mask_format="indexed",
                require="any",
                objects=meta[vid],
            )
            frame_names = set(seq.frame_names)
            for obj in meta[vid].values():
                if obj.first_frame is not None and obj.first_frame not in frame_names:
                    raise DataError(
                        f"video {vid}: object {obj.object_id} starts at frame "
                        f"{obj.first_frame}, which is not in {frames_root / vid}"
                    )
            sequences.append(seq)
        super().__init__(tuple(sequences))
