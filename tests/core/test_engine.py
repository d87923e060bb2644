"""The skip-point engine on three toy state families."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from toys import TOY_MODELS, NeverPlugin, SchedulePlugin, toy_clip


def _run(model, frames, label0, **opts):
    session = model.new_session(precision="fp32", **opts)
    return list(session.propagate(frames, masks=label0)), session


def _twin(cls, plugin=None):
    torch.manual_seed(1)
    model = cls()
    if plugin is not None:
        model.attach_plugin(plugin)
    return model


@pytest.mark.parametrize("cls", TOY_MODELS, ids=lambda c: c.__name__)
def test_full_path_is_bit_identical_to_the_model_without_plugin(cls):
    frames, label0 = toy_clip(10)
    base, _ = _run(_twin(cls), frames, label0)
    plugin = NeverPlugin()
    gated, _ = _run(_twin(cls, plugin), frames, label0)
    for a, b in zip(base, gated):
        assert np.array_equal(a.labels, b.labels)
        for obj_id in a.probs:
            assert torch.equal(a.probs[obj_id], b.probs[obj_id])
        assert all(r.path in ("init", "full") for r in b.paths.values())
    # the plugin decided on features cut at F_t (stride 8), not on all levels
    assert set(plugin.deepest_seen) == {8}


@pytest.mark.parametrize("cls", TOY_MODELS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("reentry", ["R_t@16", "R_t@8"])
def test_schedule_plugin_takes_alternative_path(cls, reentry):
    frames, label0 = toy_clip(10)
    base, _ = _run(_twin(cls), frames, label0)
    model = _twin(cls, SchedulePlugin(period=3, reentry=reentry))
    extractor = model.feature_extractor
    gated, session = _run(model, frames, label0)
    for t, res in enumerate(gated):
        want = "init" if t == 0 else ("alt" if t % 3 == 2 else "full")
        assert {r.path for r in res.paths.values()} == {want}, t
        assert all(r.ms >= 0 for r in res.paths.values())
    # before the first alternative frame the outputs are identical
    for t in (0, 1):
        assert np.array_equal(base[t].labels, gated[t].labels)
    # on alternative frames the stride-16 level did not run: 10 frames, 3 of them alt
    assert extractor.calls[16] == 10 - 3
    assert extractor.calls[8] == 10
    summary = session.summary()
    assert summary["reuse_rate"] == pytest.approx(3 / 9)
    for obj in summary["objects"].values():
        assert obj["frames"] == {"init": 1, "full": 6, "alt": 3}


@pytest.mark.parametrize("cls", TOY_MODELS, ids=lambda c: c.__name__)
def test_alternative_path_skips_the_localizer_update(cls):
    frames, label0 = toy_clip(9)
    model = _twin(cls, SchedulePlugin(period=2))
    calls = []
    orig = model.localizer.update
    model.localizer.update = lambda f, states, p, idx: (calls.append(idx), orig(f, states, p, idx))
    _run(model, frames, label0)
    assert calls == [2, 4, 6, 8]


@pytest.mark.parametrize("cls", TOY_MODELS, ids=lambda c: c.__name__)
def test_session_state_stays_bounded(cls):
    frames, label0 = toy_clip(2)
    model = _twin(cls, SchedulePlugin(period=4))
    session = model.new_session(precision="fp32")
    session.step(frames[0], label0)

    def state_bytes():
        total = 0
        seen = set()

        def walk(x):
            nonlocal total
            if isinstance(x, torch.Tensor):
                if id(x) not in seen:
                    seen.add(id(x))
                    total += x.untyped_storage().nbytes()
            elif isinstance(x, (list, tuple)) or type(x).__name__ == "deque":
                for v in x:
                    walk(v)
            elif isinstance(x, dict):
                for v in x.values():
                    walk(v)
            elif hasattr(x, "__attrs_attrs__"):
                for a in x.__attrs_attrs__:
                    walk(getattr(x, a.name))

        for o in session.objects.values():
            walk(o)
        return total

    sizes = []
    for t in range(60):
        session.step(frames[t % 2])
        if t in (20, 59):
            sizes.append(state_bytes())
    assert sizes[1] <= sizes[0] * 1.01
