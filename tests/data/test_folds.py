"""The DAVIS-2016 train folds: pinned table, its rule, and training on a fold's fit videos."""

from __future__ import annotations

import textwrap
from pathlib import Path

import cv2
import numpy as np
import pytest

from vosframe.core.checkpoint import read_checkpoint
from vosframe.core.errors import ConfigError, InputError
from vosframe.data.folds import DAVIS16_TRAIN_FOLDS, FoldTable, fold_table, make_folds
from vosframe.training.bank import davis_source

# The table, written out once more: changing the folds must be a visible decision.
PINNED = (
    ("paragliding", "bus", "bear", "rhino", "rollerblade", "hockey"),
    ("dance-jump", "elephant", "tennis", "horsejump-low", "car-turn", "hike"),
    ("dog-agility", "mallard-fly", "flamingo", "breakdance-flare", "bmx-bumps", "motorbike"),
    ("boat", "surf", "lucia", "motocross-bumps", "train", "kite-walk"),
    ("stroller", "swing", "scooter-gray", "soccerball", "mallard-water", "drift-turn"),
)


def test_the_davis16_table_is_pinned_and_follows_its_rule():
    table = DAVIS16_TRAIN_FOLDS
    assert table.groups == PINNED
    assert tuple(make_folds(table.videos, 5, seed=0)) == PINNED
    assert table.num_folds == 5 and len(table.videos) == 30
    for k in range(5):
        fold = table.fold(k)
        assert len(fold.fit) == 24 and len(fold.select) == 6
        assert not set(fold.fit) & set(fold.select)
        assert set(fold.fit) | set(fold.select) == set(table.videos)
    # every video is held out exactly once
    assert sorted(v for k in range(5) for v in table.select(k)) == list(table.videos)
    assert table.fold_of("bear") == 0
    assert fold_table() is table and fold_table(table.name) is table


def test_the_table_names_the_real_train_videos(shared_data):
    folder = shared_data / "davis2016" / "train_240p" / "JPEGImages"
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == list(
        DAVIS16_TRAIN_FOLDS.videos
    )


def test_make_folds_balances_sizes_and_bad_inputs_are_explained():
    groups = make_folds([f"v{i}" for i in range(7)], 3, seed=1)
    assert [len(g) for g in groups] == [3, 2, 2]
    assert make_folds([f"v{i}" for i in range(7)], 3, seed=2) != groups
    with pytest.raises(InputError, match="cannot split"):
        make_folds(["a", "b"], 3)
    with pytest.raises(InputError, match="from 0 to 4"):
        DAVIS16_TRAIN_FOLDS.select(5)
    with pytest.raises(InputError, match="from 0 to 4"):
        DAVIS16_TRAIN_FOLDS.fit(True)
    with pytest.raises(InputError, match="repeated videos \\['a'\\]"):
        FoldTable("bad", [("a", "b"), ("a",)])
    with pytest.raises(InputError, match="known tables"):
        fold_table("nope")
    with pytest.raises(InputError, match="not in the fold table"):
        DAVIS16_TRAIN_FOLDS.fold_of("blackswan")


def _fake_davis_train(root: Path, frames: int = 3) -> Path:
    """The 30 DAVIS-2016 train video names, each a few tiny frames with a square object."""
    rng = np.random.default_rng(0)
    for name in DAVIS16_TRAIN_FOLDS.videos:
        fdir, mdir = root / "JPEGImages" / name, root / "Annotations" / name
        fdir.mkdir(parents=True)
        mdir.mkdir(parents=True)
        for i in range(frames):
            img = rng.integers(0, 255, (32, 48, 3), dtype=np.uint8)
            mask = np.zeros((32, 48), np.uint8)
            mask[8 + i : 20 + i, 10:26] = 255
            cv2.imwrite(str(fdir / f"{i:05d}.jpg"), img)
            cv2.imwrite(str(mdir / f"{i:05d}.png"), mask)
    return root


def test_a_davis_source_with_a_fold_keeps_only_its_fit_videos(tmp_path):
    root = _fake_davis_train(tmp_path / "train")
    names = [n for n, _ in davis_source(root, fold=3)]
    assert names == [f"davis/{v}" for v in DAVIS16_TRAIN_FOLDS.fit(3)]
    assert len([n for n, _ in davis_source(root)]) == 30
    with pytest.raises(InputError, match="from 0 to 4"):
        list(davis_source(root, fold=7))
    partial = _fake_davis_train(tmp_path / "other")
    for v in DAVIS16_TRAIN_FOLDS.select(0):
        (partial / "JPEGImages" / v).rename(partial / "JPEGImages" / f"x-{v}")
        (partial / "Annotations" / v).rename(partial / "Annotations" / f"x-{v}")
    with pytest.raises(InputError, match="needs the videos"):
        list(davis_source(partial, fold=1))


BACKBONE = "dict(type='ResNet', depth=18, frozen=True)"


def _config(tmp: Path, davis: Path | None) -> Path:
    source = f"dict(type='davis', root='{davis}')" if davis else "dict(type='synthetic', count=2)"
    cfg = tmp / "tiny_fold.py"
    cfg.write_text(
        textwrap.dedent(
            f"""
            model = dict(type='FRTM', backbone={BACKBONE},
                         train_target_model=dict(num_aug=1, init_iters=(2, 2)))
            train_dataset = dict(
                type='BankClipDataset', root='{tmp / "bank"}', backbone={BACKBONE},
                sources=[{source}], size=(32, 48), num_frames=3, max_skip=1,
                samples_per_epoch=2, seed=0)
            train_dataloader = dict(batch_size=2, num_workers=0)
            optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
            train_cfg = dict(by_epoch=True, max_epochs=1)
            """
        )
    )
    return cfg


@pytest.mark.usefixtures("one_thread")
def test_train_on_a_fold_records_its_videos_in_the_checkpoint(tmp_path, monkeypatch):
    from vosframe.cli.main import main
    from vosframe.training.train import train

    monkeypatch.chdir(tmp_path)
    root = _fake_davis_train(tmp_path / "train")
    assert main(["train", str(_config(tmp_path, root)), "--fold", "2"]) == 0
    ckpt = tmp_path / "work_dirs" / "tiny_fold_fold2" / "vosframe_latest.pt"
    _, meta = read_checkpoint(ckpt)
    assert meta["fold"] == 2
    assert meta["davis_videos"] == list(DAVIS16_TRAIN_FOLDS.fit(2))
    with pytest.raises(ConfigError, match="no dict\\(type='davis'"):
        train(_config(tmp_path, None), fold=0)
