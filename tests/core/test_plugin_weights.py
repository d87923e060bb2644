"""A plugin's weights in a file of their own, tied to the base weights they were trained on."""

from __future__ import annotations

import pytest
import torch
from toys import ToyOnline

from vosframe.core.checkpoint import load_checkpoint, save_checkpoint
from vosframe.core.errors import CheckpointError
from vosframe.core.plugin_weights import (
    base_fingerprint,
    load_plugin_weights,
    read_plugin_weights,
    save_plugin_weights,
)
from vosframe.plugins.reuse_gate import ReuseGate


def _gated(seed: int = 0, **gate):
    torch.manual_seed(seed)
    model = ToyOnline()
    model.attach_plugin(ReuseGate(**gate))
    return model


def _perturb_gate(model) -> None:
    with torch.no_grad():
        for p in model.path_plugin.parameters():
            p.add_(0.01 * torch.randn_like(p))


def test_gate_file_round_trip_holds_only_the_gate(tmp_path):
    model = _gated()
    _perturb_gate(model)
    path = save_plugin_weights(model, tmp_path / "gate.pt", meta={"base_weights": "toy.pt"})
    state, meta = read_plugin_weights(path)
    assert set(state) == set(model.path_plugin.state_dict())  # relative keys, no base keys
    assert meta["plugin"] == "ReuseGate" and meta["base_weights"] == "toy.pt"
    assert meta["architecture"]["variant"] == "copy"  # the shipped preset
    assert meta["base_fingerprint"] == base_fingerprint(model)

    other = _gated(seed=1)  # its own gate; then the first model's base weights
    other.load_state_dict(
        {k: v for k, v in model.state_dict().items() if not k.startswith("plugins.")},
        strict=False,
    )
    load_plugin_weights(other, path)
    for k, v in model.state_dict().items():
        assert torch.equal(v, other.state_dict()[k]), k


def test_other_base_weights_are_refused_with_the_fix(tmp_path):
    model = _gated()
    path = save_plugin_weights(model, tmp_path / "gate.pt", meta={"base_weights": "toy.pt"})
    other = _gated(seed=1)  # a different base model (its own random weights)
    assert base_fingerprint(other) != base_fingerprint(model)
    before = {k: v.clone() for k, v in other.path_plugin.state_dict().items()}
    with pytest.raises(CheckpointError, match=r"trained on toy\.pt.*train-gate"):
        load_plugin_weights(other, path)
    after = other.path_plugin.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # nothing loaded
    load_plugin_weights(other, path, check_base=False)  # the explicit override
    assert torch.equal(
        other.path_plugin.state_dict()["gate.layers.1.weight"],
        model.path_plugin.state_dict()["gate.layers.1.weight"],
    )


def test_the_fingerprint_ignores_plugins_and_sees_any_base_change():
    model = _gated()
    fp = base_fingerprint(model)
    _perturb_gate(model)
    assert base_fingerprint(model) == fp
    with torch.no_grad():
        next(model.feature_extractor.parameters()).view(-1)[0] += 1e-6
    assert base_fingerprint(model) != fp


def test_other_gate_settings_are_refused_naming_them(tmp_path):
    path = save_plugin_weights(_gated(), tmp_path / "gate.pt")
    # moved_cues changes no tensor shape: without the check the weights would load silently
    other = _gated(moved_cues=False, copy_motion=False)
    with pytest.raises(CheckpointError, match="moved_cues: weights True vs config False"):
        load_plugin_weights(other, path)


def test_a_feature_reuse_gate_runs_as_fusion_and_not_as_copy(tmp_path):
    reuse = _gated(preset="paper", variant="reuse")
    _perturb_gate(reuse)
    path = save_plugin_weights(reuse, tmp_path / "gate.pt")
    fusion = _gated(preset="paper", variant="fusion", tau=0.5, tau2=0.8)
    fusion.load_state_dict(  # the same base weights, so only the gate settings differ
        {k: v for k, v in reuse.state_dict().items() if not k.startswith("plugins.")},
        strict=False,
    )
    load_plugin_weights(fusion, path)  # same networks: fusion only copies above tau2
    for k, v in reuse.path_plugin.state_dict().items():
        assert torch.equal(v, fusion.path_plugin.state_dict()[k]), k
    copy = _gated(preset="paper", variant="copy")
    with pytest.raises(CheckpointError, match="variant: weights 'reuse' vs config 'copy'"):
        load_plugin_weights(copy, path, check_base=False)


def test_a_model_without_the_plugin_and_a_full_checkpoint_are_explained(tmp_path):
    gated = _gated()
    path = save_plugin_weights(gated, tmp_path / "gate.pt")
    torch.manual_seed(0)
    with pytest.raises(CheckpointError, match="has none.*plugins=\\[dict\\(type='ReuseGate'"):
        load_plugin_weights(ToyOnline(), path)
    full = save_checkpoint(gated, tmp_path / "full.pt")
    with pytest.raises(CheckpointError, match="full model checkpoint.*checkpoint="):
        load_plugin_weights(gated, full)


def test_full_checkpoints_store_the_gate_settings_and_check_them(tmp_path):
    full = save_checkpoint(_gated(), tmp_path / "full.pt")
    load_checkpoint(_gated(), full)
    with pytest.raises(CheckpointError, match="moved_cues: weights True vs config False"):
        load_checkpoint(_gated(moved_cues=False, copy_motion=False), full)


def test_a_base_checkpoint_loads_with_the_plugins_apart(tmp_path):
    torch.manual_seed(0)
    path = save_checkpoint(ToyOnline(), tmp_path / "base.pt")  # a base model's own file
    with pytest.raises(CheckpointError, match="missing keys"):
        load_checkpoint(_gated(seed=1), path)
    load_checkpoint(_gated(seed=1), path, apart=("plugins.",))
