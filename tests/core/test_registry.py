"""Registry, config building and skip-point validation errors."""

from __future__ import annotations

import textwrap

import pytest
import torch
from toys import SchedulePlugin, ToyMemory, ToyOnline, toy_clip

import vosframe
from vosframe import ConfigError, RegistryError, SkipPointError, build_model
from vosframe.core.skip_points import Need
from vosframe.registry import MODELS, PLUGINS


@pytest.fixture()
def toys_registered():
    MODELS.register_module(module=ToyOnline, force=True)
    MODELS.register_module(module=ToyMemory, force=True)
    yield
    MODELS.unregister("ToyOnline")
    MODELS.unregister("ToyMemory")


def test_registries_have_explicit_scope_and_builtin_plugin():
    from vosframe.registry import REGISTRIES

    assert {r.scope for r in REGISTRIES.values()} == {"vosframe"}
    assert "ScheduledReuse" in PLUGINS.names()


def test_build_from_dict_with_plugin_enabled_in_config(toys_registered):
    model = build_model(dict(type="ToyOnline", plugins=[dict(type="ScheduledReuse", period=2)]))
    assert isinstance(model, ToyOnline)
    assert [type(p).__name__ for p in model.plugins] == ["ScheduledReuse"]
    frames, label0 = toy_clip(5)
    paths = [r.paths for r in model.new_session(precision="fp32").propagate(frames, label0)]
    assert [p[3].path for p in paths] == ["init", "full", "alt", "full", "alt"]


def test_build_from_class_and_config_file_with_base(tmp_path, toys_registered):
    assert isinstance(build_model(ToyMemory), ToyMemory)
    (tmp_path / "_base_").mkdir()
    (tmp_path / "_base_" / "toy.py").write_text("model = dict(type='ToyOnline')\n")
    (tmp_path / "gated.py").write_text(
        textwrap.dedent(
            """
            _base_ = ['_base_/toy.py']
            model = dict(plugins=[dict(type='ScheduledReuse', period=3, reentry='R_t@8')])
            """
        )
    )
    model = build_model(str(tmp_path / "gated.py"))
    assert isinstance(model, ToyOnline)
    assert model.plugins[0].points["reentry"].name == "R_t@8"
    assert model.build_cfg["plugins"][0]["type"] == "ScheduledReuse"


def test_unknown_names_error_with_close_matches(toys_registered):
    with pytest.raises(
        RegistryError, match=r"'ToyOnlin' is not registered .*did you mean 'ToyOnline'"
    ):
        build_model(dict(type="ToyOnlin"))
    with pytest.raises(RegistryError, match=r"'ScheduleReuse'.*plugin registry.*'ScheduledReuse'"):
        build_model(dict(type="ToyOnline", plugins=[dict(type="ScheduleReuse")]))
    with pytest.raises(ConfigError, match="has no 'type'"):
        build_model(dict(kind="ToyOnline"))
    with pytest.raises(ConfigError, match="does not exist"):
        build_model("/nonexistent/config.py")
    with pytest.raises(ConfigError, match="cannot build ToyOnline"):
        build_model(dict(type="ToyOnline", no_such_arg=1))


def test_plugin_needing_a_missing_skip_point_lists_both_sides():
    torch.manual_seed(0)
    model = ToyOnline()
    plugin = SchedulePlugin()
    plugin.needs = (
        Need("feature_cut"),
        Need("reentry", stride=32),
        Need("previous", source="mask"),
    )
    with pytest.raises(SkipPointError) as info:
        model.attach_plugin(plugin)
    msg = str(info.value)
    assert "needs reentry at stride 32; previous from the mask" in msg
    assert "the model offers F_t (feature_cut, stride 8, 8 ch), R_t@16" in msg
    assert "Fix:" in msg
    with pytest.raises(SkipPointError, match="no skip point 'R_t@4'"):
        model.skip_points().get("R_t@4")


def test_second_path_plugin_and_bad_declarations_are_rejected():
    torch.manual_seed(0)
    model = ToyOnline()
    model.attach_plugin(SchedulePlugin())
    with pytest.raises(SkipPointError, match="only one plugin may choose the path"):
        model.attach_plugin(vosframe.build_plugin(dict(type="ScheduledReuse")))

    class BadModel(ToyOnline):
        def skip_points(self):
            pts = super().skip_points()
            return vosframe.SkipPoints(
                (*pts.points, vosframe.SkipPoint("R_t@32", "reentry", 32, 8))
            )

    with pytest.raises(SkipPointError, match="R_t@32 at stride 32 is not a refiner level"):
        BadModel().attach_plugin(SchedulePlugin())


def test_errors_inside_a_constructor_are_not_reported_as_config_errors():
    from vosframe.registry import build_from_cfg

    class Broken:
        def __init__(self, x: int = 0) -> None:
            raise TypeError("bug inside the constructor")

    with pytest.raises(ConfigError, match="cannot build Broken"):
        build_from_cfg(dict(type=Broken, y=1), MODELS)
    with pytest.raises(TypeError, match="bug inside the constructor") as info:
        build_from_cfg(dict(type=Broken, x=1), MODELS)
    assert not isinstance(info.value, ConfigError)
