"""Data: frames and masks on disk, datasets, training clips and synthetic clips.

* :mod:`~vosframe.data.frames`: frames from image folders or video files (RGB ``uint8``);
* :mod:`~vosframe.data.masks`: label PNGs (indexed, DAVIS-2016 binary, per-object folders),
  the DAVIS palette, :func:`write_mask`;
* :mod:`~vosframe.data.overlay`: mask overlays as PNG frames or mp4;
* :mod:`~vosframe.data.datasets` / :mod:`~vosframe.data.youtube_vos`: DAVIS, YouTube-VOS and
  plain-folder sequence datasets; :func:`~vosframe.data.davis.open_davis` opens a user's DAVIS
  folder (2016 or 2017, told by its masks);
* :mod:`~vosframe.data.clips` / :mod:`~vosframe.data.augment`: training clip datasets;
* :mod:`~vosframe.data.synthetic` / :mod:`~vosframe.data.textures`: deterministic synthetic
  clips and :func:`default_clip`;
* :mod:`~vosframe.data.ytvos_pack`: YouTube-VOS submission zips.
"""

from vosframe.data.augment import ClipAugment
from vosframe.data.clips import (
    ClipDataset,
    SyntheticClipDataset,
    collate_clips,
    sample_frame_positions,
)
from vosframe.data.datasets import (
    DavisDataset,
    FolderDataset,
    ObjectInfo,
    SequenceDataset,
    VideoSequence,
    build_sequence,
)
from vosframe.data.davis import davis_year, open_davis
from vosframe.data.frames import (
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    FolderFrames,
    VideoFrames,
    list_images,
    open_frames,
    read_frame,
)
from vosframe.data.masks import (
    MaskFormat,
    colorize,
    davis_palette,
    list_masks,
    read_mask,
    read_masks,
    read_object_folders,
    write_mask,
)
from vosframe.data.overlay import VideoWriter, overlay, write_overlay_frames, write_overlay_video
from vosframe.data.synthetic import (
    JUMP_MAX_IOU,
    STATIC_MIN_IOU,
    SyntheticClip,
    SyntheticClipGenerator,
    default_clip,
    generate_clip,
)
from vosframe.data.textures import cutouts_from_sequences
from vosframe.data.youtube_vos import YouTubeVOSDataset, load_youtube_vos_meta, required_frames
from vosframe.data.ytvos_pack import PackSummary, pack_youtube_vos

__all__ = [
    "IMAGE_EXTENSIONS",
    "JUMP_MAX_IOU",
    "STATIC_MIN_IOU",
    "VIDEO_EXTENSIONS",
    "ClipAugment",
    "ClipDataset",
    "DavisDataset",
    "FolderDataset",
    "FolderFrames",
    "MaskFormat",
    "ObjectInfo",
    "PackSummary",
    "SequenceDataset",
    "SyntheticClip",
    "SyntheticClipDataset",
    "SyntheticClipGenerator",
    "VideoFrames",
    "VideoSequence",
    "VideoWriter",
    "YouTubeVOSDataset",
    "build_sequence",
    "collate_clips",
    "colorize",
    "cutouts_from_sequences",
    "davis_palette",
    "davis_year",
    "default_clip",
    "generate_clip",
    "list_images",
    "list_masks",
    "load_youtube_vos_meta",
    "open_davis",
    "open_frames",
    "overlay",
    "pack_youtube_vos",
    "read_frame",
    "read_mask",
    "read_masks",
    "read_object_folders",
    "required_frames",
    "sample_frame_positions",
    "write_mask",
    "write_overlay_frames",
    "write_overlay_video",
]
