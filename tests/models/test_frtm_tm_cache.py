"""FRTM's disk cache of training target models: reuse, invalidation, corrupt files."""

from __future__ import annotations

import torch

from vosframe.core.state import Features
from vosframe.models.frtm.model import FRTM

BACKBONE = dict(type="ResNet", depth=18, frozen=True)


def _model(cache, seed: int = 0, **tm) -> FRTM:
    torch.manual_seed(seed)  # the random-init backbone's weights
    return FRTM(
        backbone=BACKBONE,
        train_target_model={"num_aug": 2, "init_iters": (2, 2), **tm},
        train_tm_cache=str(cache),
    ).eval()


def _inputs(model: FRTM):
    gen = torch.Generator().manual_seed(3)
    image = torch.rand(1, 3, 96, 128, generator=gen)
    mask = torch.zeros(1, 1, 96, 128)
    mask[..., 30:70, 40:90] = 1
    with torch.no_grad():
        feats = Features(model.feature_extractor(image), (96, 128))
    return feats, mask, image


def _fit(model: FRTM, key: str = "bank-x/davis/seq/4/1"):
    feats, mask, image = _inputs(model)
    with torch.no_grad():
        return model.init_training_state(feats, mask, image, key)


def _files(cache):
    return sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*.pt"))


def test_disk_cache_is_reused_by_a_new_run(tmp_path, monkeypatch):
    first = _fit(_model(tmp_path))
    files = _files(tmp_path)
    assert len(files) == 1 and files[0].endswith("/bank-x__davis__seq__4__1.pt")

    def no_fit(*args, **kwargs):
        raise AssertionError("a cached target model was refitted")

    monkeypatch.setattr("vosframe.models.frtm.target_model.FRTMTargetModel.init_object", no_fit)
    state = _fit(_model(tmp_path))  # a new model (run) with the same backbone and settings
    assert torch.equal(state.fused, first.fused) and torch.equal(state.project, first.project)
    assert state.memory is None  # frozen training state, as a fresh fit gives


def test_disk_cache_separates_settings_and_backbone_weights(tmp_path):
    _fit(_model(tmp_path))
    _fit(_model(tmp_path, num_aug=3))  # other fitting settings
    _fit(_model(tmp_path, seed=1))  # same config, other random weights
    folders = {f.split("/")[0] for f in _files(tmp_path)}
    assert len(folders) == 3


def test_corrupt_cache_file_is_refitted_and_replaced(tmp_path):
    first = _fit(_model(tmp_path))
    (path,) = tmp_path.rglob("*.pt")
    path.write_bytes(b"not a checkpoint")
    state = _fit(_model(tmp_path))
    assert torch.allclose(state.fused, first.fused)
    torch.load(path, weights_only=True)  # rewritten, readable
    assert not list(tmp_path.rglob("*.tmp"))
