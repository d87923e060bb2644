"""DAVIS, YouTube-VOS and folder datasets, and their errors."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from vosframe.core.errors import DataError, InputError
from vosframe.data import DavisDataset, FolderDataset, YouTubeVOSDataset, write_mask


def _frame(path: Path, value: int = 90, size=(32, 48)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((*size, 3), value, np.uint8))


def _mask(t: int, size=(32, 48), objects=(1,)) -> np.ndarray:
    m = np.zeros(size, np.uint8)
    for k in objects:
        m[4 * k : 4 * k + 6, 2 + t : 14 + t] = k
    return m


def _davis(root: Path, year: str, names=("a", "b"), n: int = 5, res: str = "480p") -> None:
    level = [res] if year == "2017" else []
    for s in names:
        for t in range(n):
            _frame(root.joinpath("JPEGImages", *level, s, f"{t:05d}.jpg"))
            m = _mask(t, objects=(1, 2) if year == "2017" else (1,))
            path = root.joinpath("Annotations", *level, s, f"{t:05d}.png")
            if year == "2016":
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray((m > 0).astype(np.uint8) * 255).save(path)
            else:
                write_mask(path, m)
    if year == "2017":
        (root / "ImageSets" / "2017").mkdir(parents=True)
        (root / "ImageSets" / "2017" / "val.txt").write_text("b\n")


def test_davis2017_layout_and_split_file(tmp_path: Path) -> None:
    _davis(tmp_path, "2017")
    ds = DavisDataset(tmp_path, year="2017", split="val")
    assert ds.names == ["b"]
    seq = ds["b"]
    assert len(seq) == 5 and seq.annotated_indices == [0, 1, 2, 3, 4]
    assert seq.read_frame(0).shape == (32, 48, 3)
    assert set(np.unique(seq.read_mask(2))) == {0, 1, 2}
    assert list(seq.given_masks()) == [0]
    assert DavisDataset(tmp_path, year="2017", sequences=["a", "b"]).names == ["a", "b"]
    assert DavisDataset(tmp_path, year="2017", sequences="b").names == ["b"]  # not ['b']'s chars
    with pytest.raises(InputError):
        DavisDataset(tmp_path, year="2017", sequences=["zzz"])


def test_davis2016_binary_masks(tmp_path: Path) -> None:
    _davis(tmp_path, "2016")
    ds = DavisDataset(tmp_path, year="2016")
    assert ds.names == ["a", "b"]
    assert set(np.unique(ds[0].read_mask(0))) == {0, 1}


def test_dataset_errors(tmp_path: Path) -> None:
    _davis(tmp_path, "2016", names=("a",))
    ann = tmp_path / "Annotations" / "a"
    (ann / "00003.png").unlink()
    with pytest.raises(DataError, match="5 frames .* but 4 masks"):
        DavisDataset(tmp_path, year="2016")
    for p in ann.iterdir():
        p.unlink()
    with pytest.raises(DataError, match="is empty"):
        DavisDataset(tmp_path, year="2016")
    write_mask(ann / "00001.png", _mask(1))
    with pytest.raises(DataError, match="no mask for the first frame 00000.jpg"):
        DavisDataset(tmp_path, year="2016")
    write_mask(ann / "00000.png", _mask(0))
    write_mask(ann / "00099.png", _mask(0))
    with pytest.raises(DataError, match="have no frame with the same name"):
        DavisDataset(tmp_path, year="2016")
    (ann / "00099.png").unlink()
    (tmp_path / "JPEGImages" / "a" / "thumbs.db").write_bytes(b"x")
    with pytest.raises(DataError, match="thumbs.db"):
        DavisDataset(tmp_path, year="2016")
    with pytest.raises(InputError, match="year"):
        DavisDataset(tmp_path, year="2018")


def test_first_frame_only_layout_is_accepted(tmp_path: Path) -> None:
    _davis(tmp_path, "2017", names=("a",))
    for p in sorted((tmp_path / "Annotations" / "480p" / "a").iterdir())[1:]:
        p.unlink()
    seq = DavisDataset(tmp_path, year="2017", sequences=["a"])[0]
    assert seq.annotated_indices == [0] and seq.has_mask(0) and not seq.has_mask(1)


def test_folder_dataset(tmp_path: Path) -> None:
    for s in ("clip1", "clip2"):
        for t in range(4):
            _frame(tmp_path / "frames" / s / f"img{t}.png")
        write_mask(tmp_path / "masks" / s / "img0.png", _mask(0))
    ds = FolderDataset(tmp_path / "frames", tmp_path / "masks")
    assert ds.names == ["clip1", "clip2"] and ds[1].annotated_indices == [0]
    frames_only = FolderDataset(tmp_path / "frames")
    assert frames_only[0].mask_paths == {}
    with pytest.raises(DataError, match="holds no sequence folders"):
        FolderDataset(tmp_path / "frames" / "clip1")


def test_youtube_vos_layout_with_late_object(tmp_path: Path) -> None:
    split = tmp_path / "train"
    names = [f"{t:05d}" for t in range(0, 20, 5)]
    for t, name in enumerate(names):
        _frame(split / "JPEGImages" / "v1" / f"{name}.jpg")
        write_mask(
            split / "Annotations" / "v1" / f"{name}.png",
            _mask(t, objects=(1, 2) if t >= 2 else (1,)),
        )
    meta = {
        "videos": {
            "v1": {
                "objects": {
                    "1": {"category": "dog", "frames": names},
                    "2": {"category": "cat", "frames": names[2:]},
                }
            }
        }
    }
    (split / "meta.json").write_text(json.dumps(meta))
    ds = YouTubeVOSDataset(tmp_path, split="train")
    seq = ds["v1"]
    assert seq.objects[2].first_frame == "00010" and seq.objects[2].category == "cat"
    given = seq.given_masks()
    assert list(given) == [0, 2]
    assert set(np.unique(given[0])) == {0, 1} and set(np.unique(given[2])) == {0, 2}
    meta["videos"]["v1"]["objects"]["2"]["frames"] = ["00099"]
    (split / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(DataError, match="starts at frame 00099"):
        YouTubeVOSDataset(tmp_path, split="train")
    (split / "meta.json").write_text(json.dumps({"vids": {}}))
    with pytest.raises(DataError, match="no 'videos' mapping"):
        YouTubeVOSDataset(tmp_path, split="train")


@pytest.mark.shared_data
def test_shared_davis2016(shared_data: Path) -> None:
    train = DavisDataset(shared_data / "davis2016" / "train_240p", year="2016")
    val = DavisDataset(shared_data / "davis2016" / "val_480p", year="2016")
    assert len(train) == 30 and len(val) == 10
    assert sum(len(s) for s in train) == 2079 and sum(len(s) for s in val) == 567
    seq = val["blackswan"]
    assert len(seq) == 50
    assert seq.read_frame(0).shape == (480, 854, 3)
    assert set(np.unique(seq.read_mask(0))) == {0, 1}
