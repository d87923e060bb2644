"""Training on the mmengine Runner: feature bank, resume, and torchrun DDP on the CPU."""

from __future__ import annotations

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
    train(cfg, str(wd), resume=True, options={"train_cfg.max_epochs": 2})
    assert (wd / "epoch_2.pth").is_file()
    logs = "".join(p.read_text() for p in wd.rglob("*.log"))
    assert "resumed epoch: 1, iter: 2" in logs


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
