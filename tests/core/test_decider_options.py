"""The path decider's options (tau, a forced path) are session options: sessions of one
model keep their own, ``update_config`` changes them from the next frame, and bad values
are refused before any work."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from vosframe.app.zoo import ZOO, load_model, weights_path
from vosframe.core.errors import InputError
from vosframe.core.state import DecisionOptions

pytestmark = pytest.mark.usefixtures("one_thread")

SEQUENCE, FRAMES = "car-turn", 8


def _model(name: str = "g-frtm"):
    if not weights_path(ZOO[name].weights).is_file():
        pytest.skip(f"shipped {name} weights not built")
    return load_model(name)


def _clip(root: Path) -> tuple[list[np.ndarray], np.ndarray]:
    from PIL import Image

    seq = root / "davis2016" / "train_240p"
    frames = sorted((seq / "JPEGImages" / SEQUENCE).glob("*.jpg"))[:FRAMES]
    mask = np.asarray(Image.open(sorted((seq / "Annotations" / SEQUENCE).glob("*.png"))[0]))
    return [np.array(Image.open(f).convert("RGB")) for f in frames], (mask > 0).astype(np.uint8)


def _record(result) -> tuple[np.ndarray, str, float | None]:
    rec = result.paths[1]
    return result.labels, rec.path, rec.confidence


def _lone(model, images, mask, **options) -> list[tuple[np.ndarray, str, float | None]]:
    session = model.new_session(precision="fp32", **options)
    return [_record(session.step(im, mask if t == 0 else None)) for t, im in enumerate(images)]


def _same(a, b) -> bool:
    return all(np.array_equal(x[0], y[0]) and x[1] == y[1] and x[2] == y[2] for x, y in zip(a, b))


def test_interleaved_sessions_keep_their_own_tau(shared_data: Path) -> None:
    model = _model()
    images, mask = _clip(shared_data)
    lone = {tau: _lone(model, images, mask, tau=tau) for tau in (0.7, 0.9)}
    assert [r[1] for r in lone[0.7]] != [r[1] for r in lone[0.9]]  # the taus matter here
    sessions = {tau: model.new_session(precision="fp32", tau=tau) for tau in (0.7, 0.9)}
    got: dict[float, list] = {0.7: [], 0.9: []}
    for t, image in enumerate(images):  # one frame of each session in turn
        for tau, session in sessions.items():
            got[tau].append(_record(session.step(image, mask if t == 0 else None)))
    for tau in lone:
        assert _same(got[tau], lone[tau]), tau
    assert model.path_plugin.default_options().tau == ZOO["g-frtm"].tau  # the model is unchanged


def test_confidence_is_the_gates_p_reuse(shared_data: Path) -> None:
    model = _model()
    images, mask = _clip(shared_data)
    runs = _lone(model, images, mask, tau=0.9)
    assert runs[0][2] is None  # init frame: no decision
    confident = [(path, c) for _, path, c in runs[1:] if c is not None]
    assert confident and all(0.0 <= c <= 1.0 for _, c in confident)
    assert all((path == "alt") == (c > 0.9) for path, c in confident)
    assert all(c is None for _, _, c in _lone(model, images[:3], mask, tau=1.0))  # gate off


def test_update_config_takes_effect_from_the_next_frame(shared_data: Path) -> None:
    model = _model()
    images, mask = _clip(shared_data)
    lone = _lone(model, images, mask, tau=0.7)
    assert lone[3][1] == "alt"
    other = model.new_session(precision="fp32", tau=0.7)
    session = model.new_session(precision="fp32", tau=0.7)
    got = []
    for t, image in enumerate(images):
        if t == 3:
            assert session.update_config(tau=1.0) == DecisionOptions(tau=1.0)
        if t == 5:
            session.update_config(force="alt")
        got.append(_record(session.step(image, mask if t == 0 else None)))
        other.step(image, mask if t == 0 else None)
    assert _same(got[:3], lone[:3])  # before the change: exactly the tau=0.7 run
    assert [r[1] for r in got[3:5]] == ["full", "full"]  # tau 1: the gate is off
    assert all(r[2] is None for r in got[3:5])
    # forced: the gate's caches were dropped while it was off, so the object is computed
    # once with the gate on, then copied on every frame
    assert [r[1] for r in got[5:]] == ["full"] + ["alt"] * (FRAMES - 6)
    assert other.options == DecisionOptions(tau=0.7)  # another session is unaffected


def test_default_tau_comes_from_the_config() -> None:
    from mmengine import Config

    from vosframe.app.zoo import config_path

    model = _model()
    cfg = Config.fromfile(str(config_path(ZOO["g-frtm"].config)))
    (gate,) = [p for p in cfg.model.plugins if p["type"] == "ReuseGate"]
    assert gate["tau"] == ZOO["g-frtm"].tau  # the model card states the config's default
    assert model.new_session().options == DecisionOptions(tau=gate["tau"], force=None)
    assert model.new_session(tau=0.5, force="full").options == DecisionOptions(0.5, "full")
    assert DecisionOptions(tau=np.float32(0.25)).tau == 0.25


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"tau": 1.5}, "tau must be a finite number in [0, 1], got 1.5"),
        ({"tau": -0.1}, "got -0.1"),
        ({"tau": math.nan}, "got nan"),
        ({"tau": math.inf}, "got inf"),
        ({"tau": "0.5"}, "tau must be a number"),
        ({"tau": True}, "tau must be a number"),
        ({"force": "maybe"}, "force must be None, 'full' or 'alt', got 'maybe'"),
    ],
)
def test_bad_options_are_refused(options: dict, words: str) -> None:
    model = _model()
    with pytest.raises(InputError, match=None) as err:
        model.new_session(precision="fp32", **options)
    assert words in str(err.value) and "Fix" in str(err.value)
    session = model.new_session(precision="fp32", tau=0.6)
    with pytest.raises(InputError) as err:
        session.update_config(**options)
    assert words in str(err.value)
    assert session.options == DecisionOptions(tau=0.6)  # nothing changed


def test_update_config_refuses_unknown_options_and_none_tau() -> None:
    session = _model().new_session(precision="fp32")
    with pytest.raises(InputError, match=r"unknown session option\(s\) \['taux'\]"):
        session.update_config(taux=0.5)
    with pytest.raises(InputError, match="tau=None"):
        session.update_config(tau=None)
    assert session.update_config(force="full").force == "full"
    assert session.update_config(force=None) == DecisionOptions(tau=ZOO["g-frtm"].tau)


def test_options_for_a_model_without_a_decider_are_refused() -> None:
    model = _model("frtm")
    assert model.path_plugin is None
    with pytest.raises(InputError, match="without a path-deciding plugin"):
        model.new_session(tau=0.5)
    with pytest.raises(InputError, match="without a path-deciding plugin"):
        model.new_session().update_config(force="full")
    torch.manual_seed(0)  # the session above did no work
