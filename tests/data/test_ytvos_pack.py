"""YouTube-VOS submission packer."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from vosframe.cli.main import main
from vosframe.core.errors import DataError
from vosframe.data import pack_youtube_vos, write_mask

FRAMES = ["00000", "00005", "00010"]


@pytest.fixture
def valid(tmp_path: Path) -> Path:
    meta = {
        "videos": {
            "v1": {
                "objects": {
                    "1": {"category": "cat", "frames": FRAMES},
                    "3": {"category": "dog", "frames": FRAMES[1:]},
                }
            }
        }
    }
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    for name in FRAMES:  # original frames are 60 x 80
        path = tmp_path / "JPEGImages" / "v1" / f"{name}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), np.zeros((60, 80, 3), np.uint8))
    for name in [*FRAMES, "00001"]:  # predictions at half size, plus a dense frame
        m = np.zeros((30, 40), np.uint8)
        m[5:15, 5:15] = 1
        m[20:28, 20:30] = 3
        write_mask(tmp_path / "pred" / "v1" / f"{name}.png", m)
    return tmp_path


def test_pack_required_frames_at_original_size(valid: Path) -> None:
    summary = pack_youtube_vos(
        valid / "pred",
        valid / "out" / "sub.zip",
        meta_path=valid / "meta.json",
        images_dir=valid / "JPEGImages",
    )
    assert summary.frames == 3 and summary.resized == 3 and summary.videos == 1
    with zipfile.ZipFile(summary.path) as archive:
        names = sorted(archive.namelist())
        assert names == [f"Annotations/v1/{f}.png" for f in FRAMES]
        image = Image.open(io.BytesIO(archive.read(names[1])))
        assert image.mode == "P" and image.size == (80, 60)
        assert set(np.unique(np.array(image))) == {0, 1, 3}


def test_pack_errors(valid: Path) -> None:
    (valid / "pred" / "v1" / "00005.png").unlink()
    with pytest.raises(DataError, match="required frame"):
        pack_youtube_vos(valid / "pred", valid / "s.zip", meta_path=valid / "meta.json")
    assert not (valid / "s.zip").exists() and not list(valid.glob("*.partial"))
    write_mask(valid / "pred" / "v1" / "00005.png", np.full((30, 40), 2, np.uint8))
    with pytest.raises(DataError, match=r"label\(s\) \[2\]"):
        pack_youtube_vos(valid / "pred", valid / "s.zip", meta_path=valid / "meta.json")


def test_pack_cli(valid: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(
        [
            "eval",
            "--pred",
            str(valid / "pred"),
            "--pack-ytvos",
            str(valid / "c.zip"),
            "--ytvos-meta",
            str(valid / "meta.json"),
        ]
    )
    assert code == 0 and "3 masks" in capsys.readouterr().out
    assert (valid / "c.zip").is_file()
