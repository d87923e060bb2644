"""The generic unrolled clip-training loop (forward(mode='loss'))."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from toys import ToyTemplate, toy_clip

from vosframe import InputError


def _batch(n_clips=2, t=3):
    frames, masks = [], []
    for seed in range(n_clips):
        f, label0 = toy_clip(t, seed=seed)
        frames.append(torch.from_numpy(np.stack(f)).permute(0, 3, 1, 2).float() / 255)
        m = [label0 == 3]
        for k in range(1, t):  # the square moves 2 px per frame
            m.append(np.roll(label0 == 3, 2 * k, axis=1))
        masks.append(torch.from_numpy(np.stack(m))[:, None].float())
    return {"frames": torch.stack(frames), "masks": torch.stack(masks)}


def test_loss_goes_through_forward_and_decreases():
    torch.manual_seed(0)
    model = ToyTemplate()
    batch = _batch()
    opt = torch.optim.Adam(model.refiner.parameters(), lr=3e-2)
    first = None
    for _ in range(80):
        losses = model(batch, mode="loss")
        assert set(losses) == {"loss_seg", "iou"}
        opt.zero_grad()
        losses["loss_seg"].backward()
        opt.step()
        first = first if first is not None else losses["loss_seg"].item()
    assert losses["loss_seg"].item() < 0.2 * first
    assert losses["iou"].item() > 0.5


def test_precomputed_features_give_the_same_loss():
    torch.manual_seed(0)
    model = ToyTemplate()
    batch = _batch()
    feats = {}
    with torch.no_grad():
        for b in range(2):
            for t in range(3):
                for s, v in model.feature_extractor(batch["frames"][b, t][None]).items():
                    feats.setdefault(s, torch.zeros(2, 3, *v.shape[1:]))[b, t] = v[0]
    a = model(batch, mode="loss")["loss_seg"]
    b = model({**batch, "features": feats}, mode="loss")["loss_seg"]
    assert torch.allclose(a, b, atol=1e-6)


def test_bad_batches_are_explained():
    model = ToyTemplate()
    with pytest.raises(InputError, match=r"expected \(B,T,3,H,W\)"):
        model({"frames": torch.zeros(2, 3, 48, 64), "masks": torch.zeros(2, 3, 1, 48, 64)})
    with pytest.raises(InputError, match="at least 2 frames"):
        model({"frames": torch.zeros(1, 1, 3, 8, 8), "masks": torch.zeros(1, 1, 1, 8, 8)})
