"""Open a DAVIS-layout folder as a dataset, telling DAVIS 2016 from DAVIS 2017 by its masks.

Benchmarks, fold selection and training recipes all read DAVIS folders given by a user, so
the checks of the layout (with errors that say what a DAVIS folder holds) live here, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vosframe.core.errors import DataError
from vosframe.data.datasets import DavisDataset
from vosframe.data.frames import natural_key
from vosframe.data.masks import is_binary_png, list_masks, read_label_png

__all__ = ["davis_year", "open_davis"]


def _annotation_root(root: Path) -> Path:
    """``<root>/Annotations``, or its ``480p/`` level when present (DAVIS 2017)."""
    ann = root / "Annotations"
    return ann / "480p" if (ann / "480p").is_dir() else ann


def davis_year(root: str | Path) -> str:
    """``"2016"`` if the first mask of the first sequence is a 0/255 mask, else ``"2017"``.

    Raises:
        DataError: No sequence folder, or no PNG mask in the first one.
    """
    ann = _annotation_root(Path(root))
    seqs = sorted(
        (e.name for e in ann.iterdir() if e.is_dir() and not e.name.startswith(".")),
        key=natural_key,
    )
    if not seqs:
        raise DataError(f"{ann} holds no sequence folders; expect Annotations/<sequence>/*.png")
    masks = list_masks(ann / seqs[0])
    if not masks:
        raise DataError(f"{ann / seqs[0]} holds no PNG mask")
    return "2016" if is_binary_png(*read_label_png(masks[0])) else "2017"


def open_davis(data: str | Path, sequences: Sequence[str] | None = None) -> DavisDataset:
    """Open a DAVIS-layout folder (``JPEGImages/``, ``Annotations/``, optional ``480p/``).

    Args:
        data: The folder.
        sequences: Sequence names to keep (default: all).

    Raises:
        DataError: The folder or its ``JPEGImages``/``Annotations`` folders are missing.
        InputError: Unknown sequence names.
    """
    root = Path(data)
    if not root.is_dir():
        raise DataError(
            f"data folder {root} does not exist. Fix: give a DAVIS-layout folder holding "
            "JPEGImages/ and Annotations/, e.g. ../shared/data/davis2016/val_480p"
        )
    for sub in ("JPEGImages", "Annotations"):
        if not (root / sub).is_dir():
            raise DataError(
                f"data folder {root} has no {sub}/ folder; a DAVIS-layout folder holds "
                "JPEGImages/<sequence>/*.jpg and Annotations/<sequence>/*.png"
            )
    return DavisDataset(root, year=davis_year(root), sequences=sequences)
