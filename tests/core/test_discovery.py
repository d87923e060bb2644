"""Plugin discovery through real entry points of out-of-tree distributions."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from toys import toy_clip

from vosframe import build_model
from vosframe.discovery import default_host, failures, reload_plugins
from vosframe.registry import MODELS

# A complete third-party base model (under 60 lines) that registers through an entry point.
EXTERNAL_MODEL = """
import torch
from torch import nn
import torch.nn.functional as F
import vosframe
from vosframe import SkipPoint, SkipPoints


class Extractor(vosframe.FeatureExtractor):
    def __init__(self):
        super().__init__()
        convs = {4: nn.Conv2d(3, 4, 3, 4, 1), 8: nn.Conv2d(4, 4, 3, 2, 1)}
        convs[16] = nn.Conv2d(4, 4, 3, 2, 1)
        self.levels = nn.ModuleDict({str(s): c for s, c in convs.items()})
        self.channels = {4: 4, 8: 4, 16: 4}

    def preprocess(self, image):
        return image


class Localizer(vosframe.TargetLocalizer):
    stride, score_channels, feature_strides = 16, 1, (16,)

    def init_object(self, features, mask, image):
        return F.adaptive_avg_pool2d(mask, features[16].shape[-2:])

    def localize(self, features, states):
        return torch.cat(list(states))

    def update(self, features, states, probs, frame_index):
        pass


class Refiner(vosframe.Refiner):
    def __init__(self):
        super().__init__()
        self.levels, self.channels = (16, 8), {16: 4, 8: 4}
        self.conv = nn.Conv2d(5, 4, 1)

    def stage(self, stride, x, score, features):
        f = features[stride].expand(score.shape[0], -1, -1, -1)
        return self.conv(torch.cat([f, F.interpolate(score, f.shape[-2:])], 1))

    def head(self, x, score, features, out_size):
        return F.interpolate(x[:, :1], size=out_size)


class ExternalNet(vosframe.VOSModel):
    def __init__(self):
        super().__init__(Extractor(), Localizer(), Refiner())

    def skip_points(self):
        cut = SkipPoint("F_t", "feature_cut", 8, 4)
        return SkipPoints((cut, SkipPoint("R_t", "reentry", 16, 4)))


@vosframe.hookimpl
def register_models(register):
    register(ExternalNet)
"""


def _dist(root: Path, dist: str, module: str, code: str, ep_name: str) -> None:
    (root / f"{module}.py").write_text(code)
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[vosframe]\n{ep_name} = {module}\n")


@pytest.fixture()
def site(tmp_path, monkeypatch):
    _dist(tmp_path, "vosframe-extnet", "extnet_hooks", EXTERNAL_MODEL, "extnet")
    _dist(
        tmp_path,
        "vosframe-broken",
        "broken_hooks",
        "raise ImportError('boom: needs libfoo')\n",
        "broken",
    )
    _dist(
        tmp_path,
        "vosframe-halfway",
        "halfway_hooks",
        textwrap.dedent(
            """
            import vosframe
            class A: pass
            @vosframe.hookimpl
            def register_models(register):
                register(A, name="HalfwayA")
                raise RuntimeError("second model failed")
            """
        ),
        "halfway",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("extnet_hooks", "broken_hooks", "halfway_hooks"):
        sys.modules.pop(name, None)
    yield tmp_path
    monkeypatch.undo()
    reload_plugins()


def test_external_model_registers_through_entry_point_and_gets_a_plugin_by_config(site):
    with pytest.warns(RuntimeWarning) as warned:
        reload_plugins()
    assert "ExternalNet" in MODELS.names()
    assert default_host().source_of("models", "ExternalNet") == "vosframe-extnet"
    model = build_model(dict(type="ExternalNet", plugins=[dict(type="ScheduledReuse", period=2)]))
    frames, label0 = toy_clip(4)
    paths = [r.paths[3].path for r in model.new_session(precision="fp32").propagate(frames, label0)]
    assert paths == ["init", "full", "alt", "full"]
    # the broken plugin is reported with its distribution name and skipped
    broken = {f.name: f for f in failures()}
    assert broken["broken"].distribution == "vosframe-broken" and "boom" in broken["broken"].error
    assert broken["broken"].stage == "import"
    assert any("vosframe-broken" in str(w.message) for w in warned)
    # a plugin failing inside its hook is rolled back completely
    assert broken["halfway"].stage == "register_models"
    assert "HalfwayA" not in MODELS.names()
    # built-ins still work
    assert "ScheduledReuse" in default_host().registries["plugins"].names()


def test_loading_is_lazy_and_idempotent(site):
    reload_plugins()
    host = default_host()
    count = len(host.registrations)
    host.ensure_loaded()
    MODELS.names()
    assert len(host.registrations) == count


def test_autoload_can_be_disabled_and_plugins_blocked(site, monkeypatch):
    monkeypatch.setenv("VOSFRAME_DISABLE_PLUGIN_AUTOLOAD", "1")
    reload_plugins()
    assert "ExternalNet" not in MODELS.names() and not failures()
    assert "ScheduledReuse" in default_host().registries["plugins"].names()
    monkeypatch.delenv("VOSFRAME_DISABLE_PLUGIN_AUTOLOAD")
    monkeypatch.setenv("VOSFRAME_BLOCKED_PLUGINS", "broken, vosframe-halfway")
    reload_plugins()
    assert "ExternalNet" in MODELS.names() and not failures()
