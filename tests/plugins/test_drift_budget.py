"""``ReuseGate(drift_budget=...)``: objects whose output drifts fast copy fewer frames in a row."""

from __future__ import annotations

import math

import pytest
import torch
from toys import ToyOnline, toy_clip

from vosframe.core.errors import ConfigError, InputError
from vosframe.plugins.reuse_gate import ReuseGate
from vosframe.plugins.reuse_gate.cues import coarse_mask, mask_change
from vosframe.plugins.reuse_gate.policy import copy_capped
from vosframe.plugins.reuse_gate.state import GateObjectState

pytestmark = pytest.mark.usefixtures("one_thread")

COPY = dict(variant="copy", motion_cue=True, object_cue=True, gate_norm=False)


def _toy(**kw):
    torch.manual_seed(1)
    model = ToyOnline()
    return model, model.attach_plugin(ReuseGate(preset="paper", **{**COPY, **kw}))


def _state(rate: float | None, run: int) -> GateObjectState:
    return GateObjectState(torch.zeros(1, 4, 4), None, run=run, mask_rate=rate)


def _capped(gate: ReuseGate, st: GateObjectState, tau: float) -> bool:
    """The gate's cap on an object at the session's ``tau`` (its policy's run cap and
    budget)."""
    p = gate.policy
    return copy_capped(st.run, st.mask_rate, tau, p.max_reuse_run, p.drift_budget)


def test_a_copy_fits_the_budget_while_rate_times_age_stays_within_it():
    _, gate = _toy(tau=0.5, drift_budget=0.5, max_reuse_run=5)  # budget 0.5 * (1 - 0.5)
    # a copy at run r has age r + 1: drift 0.1, 0.2 fit; 0.3 does not
    assert [_capped(gate, _state(0.1, r), 0.5) for r in range(3)] == [False, False, True]
    # the budget follows tau: 0.5 * (1 - 0.3) = 0.35 lets the third copy through
    assert not copy_capped(2, 0.1, 0.3, 5, 0.5)
    assert not _capped(gate, _state(0.1, 2), 0.3) and _capped(gate, _state(0.1, 3), 0.3)
    assert not _capped(gate, _state(None, 4), 0.3)  # rate unknown: only the run cap applies
    assert _capped(gate, _state(None, 5), 0.3) and _capped(gate, _state(0.0, 5), 0.3)
    _, off = _toy(max_reuse_run=None)
    assert off.policy.drift_budget is None and not _capped(off, _state(math.inf, 100), 0.7)


def test_the_budget_is_validated():
    with pytest.raises(ConfigError, match="drift_budget must be None or > 0"):
        ReuseGate(preset="paper", **COPY, drift_budget=0.0)


@pytest.mark.parametrize("budget", [10.0, 0.02, 1e-4])
def test_the_session_measures_the_drift_and_applies_the_budget(budget):
    """tau = 0 (the budget is ``drift_budget``): an object copies on every frame the cap
    and the budget allow; its drift is ``1 - IoU`` of its last two computed outputs
    (stride-4 grid) over their frame gap."""
    frames, label0 = toy_clip(12)
    model, gate = _toy(tau=0.0, drift_budget=budget, max_reuse_run=2)
    assert gate.arch.cue_channels == 5  # the drift is not a gate input
    session = model.new_session(precision="fp32")
    session.step(frames[0], masks=label0)
    st = session.objects[3].plugins[gate.key]
    assert st.mask is not None and st.mask_rate is None  # the given mask, at frame 0
    computed = [(0, coarse_mask(session.objects[3].last_prob))]
    paths, rates = [], []
    for t, frame in enumerate(frames[1:], start=1):
        rate = None
        if len(computed) > 1:
            (i, a), (j, b) = computed[-2:]
            rate = float(mask_change(b, a)[0]) / (j - i)
        assert st.mask_rate == pytest.approx(rate)
        copies = st.run < 2 and (rate is None or rate * (st.run + 1) <= budget)
        record = session.step(frame).paths[3]
        path = record.path
        assert path == ("alt" if copies else "full"), (t, rate, st.run)
        assert (record.confidence is None) != copies  # a capped object skips the gate
        if path == "full":
            computed.append((t, coarse_mask(session.objects[3].last_prob)))
        paths.append(path)
        rates.append(rate)
    known = [r for r in rates if r is not None]
    assert known and max(known) > 0.02  # the outputs move: the small budgets bind
    assert ("full", "full") in zip(paths, paths[1:]) or budget > 1


def _paths(session, frames, label0) -> tuple[list, list]:
    out = [session.step(frames[0], masks=label0)]
    out += [session.step(f) for f in frames[1:]]
    return [r.paths[3].path for r in out[1:]], [r.labels for r in out]


def test_a_session_sets_the_budget_and_run_cap_for_itself():
    """``path_policy`` on one session equals the same values in the config; the model's other
    sessions keep the configured policy; ``update_config(path_policy={})`` goes back to it."""
    frames, label0 = toy_clip(12)
    configured, gate_a = _toy(tau=0.0, drift_budget=0.02, max_reuse_run=2)
    plain, gate_b = _toy(tau=0.0)
    assert all(
        torch.equal(a, b)
        for a, b in zip(gate_a.state_dict().values(), gate_b.state_dict().values())
    )
    policy = {"drift_budget": 0.02, "max_reuse_run": 2}
    want_paths, want_labels = _paths(configured.new_session(precision="fp32"), frames, label0)
    session = plain.new_session(precision="fp32", path_policy=policy)
    assert dict(session.options.policy) == policy
    paths, labels = _paths(session, frames, label0)
    assert paths == want_paths and "full" in paths[1:]  # the cap and the budget bind
    assert all((a == b).all() for a, b in zip(labels, want_labels))
    other, _ = _paths(plain.new_session(precision="fp32"), frames, label0)
    assert other != paths and gate_b.policy.drift_budget is None  # the model is unchanged
    session.update_config(path_policy={})
    assert session.options.policy == {} and session.options.tau == 0.0


@pytest.mark.parametrize(
    "policy, message",
    [
        ({"copy_motion": True}, "no per-session policy setting.*copy_motion.*in the config"),
        ({"drift_budget": 0}, "drift_budget must be None or > 0"),
        ({"max_reuse_run": "x"}, "path_policy"),
        ({"tau2": 2}, "tau2 must be a number in \\[0, 1\\]"),
        ([("drift_budget", 1)], "path_policy must be a mapping"),
    ],
)
def test_bad_session_policies_are_refused_before_any_frame(policy, message):
    model, gate = _toy(tau=0.5)
    with pytest.raises(InputError, match=message):
        model.new_session(precision="fp32", path_policy=policy)
    session = model.new_session(precision="fp32", path_policy={"drift_budget": 1.0})
    with pytest.raises(InputError, match=message):
        session.update_config(path_policy=policy)
    assert dict(session.options.policy) == {"drift_budget": 1.0}  # nothing changed


def test_a_model_without_a_decider_takes_no_session_policy():
    with pytest.raises(InputError, match="path_policy set for a ToyOnline without a path-deciding"):
        ToyOnline().new_session(precision="fp32", path_policy={"drift_budget": 1.0})
