"""Reading and writing label masks: palette, binary, per-object folders, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vosframe.core.errors import DataError, InputError
from vosframe.data import (
    colorize,
    davis_palette,
    read_mask,
    read_masks,
    read_object_folders,
    write_mask,
)


def test_davis_palette() -> None:
    pal = davis_palette()
    assert pal.shape == (256, 3) and pal.dtype == np.uint8
    assert pal[:4].tolist() == [[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0]]
    assert pal[255].tolist() == [224, 224, 192]
    assert len({tuple(c) for c in pal}) == 256


def test_indexed_roundtrip_with_palette(tmp_path: Path) -> None:
    labels = np.random.default_rng(0).choice([0, 1, 3, 7, 254], size=(30, 40)).astype(np.uint8)
    path = write_mask(tmp_path / "sub" / "m.png", labels)
    with Image.open(path) as image:
        assert image.mode == "P"
        assert image.getpalette()[:6] == [0, 0, 0, 128, 0, 0]
    np.testing.assert_array_equal(read_mask(path), labels)
    np.testing.assert_array_equal(colorize(labels), davis_palette()[labels])


def test_binary_davis2016_and_grayscale_labels(tmp_path: Path) -> None:
    binary = np.zeros((10, 12), np.uint8)
    binary[2:5, 3:9] = 255
    Image.fromarray(binary).save(tmp_path / "b.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "b.png"), binary // 255)
    assert read_mask(tmp_path / "b.png", "indexed").max() == 255
    labels = binary // 255 * 2
    Image.fromarray(labels).save(tmp_path / "l.png")  # L mode with labels {0, 2}
    np.testing.assert_array_equal(read_mask(tmp_path / "l.png"), labels)
    np.testing.assert_array_equal(read_mask(tmp_path / "l.png", "binary"), labels > 0)
    Image.fromarray(binary > 0).save(tmp_path / "one.png")  # 1-bit PNG
    np.testing.assert_array_equal(read_mask(tmp_path / "one.png"), binary // 255)


def test_rgb_palette_masks(tmp_path: Path) -> None:
    labels = np.array([[0, 1, 2], [3, 4, 255]], np.uint8)
    Image.fromarray(davis_palette()[labels]).save(tmp_path / "rgb.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "rgb.png"), labels)
    odd = davis_palette()[labels].copy()
    odd[0, 0] = (1, 2, 3)
    Image.fromarray(odd).save(tmp_path / "odd.png")
    with pytest.raises(DataError, match=r"colour \(1, 2, 3\)"):
        read_mask(tmp_path / "odd.png")


def test_bad_mask_files(tmp_path: Path) -> None:
    (tmp_path / "x.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(DataError, match="x.png is corrupt"):
        read_mask(tmp_path / "x.png")
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "m.jpg")
    with pytest.raises(DataError, match="JPEG file; masks must be PNGs"):
        read_mask(tmp_path / "m.jpg")
    good = tmp_path / "good.png"
    write_mask(good, np.ones((40, 40), np.uint8))
    (tmp_path / "cut.png").write_bytes(good.read_bytes()[:60])
    with pytest.raises(DataError, match="cut.png"):
        read_mask(tmp_path / "cut.png")
    with pytest.raises(DataError, match="does not exist"):
        read_mask(tmp_path / "missing.png")


def test_write_mask_validation(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="2-D"):
        write_mask(tmp_path / "a.png", np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(InputError, match="integer labels"):
        write_mask(tmp_path / "a.png", np.zeros((2, 2), np.float32))
    with pytest.raises(InputError, match="outside 0..255"):
        write_mask(tmp_path / "a.png", np.full((2, 2), 300))
    with pytest.raises(InputError, match="PNG"):
        write_mask(tmp_path / "a.jpg", np.zeros((2, 2), np.uint8))


def test_read_masks_folder_decides_format_once(tmp_path: Path) -> None:
    a = np.zeros((6, 6), np.uint8)
    a[1:3, 1:3] = 255
    Image.fromarray(a).save(tmp_path / "00000.png")
    Image.fromarray(np.zeros((6, 6), np.uint8)).save(tmp_path / "00001.png")
    masks = read_masks(tmp_path)
    assert list(masks) == ["00000", "00001"]
    assert masks["00000"].max() == 1
    Image.fromarray(np.zeros((7, 6), np.uint8)).save(tmp_path / "00002.png")
    with pytest.raises(DataError, match="different sizes"):
        read_masks(tmp_path)


def test_per_object_folders(tmp_path: Path) -> None:
    one = np.zeros((8, 8), np.uint8)
    one[0:4, 0:4] = 255
    three = np.zeros((8, 8), np.uint8)
    three[2:6, 2:6] = 1
    Image.fromarray(one).save(_mk(tmp_path / "1") / "00000.png")
    Image.fromarray(three).save(_mk(tmp_path / "3") / "00000.png")
    Image.fromarray(three).save(tmp_path / "3" / "00001.png")
    merged = read_object_folders(tmp_path)
    assert list(merged) == ["00000", "00001"]
    assert merged["00000"][0, 0] == 1 and merged["00000"][3, 3] == 3  # higher id wins
    assert set(np.unique(merged["00001"])) == {0, 3}
    (tmp_path / "car").mkdir()
    with pytest.raises(DataError, match="'car'"):
        read_object_folders(tmp_path)


def _mk(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
