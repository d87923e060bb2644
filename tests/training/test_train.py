"""Training on the mmengine Runner: feature bank, resume, and torchrun DDP on the CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from vosframe.training.bank import FeatureBank
from vosframe.training.datasets import BankClipDataset
from vosframe.training.train import train

BACKBONE = "dict(type='ResNet', depth=18, frozen=True)"


def _config(tmp: Path, epochs: int = 1) -> Path:
    cfg = tmp / "tiny.py"
    cfg.write_text(
        textwrap.dedent(
            f"""
            model = dict(type='FRTM', backbone={BACKBONE},
                         train_target_model=dict(num_aug=1, init_iters=(2, 2)))
            train_dataset = dict(
                type='BankClipDataset', root='{tmp / "bank"}', backbone={BACKBONE},
                sources=[dict(type='synthetic', count=2, length=6, seed=3)],
                size=(64, 96), num_frames=3, max_skip=2, samples_per_epoch=4, seed=0)
            train_dataloader = dict(batch_size=2, num_workers=0)
            optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
            train_cfg = dict(by_epoch=True, max_epochs={epochs})
            log_interval = 1
            """
        )
    )
    return cfg


def test_bank_dataset_items_and_fingerprint(tmp_path):
    ds = BankClipDataset(
        tmp_path / "bank",
        dict(type="ResNet", depth=18),
        [dict(type="synthetic", count=2, length=5)],
        size=(64, 96),
        num_frames=3,
        max_skip=2,
        samples_per_epoch=3,
        seed=1,
    )
    item = ds[0]
    assert item["frames"].shape == (3, 3, 64, 96) and item["frames"].dtype == torch.uint8
    assert item["masks"].shape == (3, 1, 64, 96) and set(item["masks"].unique().tolist()) <= {0, 1}
    assert item["features"]["16"].shape[:2] == (3, 256)
    assert item["features"]["16"].dtype == torch.float16
    assert ds[0]["key"] == item["key"]  # seeded: reproducible
    other = FeatureBank(tmp_path / "bank", {"backbone": {"type": "ResNet", "depth": 50}}, (64, 96))
    with pytest.raises(Exception, match="was built for"):
        other.load()


def test_train_exports_weights_and_resume_continues_the_run(tmp_path):
    cfg = _config(tmp_path, epochs=1)
    wd = tmp_path / "wd"
    out = train(cfg, str(wd))
    assert out.is_file() and (wd / "epoch_1.pth").is_file()
    state = torch.load(out, weights_only=True)
    assert not any(k.startswith("feature_extractor.") for k in state["state_dict"])
    assert json.loads(state["meta"])["source_shares"] == [["synthetic", 1.0]]
    train(cfg, str(wd), resume=True, options={"train_cfg.max_epochs": 2})
    assert (wd / "epoch_2.pth").is_file()
    logs = "".join(p.read_text() for p in wd.rglob("*.log"))
    assert "resumed epoch: 1, iter: 2" in logs


def test_missing_earlier_stage_is_refused_before_any_work(tmp_path):
    from vosframe.core.errors import InputError

    cfg = _config(tmp_path, epochs=1)
    stage1 = tmp_path / "stage1_seed{seed}" / "vosframe_latest.pt"
    wd = tmp_path / "wd"
    with pytest.raises(InputError, match=r"stage1_seed0.*does not exist.*train that stage"):
        train(cfg, str(wd), options={"load_from_vosframe": str(stage1)})
    assert not wd.exists()


def test_torchrun_ddp_on_cpu(tmp_path):
    cfg = _config(tmp_path, epochs=1)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node=2",
        "--master-port=29531",
        "-m",
        "vosframe",
        "train",
        str(cfg),
        "--work-dir",
        str(tmp_path / "ddp"),
    ]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    logs = "".join(p.read_text() for p in (tmp_path / "ddp").rglob("*.log"))
    assert "Distributed training: True" in logs and "MMDistributedDataParallel" in logs
    assert (tmp_path / "ddp" / "vosframe_latest.pt").is_file()


def test_bank_mirror_source_and_backward_clips(tmp_path):
    src = dict(type="synthetic", count=2, length=6, seed=5)
    kw = dict(size=(64, 96), num_frames=3, max_skip=2, samples_per_epoch=8, seed=2)
    bank, backbone = tmp_path / "bank", dict(type="ResNet", depth=18)
    ds = BankClipDataset(bank, backbone, [src, dict(src, mirror=True)], **kw)
    plain = {s.name: s for s in ds.sequences if not s.name.endswith("@mirror")}
    mirror = [s for s in ds.sequences if s.name.endswith("@mirror")]
    assert len(mirror) == len(plain) == 2
    for m in mirror:  # flipped frames and masks, features computed on the flipped frames
        p = plain[m.name.removesuffix("@mirror")]
        assert (m.frames == p.frames[:, :, ::-1]).all() and (m.masks == p.masks[:, :, ::-1]).all()
        assert not torch.equal(m.features[16], p.features[16])
    forward = BankClipDataset(bank, backbone, [src], **kw)
    backward = BankClipDataset(bank, backbone, [src], reverse_prob=1.0, **kw)
    flipped = 0
    for i in range(8):  # the same draws, then played backwards (if the object is there)
        f, b = forward[i], backward[i]
        if torch.equal(b["frames"], f["frames"]):
            continue
        flipped += 1
        assert torch.equal(b["frames"], f["frames"].flip(0))
        assert torch.equal(b["masks"], f["masks"].flip(0)) and b["masks"][0].sum() >= 50
        assert torch.equal(b["features"]["16"], f["features"]["16"].flip(0))
        name, first, obj = b["key"].rsplit("/", 2)  # target-model cache key: its 1st frame
        assert name.startswith(backward.key_prefix + "/")  # names the bank (backbone, size)
        name = name.removeprefix(backward.key_prefix + "/")
        seq = next(s for s in backward.sequences if s.name == name)
        assert (seq.frames[int(first)] == b["frames"][0].permute(1, 2, 0).numpy()).all()
        assert (torch.from_numpy(seq.masks[int(first)] == int(obj)) == b["masks"][0, 0]).all()
    assert flipped >= 4
    with pytest.raises(Exception, match="reverse_prob"):
        BankClipDataset(bank, backbone, [src], reverse_prob=1.5, **kw)


def test_bank_names_tell_apart_sources_made_with_other_settings():
    """The bank reuses a stored sequence by its name: other settings, other names."""
    from vosframe.training.bank import synthetic_source

    def names(**kw):
        return [n for n, _ in synthetic_source(2, (96, 160), **kw)]

    assert names() == ["synthetic/mixed-24f-0-0", "synthetic/static-24f-0-1"]
    assert names(length=12)[0] == "synthetic/mixed-12f-0-0"
    small, large = names(object_size=(0.5, 1.0)), names(object_size=(1.0, 1.5))
    assert small == names(object_size=[0.5, 1.0])  # a config's list is the same setting
    assert len({small[0], large[0], names()[0]}) == 3


def test_staged_recipe_start_weights_pair_up_per_fold_and_seed():
    from mmengine.config import Config

    from vosframe.core.errors import ConfigError
    from vosframe.training.train import start_weights

    path = "work_dirs/stage1_fold{fold}_seed{seed}/vosframe_latest.pt"
    cfg = Config(dict(load_from_vosframe=path, fold=3, seed=1))
    assert start_weights(cfg) == "work_dirs/stage1_fold3_seed1/vosframe_latest.pt"
    plain = Config(dict(load_from_vosframe="a/b.pt"))
    assert start_weights(plain) == "a/b.pt"
    with pytest.raises(ConfigError, match="--fold K"):
        start_weights(Config(dict(load_from_vosframe=path, seed=0)))
