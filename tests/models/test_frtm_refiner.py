"""Tests of the FRTM refiner, its heads and the official-checkpoint converter."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from vosframe.core.errors import CheckpointError
from vosframe.core.state import Features
from vosframe.models.frtm.blocks import PyrUpBicubic2d
from vosframe.models.frtm.convert import (
    convert_official_frtm,
    detect_backbone,
    official_feature_channels,
    official_frtm_keys,
)
from vosframe.models.frtm.refiner import FRTMRefiner

SIZE = (481, 855)  # odd on purpose
CHANNELS = {4: 8, 8: 12, 16: 16, 32: 20}


def make_features(channels=CHANNELS, size=SIZE, seed=0) -> Features:
    gen = torch.Generator().manual_seed(seed)
    maps = {
        s: torch.randn(1, c, -(-size[0] // s), -(-size[1] // s), generator=gen)
        for s, c in channels.items()
    }
    return Features(maps, size)


def make_refiner(head="fast", **kw) -> FRTMRefiner:
    torch.manual_seed(0)
    ref = FRTMRefiner(CHANNELS, head=head, **kw)
    # Non-trivial batch-norm statistics so that eval mode is exercised.
    for m in ref.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return ref.eval()


@pytest.fixture(scope="module")
def features() -> Features:
    return make_features()


@pytest.fixture(scope="module")
def score(features) -> torch.Tensor:
    return torch.randn(2, 1, *features.size_at(16), generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize(("head", "head_stride"), [("fast", 2), ("fast", 4), ("official", 2)])
def test_output_shape_odd_size_and_capture(features, score, head, head_stride) -> None:
    ref = make_refiner(head, head_stride=head_stride)
    with torch.no_grad():
        out = ref.run(score, features, SIZE, capture=(16, 8))
    assert out.logits.shape == (2, 1, *SIZE)
    assert torch.isfinite(out.logits).all()
    assert out.captured[16].shape == (2, 64, 31, 54)
    assert out.captured[8].shape == (2, 64, 61, 107)


@pytest.mark.parametrize("head", ["fast", "official"])
def test_restart_from_captured_level_is_bit_exact(features, score, head) -> None:
    ref = make_refiner(head)
    with torch.no_grad():
        full = ref.run(score, features, SIZE, capture=(16, 8))
        again = ref.run(score, features, SIZE, start=(16, full.captured[16]), capture=(8,))
        from8 = ref.run(score, features, SIZE, start=(8, full.captured[8]))
    assert torch.equal(full.logits, again.logits)
    assert torch.equal(full.captured[8], again.captured[8])
    assert torch.equal(full.logits, from8.logits)


def test_objects_are_independent(features, score) -> None:
    ref = make_refiner("official")
    with torch.no_grad():
        both = ref.run(score, features, SIZE).logits
        first = ref.run(score[:1], features, SIZE).logits
        second = ref.run(score[1:], features, SIZE).logits
    torch.testing.assert_close(both, torch.cat((first, second)), rtol=1e-4, atol=1e-4)
    assert not torch.allclose(first, second)


def test_bf16_autocast_and_channels_last(features, score) -> None:
    for head in ("fast", "official"):
        ref = make_refiner(head)
        with torch.no_grad():
            expected = ref.run(score, features, SIZE).logits
        ref = ref.to(memory_format=torch.channels_last)
        cl = Features(
            {s: t.contiguous(memory_format=torch.channels_last) for s, t in features.maps.items()},
            SIZE,
        )
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            out = ref.run(score, cl, SIZE, capture=(16,))
        assert out.logits.shape == (2, 1, *SIZE)
        assert out.captured[16].dtype == torch.bfloat16
        got = out.logits.float()
        assert torch.isfinite(got).all()
        err = (got - expected).abs().mean() / expected.abs().mean()
        assert err < 0.1, (head, float(err))


def test_bicubic_pyramid_is_torch_bicubic() -> None:
    x = torch.randn(2, 3, 13, 17)
    ref = F.interpolate(x, scale_factor=2, mode="bicubic", align_corners=False)
    torch.testing.assert_close(PyrUpBicubic2d(3)(x), ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("channels_last", [False, True])
def test_bicubic_pyramid_is_the_official_form_exactly(channels_last) -> None:
    x = torch.randn(2, 5, 11, 14, requires_grad=True)
    up = PyrUpBicubic2d(5)
    inp = x.contiguous(memory_format=torch.channels_last) if channels_last else x
    got = up(inp)
    assert torch.equal(got, literal_pyr_up(x))
    (grad,) = torch.autograd.grad(got.square().sum(), x)
    (ref,) = torch.autograd.grad(literal_pyr_up(x).square().sum(), x)
    torch.testing.assert_close(grad, ref)


def test_first_level_uses_pooled_reduce_as_deep_input(features, score) -> None:
    ref = make_refiner()
    level = ref.stages["32"]
    with torch.no_grad():
        x = ref.stage(32, None, score, features)
        reduced = level.tse.reduce(features[32])
        h = level.rrb1(level.tse(reduced, F.interpolate(score, (16, 27), mode="bilinear")))
        att = level.cab.convreluconv(
            torch.cat(
                (
                    F.adaptive_avg_pool2d(h, 1),
                    F.adaptive_avg_pool2d(reduced, 1).expand(2, -1, -1, -1),
                ),
                1,
            )
        )
        expected = level.rrb2(h * torch.sigmoid(att) + F.adaptive_avg_pool2d(reduced, 1))
    torch.testing.assert_close(x, expected)


def literal_pyr_up(x: torch.Tensor) -> torch.Tensor:
    """The official PyrUpBicubic2d: four 4x4 depthwise convs interleaved with stack/view."""

    def kernel(d):
        t = (d + torch.arange(-1, 3, dtype=torch.float32)).abs()
        a = -0.75
        f = (t < 1).float() * ((a + 2) * t**3 - (a + 3) * t**2 + 1) + (
            (t >= 1) & (t < 2)
        ).float() * (a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a)
        w = f.reshape(1, 1, 1, 4)
        return w, w.permute(0, 1, 3, 2)

    (we, we_t), (wo, wo_t) = kernel(-0.25), kernel(-0.75)
    c = x.shape[1]
    ws = [(a @ b).expand(c, 1, 4, 4) for a, b in ((we_t, we), (we_t, wo), (wo_t, we), (wo_t, wo))]
    p = F.pad(x, (2, 2, 2, 2), "replicate")
    i00, i01, i10, i11 = (F.conv2d(p, w, groups=c) for w in ws)
    n, c, h, w = i11.shape
    j0 = torch.stack((i00, i01), dim=-1).view(n, c, h, 2 * w)
    j1 = torch.stack((i10, i11), dim=-1).view(n, c, h, 2 * w)
    return F.pad(torch.stack((j0, j1), dim=-2).view(n, c, 2 * h, 2 * w), (-1, -1, -1, -1))


def literal_official_forward(ref: FRTMRefiner, score, features: Features, size) -> torch.Tensor:
    """The official SegNetwork.forward, step by step, on this refiner's weights."""
    n = score.shape[0]
    x = None
    for stride in (32, 16, 8, 4):
        lv = ref.stages[str(stride)]
        ft = features[stride].repeat(n, 1, 1, 1)
        s = F.interpolate(score, ft.shape[-2:], mode="bilinear", align_corners=False)
        h = lv.tse.reduce(ft)
        hpool = F.adaptive_avg_pool2d(h, (1, 1)) if x is None else x
        h = lv.tse.transform(torch.cat((h, s), dim=1))
        h = lv.rrb1(h)
        deep_pool = hpool if stride == 32 else F.adaptive_avg_pool2d(hpool, (1, 1))
        att = lv.cab.convreluconv(torch.cat((F.adaptive_avg_pool2d(h, (1, 1)), deep_pool), 1))
        up = F.interpolate(hpool, h.shape[-2:], mode="bilinear", align_corners=False)
        x = lv.rrb2(h * torch.sigmoid(att) + up)
    head = ref.upsampler
    x = F.relu(head.conv1(literal_pyr_up(x)))
    x = F.interpolate(literal_pyr_up(x), size, mode="bilinear", align_corners=False)
    return head.conv2(x)


def test_matches_literal_official_forward(features, score) -> None:
    ref = make_refiner("official")
    with torch.no_grad():
        ours = ref.run(score, features, SIZE).logits
        official = literal_official_forward(ref, score, features, SIZE)
    torch.testing.assert_close(ours, official, rtol=1e-4, atol=1e-4)


def official_state(backbone: str) -> dict[str, torch.Tensor]:
    """An official-layout state dict built from the documented names and shapes."""
    ch = official_feature_channels(backbone)
    layer_ch = {"layer5": ch[32], "layer4": ch[16], "layer3": ch[8], "layer2": ch[4]}
    shapes: dict[str, tuple[int, ...]] = {}
    for layer, c in layer_ch.items():
        t = f"refiner.TSE.{layer}."
        shapes |= {t + "reduce.0.weight": (64, c, 1, 1), t + "reduce.0.bias": (64,)}
        shapes |= {t + "reduce.2.weight": (64, 64, 1, 1), t + "reduce.2.bias": (64,)}
        for i, (o, k) in enumerate(((65, 65), (65, 65), (64, 65))):
            shapes |= {
                t + f"transform.{2 * i}.weight": (o, k, 3, 3),
                t + f"transform.{2 * i}.bias": (o,),
            }
        for rrb in ("RRB1", "RRB2"):
            r = f"refiner.{rrb}.{layer}."
            shapes |= {r + "conv1x1.weight": (64, 64, 1, 1), r + "conv1x1.bias": (64,)}
            shapes |= {r + "bblock.0.weight": (64, 64, 3, 3), r + "bblock.0.bias": (64,)}
            for n in ("weight", "bias", "running_mean", "running_var"):
                shapes[r + f"bblock.1.{n}"] = (64,)
            shapes[r + "bblock.1.num_batches_tracked"] = ()
            shapes[r + "bblock.3.weight"] = (64, 64, 3, 3)
        a = f"refiner.CAB.{layer}.convreluconv."
        shapes |= {a + "0.weight": (64, 128, 1, 1), a + "0.bias": (64,)}
        shapes |= {a + "2.weight": (64, 64, 1, 1), a + "2.bias": (64,)}
    p = "refiner.project."
    shapes |= {p + "conv1.weight": (32, 64, 3, 3), p + "conv1.bias": (32,)}
    shapes |= {p + "conv2.weight": (1, 32, 3, 3), p + "conv2.bias": (1,)}
    gen = torch.Generator().manual_seed(0)
    return {
        k: torch.tensor(7) if k.endswith("num_batches_tracked") else torch.randn(s, generator=gen)
        for k, s in shapes.items()
    }


@pytest.mark.parametrize("backbone", ["resnet18", "resnet101"])
def test_convert_official_checkpoint(backbone) -> None:
    model = official_state(backbone)
    assert len(model) == 140 and set(model) == set(official_frtm_keys())
    checkpoint = {"name": "rn", "epoch": 260, "model": model}
    assert detect_backbone(checkpoint) == backbone
    converted = convert_official_frtm(checkpoint)
    assert len(converted) == 140 and all(k.startswith("refiner.") for k in converted)
    assert "refiner.stages.16.tse.reduce.0.weight" in converted
    for head in ("official", "fast"):
        holder = torch.nn.Module()
        holder.refiner = FRTMRefiner(official_feature_channels(backbone), head=head)
        holder.load_state_dict(converted, strict=True)
        w = holder.refiner.stages["4"].rrb2.bblock[3].weight
        assert torch.equal(w, model["refiner.RRB2.layer2.bblock.3.weight"])
        assert torch.equal(holder.refiner.upsampler.conv2.bias, model["refiner.project.conv2.bias"])


def test_convert_rejects_unknown_and_missing_keys() -> None:
    model = official_state("resnet18")
    model["refiner.Diff_process.convBlend.weight"] = torch.zeros(64, 144, 5, 5)
    model["convGS.1.weight"] = torch.zeros(16, 64, 3, 3)
    del model["refiner.CAB.layer3.convreluconv.2.bias"]
    with pytest.raises(CheckpointError) as err:
        convert_official_frtm({"model": model})
    msg = str(err.value)
    assert "2 unknown key(s)" in msg and "convGS.1.weight" in msg
    assert "refiner.Diff_process.convBlend.weight" in msg
    assert "1 missing key(s): refiner.CAB.layer3.convreluconv.2.bias" in msg
    model["refiner.CAB.layer3.convreluconv.2.bias"] = torch.zeros(64)
    out = convert_official_frtm(model, ignore=("convGS.", "refiner.Diff_process."))
    assert len(out) == 140
    model["refiner.TSE.layer4.reduce.0.weight"] = torch.zeros(64, 512, 1, 1)
    with pytest.raises(CheckpointError, match="expected 256"):
        convert_official_frtm(model)


def test_sample_statistics_are_what_training_with_one_clip_normalised_with():
    """bn_stats='sample': in eval mode each object is normalised with its own statistics,
    exactly as a batch-norm layer in training mode on a batch of one; running averages
    (the default) give something else. Files of either kind load into either."""
    feats = make_features(size=(64, 96))
    score = torch.randn(2, 1, 4, 6)
    running = make_refiner().eval()
    sample = FRTMRefiner(CHANNELS, bn_stats="sample")
    sample.load_state_dict(running.state_dict())
    sample.eval()
    with torch.no_grad():
        both = sample.run(score, feats, (64, 96)).logits
        # each object alone gives the same (no mixing across the batch of objects)
        alone = torch.cat([sample.run(score[i : i + 1], feats, (64, 96)).logits for i in (0, 1)])
        torch.testing.assert_close(both, alone, rtol=1e-4, atol=1e-4)
        # ... and equals the running-statistics refiner put in training mode, one object
        # at a time (batch statistics of a batch of one), with no dropout or other change
        trained = make_refiner().train()
        ref = torch.cat([trained.run(score[i : i + 1], feats, (64, 96)).logits for i in (0, 1)])
        torch.testing.assert_close(both, ref, rtol=1e-4, atol=1e-4)
        assert not torch.allclose(both, running.run(score, feats, (64, 96)).logits, atol=1e-3)
    # the running statistics are never read nor updated
    before = {k: v.clone() for k, v in sample.state_dict().items() if "running" in k}
    sample.train()
    sample.run(score, feats, (64, 96))
    after = sample.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_unknown_bn_stats_is_explained():
    with pytest.raises(ValueError, match="bn_stats.*Fix"):
        FRTMRefiner(CHANNELS, bn_stats="batch")
