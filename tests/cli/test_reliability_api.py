"""Issue 21 through the Python API: long-run flatness (a short run of
``benchmarks/long_run.py``), float frames, empty first masks, the ``threads`` session
option, ``segment_video``'s checks, and the zoo's figures against the shipped configs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from toys import ToyOnline, toy_clip

from vosframe.app.segment import segment_video
from vosframe.app.zoo import ZOO, config_path
from vosframe.builder import build_model, build_plugin, load_config
from vosframe.core.errors import DataError, InputError
from vosframe.data.masks import write_mask
from vosframe.registry import MODELS
from vosframe.threads import default_threads, physical_cores, resolve_threads

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture()
def toy_model():
    MODELS.register_module(module=ToyOnline, force=True)
    yield build_model({"type": "ToyOnline", "plugins": [{"type": "ScheduledReuse"}]})
    MODELS.unregister("ToyOnline")


def _long_run():
    spec = importlib.util.spec_from_file_location("long_run", REPO / "benchmarks/long_run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_long_stream_keeps_memory_and_time_flat(toy_model):
    """A short run of the long-run benchmark: 600 frames, windows of 100."""
    res = _long_run().run_stream(
        toy_model, 600, size=(48, 64), window=100, session_options={"precision": "fp32"}
    )
    assert len(res["windows"]) == 6
    assert res["rss_growth_mb"] < 20.0, res["windows"]
    assert res["time_ratio"] < 2.0, res["windows"]


def test_float_frame_in_0_255_is_rejected(toy_model):
    """Issue 21 case 8: a float tensor in [0, 255] would give different masks."""
    frames, label0 = toy_clip(2)
    session = toy_model.new_session(precision="fp32")
    as_255 = torch.from_numpy(frames[0]).permute(2, 0, 1).float()
    with pytest.raises(InputError, match=r"\[0, 1\].*frame / 255"):
        session.step(as_255, masks=label0)
    nan = torch.full_like(as_255, float("nan"))
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        session.step(nan, masks=label0)
    ok = session.step(as_255 / 255.0, masks=label0)
    ref = toy_model.new_session(precision="fp32").step(frames[0], masks=label0)
    assert np.array_equal(ok.labels, ref.labels)


def test_all_zero_first_mask_has_its_own_message(toy_model):
    """Issue 21 case 8: not "the first frame of a session needs masks"."""
    frames, label0 = toy_clip(1)
    session = toy_model.new_session(precision="fp32")
    with pytest.raises(InputError, match="all background"):
        session.step(frames[0], masks=np.zeros_like(label0))


def test_threads_session_option(toy_model):
    """Issue 21 case 9: ``threads`` sets torch's threads; bad values are clear errors."""
    old = torch.get_num_threads()
    try:
        s = toy_model.new_session(threads=1)
        assert s.threads == 1 and torch.get_num_threads() == 1
        s = toy_model.new_session(threads="auto")
        assert s.threads == default_threads() == max(1, physical_cores() - 1)
        for bad in (0, -2, 1.5, "two", True):
            with pytest.raises(InputError, match="threads"):
                toy_model.new_session(threads=bad)
    finally:
        torch.set_num_threads(old)
    assert resolve_threads(None) == default_threads()


def test_segment_video_refuses_inputs_as_output_and_keeps_them(toy_model, tmp_path):
    """Issue 21 cases 2 and 6 through the API: checks before work, inputs untouched."""
    frames, label0 = toy_clip(3)
    fdir = tmp_path / "frames"
    for i, f in enumerate(frames):
        write_mask(fdir / f"{i:05d}.png", (f[..., 0] > 128).astype(np.uint8))  # any PNG
    write_mask(tmp_path / "first.png", label0)
    before = sorted((p.name, p.read_bytes()) for p in fdir.iterdir())
    with pytest.raises(InputError, match="frames"):
        segment_video(toy_model, fdir, tmp_path / "first.png", fdir)
    assert sorted((p.name, p.read_bytes()) for p in fdir.iterdir()) == before
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.png").write_bytes(b"x")
    with pytest.raises(InputError, match="overwrite=True"):
        segment_video(toy_model, fdir, tmp_path / "first.png", out)
    summary = segment_video(
        toy_model,
        fdir,
        tmp_path / "first.png",
        out,
        overwrite=True,
        session_options={"precision": "fp32"},
    )
    assert summary["frames"] == 3
    assert sorted(p.name for p in out.iterdir()) == [f"{i:05d}.png" for i in range(3)]
    write_mask(tmp_path / "zero.png", np.zeros_like(label0))
    with pytest.raises(DataError, match="zero.png.*all background"):
        segment_video(toy_model, fdir, tmp_path / "zero.png", tmp_path / "out2")
    assert not (tmp_path / "out2").exists()


@pytest.mark.parametrize("name", list(ZOO))
def test_zoo_default_tau_is_the_configs(name):
    """`vosframe models` reads τ from the zoo card; it must be the shipped config's."""
    cfg = load_config(config_path(ZOO[name].config))
    plugins = [build_plugin(p) for p in cfg.model.get("plugins") or []]
    taus = [p.default_options().tau for p in plugins if p.has_threshold]
    assert (taus[0] if taus else None) == ZOO[name].tau
