"""Paired recipe comparison (``vosframe select --compare``) on hand-made reports."""

from __future__ import annotations

import json

import pytest

from vosframe.app.comparison import AdoptionRule, compare_selections, format_comparison
from vosframe.cli.main import main
from vosframe.core.errors import InputError

SELECT = {0: ["a", "b", "c"], 1: ["d", "e", "f"]}


def _report(scores: dict[int, dict[str, list[float]]], *, model="cfg.py", **extra) -> dict:
    """A selection report with one variant; ``scores[fold][video]`` is J&F per seed."""
    runs = []
    for fold, videos in scores.items():
        seeds = len(next(iter(videos.values())))
        for seed in range(seeds):
            vids = {v: {"J&F": jf[seed], "J": jf[seed], "F": jf[seed]} for v, jf in videos.items()}
            runs.append(
                {
                    "variant": "as configured",
                    "seed": seed,
                    "fold": fold,
                    "J&F": sum(x["J&F"] for x in vids.values()) / len(vids),
                    "videos": vids,
                }
            )
    return {
        "model": model,
        "checkpoints": [f"{model}:{{fold}}"],
        "data": "d",
        "fold_table": "t",
        "short_side": 480,
        "precision": "auto",
        "variants": [{"variant": "as configured"}],
        "runs": runs,
    } | extra


def _flat(value: float, seeds: int = 1) -> dict[int, dict[str, list[float]]]:
    return {k: {v: [value] * seeds for v in names} for k, names in SELECT.items()}


def test_gains_are_paired_per_video_over_each_recipes_seeds():
    base = _report(_flat(0.5))
    cand_scores = _flat(0.5, seeds=2)
    cand_scores[0]["a"] = [0.6, 0.8]  # mean 0.7: +20 points
    cand_scores[1]["d"] = [0.45, 0.45]  # -5 points
    cand = _report(cand_scores)
    out = compare_selections(base, cand)
    gain = {r["video"]: r["gain"] for r in out["videos"]}
    assert gain["a"] == pytest.approx(0.2) and gain["d"] == pytest.approx(-0.05)
    assert out["fold_gain"]["0"] == pytest.approx(0.2 / 3)
    assert out["fold_gain"]["1"] == pytest.approx(-0.05 / 3)
    assert out["mean_gain"] == pytest.approx((0.2 - 0.05) / 6)
    assert out["median_gain"] == pytest.approx(0.0)
    assert (out["wins"], out["ties"], out["losses"]) == (1, 4, 1)
    assert out["candidate"]["seeds"] == 2 and out["base"]["seeds"] == 1


def test_a_mean_carried_by_one_video_is_not_adopted():
    base = _report(_flat(0.5))
    scores = _flat(0.49)  # every video -1 point
    scores[0]["a"] = [0.9]  # one video +40
    out = compare_selections(base, _report(scores), rule=AdoptionRule(1.0, 0.0, 5.0))
    passed = [ch["passed"] for ch in out["checks"]]
    assert passed == [True, False, True]
    assert out["verdict"] == "keep the base"
    assert "Verdict: keep the base" in format_comparison(out)


def test_a_broad_gain_is_adopted_and_a_losing_fold_blocks_it():
    base = _report(_flat(0.5))
    out = compare_selections(base, _report(_flat(0.53)), rule=AdoptionRule(1.0, 0.0, 2.0))
    assert out["verdict"] == "adopt" and out["mean_gain"] == pytest.approx(0.03)
    scores = _flat(0.56)
    scores[1] = {v: [0.47] for v in SELECT[1]}  # fold 1 loses 3 points
    out = compare_selections(base, _report(scores), rule=AdoptionRule(1.0, -10.0, 2.0))
    assert [ch["passed"] for ch in out["checks"]] == [True, True, False]
    assert out["verdict"] == "keep the base"


def test_only_common_folds_are_paired_and_the_rest_is_named():
    base = _report(_flat(0.5))
    cand = _report({0: {v: [0.6] for v in SELECT[0]}})
    out = compare_selections(base, cand)
    assert out["folds"] == [0] and out["unpaired_folds"] == [1]
    assert "Folds [1] are in one report only" in format_comparison(out)


def test_reports_that_cannot_be_paired_are_refused():
    base = _report(_flat(0.5))
    with pytest.raises(InputError, match="differ in short_side"):
        compare_selections(base, _report(_flat(0.5), short_side=240))
    with pytest.raises(InputError, match="none in common"):
        compare_selections(base, _report({3: {"x": [0.5]}}))
    with pytest.raises(InputError, match="fold 0 has videos"):
        compare_selections(base, _report({0: {"a": [0.5], "z": [0.5]}}))
    with pytest.raises(InputError, match="no variant 'tau=1'"):
        compare_selections(base, base, base_variant="tau=1")
    with pytest.raises(InputError, match="not a selection report"):
        compare_selections({"variants": []}, base)
    with pytest.raises(InputError, match="cannot be negative"):
        AdoptionRule(max_fold_loss=-1.0)
    with pytest.raises(InputError, match="finite"):
        AdoptionRule(min_mean_gain=float("nan"))


def test_cli_writes_the_comparison_with_its_rule(tmp_path, capsys):
    base, cand = tmp_path / "base.json", tmp_path / "cand.json"
    base.write_text(json.dumps(_report(_flat(0.5))))
    cand.write_text(json.dumps(_report(_flat(0.53), model="cand.py")))
    args = ["select", "--compare", str(base), str(cand), "--out", str(tmp_path)]
    assert main([*args, "--name", "c", "--min-gain", "2.5"]) == 0
    written = json.loads((tmp_path / "c" / "comparison.json").read_text())
    assert written["rule"] == {"min_mean_gain": 2.5, "min_median_gain": 0.0, "max_fold_loss": 2.0}
    assert written["verdict"] == "adopt"
    assert "mean gain >= +2.5 | +3.0 | yes" in (tmp_path / "c" / "comparison.md").read_text()
    assert main([*args, "--name", "c", "--min-gain", "4"]) == 1  # exists: refused
    assert "already holds a comparison" in capsys.readouterr().err
    assert main([*args, "--name", "d", "--min-gain", "4"]) == 0
    assert json.loads((tmp_path / "d" / "comparison.json").read_text())["verdict"] == (
        "keep the base"
    )
    merge = ["select", "--merge", str(base), str(cand), "--out", str(tmp_path), "--name", "f"]
    assert main([*merge, "--min-gain", "1"]) == 1
    assert "--min-gain only apply to --compare" in capsys.readouterr().err
    assert not (tmp_path / "f").exists()
    assert main([*args[:2], str(tmp_path / "missing.json"), str(cand), "--name", "e"]) == 1
    assert "not a readable selection.json" in capsys.readouterr().err
    assert not (tmp_path / "e").exists()
