"""``vosframe.app.selection``: held-out-fold J&F with a toy model on a tiny DAVIS-2016 layout."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from toys import ToyOnline

from vosframe.app.selection import (
    Variant,
    format_selection,
    merge_selections,
    parse_variant,
    run_folds,
    variant_grid,
    write_selection,
)
from vosframe.cli.main import main
from vosframe.core.checkpoint import load_checkpoint, save_checkpoint
from vosframe.core.errors import DataError, InputError
from vosframe.data.folds import FoldTable
from vosframe.data.masks import write_mask
from vosframe.metrics import evaluate_folders
from vosframe.plugins.spatial_prior import SpatialPrior

pytestmark = pytest.mark.usefixtures("one_thread")

TABLE = FoldTable("toy", [("a", "b"), ("c", "d")])
FRAMES, H, W = 5, 32, 48


def _make_davis(root: Path, names=("a", "b", "c", "d")) -> Path:
    """DAVIS-2016 layout: a bright moving square on noise, 0/255 masks."""
    for n, name in enumerate(names):
        rng = np.random.default_rng(n)
        bg = rng.integers(0, 100, (H, W, 3), dtype=np.uint8)
        fdir, mdir = root / "JPEGImages" / name, root / "Annotations" / name
        fdir.mkdir(parents=True)
        mdir.mkdir(parents=True)
        for t in range(FRAMES):
            img, mask = bg.copy(), np.zeros((H, W), np.uint8)
            y, x = 6 + 2 * (n % 4), 4 + 3 * t + 2 * (n % 4)
            img[y : y + 12, x : x + 12] = (230, 200, 40)
            mask[y : y + 12, x : x + 12] = 255
            cv2.imwrite(str(fdir / f"{t:05d}.jpg"), img)
            cv2.imwrite(str(mdir / f"{t:05d}.png"), mask)
    return root


def _toy() -> ToyOnline:
    torch.manual_seed(0)
    model = ToyOnline()
    model.attach_plugin(SpatialPrior(margin=0.5))
    return model.eval()


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return _make_davis(tmp_path_factory.mktemp("davis") / "train")


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory) -> Path:
    """Per-fold, per-seed checkpoints whose metadata lists their fit videos."""
    folder = tmp_path_factory.mktemp("ckpt")
    for seed in (0, 1):
        for k in range(2):
            torch.manual_seed(seed)
            model = ToyOnline()
            meta = {"davis_videos": list(TABLE.fit(k))}
            save_checkpoint(model, folder / f"s{seed}_fold{k}.pt", meta=meta)
    return folder


def _loader(calls: list | None = None, built: list | None = None):
    def load(path):
        if calls is not None:
            calls.append(path)
        model = _toy()
        if built is not None:
            built.append(model)
        if path is not None:
            load_checkpoint(model, path)
        return model

    return load


def test_scores_are_the_official_ones_and_aggregate_over_folds_and_seeds(data, ckpts, tmp_path):
    variants = [Variant(), parse_variant("SpatialPrior.margin=0.1,max_internal_size=24")]
    frames, built = [], []
    report = run_folds(
        _loader(built=built),
        data,
        checkpoints=[str(ckpts / "s0_fold{fold}.pt"), str(ckpts / "s1_fold{fold}.pt")],
        table=TABLE,
        variants=variants,
        short_side=None,
        precision="fp32",
        progress=frames.append,
    )
    assert len(report["runs"]) == 2 * 2 * 2 and len(frames) == 8 * 2 * FRAMES
    # The run of seed 0, fold 1, as configured, against a direct run scored by the metrics.
    model = _toy()
    load_checkpoint(model, ckpts / "s0_fold1.pt")
    for name in TABLE.select(1):
        seq_dir = data / "JPEGImages" / name
        imgs = [cv2.imread(str(p))[..., ::-1].copy() for p in sorted(seq_dir.glob("*.jpg"))]
        first = (cv2.imread(str(data / "Annotations" / name / "00000.png"), 0) > 0).astype(np.uint8)
        session = model.new_session(precision="fp32")
        for t, result in enumerate(session.propagate(imgs, first)):
            write_mask(tmp_path / "pred" / name / f"{t:05d}.png", result.labels.astype(np.uint8))
    direct = evaluate_folders(data / "Annotations", tmp_path / "pred", sequences=["c", "d"])
    run = next(
        r
        for r in report["runs"]
        if r["seed"] == 0 and r["fold"] == 1 and r["variant"] == "as configured"
    )
    for name, fig in direct.per_sequence().items():
        assert run["videos"][name]["J&F"] == pytest.approx(fig["J&F-Mean"])
    assert run["J&F"] == pytest.approx(direct.global_figures()["J&F-Mean"])
    assert run["held_out"]["status"] == "held out"
    # Aggregates: mean over (seed, fold); spreads over fold means and seed means.
    for summary in report["variants"]:
        rs = [r for r in report["runs"] if r["variant"] == summary["variant"]]
        assert summary["J&F"] == pytest.approx(statistics.fmean(r["J&F"] for r in rs))
        fold_means = [statistics.fmean(r["J&F"] for r in rs if r["fold"] == k) for k in (0, 1)]
        seed_means = [statistics.fmean(r["J&F"] for r in rs if r["seed"] == s) for s in (0, 1)]
        assert summary["spread_folds"] == pytest.approx(statistics.stdev(fold_means))
        assert summary["spread_seeds"] == pytest.approx(statistics.stdev(seed_means))
        assert set(summary["videos"]) == {"a", "b", "c", "d"}
        assert summary["held_out"] == "held out"
    first, second = report["variants"]
    paired = [
        r["J&F"] - q["J&F"]
        for r in report["runs"]
        for q in report["runs"]
        if r["variant"] == second["variant"]
        and q["variant"] == first["variant"]
        and (r["seed"], r["fold"]) == (q["seed"], q["fold"])
    ]
    assert first["delta"] == 0.0 and len(paired) == 4
    assert second["delta"] == pytest.approx(statistics.fmean(paired))
    assert report["variants"][1]["settings"] == {
        "SpatialPrior.margin": 0.1,
        "max_internal_size": 24,
    }
    # The variant's plugin setting was restored; the two variants ran different settings.
    assert len(built) == 4 and {m.plugins[0].margin for m in built} == {0.5}
    assert report["variants"][0]["videos"] != report["variants"][1]["videos"]


def test_videos_are_resized_to_the_short_side_and_scored_at_annotation_size(data, tmp_path):
    sessions = []

    def load(path):
        model = _toy()
        new_session = model.new_session
        model.new_session = lambda **o: sessions.append(new_session(**o)) or sessions[-1]
        return model

    variants = [Variant(), parse_variant("max_internal_size=48")]
    report = run_folds(
        load, data, folds=[0], table=TABLE, short_side=64, precision="fp32", variants=variants
    )
    # frames go straight to the size a 64-high video is processed at (no second resize)
    assert [s.input_size for s in sessions] == [(64, 96)] * 2 + [(48, 72)] * 2
    assert [r["processing_short_side"] for r in report["runs"]] == [64, 48]
    assert report["short_side"] == 64 and report["variants"][0]["held_out"] == "unknown"
    assert 0.0 <= report["variants"][0]["J&F"] <= 1.0
    out = write_selection(report, tmp_path / "res")
    saved = json.loads(Path(out["json"]).read_text())
    assert saved["variants"][0]["J&F"] == pytest.approx(report["variants"][0]["J&F"])
    md = Path(out["markdown"]).read_text()
    assert "| as configured | unknown |" in md and "| a | 0 |" in md
    assert "| max_internal_size=48 | unknown |" in md
    assert md == format_selection(report)
    with pytest.raises(InputError, match="already holds"):
        write_selection(report, tmp_path / "res")


def test_held_out_status_comes_from_the_checkpoint_or_the_caller(data, ckpts):
    # fold-0 weights judged on fold 1's videos: those were in its training videos
    seen = run_folds(
        _loader(), data, checkpoints=[str(ckpts / "s0_fold0.pt")], folds=[1], table=TABLE
    )
    assert seen["runs"][0]["held_out"]["status"] == "seen in training"
    assert "['c', 'd']" in seen["runs"][0]["held_out"]["why"]
    assert any("not every run is held out" in n for n in seen["notes"])
    told = run_folds(_loader(), data, folds=[0], table=TABLE, seen_in_training=True)
    assert told["variants"][0]["held_out"] == "seen in training"


def test_bad_inputs_fail_before_any_video_runs(data, ckpts, tmp_path):
    calls, frames = [], []
    val_like = _make_davis(tmp_path / "val", names=("blackswan", "cows"))
    with pytest.raises(DataError, match="never val"):
        run_folds(_loader(calls), val_like, table=TABLE)
    assert calls == []
    with pytest.raises(InputError, match="from 0 to 1"):
        run_folds(_loader(calls), data, folds=[2], table=TABLE)
    with pytest.raises(InputError, match="do not exist"):
        run_folds(_loader(calls), data, checkpoints=["nope_{fold}.pt"], table=TABLE)
    assert calls == []
    bad = [
        (parse_variant("tau=0.7"), "no reuse gate"),
        (parse_variant("SpatialPrior.nope=1"), "no attribute 'nope'"),
        (parse_variant("ReuseGate.tau=1"), "needs a ReuseGate plugin or model stage"),
        (parse_variant("OnlineLocalizer.nope=1"), "OnlineLocalizer has no attribute 'nope'"),
        (parse_variant("margin=1"), "unknown variant setting"),
    ]
    for variant, message in bad:
        with pytest.raises(InputError, match=message):
            run_folds(_loader(), data, table=TABLE, variants=[variant], progress=frames.append)
    assert frames == []
    with pytest.raises(InputError, match="KEY=VALUE"):
        parse_variant("max_internal_size")
    grid = variant_grid({"tau": [1, 0.7], "max_internal_size": [240]})
    assert [v.name for v in grid] == [
        "tau=1,max_internal_size=240",
        "tau=0.7,max_internal_size=240",
    ]


def test_cli_errors_are_explained(tmp_path, capsys):
    assert main(["select", "--config", "x.py"]) == 1
    assert "--config needs --checkpoint" in capsys.readouterr().err
    assert main(["select", "--model", "nope"]) == 1
    assert "no shipped model 'nope'" in capsys.readouterr().err


def test_cli_runs_a_config_with_per_fold_checkpoints(tmp_path, capsys):
    """`vosframe select --config --checkpoint '..{fold}..'` on fold 0 of a tiny copy of the
    DAVIS-2016 train layout (the 30 names, tiny frames)."""
    from vosframe import build_model
    from vosframe.data.folds import DAVIS16_TRAIN_FOLDS

    data = _make_davis(tmp_path / "train", DAVIS16_TRAIN_FOLDS.videos)
    cfg = tmp_path / "tiny.py"
    cfg.write_text(
        "model = dict(type='FRTM', backbone=dict(type='ResNet', depth=18, frozen=True),\n"
        "             target_model=dict(num_aug=1, init_iters=(2,)))\n"
    )
    model = build_model(str(cfg))
    meta = {"davis_videos": list(DAVIS16_TRAIN_FOLDS.fit(0))}
    save_checkpoint(model, tmp_path / "m_fold0.pt", meta=meta)
    args = ["select", "--config", str(cfg), "--checkpoint", str(tmp_path / "m_fold{fold}.pt")]
    args += ["--data", str(data), "--folds", "0", "--out", str(tmp_path / "res"), "--name", "x"]
    args += ["--short-side", "0", "--threads", "1", "--grid", "max_internal_size=None,24"]
    assert main(args) == 0, capsys.readouterr().err
    report = json.loads((tmp_path / "res" / "x" / "selection.json").read_text())
    assert [v["variant"] for v in report["variants"]] == [
        "max_internal_size=None",
        "max_internal_size=24",
    ]
    assert {v["held_out"] for v in report["variants"]} == {"held out"}
    assert set(report["variants"][0]["videos"]) == set(DAVIS16_TRAIN_FOLDS.select(0))
    assert main(args) == 1 and "already holds" in capsys.readouterr().err


def test_cli_loads_a_per_fold_gate_file_for_each_checkpoint(tmp_path, capsys):
    """`--plugin-weights '..{fold}..'` pairs a gate file with each per-fold base model; a
    gate trained on other base weights is refused."""
    import torch

    from vosframe import build_model
    from vosframe.core.plugin_weights import save_plugin_weights
    from vosframe.data.folds import DAVIS16_TRAIN_FOLDS

    data = _make_davis(tmp_path / "train", DAVIS16_TRAIN_FOLDS.videos)
    cfg = tmp_path / "tiny_gated.py"
    cfg.write_text(
        "model = dict(type='FRTM', backbone=dict(type='ResNet', depth=18, frozen=True),\n"
        "             target_model=dict(num_aug=1, init_iters=(2,)),\n"
        "             plugins=[dict(type='ReuseGate', preset='paper', variant='copy')])\n"
    )
    torch.manual_seed(0)
    model = build_model(str(cfg))
    meta = {"davis_videos": list(DAVIS16_TRAIN_FOLDS.fit(0))}
    save_checkpoint(model, tmp_path / "m_fold0.pt", meta=meta)
    save_plugin_weights(model, tmp_path / "gate_fold0.pt")
    torch.manual_seed(1)
    save_plugin_weights(build_model(str(cfg)), tmp_path / "other_fold0.pt")
    args = ["select", "--config", str(cfg), "--checkpoint", str(tmp_path / "m_fold{fold}.pt")]
    args += ["--data", str(data), "--folds", "0", "--out", str(tmp_path / "res")]
    args += ["--short-side", "0", "--threads", "1", "--grid", "tau=1,0"]
    gate = ["--plugin-weights", str(tmp_path / "gate_fold{fold}.pt")]
    assert main([*args, *gate, "--name", "ok"]) == 0, capsys.readouterr().err
    report = json.loads((tmp_path / "res" / "ok" / "selection.json").read_text())
    assert [v["variant"] for v in report["variants"]] == ["tau=1", "tau=0"]
    other = ["--plugin-weights", str(tmp_path / "other_fold{fold}.pt")]
    assert main([*args, *other, "--name", "bad"]) == 1
    assert "fingerprint" in capsys.readouterr().err
    assert main([*args, *gate, *gate, "--name", "two"]) == 1
    assert "one --plugin-weights per --checkpoint" in capsys.readouterr().err


def test_a_model_stage_attribute_is_a_variant_setting_and_is_restored(data, ckpts):
    """``<StageClass>.<attr>`` reaches the model's stages (e.g. FRTMTargetModel.update_every)."""
    built: list = []
    seen: list = []
    variant = parse_variant("OnlineLocalizer.refit_every=1000")

    def load(path):
        model = _loader(built=built)(path)
        model.localizer.refit_every = 3
        original = type(model.localizer).update

        def update(self, *args, **kw):
            seen.append(self.refit_every)
            return original(self, *args, **kw)

        model.localizer.update = update.__get__(model.localizer)
        return model

    report = run_folds(
        load,
        data,
        folds=[0],
        checkpoints=[str(ckpts / "s0_fold{fold}.pt")],
        table=TABLE,
        variants=[Variant(), variant],
    )
    assert [v["variant"] for v in report["variants"]] == ["as configured", variant.name]
    assert set(seen) == {3, 1000}  # the stage saw both settings, one per variant
    assert built[0].localizer.refit_every == 3  # restored after the variant's run


def test_a_gate_policy_setting_is_a_per_session_variant(data, ckpts):
    """``path_policy.<setting>`` reaches each variant's sessions, and only theirs: a tiny
    run cap of 1 at tau 0 reuses every other frame, against all of them without a cap."""
    from vosframe.plugins.reuse_gate import ReuseGate

    built: list = []

    def load(path):
        torch.manual_seed(1)
        model = ToyOnline()
        gate = ReuseGate(
            preset="paper", variant="copy", motion_cue=True, object_cue=True, gate_norm=False
        )
        model.attach_plugin(gate)
        built.append(model)
        return model.eval()

    variants = [parse_variant("tau=0"), parse_variant("tau=0,path_policy.max_reuse_run=1")]
    report = run_folds(load, data, folds=[0], table=TABLE, variants=variants, short_side=None)
    rates = {v["variant"]: v["reuse_rate"] for v in report["variants"]}
    assert rates["tau=0"] == 1.0 and 0.4 < rates["tau=0,path_policy.max_reuse_run=1"] < 0.6
    assert built[0].path_plugin.policy.max_reuse_run is None  # the model is unchanged
    for bad, message in [
        ("path_policy.copy_motion=True", "copy_motion"),
        ("path_policy.drift_budget=-1", "drift_budget must be None or > 0"),
    ]:
        with pytest.raises(InputError, match=message):
            run_folds(load, data, folds=[0], table=TABLE, variants=[parse_variant(bad)])
    with pytest.raises(InputError, match="no path-deciding plugin"):
        run_folds(_loader(), data, table=TABLE, variants=[parse_variant("path_policy.tau2=1")])


def _roundtrip(report: dict) -> dict:
    return json.loads(json.dumps(report))  # as read back from selection.json


def test_merged_folds_equal_one_run_of_both(data, ckpts, tmp_path, capsys):
    """Folds run apart (e.g. one per process) and merged give the figures of one run of
    both folds: means, spreads, paired deltas, reuse and per-video numbers."""
    variants = [Variant(), parse_variant("max_internal_size=16")]
    kw = dict(checkpoints=[str(ckpts / "s0_fold{fold}.pt")], table=TABLE, short_side=None)
    both = run_folds(_loader(), data, variants=variants, **kw)
    parts = [
        _roundtrip(run_folds(_loader(), data, folds=[k], variants=variants, **kw)) for k in (0, 1)
    ]
    merged = merge_selections(parts)
    assert merged["folds"] == [0, 1] and len(merged["runs"]) == 4
    for got, want in zip(merged["variants"], both["variants"]):
        for key in ("J&F", "J", "F", "spread_folds", "delta", "delta_spread_folds", "videos"):
            assert got[key] == pytest.approx(want[key]), key
        assert got["folds"] == pytest.approx(want["folds"]) and got["frames"] == want["frames"]
    assert merged["variants"][1]["delta"] != 0.0  # the pairing is exercised
    # more variants of the same folds later: the first variant stays the reference
    extra = _roundtrip(
        run_folds(_loader(), data, variants=[parse_variant("SpatialPrior.margin=0.3")], **kw)
    )
    three = merge_selections([*parts, extra])
    names = [v["variant"] for v in three["variants"]]
    assert names == ["as configured", "max_internal_size=16", "SpatialPrior.margin=0.3"]
    assert three["variants"][0]["delta"] == 0.0
    # the CLI writes the merged report
    files = []
    for k, part in enumerate(parts):
        files.append(tmp_path / f"p{k}.json")
        files[-1].write_text(json.dumps(part))
    args = ["select", "--merge", *map(str, files), "--out", str(tmp_path), "--name", "m"]
    assert main(args) == 0, capsys.readouterr().err
    written = json.loads((tmp_path / "m" / "selection.json").read_text())
    assert written["variants"][0]["J&F"] == pytest.approx(both["variants"][0]["J&F"])


def test_a_seed_run_later_merges_as_another_seed_and_variants_can_be_picked(
    data, ckpts, tmp_path, capsys
):
    """Each checkpoint is a seed: reports of two checkpoints merge into the figures of one
    run of both seeds; --variant picks the variants both reports hold."""
    ck = [str(ckpts / f"s{s}_fold{{fold}}.pt") for s in (0, 1)]
    kw = dict(table=TABLE, short_side=None)
    base, wide = Variant(), parse_variant("max_internal_size=16")
    both = run_folds(_loader(), data, checkpoints=ck, variants=[base, wide], **kw)
    seed0 = _roundtrip(
        run_folds(
            _loader(),
            data,
            checkpoints=ck[:1],
            variants=[base, wide, parse_variant("SpatialPrior.margin=0.3")],
            **kw,
        )
    )
    seed1 = _roundtrip(run_folds(_loader(), data, checkpoints=ck[1:], variants=[wide, base], **kw))
    with pytest.raises(InputError, match="covers the \\(seed, fold\\) runs"):
        merge_selections([seed0, seed1])  # the margin variant has no seed-1 runs
    merged = merge_selections([seed0, seed1], ["as configured", "max_internal_size=16"])
    assert merged["checkpoints"] == ck and {r["seed"] for r in merged["runs"]} == {0, 1}
    for got, want in zip(merged["variants"], both["variants"]):
        for key in ("J&F", "spread_seeds", "spread_folds", "delta", "videos", "seeds"):
            assert got[key] == pytest.approx(want[key]), key
    assert merged["variants"][0]["spread_seeds"] > 0  # two different seeds
    with pytest.raises(InputError, match="in none of the reports"):
        merge_selections([seed0, seed1], ["tau=0.5"])
    files = [tmp_path / "s0.json", tmp_path / "s1.json"]
    for f, report in zip(files, (seed0, seed1)):
        f.write_text(json.dumps(report))
    args = ["select", "--merge", *map(str, files), "--out", str(tmp_path), "--name", "seeds"]
    assert main([*args, "--variant", "as configured"]) == 0, capsys.readouterr().err
    written = json.loads((tmp_path / "seeds" / "selection.json").read_text())
    assert [v["variant"] for v in written["variants"]] == ["as configured"]
    assert written["variants"][0]["J&F"] == pytest.approx(both["variants"][0]["J&F"])


def test_bad_merges_are_refused_naming_the_problem(data, ckpts, tmp_path, capsys):
    kw = dict(checkpoints=[str(ckpts / "s0_fold{fold}.pt")], table=TABLE, short_side=None)
    two = [Variant(), parse_variant("SpatialPrior.margin=0.1")]
    f0 = _roundtrip(run_folds(_loader(), data, folds=[0], variants=two, **kw))
    f1_one = _roundtrip(run_folds(_loader(), data, folds=[1], variants=two[:1], **kw))
    other = dict(f1_one, model="another.py")
    renamed = _roundtrip(run_folds(_loader(), data, folds=[1], variants=two, **kw))
    renamed["variants"][1]["settings"] = {"SpatialPrior.margin": 0.9}
    cases = [
        ([f0], "at least two"),
        ([f0, f0], "is in two reports"),
        ([f0, other], "differ in model"),
        ([f0, f1_one], "covers the \\(seed, fold\\) runs"),
        ([f0, renamed], "has settings"),
    ]
    for reports, message in cases:
        with pytest.raises(InputError, match=message):
            merge_selections(reports)
    (tmp_path / "bad.json").write_text("{")
    assert main(["select", "--merge", str(tmp_path / "bad.json"), "--name", "x"]) == 1
    assert "not a readable selection.json" in capsys.readouterr().err
    assert main(["select", "--merge", str(tmp_path / "bad.json")]) == 1
    assert "--merge needs --name" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
