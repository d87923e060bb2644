"""Training clip sampling, augmentation and batching."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from vosframe.core.errors import DataError
from vosframe.data import (
    ClipAugment,
    ClipDataset,
    DavisDataset,
    FolderDataset,
    SyntheticClipDataset,
    collate_clips,
    davis_palette,
    sample_frame_positions,
    write_mask,
)


def _mask(t: int) -> np.ndarray:
    m = np.zeros((60, 80), np.uint8)
    m[5:30, 5 + t : 30 + t] = 1
    m[35:55, 40:70] = 2
    m[10:20, 50:60] = 4
    return m


@pytest.fixture
def folder(tmp_path: Path) -> FolderDataset:
    for s, n in (("s1", 12), ("s2", 9), ("short", 2)):
        for t in range(n):
            m = _mask(t)
            path = tmp_path / "frames" / s / f"{t:05d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            # frame = palette colours of the mask: lets tests check frame/mask alignment
            cv2.imwrite(str(path), cv2.cvtColor(davis_palette()[m], cv2.COLOR_RGB2BGR))
            write_mask(tmp_path / "masks" / s / f"{t:05d}.png", m)
    return FolderDataset(tmp_path / "frames", tmp_path / "masks", require_masks="first")


def test_frame_positions_are_ordered_with_bounded_skips() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        available = int(rng.integers(3, 30))
        pos = sample_frame_positions(rng, available, 3, 5)
        gaps = np.diff(pos)
        assert pos[0] >= 0 and pos[-1] < available
        assert (gaps >= 1).all() and (gaps <= 5).all()
    assert sample_frame_positions(rng, 3, 3, 10) == [0, 1, 2]


def test_clip_items(folder: FolderDataset) -> None:
    ds = ClipDataset(folder, num_frames=3, max_skip=3, max_objects=2, size=(48, 64), seed=1)
    assert len(ds) == 2  # "short" has fewer than 3 annotated frames
    item = ds[0]
    assert item["frames"].shape == (3, 3, 48, 64) and item["frames"].dtype == torch.uint8
    assert item["masks"].shape == (3, 48, 64) and item["masks"].dtype == torch.uint8
    assert 1 <= item["num_objects"] <= 2
    assert int(item["masks"].max()) <= item["num_objects"]
    idx = item["frame_indices"].tolist()
    assert idx == sorted(idx) and all(1 <= b - a <= 3 for a, b in zip(idx, idx[1:]))
    again = ClipDataset(folder, num_frames=3, max_skip=3, max_objects=2, size=(48, 64), seed=1)[0]
    assert torch.equal(item["frames"], again["frames"]) and torch.equal(
        item["masks"], again["masks"]
    )


def test_augmentation_keeps_masks_on_their_pixels(folder: FolderDataset) -> None:
    aug = ClipAugment(brightness=0, contrast=0, saturation=0, hue=0, frame_jitter=0)
    ds = ClipDataset(folder, num_frames=3, max_objects=3, size=(60, 80), augment=aug, seed=3)
    object_colours = {tuple(davis_palette()[k]) for k in (1, 2, 4)}
    for i in range(len(ds)):
        item = ds[i]
        frames = item["frames"].permute(0, 2, 3, 1).numpy()
        masks = item["masks"].numpy()
        used = []
        for frame, labels in zip(frames, masks):
            for j in range(1, item["num_objects"] + 1):
                kernel = np.ones((3, 3), np.uint8)
                inside = cv2.erode((labels == j).astype(np.uint8), kernel, borderValue=0) > 0
                if not inside.any():
                    continue
                colours = {tuple(c) for c in frame[inside]}
                assert len(colours) == 1 and colours <= object_colours  # one source object
                used.append((j, colours.pop()))
        assert len(dict(used)) == len(set(used))  # each id keeps its object over the clip


def test_batching_with_dataloader(folder: FolderDataset) -> None:
    ds = ClipDataset(folder, num_frames=2, size=(32, 32), samples_per_epoch=4, seed=0)
    batch = next(iter(DataLoader(ds, batch_size=4, collate_fn=collate_clips)))
    assert batch["frames"].shape == (4, 2, 3, 32, 32)
    assert batch["num_objects"].shape == (4,) and len(batch["sequence"]) == 4
    default = next(iter(DataLoader(ds, batch_size=2)))  # torch's default collate works too
    assert default["masks"].shape == (2, 2, 32, 32)


def test_no_usable_sequence_is_an_error(folder: FolderDataset) -> None:
    with pytest.raises(DataError, match="annotated"):
        ClipDataset(folder, num_frames=50)


def test_disabled_augment_is_a_centred_resize() -> None:
    rng = np.random.default_rng(0)
    frame = np.zeros((40, 80, 3), np.uint8)
    mask = np.zeros((40, 80), np.uint8)
    mask[10:30, 30:50] = 1
    frames, masks = ClipAugment.disabled()(rng, [frame], [mask], (20, 20))
    assert frames[0].shape == (20, 20, 3)
    assert masks[0][10, 10] == 1 and masks[0][0, 0] == 0


def test_synthetic_clip_dataset() -> None:
    ds = SyntheticClipDataset(length=3, seed=5, num_frames=3, size=(64, 96), max_objects=2)
    item = ds[1]
    assert item["frames"].shape == (3, 3, 64, 96)
    assert 1 <= item["num_objects"] <= 2
    assert torch.equal(item["masks"], ds[1]["masks"])
    batch = collate_clips([ds[0], ds[2]])
    assert batch["masks"].shape == (2, 3, 64, 96)


@pytest.mark.shared_data
def test_clips_from_davis_train(shared_data: Path) -> None:
    train = DavisDataset(shared_data / "davis2016" / "train_240p", year="2016")
    ds = ClipDataset(train, num_frames=3, size=(192, 192), seed=0)
    item = ds[4]
    assert item["frames"].shape == (3, 3, 192, 192)
    assert item["num_objects"] == 1 and int(item["masks"][0].sum()) > 0


def test_items_batch_with_mmengine_collate(folder: FolderDataset) -> None:
    from mmengine.dataset import default_collate, pseudo_collate

    ds = ClipDataset(folder, num_frames=2, size=(32, 32), samples_per_epoch=2, seed=0)
    items = [ds[0], ds[1]]
    stacked = default_collate(items)
    assert stacked["frames"].shape == (2, 2, 3, 32, 32)
    assert pseudo_collate(items)["masks"][1].shape == (2, 32, 32)
