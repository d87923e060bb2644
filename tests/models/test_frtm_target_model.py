"""Tests of FRTM's target model: loss reformulation, GN-CG, memory, schedule, augmenter."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vosframe.core.errors import ConfigError
from vosframe.core.state import Features
from vosframe.models.frtm.augment import augment_first_frame
from vosframe.models.frtm.memory import (
    SampleMemory,
    apply_gram,
    hinge_pixel_weights,
    label_quadratic_form,
)
from vosframe.models.frtm.optimizer import (
    CGState,
    TargetModelProblem,
    conv3x3_to_one,
    gauss_newton_cg,
)
from vosframe.models.frtm.target_model import FRTMTargetModel

SIZE = (256, 256)
C_IN = 64


class TinyBackbone(torch.nn.Module):
    """A fixed random conv stack: stride 16, 64 channels."""

    def __init__(self) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(1)
        chans = (3, 16, 32, 48, C_IN)
        self.convs = torch.nn.ModuleList(
            torch.nn.Conv2d(a, b, 3, stride=2, padding=1) for a, b in zip(chans[:-1], chans[1:])
        )
        for conv in self.convs:
            std = (2.0 / (conv.in_channels * 9)) ** 0.5
            torch.nn.init.normal_(conv.weight, 0.0, std, generator=gen)
            torch.nn.init.zeros_(conv.bias)
        self.eval()

    def forward(self, image: torch.Tensor) -> Features:
        x = image
        for conv in self.convs:
            x = F.relu(conv(x))
        return Features({16: x}, tuple(image.shape[-2:]))


@pytest.fixture(scope="module")
def backbone() -> TinyBackbone:
    return TinyBackbone()


@pytest.fixture(scope="module")
def frame() -> tuple[torch.Tensor, torch.Tensor]:
    """The astronaut photo at 256x256 and an ellipse over her head."""
    skdata = pytest.importorskip("skimage.data")
    image = torch.from_numpy(skdata.astronaut()).permute(2, 0, 1)[None].float() / 255
    image = F.interpolate(image, SIZE, mode="area")
    yy, xx = torch.meshgrid(torch.arange(SIZE[0]), torch.arange(SIZE[1]), indexing="ij")
    mask = (((yy - 60) / 45.0) ** 2 + ((xx - 128) / 35.0) ** 2 <= 1).float()[None, None]
    return image, mask


def explicit_loss(project, filt, x, labels, weights, wf, wb) -> torch.Tensor:
    """The official full-resolution data loss ``sum sw * w^2 (upsample(s) - y)^2``."""
    s = F.conv2d(F.conv2d(x, project), filt, padding=1)
    up = F.interpolate(s, labels.shape[-2:], mode="bilinear", align_corners=False)
    w2 = torch.where(labels > 0.5, wf.view(-1, 1, 1, 1), wb.view(-1, 1, 1, 1))
    return (weights.view(-1, 1, 1, 1) * w2 * (up - labels) ** 2).sum()


@attrs.define
class ExplicitProblem:
    """The official residual form (full-resolution residuals, identity metric)."""

    x: torch.Tensor
    labels: torch.Tensor
    w: torch.Tensor  # sqrt(sample weight * pixel weight), full resolution
    regs: tuple[float, ...]
    precond: tuple[float, ...]

    def outputs(self, params):
        s = F.conv2d(F.conv2d(self.x, params[0]), params[1], padding=1)
        up = F.interpolate(s, self.labels.shape[-2:], mode="bilinear", align_corners=False)
        return [self.w * (up - self.labels), *(r * p for r, p in zip(self.regs, params))]

    def metric(self, v):
        return v

    def output_grad(self, f):
        return f

    def precondition(self, r):
        return [t / d for t, d in zip(r, self.precond)]


def test_quadratic_form_equals_full_resolution_loss() -> None:
    gen = torch.Generator().manual_seed(0)
    labels = (torch.rand(3, 1, 77, 131, generator=gen) > 0.8).float()
    labels[1] *= torch.rand(1, 77, 131, generator=gen)  # soft labels too
    wf, wb = hinge_pixel_weights(labels, 0.3)
    assert (wf > 1).any(), "the hinge should up-weight small objects"
    gram, rhs, const = label_quadratic_form(labels, wf, wb, (5, 9))
    s = torch.randn(3, 1, 5, 9, generator=gen, requires_grad=True)
    up = F.interpolate(s, (77, 131), mode="bilinear", align_corners=False)
    w2 = torch.where(labels > 0.5, wf.view(-1, 1, 1, 1), wb.view(-1, 1, 1, 1))
    explicit = (w2 * (up - labels) ** 2).flatten(1).sum(1)
    with torch.no_grad():
        quad = (s * apply_gram(gram, s)).flatten(1).sum(1) - 2 * (s * rhs).flatten(1).sum(1)
        quad = quad + const
    torch.testing.assert_close(quad, explicit.detach(), rtol=1e-5, atol=1e-3)
    explicit.sum().backward()
    torch.testing.assert_close(s.grad / 2, apply_gram(gram, s.detach()) - rhs, rtol=1e-5, atol=1e-3)


def test_gn_cg_matches_official_residual_form() -> None:
    """One init fit on stencils equals the fit on explicit full-resolution residuals."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 8, 6, 7, generator=gen)
    labels = torch.zeros(3, 1, 90, 100)
    labels[:, :, 20:60, 30:70] = 1.0
    labels[2] *= 0.8
    sw = torch.tensor([0.5, 0.25, 0.25])
    wf, wb = hinge_pixel_weights(labels, 0.1)
    gram, rhs, const = label_quadratic_form(labels, wf, wb, (6, 7))
    params = [torch.randn(4, 8, 1, 1, generator=gen) * 0.3, torch.randn(1, 4, 3, 3, generator=gen)]
    regs, precond = (1e-4, 1e-2), (1e-4, 1e-2)
    ours = TargetModelProblem(x, gram, rhs, const, sw, regs, precond)
    w = (
        sw.view(-1, 1, 1, 1) * torch.where(labels > 0.5, wf.view(-1, 1, 1, 1), wb.view(-1, 1, 1, 1))
    ).sqrt()
    ref = ExplicitProblem(x, labels, w, regs, precond)
    forget = 0.9**750
    a = gauss_newton_cg(ours, params, (3, 5), CGState(), forget)
    b = gauss_newton_cg(ref, params, (3, 5), CGState(), forget)  # type: ignore[arg-type]
    for pa, pb in zip(a, b):
        torch.testing.assert_close(pa, pb, rtol=2e-3, atol=2e-4)
    before = explicit_loss(*params, x, labels, sw, wf, wb)
    after = explicit_loss(*a, x, labels, sw, wf, wb)
    assert after < 0.5 * before
    torch.testing.assert_close(
        ours.loss(a),
        after + sum((r * p).square().sum() for r, p in zip(regs, a)),
        rtol=1e-3,
        atol=1e-3,
    )


def test_init_decreases_loss_on_real_photo(backbone, frame) -> None:
    image, mask = frame
    tm = FRTMTargetModel.from_preset("fast", C_IN, c=32)
    tm.set_feature_fn(backbone)
    with torch.no_grad():
        feats = backbone(image)
        state = tm.init_object(feats, mask, image=image)
    assert state.memory.size == 5  # original + 4 augmented samples
    before, after = state.init_loss
    assert after < 0.4 * before, (before, after)
    # Independent check on the original frame, full resolution, against the initial weights.
    project0, filt0 = tm._initial_weights(torch.device("cpu"))
    one = torch.ones(1)
    wf, wb = hinge_pixel_weights(mask, 0.1)
    x = feats[16]
    loss0 = explicit_loss(project0, filt0, x, mask, one, wf, wb)
    loss1 = explicit_loss(state.project, state.filter, x, mask, one, wf, wb)
    assert loss1 < 0.35 * loss0, (loss0, loss1)
    score = F.interpolate(tm.localize(feats, [state]), SIZE, mode="bilinear")
    assert score[mask > 0].mean() > 0.5 > score[mask == 0].mean()


def test_localize_is_batched_two_layer_model(backbone, frame) -> None:
    image, mask = frame
    tm = FRTMTargetModel(C_IN, c=16, init_iters=(3,), update_iters=(2,), num_aug=1)
    feats = backbone(image)
    a = tm.init_object(feats, mask)
    b = tm.init_object(feats, 1 - mask)
    scores = tm.localize(feats, [a, b])
    assert scores.shape == (2, 1, 16, 16)
    for k, st in enumerate((a, b)):
        ref = F.conv2d(F.conv2d(feats[16], st.project), st.filter, padding=1)
        torch.testing.assert_close(scores[k : k + 1], ref, rtol=1e-4, atol=1e-5)
    assert (a.applies, b.applies) == (1, 1)
    tm.localize(feats, [a], count=False)
    assert a.applies == 1


def test_filter_updates_exactly_every_8th_apply(backbone, frame) -> None:
    image, mask = frame
    tm = FRTMTargetModel(C_IN, c=16, init_iters=(3,), update_iters=(2,), memory_size=12, num_aug=1)
    feats = backbone(image)
    state = tm.init_object(feats, mask)
    tiny = torch.zeros_like(mask)
    tiny[..., :3, :3] = 1.0  # 9 pixels: below the 10-pixel push threshold
    changed, project0 = [], state.project.clone()
    for frame_index in range(1, 41):
        before = state.filter.clone()
        tm.localize(feats, [state])
        probs = tiny if frame_index == 24 else mask * 0.9
        tm.update(feats, [state], probs, frame_index)
        if not torch.equal(before, state.filter):
            changed.append(frame_index)
    # Apply 24 had too small a mask: no push and no update, as in the official code.
    assert changed == [8, 16, 32, 40]
    assert state.num_updates == 4
    assert torch.equal(state.project, project0)  # only the filter is updated online
    assert state.memory.size == 12


def test_update_every_none_keeps_the_first_frame_fit(backbone, frame) -> None:
    """``update_every=None``: the init fit is the scheduled model's, then nothing changes."""
    image, mask = frame
    kw = dict(c=16, init_iters=(3,), update_iters=(2,), memory_size=12, num_aug=1)
    feats = backbone(image)
    scheduled = FRTMTargetModel(C_IN, update_every=1, **kw)
    frozen = FRTMTargetModel(C_IN, update_every=None, **kw)
    ref, state = scheduled.init_object(feats, mask), frozen.init_object(feats, mask)
    torch.testing.assert_close(state.fused, ref.fused)
    assert state.memory.samples.shape[0] == 1  # only the first frame's samples are kept
    fused0 = state.fused.clone()
    for frame_index in range(1, 17):
        scheduled.localize(feats, [ref])
        scheduled.update(feats, [ref], mask * 0.9, frame_index)
        frozen.localize(feats, [state])
        frozen.update(feats, [state], mask * 0.9, frame_index)
    assert ref.num_updates == 16 and not torch.equal(ref.fused, fused0)
    assert state.num_updates == 0 and state.memory.size == 1
    assert torch.equal(state.fused, fused0)
    with pytest.raises(ConfigError, match="update_every >= 1 or None"):
        FRTMTargetModel(C_IN, update_every=0, **kw)


def test_update_batches_objects_and_skips_unapplied(backbone, frame) -> None:
    image, mask = frame
    tm = FRTMTargetModel(C_IN, c=16, init_iters=(3,), update_iters=(2,), memory_size=8, num_aug=1)
    feats = backbone(image)
    a, b = tm.init_object(feats, mask), tm.init_object(feats, 1 - mask)
    tm.update(feats, [a, b], torch.cat((mask, 1 - mask)), 0)  # no apply yet: nothing
    assert a.memory.size == b.memory.size == 1
    tm.localize(feats, [a, b])
    tm.update(feats, [a, b], torch.cat((mask, 1 - mask)), 1)
    assert a.memory.size == b.memory.size == 2
    ref = F.conv2d(feats[16], b.project)[0]
    torch.testing.assert_close(b.memory.samples[1], ref)


def test_memory_capacity_and_decaying_weights() -> None:
    cap, k = 6, 3
    mem = SampleMemory.create(
        cap,
        torch.arange(-k, 0.0).view(k, 1, 1, 1).expand(k, 2, 3, 3),  # samples -3, -2, -1
        torch.randn(k, 9, 3, 3),
        torch.randn(k, 1, 3, 3),
        torch.randn(k),
        learning_rate=0.1,
    )
    torch.testing.assert_close(mem.weights[:k], torch.tensor([0.5, 0.25, 0.25]))
    order = []
    for i in range(40):
        sample = torch.full((2, 3, 3), float(i))
        zeros = torch.zeros(9, 3, 3), torch.zeros(1, 3, 3), torch.zeros(())
        order.append(mem.push(sample, *zeros))
        assert mem.size == min(k + i + 1, cap)
        assert mem.samples.shape[0] == cap
        torch.testing.assert_close(mem.weights.sum(), torch.tensor(1.0))
        if i == 12:  # the double-weighted original frame outlives the augmented samples
            assert sorted(mem.samples[:, 0, 0, 0].tolist())[0] == -3
    assert order[:3] == [3, 4, 5]  # empty slots first
    # All original samples are gone; weights decay geometrically with age (factor 0.9).
    ages = {int(mem.samples[s, 0, 0, 0]): s for s in range(cap)}
    assert sorted(ages) == list(range(34, 40))
    newest_first = [mem.weights[ages[i]] for i in sorted(ages, reverse=True)]
    ratios = torch.stack([b / a for a, b in zip(newest_first[:-1], newest_first[1:])])
    torch.testing.assert_close(ratios, torch.full_like(ratios, 0.9), rtol=1e-4, atol=1e-6)


def test_optimizer_fp32_under_autocast_and_inference_mode(backbone, frame) -> None:
    image, mask = frame
    tm = FRTMTargetModel(
        C_IN, c=16, init_iters=(3, 3), update_iters=(2,), num_aug=2, update_every=1
    )
    tm.set_feature_fn(backbone)
    feats = backbone(image)
    with torch.no_grad():
        ref = tm.init_object(feats, mask, image=image)
    with torch.inference_mode():
        inf_feats = Features({16: feats[16].clone()}, SIZE)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            state = tm.init_object(inf_feats, mask.clone(), image=image.clone())
            score = tm.localize(inf_feats, [state])
            tm.update(inf_feats, [state], mask.clone(), 1)
    assert state.filter.dtype == torch.float32 and not state.filter.is_inference()
    assert state.num_updates == 1
    assert score.dtype == torch.bfloat16
    # Only the augmented samples' features may differ (computed under the caller's autocast).
    torch.testing.assert_close(state.project, ref.project, rtol=0.05, atol=0.05)


def test_augmenter_is_seeded_and_keeps_the_object(frame) -> None:
    image, mask = frame
    a_im, a_m = augment_first_frame(image, mask, 4, seed=3)
    b_im, b_m = augment_first_frame(image, mask, 4, seed=3)
    c_im, _ = augment_first_frame(image, mask, 4, seed=4)
    assert a_im.shape == (4, 3, *SIZE) and a_m.shape == (4, 1, *SIZE)
    assert torch.equal(a_im, b_im) and torch.equal(a_m, b_m)
    assert not torch.equal(a_im, c_im)
    assert set(np.unique(a_m.numpy())) <= {0.0, 1.0}
    assert (a_m.flatten(1).sum(1) > 0).all()
    assert float(a_im.min()) >= 0.0 and float(a_im.max()) <= 1.0
    empty_im, _ = augment_first_frame(image, torch.zeros_like(mask), 4)
    assert empty_im.shape[0] == 0


def test_matmul_conv_equals_conv2d() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4, 7, 5, 9, generator=gen)
    w = torch.randn(1, 7, 3, 3, generator=gen)
    torch.testing.assert_close(conv3x3_to_one(x, w), F.conv2d(x, w, padding=1))
