"""Hard training clips (vosframe.data.stress.hard_clip) and their bank source."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vosframe.core.errors import ConfigError, InputError
from vosframe.data.stress import HARD_KINDS, hard_clip
from vosframe.data.synthetic import SyntheticClipGenerator
from vosframe.training.bank import stress_source
from vosframe.training.datasets import BankClipDataset

SIZE = dict(height=96, width=160, num_frames=14)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return np.count_nonzero(a & b) / union if union else 1.0


@pytest.mark.parametrize("kind", HARD_KINDS)
def test_a_seed_gives_one_clip_with_object_1_on_frame_0(kind):
    frames, masks = hard_clip(kind, 4, **SIZE)
    again = hard_clip(kind, 4, **SIZE)
    other = hard_clip(kind, 5, **SIZE)
    assert frames.shape == (14, 96, 160, 3) and masks.shape == (14, 96, 160)
    assert frames.dtype == masks.dtype == np.uint8
    assert (frames == again[0]).all() and (masks == again[1]).all()
    assert not np.array_equal(frames, other[0])
    assert np.count_nonzero(masks[0] == 1) >= 50  # a training clip can start on frame 0


@pytest.mark.parametrize("kind", ["occlusion", "exit"])
def test_hidden_objects_vanish_for_3_to_8_frames_and_come_back(kind):
    runs = set()
    for seed in range(6):
        _, masks = hard_clip(kind, seed)
        present = (masks == 1).reshape(len(masks), -1).any(1)
        gone = np.flatnonzero(~present)
        assert len(gone) and present[0] and present[-1]
        assert (np.diff(gone) == 1).all() and 3 <= len(gone) <= 8 and gone[0] >= 2
        runs.add((int(gone[0]), len(gone)))
    assert len(runs) > 1  # the hidden run is drawn from the seed


def test_small_objects_cover_under_2_5_percent_of_the_frame():
    areas = [(hard_clip("small", s)[1] == 1).mean((1, 2)) for s in range(6)]
    assert max(a.max() for a in areas) < 0.025 and min(a.min() for a in areas) > 0.001
    assert np.median(np.concatenate(areas)) < 0.012


def _plain(seed: int) -> SyntheticClipGenerator:
    """The generator hard_clip starts from for ``seed`` (the same object count)."""
    objects = int(np.random.default_rng(seed).integers(1, 3))
    return SyntheticClipGenerator(
        height=240,
        width=427,
        num_frames=24,
        min_objects=objects,
        max_objects=objects,
        motion="normal",
    )


def test_deform_changes_the_object_faster_than_the_plain_generator():
    slower, faster = [], []
    for seed in range(4):
        _, masks = hard_clip("deform", seed)
        base = _plain(seed).generate(seed).masks
        slower += [_iou(base[t] == 1, base[t + 1] == 1) for t in range(len(base) - 1)]
        faster += [_iou(masks[t] == 1, masks[t + 1] == 1) for t in range(len(masks) - 1)]
    assert np.mean(faster) < np.mean(slower) - 0.05


def test_the_distractor_is_an_unlabelled_copy_of_object_1():
    frames, masks = hard_clip("distractor", 1)
    layered = _plain(1).generate(1, with_layers=True)  # the same clip without the distractor
    assert (layered.masks == masks).all()  # labelled as without it
    changed = (frames != layered.frames).any(-1)
    assert not (changed & (masks > 0)).any()  # drawn behind every object
    area = layered.full_masks[:, 0].sum((1, 2))
    assert (changed.sum((1, 2)) > 0.3 * area).mean() > 0.8  # mostly visible on most frames

    def rgb(pixels):
        pixels = pixels.reshape(-1, 3).astype(np.int64)
        return pixels[:, 0] << 16 | pixels[:, 1] << 8 | pixels[:, 2]

    texture = rgb(layered.layers[0, 0][layered.full_masks[0, 0]])
    assert np.isin(rgb(frames[0][changed[0]]), texture).all()  # object 1's own pixels


def test_bad_kinds_and_lengths_are_refused_with_the_fix():
    with pytest.raises(InputError, match="choose from"):
        hard_clip("blur", 0)
    with pytest.raises(InputError, match="num_frames >= 12"):
        hard_clip("small", 0, num_frames=8)
    with pytest.raises(ConfigError, match="non-empty subset"):
        list(stress_source(2, (96, 160), kinds=("small", "blur")))


def test_bank_stress_source_names_and_clips(tmp_path):
    names = [n for n, _ in stress_source(6, (96, 160), length=12, seed=3)]
    assert names[:2] == ["stress/occlusion-12f-3-0", "stress/exit-12f-3-1"]
    assert [n.split("/")[1].split("-")[0] for n in names] == [*HARD_KINDS, "occlusion"]
    ds = BankClipDataset(
        tmp_path / "bank",
        dict(type="ResNet", depth=18),
        [dict(type="stress", count=3, length=12, seed=3, kinds=["small", "exit"])],
        size=(96, 160),
        num_frames=3,
        max_skip=2,
        samples_per_epoch=4,
        seed=0,
    )
    assert [s.name for s in ds.sequences] == [
        "stress/small-12f-3-0",
        "stress/exit-12f-3-1",
        "stress/small-12f-3-2",
    ]
    assert ds[0]["frames"].shape == (3, 3, 96, 160)
    with pytest.raises(ConfigError, match="'stress'"):
        BankClipDataset(tmp_path / "bank", dict(type="ResNet", depth=18), [dict(type="hard")])


def test_hard_clip_items_keep_the_first_frame_and_later_frames_in_order():
    from vosframe.data.clips import HardClipDataset

    ds = HardClipDataset(length=10, seed=3, num_frames=4, size=(96, 160), clip_length=12)
    item = ds[2]
    again = HardClipDataset(length=10, seed=3, num_frames=4, size=(96, 160), clip_length=12)[2]
    assert torch.equal(item["frames"], again["frames"])
    assert torch.equal(item["masks"], again["masks"])
    assert item["frames"].shape == (4, 3, 96, 160) and item["masks"].shape == (4, 96, 160)
    idx = item["frame_indices"].tolist()
    assert idx[0] == 0 and idx == sorted(idx) and len(set(idx)) == 4 and idx[-1] < 12
    labels = sorted(int(k) for k in item["masks"][0].unique() if k)
    assert labels == list(range(1, item["num_objects"] + 1)) and labels
    assert item["sequence"].startswith(f"hard-{HARD_KINDS[2]}-")


def test_hard_clip_items_show_an_object_gone_and_back():
    from vosframe.data.clips import HardClipDataset

    ds = HardClipDataset(
        length=40, seed=0, num_frames=3, size=(96, 160), kinds=("occlusion", "exit")
    )
    gone_and_back = 0
    for i in range(len(ds)):
        present = [(m == 1).any().item() for m in ds[i]["masks"]]
        gone_and_back += present == [True, False, True]
    assert gone_and_back >= 3  # the kept frames span a hidden run in some items


def test_hard_clip_dataset_errors_and_the_memory_models_stress_source():
    from vosframe.data.clips import HardClipDataset
    from vosframe.models.stcn.data import MemoryClipDataset

    with pytest.raises(InputError, match="drop \\['fog'\\]"):
        HardClipDataset(kinds=("small", "fog"))
    with pytest.raises(InputError, match="clip_length=12"):
        HardClipDataset(clip_length=8)
    with pytest.raises(ConfigError, match="stress source"):
        MemoryClipDataset([dict(type="stress", kinds=())])
    with pytest.raises(ConfigError, match="'davis', 'synthetic' or 'stress'"):
        MemoryClipDataset([dict(type="hard")])
    ds = MemoryClipDataset([dict(type="stress", seed=1, kinds=("small",))], size=(96, 160), seed=0)
    item = ds[0]
    assert item["frames"].shape == (3, 3, 96, 160)
    area = (item["masks"][0] > 0).float().mean().item()
    assert 0 < area < 0.03  # a small object
