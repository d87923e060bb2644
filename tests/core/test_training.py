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


def test_a_batched_refiner_call_gives_the_per_clip_losses_and_gradients():
    """train_refiner_batch: one refiner call per frame on all clips; for a refiner without
    batch statistics that is the per-clip loop, loss for loss and gradient for gradient."""
    torch.manual_seed(0)
    model = ToyTemplate()
    batch = _batch(n_clips=3)
    per_clip = model(batch, mode="loss")
    per_clip["loss_seg"].backward()
    grads = [p.grad.clone() for p in model.refiner.parameters()]
    model.zero_grad()
    model.train_refiner_batch = True
    batched = model(batch, mode="loss")
    assert set(batched) == set(per_clip)
    for k in per_clip:
        torch.testing.assert_close(batched[k], per_clip[k], rtol=1e-5, atol=1e-6)
    batched["loss_seg"].backward()
    for g, p in zip(grads, model.refiner.parameters()):
        torch.testing.assert_close(p.grad, g, rtol=1e-4, atol=1e-6)


def test_frtm_batch_norm_sees_the_clips_of_a_batch_together():
    import vosframe

    torch.manual_seed(0)
    cfg = dict(
        type="FRTM",
        backbone=dict(type="ResNet", depth=18),
        target_model=dict(num_aug=1, init_iters=(2, 2)),
    )
    seen = []
    for flag in (False, True):
        model = vosframe.build_model(dict(cfg, train_refiner_batch=flag)).train()
        bn = next(m for m in model.refiner.modules() if isinstance(m, torch.nn.BatchNorm2d))
        hook = bn.register_forward_hook(lambda m, i, o, f=flag: seen.append((f, i[0].shape[0])))
        frames = torch.rand(3, 3, 3, 64, 96)
        masks = torch.zeros(3, 3, 1, 64, 96)
        masks[..., 20:40, 30:60] = 1
        losses = model({"frames": frames, "masks": masks}, mode="loss")
        assert {"loss_seg", "iou"} <= set(losses)
        hook.remove()
    assert {n for f, n in seen if not f} == {1} and {n for f, n in seen if f} == {3}
