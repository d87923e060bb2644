"""Pack DAVIS-2016 train (240p) into a small DAVIS-layout copy for a one-shot GPU run.

The GPU machine receives the repository and at most ~60 MiB in all, so the 90 MB of JPEGs
are thinned: every ``--step``-th frame (with its mask) is kept and re-encoded as JPEG at
``--quality``; masks are rewritten as maximally compressed PNGs (same values). The copy
keeps the DAVIS layout (``JPEGImages/<seq>``, ``Annotations/<seq>``), so
:class:`vosframe.data.datasets.DavisDataset` and the fold tables read it unchanged; with
``step=2`` a training max-skip of ``s`` spans ``2 s`` original frames.

Usage::

    python gpu/pack_data.py [--src ../shared/data/davis2016/train_240p]
        [--dst gpu_data/davis2016/train_240p] [--step 2] [--quality 60]

The destination must not exist (nothing is overwritten); the copy is written to a
temporary folder and renamed at the end, so it is never left half-written.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import cv2


def pack(src: Path, dst: Path, step: int, quality: int) -> int:
    """Write the thinned copy; returns its size in bytes."""
    frames_root, masks_root = src / "JPEGImages", src / "Annotations"
    if not frames_root.is_dir() or not masks_root.is_dir():
        raise SystemExit(f"{src} is not a DAVIS-layout folder (JPEGImages/, Annotations/)")
    if dst.exists():
        raise SystemExit(f"{dst} exists; remove it first (this script never overwrites)")
    if step < 1 or not 1 <= quality <= 100:
        raise SystemExit(f"need --step >= 1 and 1 <= --quality <= 100, got {step}, {quality}")
    tmp = dst.with_name(dst.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    total = 0
    for seq in sorted(p.name for p in frames_root.iterdir() if p.is_dir()):
        frames = sorted((frames_root / seq).glob("*.jpg"))[::step]
        (tmp / "JPEGImages" / seq).mkdir(parents=True)
        (tmp / "Annotations" / seq).mkdir(parents=True)
        for f in frames:
            mask = masks_root / seq / (f.stem + ".png")
            if not mask.is_file():
                continue
            image = cv2.imread(str(f), cv2.IMREAD_COLOR)
            ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
            out = tmp / "JPEGImages" / seq / f.name
            out.write_bytes(buf.tobytes())
            m = cv2.imread(str(mask), cv2.IMREAD_UNCHANGED)
            ok2, mbuf = cv2.imencode(".png", m, [cv2.IMWRITE_PNG_COMPRESSION, 9])
            if not (ok and ok2):
                raise SystemExit(f"could not encode {f}")
            (tmp / "Annotations" / seq / mask.name).write_bytes(mbuf.tobytes())
            total += len(buf) + len(mbuf)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp.rename(dst)
    return total


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--src", default="../shared/data/davis2016/train_240p")
    p.add_argument("--dst", default="gpu_data/davis2016/train_240p")
    p.add_argument("--step", type=int, default=2)
    p.add_argument("--quality", type=int, default=60)
    a = p.parse_args(argv)
    size = pack(Path(a.src), Path(a.dst), a.step, a.quality)
    print(f"packed {a.src} -> {a.dst}: {size / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
