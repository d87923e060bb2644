"""Checkpoints: plain state dict + JSON metadata, weights_only loading, clear key errors."""

from __future__ import annotations

import pytest
import torch
from toys import SchedulePlugin, ToyOnline, ToyTemplate

from vosframe import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint


def test_round_trip_with_weights_only_and_metadata(tmp_path):
    torch.manual_seed(0)
    a = ToyOnline()
    a.attach_plugin(SchedulePlugin())
    path = save_checkpoint(a, tmp_path / "ckpt.pt", meta={"note": "toy"})
    payload = torch.load(path, weights_only=True)  # plain types only
    assert payload["format"] == "vosframe-checkpoint"
    torch.manual_seed(1)
    b = ToyOnline()
    b.attach_plugin(SchedulePlugin())
    meta = load_checkpoint(b, path)
    assert meta["note"] == "toy" and "vosframe_version" in meta
    for k, v in a.state_dict().items():
        assert torch.equal(v, b.state_dict()[k])
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]  # no temporary left behind


def test_wrong_keys_are_listed_with_the_fix(tmp_path):
    torch.manual_seed(0)
    path = save_checkpoint(ToyTemplate(), tmp_path / "t.pt")
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(ToyOnline(), path)
    msg = str(info.value)
    assert "shape mismatches" in msg and "refiner.convs.16.weight" in msg and "Fix:" in msg
    path = save_checkpoint(ToyOnline(), tmp_path / "o.pt", exclude_prefixes=("refiner.out",))
    gated = ToyOnline()
    gated.attach_plugin(SchedulePlugin())
    load_checkpoint(gated, path)  # external prefix is not "missing"
    state, meta = read_checkpoint(path)
    assert meta["external_prefixes"] == ["refiner.out"]
    torch.save(
        {
            "format": "vosframe-checkpoint",
            "version": 1,
            "state_dict": {**state, "extra.weight": torch.zeros(1)},
            "meta": "{}",
        },
        tmp_path / "x.pt",
    )
    with pytest.raises(CheckpointError, match=r"unexpected keys \(1\): extra.weight"):
        load_checkpoint(ToyOnline(), tmp_path / "x.pt")


def test_unreadable_and_foreign_files(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        read_checkpoint(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        read_checkpoint(tmp_path / "junk.pt")
    torch.save({"model": {"refiner.x": torch.zeros(1)}}, tmp_path / "official.pth")
    with pytest.raises(CheckpointError, match="not a vosframe checkpoint.*convert"):
        read_checkpoint(tmp_path / "official.pth")


def test_remap_renames_keys(tmp_path):
    torch.manual_seed(0)
    a = ToyOnline()
    state = {f"net.{k}": v for k, v in a.state_dict().items()}
    torch.save(
        {"format": "vosframe-checkpoint", "version": 1, "state_dict": state, "meta": "{}"},
        tmp_path / "r.pt",
    )
    with pytest.raises(CheckpointError, match="missing keys"):
        load_checkpoint(ToyOnline(), tmp_path / "r.pt")
    b = ToyOnline()
    load_checkpoint(b, tmp_path / "r.pt", remap={r"^net\.": ""})
    assert torch.equal(b.refiner.out.weight, a.refiner.out.weight)
