"""The compute budget: tau adapted online so that frames take a target time."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from toys import ToyOnline, toy_clip

from vosframe.core.budget import FrameBudget
from vosframe.core.errors import InputError
from vosframe.plugins.reuse_gate import ReuseGate


def _fake_clock_run(budget: FrameBudget, frames: int = 400, seed: int = 0) -> list[tuple]:
    """A fake clock as the plant: two objects whose gate confidences are uniform random;
    an object reuses iff its confidence exceeds tau; a frame costs 100 ms per computed
    object and 10 ms per reused one, plus 20 ms shared."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(frames):
        tau = budget.tau
        alt = int((rng.random(2) > tau).sum())
        ms = 20.0 + 100.0 * (2 - alt) + 10.0 * alt
        budget.update(ms, alt, 2)
        out.append((tau, ms, alt))
    return out


@pytest.mark.parametrize("target_ms", [90.0, 140.0, 180.0])
def test_the_controller_holds_a_reachable_frame_time(target_ms):
    run = _fake_clock_run(FrameBudget(target_ms=target_ms))
    mean_ms = np.mean([ms for _, ms, _ in run[100:]])
    assert abs(mean_ms - target_ms) <= 0.1 * target_ms, mean_ms
    # The feed-forward estimates are the plant's costs.
    budget = FrameBudget(target_ms=target_ms)
    _fake_clock_run(budget)
    assert budget.full_ms == pytest.approx(220.0) and budget.alt_ms == pytest.approx(40.0)


def test_tau_moves_the_right_way():
    slow = FrameBudget(target_ms=90.0)  # needs much reuse
    fast = FrameBudget(target_ms=180.0)  # needs little
    taus_slow = [t for t, _, _ in _fake_clock_run(slow)[100:]]
    taus_fast = [t for t, _, _ in _fake_clock_run(fast)[100:]]
    assert np.mean(taus_slow) < np.mean(taus_fast)
    # A frame slower than the target lowers tau before any cost is known, and one
    # faster raises it (within the bounds).
    b = FrameBudget(target_ms=50.0, tau_min=0.3, tau_max=0.9)
    assert b.tau == 0.9
    assert b.update(200.0, 0, 1) < 0.9
    for _ in range(50):
        b.update(200.0, 0, 1)
    assert b.tau == 0.3  # bounded below
    b2 = FrameBudget(target_ms=500.0, tau_min=0.3, tau_max=0.9)
    b2.tau = 0.3
    for _ in range(50):
        b2.update(100.0, 0, 1)
    assert b2.tau == 0.9  # a budget met with every frame computed: back to full accuracy


def test_unreachable_budget_and_first_frames():
    b = FrameBudget(target_ms=5.0, tau_min=0.2)
    _fake_clock_run(b, frames=200)
    assert b.tau == 0.2  # even the alternative path is too slow: the most reuse allowed
    tau = b.tau
    assert b.update(1000.0, 0, 0) == tau  # a frame with no tracked object changes nothing


def test_bad_budgets_are_refused():
    with pytest.raises(InputError, match="target_fps must be a number > 0"):
        FrameBudget.for_fps(0)
    with pytest.raises(InputError, match="tau_min"):
        FrameBudget(target_ms=10.0, tau_min=0.9, tau_max=0.5)
    with pytest.raises(InputError, match="target_ms"):
        FrameBudget(target_ms=-1.0)
    assert FrameBudget.for_fps(20).target_ms == pytest.approx(50.0)


def _gated():
    torch.manual_seed(0)
    model = ToyOnline()
    model.attach_plugin(ReuseGate(preset="paper", variant="copy"))
    return model


@pytest.mark.parametrize("fps,bound", [(1e6, 0.0), (1e-3, 1.0)], ids=["unreachable", "trivial"])
def test_a_session_with_a_target_fps_reports_the_tau_it_used(fps, bound):
    """An unreachable rate drives tau down towards its lower bound, a trivial one keeps
    tau_max (the base model)."""
    frames, label0 = toy_clip(12)
    session = _gated().new_session(precision="fp32", target_fps=fps)
    results = list(session.propagate(frames, masks=label0))
    taus = [r.tau for r in results]
    assert taus[0] == 1.0 and all(t is not None for t in taus)
    if bound == 1.0:
        assert taus == [1.0] * len(taus)
    else:
        assert all(b <= a for a, b in zip(taus, taus[1:])) and taus[-1] < 0.2
        assert any(r.paths[3].path == "alt" for r in results[-3:])
    assert session.summary()["tau_mean"] == pytest.approx(float(np.mean(taus)))


def test_target_fps_is_a_session_option():
    model = _gated()
    a = model.new_session(precision="fp32", target_fps=10)
    b = model.new_session(precision="fp32")
    assert a.budget is not None and b.budget is None
    a.update_config(target_fps=None)
    assert a.budget is None
    a.update_config(target_fps=30)
    assert a.budget.target_ms == pytest.approx(1000 / 30)
    with pytest.raises(InputError, match="target_fps"):
        a.update_config(target_fps=-5)
    with pytest.raises(InputError, match="without a path-deciding plugin"):
        torch.manual_seed(0)
        ToyOnline().new_session(target_fps=10)
