"""Fuzz the mask and frame readers: random bytes, truncated files, odd modes and bit depths.

Only two outcomes are accepted: a clean error (``DataError``/``InputError`` naming the
file) or a correct read (the right shape, dtype and values). Seeds are fixed.
"""

from __future__ import annotations

import io
import warnings

import cv2
import numpy as np
import pytest
from PIL import Image

from vosframe.core.errors import DataError, InputError
from vosframe.data.frames import CorruptFrameWarning, read_frame
from vosframe.data.masks import SoftMaskWarning, read_mask, read_masks

H, W = 24, 32


def _png(array: np.ndarray, mode: str | None = None) -> bytes:
    """PNG bytes of ``array``; PIL picks the mode from the dtype (uint16: ``I;16``, bool:
    ``1``), and ``mode`` converts to it (``LA``, ``RGBA``) otherwise."""
    buf = io.BytesIO()
    image = Image.fromarray(array)
    if mode is not None and image.mode != mode:
        image = image.convert(mode)
    image.save(buf, format="PNG")
    return buf.getvalue()


def _frame_bytes(ext: str, seed: int = 0) -> tuple[bytes, np.ndarray]:
    rng = np.random.default_rng(seed)
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[..., 0] = np.linspace(0, 255, W, dtype=np.uint8)[None]
    rgb[..., 1] = rng.integers(0, 256, (H, 1), np.uint8)
    ok, enc = cv2.imencode(ext, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return enc.tobytes(), rgb


def _read_mask_outcome(path):
    """('ok', array) or ('error', message); anything else fails the test."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SoftMaskWarning)
            mask = read_mask(path)
    except (DataError, InputError) as exc:
        assert str(path) in str(exc) or path.name in str(exc), str(exc)
        return "error", str(exc)
    assert mask.dtype == np.uint8 and mask.ndim == 2
    return "ok", mask


def _read_frame_outcome(path):
    """('ok', frame), ('warned', frame) for a damaged JPEG that decoded with a warning
    naming the file, or ('error', message); anything else fails the test."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame = read_frame(path)
    except (DataError, InputError) as exc:
        assert path.name in str(exc), str(exc)
        return "error", str(exc)
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    damaged = [w for w in caught if issubclass(w.category, CorruptFrameWarning)]
    if damaged:
        assert path.name in str(damaged[0].message)
        return "warned", frame
    return "ok", frame


@pytest.mark.parametrize("seed", range(3))
def test_random_bytes_are_clean_errors(tmp_path, seed):
    rng = np.random.default_rng(seed)
    for i in range(20):
        data = rng.integers(0, 256, int(rng.integers(0, 4000)), np.uint8).tobytes()
        for suffix, reader in (("png", _read_mask_outcome), ("jpg", _read_frame_outcome)):
            path = tmp_path / f"rand_{seed}_{i}.{suffix}"
            path.write_bytes(data)
            assert reader(path)[0] == "error"  # random bytes never decode


@pytest.mark.parametrize("seed", range(2))
def test_truncated_and_flipped_files(tmp_path, seed):
    """Cut or corrupt valid files anywhere: an error, a read of the right size, or (JPEG)
    a read with a warning that names the damaged file."""
    rng = np.random.default_rng(seed)
    label = np.zeros((H, W), np.uint8)
    label[4:12, 5:20] = 1
    label[14:20, 10:30] = 2
    good = {"png": _png(label, "L"), "jpg": _frame_bytes(".jpg", seed)[0]}
    good["fpng"] = _frame_bytes(".png", seed)[0]
    for i in range(25):
        for kind, data in good.items():
            cut = bytearray(data[: int(rng.integers(0, len(data)))])
            flipped = bytearray(data)
            for pos in rng.integers(0, len(data), 4):
                flipped[pos] ^= int(rng.integers(1, 256))
            for j, variant in enumerate((bytes(cut), bytes(flipped))):
                suffix = "png" if kind in ("png", "fpng") else "jpg"
                path = tmp_path / f"{kind}_{i}_{j}.{suffix}"
                path.write_bytes(variant)
                if kind == "png":
                    outcome, value = _read_mask_outcome(path)
                    if outcome == "ok":
                        assert value.shape == (H, W)
                else:
                    outcome, value = _read_frame_outcome(path)
                    if outcome == "ok":  # a damaged header may decode, but with a warning
                        assert value.shape == (H, W, 3)


def test_damaged_jpeg_warns_with_file_name(tmp_path):
    data = bytearray(cv2.imencode(".jpg", np.full((240, 320, 3), 90, np.uint8))[1].tobytes())
    rng = np.random.default_rng(0)
    data[len(data) // 2 : len(data) // 2 + 64] = rng.integers(0, 256, 64, np.uint8).tobytes()
    path = tmp_path / "garbled.jpg"
    path.write_bytes(bytes(data))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = read_frame(path)
    assert frame.shape == (240, 320, 3)
    assert any(
        issubclass(w.category, CorruptFrameWarning) and "garbled.jpg" in str(w.message)
        for w in caught
    )


MODES = [
    # (description, PNG bytes, expected labels or None for "an error")
    ("8-bit 0/255", lambda m: _png((m > 0).astype(np.uint8) * 255, "L"), "binary"),
    ("16-bit 0/255", lambda m: _png(((m > 0) * 255).astype(np.uint16), "I;16"), "binary"),
    ("16-bit 0/65535", lambda m: _png(((m > 0) * 65535).astype(np.uint16), "I;16"), "binary"),
    ("1-bit", lambda m: _png(m > 0, "1"), "binary"),
    ("8-bit labels", lambda m: _png(m, "L"), "labels"),
    ("16-bit labels", lambda m: _png(m.astype(np.uint16), "I;16"), "labels"),
    ("16-bit above 255", lambda m: _png((m.astype(np.uint16) * 300), "I;16"), None),
    ("LA", lambda m: _png(np.stack([m * 100, m * 0 + 255], -1).astype(np.uint8), "LA"), None),
    ("CMYK-like RGBA off palette", lambda m: _png(np.full((H, W, 4), 7, np.uint8), "RGBA"), None),
]


@pytest.mark.parametrize("name,make,expect", MODES, ids=[m[0] for m in MODES])
def test_modes_and_bit_depths(tmp_path, name, make, expect):
    label = np.zeros((H, W), np.uint8)
    label[4:12, 5:20] = 1
    label[14:20, 10:30] = 2
    path = tmp_path / "mask.png"
    path.write_bytes(make(label))
    outcome, value = _read_mask_outcome(path)
    if expect is None:
        assert outcome == "error"
    elif expect == "binary":
        assert outcome == "ok" and np.array_equal(value, (label > 0).astype(np.uint8))
    else:
        assert outcome == "ok" and np.array_equal(value, label)


def test_8_and_16_bit_binary_masks_read_the_same(tmp_path):
    """Issue 21 case 3: a 16-bit 0/255 mask is object 1, as the same mask in 8 bits."""
    m = np.zeros((H, W), np.uint8)
    m[3:9, 4:15] = 255
    (tmp_path / "a.png").write_bytes(_png(m, "L"))
    (tmp_path / "b.png").write_bytes(_png(m.astype(np.uint16), "I;16"))
    a, b = read_mask(tmp_path / "a.png"), read_mask(tmp_path / "b.png")
    assert np.array_equal(a, b) and set(np.unique(a).tolist()) == {0, 1}


def test_soft_edged_mask_is_one_object_not_hundreds(tmp_path):
    """Issue 21 case 3: anti-aliased 0/255 edges give one object and a warning."""
    m = np.zeros((96, 128), np.uint8)
    cv2.circle(m, (64, 48), 30, 255, -1, lineType=cv2.LINE_AA)
    m = cv2.GaussianBlur(m, (7, 7), 2)
    assert len(np.unique(m)) > 20
    path = tmp_path / "soft.png"
    path.write_bytes(_png(m, "L"))
    with pytest.warns(SoftMaskWarning, match="soft.png"):
        auto = read_mask(path)
    assert set(np.unique(auto).tolist()) == {0, 1}
    assert abs(int(auto.sum()) - int((m >= 128).sum())) == 0
    assert np.array_equal(read_mask(path, "binary"), (m > 0).astype(np.uint8))
    assert len(np.unique(read_mask(path, "indexed"))) == len(np.unique(m))
    (tmp_path / "seq").mkdir()
    (tmp_path / "seq" / "00000.png").write_bytes(_png(m, "L"))
    (tmp_path / "seq" / "00001.png").write_bytes(_png(m, "L"))
    with pytest.warns(SoftMaskWarning):
        folder = read_masks(tmp_path / "seq")
    assert all(set(np.unique(v).tolist()) == {0, 1} for v in folder.values())


def test_grayscale_labels_with_a_small_object_stay_labels(tmp_path):
    """Few grey levels that are object ids (one object small) are not a soft mask."""
    m = np.zeros((H, W), np.uint8)
    m[2:20, 2:28] = 1
    m[21:23, 3:5] = 2
    (tmp_path / "l.png").write_bytes(_png(m, "L"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", SoftMaskWarning)
        assert np.array_equal(read_mask(tmp_path / "l.png"), m)


def test_unknown_format_is_an_input_error_before_reading(tmp_path):
    with pytest.raises(InputError, match="--mask-format"):
        read_mask(tmp_path / "does_not_exist.png", "gray")  # type: ignore[arg-type]
