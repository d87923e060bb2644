"""TTVOS as a base model: stages, state, losses, training, bounded memory."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from toys import toy_clip

import vosframe
from vosframe.core.losses import LossContext
from vosframe.core.state import Features
from vosframe.losses import TemporalConsistencyLoss
from vosframe.models.ttvos import TTVOS, TTVOSLocalizer
from vosframe.models.ttvos.modules import fit_to, mask_history_slot

pytestmark = pytest.mark.usefixtures("one_thread")


def _ttvos(**kw) -> TTVOS:
    torch.manual_seed(0)
    cfg = dict(type="TTVOS", backbone=dict(type="EfficientNetLite0", pretrained=False), **kw)
    return vosframe.build_model(cfg).eval()


def _batch(t=4, h=64, w=96, n=2):
    frames, masks = [], []
    for seed in range(n):
        f, label0 = toy_clip(t, h=h, w=w, seed=seed)
        frames.append(torch.from_numpy(np.stack(f)).permute(0, 3, 1, 2).float() / 255)
        m = [np.roll(label0 == 3, 2 * k, axis=1) for k in range(t)]
        masks.append(torch.from_numpy(np.stack(m))[:, None].float())
    return {"frames": torch.stack(frames), "masks": torch.stack(masks)}


@pytest.mark.parametrize(
    "backbone, channels",
    [
        (dict(type="EfficientNetLite0", pretrained=False), (112, 40, 24)),
        (dict(type="ResNet", depth=18), (256, 128, 64)),
        (dict(type="ResNet", depth=50), (1024, 512, 128)),
    ],
)
def test_builds_on_every_backbone_with_the_official_sizes(backbone, channels):
    model = vosframe.build_model(dict(type="TTVOS", backbone=backbone))
    c16, c8, c4 = channels
    assert model.feature_extractor.strides[-1] == 16  # nothing deeper is computed
    loc = model.localizer
    assert loc.inter == min(128, model.feature_extractor.channels[4])
    assert loc.c_short == min(2 * loc.inter, c16)
    assert loc.score_channels == loc.c_short + 4 * c8
    assert model.refiner.channels == {16: loc.inter, 8: loc.inter + 2, 4: loc.inter + 4}
    names = [p.name for p in model.validate_skip_points().points]
    assert names == ["F_t", "R_t@16", "R_t@8", "R_t@4", "prev"]


def test_template_grouped_convs_have_the_official_shapes():
    loc = TTVOSLocalizer(192, 32, 16)  # the HRNet numbers of the official TTVOS code
    assert tuple(loc.gcm.conv_key[0].weight.shape) == (32, 41, 1, 1)
    assert tuple(loc.gcm.conv_key[1].weight.shape) == (32, 4, 5, 5)
    assert tuple(loc.gcq.blend[0].weight.shape) == (64, 4, 5, 5)
    assert tuple(loc.gcq.blend[1].weight.shape) == (32, 64, 1, 1)
    assert tuple(loc.short[0].weight.shape) == (32, 198, 3, 3)


def test_encoding_packs_the_attention_losslessly():
    loc = TTVOSLocalizer(112, 40, 24)
    short = torch.randn(2, loc.c_short, 23, 40)
    att = torch.randn(2, 40, 45, 80)  # 360x640: stride 8 is one row short of 2 x stride 16
    enc = loc.encode(short, att)
    assert enc.shape == (2, loc.score_channels, 23, 40)
    from vosframe.models.ttvos.localizer import unpack_attention

    assert torch.equal(unpack_attention(enc, loc.c_short, (45, 80)), att)
    assert torch.equal(enc[:, : loc.c_short], short)


def test_mask_history_and_template_update():
    model = _ttvos()
    loc = model.localizer
    image = torch.rand(1, 3, 64, 96)
    mask = torch.zeros(1, 1, 64, 96)
    mask[..., 10:40, 20:60] = 1
    with torch.no_grad():
        feats = Features(model.feature_extractor(image), (64, 96))
        state = loc.init_object(feats, mask, image)
        assert state.mask_history.shape == (1, 6, 8, 12)
        assert torch.equal(state.mask_history[:, :2], mask_history_slot(mask))
        assert not state.mask_history[:, 2:].any()
        assert torch.allclose(state.template.sum(-1), torch.ones(1, 40))
        first = state.mask_history[:, :2].clone()
        old_template = state.template.clone()
        loc.update(feats, [state], mask * 0.5, 1)
        assert torch.equal(state.mask_history[:, 2:4], first)
        assert 0.0 < state.weight < 1.0
        assert not torch.equal(state.template, old_template)
        assert torch.allclose(state.template.sum(-1), torch.ones(1, 40), atol=1e-5)
        assert state.prev_feature is feats[16]


def test_session_handles_odd_sizes_and_late_objects():
    model = _ttvos()
    frames, label0 = toy_clip(6, h=70, w=101, ids=(2, 5))
    session = model.new_session(precision="fp32")
    late = np.where(np.roll(label0 == 5, 3, axis=0), 9, 0).astype(np.uint8)
    results = [session.step(frames[0], label0)]
    for t in range(1, 6):
        results.append(session.step(frames[t], late if t == 3 else None))
    assert all(r.labels.shape == (70, 101) for r in results)
    assert set(results[-1].probs) == {2, 5, 9}
    assert results[3].paths[9].path == "init"
    assert (results[3].labels[late == 9] == 9).all()


def test_temporal_consistency_loss_target_is_the_transition():
    loss = TemporalConsistencyLoss({8: 3}, level=8)
    torch.nn.init.zeros_(loss.head.weight)
    torch.nn.init.zeros_(loss.head.bias)
    gt = torch.zeros(1, 1, 16, 16)
    gt[..., :8, :] = 1
    prev = torch.zeros(1, 1, 16, 16)
    prev[..., :, :8] = 1
    ctx = LossContext(1, torch.zeros(1, 1, 2, 2), {8: torch.zeros(1, 3, 2, 2)}, gt, gt, prev)
    # transition at 2x2: [[1-1, 1-0], [0-1, 0-0]] -> MSE of a zero prediction = 2/4
    assert float(loss(ctx)["loss_temporal"].detach()) == pytest.approx(0.5)


def test_temporal_consistency_loss_is_reusable_by_frtm():
    model = vosframe.build_model(
        dict(
            type="FRTM",
            backbone=dict(type="ResNet", depth=18),
            target_model=dict(num_aug=1, init_iters=(2, 2)),
            aux_losses=[dict(type="TemporalConsistencyLoss", level=8)],
        )
    )
    losses = model(_batch(t=3, h=64, w=96, n=1), mode="loss")
    assert {"loss_seg", "loss_temporal"} <= set(losses)
    losses["loss_temporal"].backward()
    assert model.aux_losses[0].head.weight.grad.abs().sum() > 0


def test_unknown_aux_loss_level_is_explained():
    with pytest.raises(vosframe.ConfigError, match="not a refiner level"):
        vosframe.build_model(
            dict(type="TTVOS", aux_losses=[dict(type="TemporalConsistencyLoss", level=2)])
        )


def test_training_backpropagates_through_the_state_updates():
    model = _ttvos(aux_losses=[dict(type="TemporalConsistencyLoss", level=8)]).train()
    losses = model(_batch(), mode="loss")
    assert {"loss_seg", "loss_template", "loss_temporal", "iou"} <= set(losses)
    # only the last frame's segmentation loss: it reaches the template generator through
    # the template updated on the earlier frames (backpropagation through time)
    model.zero_grad()
    batch = _batch(t=3)
    frames, masks = batch["frames"], batch["masks"]
    loc = model.localizer
    feats = [Features(model.feature_extractor(frames[0, t][None]), (64, 96)) for t in range(3)]
    state = loc.init_object(feats[0], masks[0, 0][None], frames[0, 0][None])
    state.template = state.template.detach()  # frame 0's template: no gradient
    loc.update(feats[1], [state], masks[0, 1][None], 1)
    score = loc.localize(feats[2], [state])
    logits = model.refiner.run(score, feats[2], (64, 96)).logits
    torch.nn.functional.binary_cross_entropy_with_logits(logits, masks[0, 2][None]).backward()
    assert loc.update_weight.out.weight.grad.abs().sum() > 0


def test_a_few_steps_fit_a_clip():
    model = _ttvos(template_loss=0.0).train()
    batch = _batch(t=3, n=1)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=3e-3)
    first = None
    for _ in range(25):
        losses = model(batch, mode="loss")
        first = first if first is not None else float(losses["loss_seg"].detach())
        opt.zero_grad()
        losses["loss_seg"].backward()
        opt.step()
    assert float(losses["loss_seg"].detach()) < 0.5 * first


def test_bounded_memory_on_a_2000_frame_stream():
    """2,000 frames (a 40-frame synthetic clip played forwards and backwards): the session's
    tensors keep their size and the process does not grow."""
    import resource

    from vosframe.data.synthetic import SyntheticClipGenerator

    clip = SyntheticClipGenerator(height=48, width=80, num_frames=40).generate(0)
    loop = list(clip.frames) + list(clip.frames)[::-1]
    model = _ttvos()
    session = model.new_session(precision="fp32")

    def state_bytes() -> int:
        total = 0
        for obj in session.objects.values():
            st = obj.localizer
            for t in (st.mask_history, st.prev_feature, st.template):
                total += t.numel() * t.element_size()
        return total

    session.step(loop[0], clip.masks[0])
    sizes, rss = [], []
    for i in range(1, 2000):
        session.step(loop[i % len(loop)])
        if i in (100, 1999):
            sizes.append(state_bytes())
            rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    assert sizes[0] == sizes[1] > 0
    assert rss[1] - rss[0] < 50_000  # KiB: no per-frame growth
    assert model.localizer.bounded_state


def test_fit_to_crops_and_pads():
    x = torch.arange(12.0).view(1, 1, 3, 4)
    assert fit_to(x, (2, 3)).shape == (1, 1, 2, 3)
    assert torch.equal(fit_to(x, (4, 4))[..., 3, :], x[..., 2, :])
