"""``vosframe.app.bench`` / ``vosframe bench``: the τ sweep on a tiny DAVIS-layout folder."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import vosframe
from vosframe.app.bench import DEFAULT_TAUS, frame_class, run_bench
from vosframe.app.segment import segment_video
from vosframe.cli.main import main
from vosframe.data.davis import open_davis
from vosframe.data.masks import write_mask
from vosframe.data.synthetic import default_clip
from vosframe.metrics import evaluate_folders

try:
    from vosframe.plugins.reuse_gate import ReuseGate
except ImportError:  # the gate plugin is not in this build
    ReuseGate = None

SIZE = (112, 64)  # (W, H)
FRAMES = 6
RUN_KEYS = {
    "tau", "J&F", "J", "F", "fps_pooled", "fps_davis", "reuse_rate", "reuse_rate_pooled",
    "frames", "ms_total", "ms_per_frame", "gflops_per_frame", "gflops_total", "sequences",
    "speedup", "speedup_davis", "flops_saved",
}  # fmt: skip
REPORT_KEYS = {
    "model", "path_plugin", "gated", "data", "sequences", "precision", "protocol", "notes",
    "path_gflops", "runs", "outputs", "threads", "torch", "vosframe",
}  # fmt: skip


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def clip():
    return default_clip()


def make_davis(root: Path, clip, binary: bool = False) -> Path:
    """Two short sequences in the DAVIS layout (``480p`` level), small frames."""
    for name, start in (("alpha", 0), ("beta", 14)):
        fdir = root / "JPEGImages" / "480p" / name
        mdir = root / "Annotations" / "480p" / name
        fdir.mkdir(parents=True)
        mdir.mkdir(parents=True)
        for i in range(FRAMES):
            frame = cv2.resize(clip.frames[start + i], SIZE, interpolation=cv2.INTER_AREA)
            mask = cv2.resize(clip.masks[start + i], SIZE, interpolation=cv2.INTER_NEAREST)
            cv2.imwrite(str(fdir / f"{i:05d}.jpg"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
            if binary:
                binary_mask = np.where(mask == 1, 255, 0).astype(np.uint8)
                cv2.imwrite(str(mdir / f"{i:05d}.png"), binary_mask)
            else:
                write_mask(mdir / f"{i:05d}.png", mask)
    return root


@pytest.fixture(scope="module")
def davis(tmp_path_factory, clip) -> Path:
    return make_davis(tmp_path_factory.mktemp("davis"), clip)


def small_model(plugin="gate"):
    torch.manual_seed(0)
    cfg = dict(
        type="FRTM",
        backbone=dict(type="ResNet", depth=18),
        target_model=dict(num_aug=1, init_iters=(2, 5)),
    )
    if plugin == "gate":
        if ReuseGate is None:
            pytest.skip("ReuseGate is not importable in this build")
        cfg["plugins"] = [ReuseGate(preset="paper", tau=0.7)]
    elif plugin == "schedule":
        cfg["plugins"] = [dict(type="ScheduledReuse", period=2)]
    return vosframe.build_model(cfg)


def test_sweep_report_plot_and_base_equals_plain_run(davis, tmp_path):
    model = small_model("gate")
    out = tmp_path / "out"
    report = run_bench(model, davis, taus=[0.0], precision="fp32", out_dir=out, warmup_frames=1)
    assert set(report) >= REPORT_KEYS
    assert report["gated"] and report["path_plugin"] == "ReuseGate"
    assert [r["tau"] for r in report["runs"]] == [1.0, 0.0]  # tau=1 added as the reference
    assert any("added τ=1" in n for n in report["notes"])
    for run in report["runs"]:
        assert set(run) >= RUN_KEYS
        assert set(run["sequences"]) == {"alpha", "beta"}
        assert run["frames"] == 2 * FRAMES
        assert {"init", "full", "alt", "mixed", "all"} <= set(run["ms_per_frame"])
        assert run["fps_pooled"] > 0 and run["fps_davis"] > 0
    base, gated = report["runs"]
    assert base["reuse_rate"] == 0.0 and base["speedup"] == 1.0 and base["flops_saved"] == 0.0
    assert base["ms_per_frame"]["init"]["count"] == 2  # one first frame per sequence
    assert base["ms_per_frame"]["full"]["count"] == 2 * (FRAMES - 1)
    # tau = 0 reuses every tracked frame (p_reuse > 0): first frames are not counted
    assert gated["reuse_rate"] == 1.0 and gated["reuse_rate_pooled"] == 1.0
    assert gated["ms_per_frame"]["alt"]["count"] == 2 * (FRAMES - 1)
    costs = report["path_gflops"]["alpha"]
    assert costs["gated"]["alt"] < costs["gated"]["full"]
    assert gated["flops_saved"] == pytest.approx(1 - gated["gflops_total"] / base["gflops_total"])
    assert model.path_plugin.default_options().tau == 0.7  # the model is unchanged

    # tau = 1 is exactly the base model: same J&F as a plain run of the same weights
    plain = vosframe.build_model(
        dict(
            type="FRTM",
            backbone=dict(type="ResNet", depth=18),
            target_model=dict(num_aug=1, init_iters=(2, 5)),
        )
    )
    plain.load_state_dict(model.state_dict(), strict=False)
    pred = tmp_path / "plain"
    for seq in ("alpha", "beta"):
        segment_video(
            plain,
            davis / "JPEGImages" / "480p" / seq,
            davis / "Annotations" / "480p" / seq / "00000.png",
            pred / seq,
            session_options={"precision": "fp32"},
        )
    figures = evaluate_folders(davis, pred).global_figures()
    assert base["J&F"] == figures["J&F-Mean"]
    assert base["J"] == figures["J-Mean"] and base["F"] == figures["F-Mean"]

    saved = json.loads((out / "bench.json").read_text())
    assert saved["runs"][0]["J&F"] == base["J&F"]
    png = out / "bench.png"
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report["outputs"] == {"json": str(out / "bench.json"), "plot": str(png)}


def test_model_with_other_path_plugin_runs_once(davis, tmp_path):
    model = small_model("schedule")
    report = run_bench(model, davis, precision="fp32", warmup_frames=0, flops=False)
    (run,) = report["runs"]
    assert run["tau"] is None and not report["gated"]
    assert any("no reuse gate" in n for n in report["notes"])
    assert run["reuse_rate"] == pytest.approx(2 / 5)  # period 2: tracked frames 2 and 4
    assert run["speedup"] is None and run["gflops_per_frame"] is None
    with pytest.raises(vosframe.InputError, match="no reuse gate"):
        run_bench(model, davis, taus=[1.0, 0.5], precision="fp32")


def test_plain_model_runs_tau_one_and_binary_masks(tmp_path, clip):
    data = make_davis(tmp_path / "d16", clip, binary=True)
    assert open_davis(data).sequences[0].mask_format == "binary"  # year 2016 detected
    report = run_bench(
        small_model(None), data, sequences=["beta"], precision="fp32", warmup_frames=1
    )
    (run,) = report["runs"]
    assert run["tau"] == 1.0 and run["speedup"] == 1.0 and run["flops_saved"] == 0.0
    assert run["gflops_per_frame"] > 0
    assert report["sequences"] == ["beta"]
    assert any("ran only τ=1" in n for n in report["notes"])
    assert any("binary" in n for n in report["notes"])


def test_library_errors(davis, tmp_path):
    model = small_model("gate")
    with pytest.raises(vosframe.DataError, match="does not exist"):
        run_bench(model, tmp_path / "missing")
    (tmp_path / "half" / "JPEGImages").mkdir(parents=True)
    with pytest.raises(vosframe.DataError, match="no Annotations/"):
        run_bench(model, tmp_path / "half")
    with pytest.raises(vosframe.InputError, match=r"\[0, 1\]"):
        run_bench(model, davis, taus=[1.5])
    with pytest.raises(vosframe.InputError, match="not in"):
        run_bench(model, davis, sequences=["nope"])
    assert model.path_plugin.default_options().tau == 0.7


def test_frame_class():
    assert frame_class(["init", "full"]) == "init"
    assert frame_class(["alt", "alt"]) == "alt"
    assert frame_class(["full"]) == "full"
    assert frame_class(["full", "alt"]) == "mixed"
    assert DEFAULT_TAUS[0] == 1.0


@pytest.fixture()
def schedule_cfg(tmp_path) -> Path:
    cfg = tmp_path / "sched.py"
    cfg.write_text(
        "model = dict(type='FRTM', backbone=dict(type='ResNet', depth=18), "
        "target_model=dict(num_aug=1, init_iters=(2, 5)), "
        "plugins=[dict(type='ScheduledReuse', period=2)])\n"
    )
    return cfg


def test_cli_errors(davis, tmp_path, schedule_cfg, capsys):
    code = main(
        [
            "bench",
            "--config",
            str(schedule_cfg),
            "--allow-untrained",
            "--data",
            str(tmp_path / "nope"),
        ]
    )
    assert code == 1
    assert "data folder" in capsys.readouterr().err
    code = main(
        [
            "bench",
            "--config",
            str(schedule_cfg),
            "--allow-untrained",
            "--data",
            str(davis),
            "--taus",
            "1,0.5",
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "no reuse gate" in err and "--taus" in err
    with pytest.raises(SystemExit):
        main(
            [
                "bench",
                "--config",
                str(schedule_cfg),
                "--allow-untrained",
                "--data",
                str(davis),
                "--taus",
                "1,x",
            ]
        )
    assert "comma-separated numbers" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["bench", "--data", str(davis)])  # no model
    assert "--model" in capsys.readouterr().err


def test_cli_run_json(davis, tmp_path, schedule_cfg, capsys):
    out = tmp_path / "bench_out"
    argv = [
        "bench",
        "--config",
        str(schedule_cfg),
        "--allow-untrained",
        "--data",
        str(davis),
        "--out",
        str(out),
    ]
    argv += ["--precision", "fp32", "--warmup", "1", "--threads", "1", "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model"] == str(schedule_cfg)
    assert len(report["runs"]) == 1 and report["runs"][0]["tau"] is None
    assert Path(report["outputs"]["plot"]).is_file()
    assert json.loads((out / "bench.json").read_text())["runs"] == report["runs"]
    assert main(argv[:-1]) == 0  # the table
    text = capsys.readouterr().out
    assert "FPS-D" in text and "pooled" in text and "no reuse gate" in text


def test_variants_run_side_by_side_with_one_base_run(davis, tmp_path):
    """Several gated models on the same base weights: τ = 1 once, each variant at every
    τ < 1, one curve per variant in the plot; a variant on other base weights is refused."""
    from vosframe.app.bench import run_bench as bench

    model = small_model("gate")  # the paper preset ("reuse")
    copy = small_model(None)  # the same base weights, another gate
    copy.attach_plugin(ReuseGate(preset="paper", variant="copy"))
    copy.load_state_dict(
        {k: v for k, v in model.state_dict().items() if not k.startswith("plugins.")},
        strict=False,
    )
    out = tmp_path / "variants"
    report = bench(
        model, davis, taus=[1.0, 0.0], precision="fp32", out_dir=out, warmup_frames=0,
        flops=False, model_label="reuse", variants={"copy": copy},
    )  # fmt: skip
    assert [(r["variant"], r["tau"]) for r in report["runs"]] == [
        ("base", 1.0),
        ("reuse", 0.0),
        ("copy", 0.0),
    ]
    assert report["variants"] == ["copy"] and (out / "bench.png").is_file()
    assert report["runs"][2]["speedup"] is not None and report["runs"][2]["reuse_rate"] > 0
    other = small_model("gate")
    with torch.no_grad():
        next(other.feature_extractor.parameters()).add_(1.0)
    with pytest.raises(vosframe.InputError, match="other base weights"):
        bench(model, davis, taus=[0.0], precision="fp32", warmup_frames=0, variants={"x": other})


def test_cli_variant_files_are_checked_first(davis, tmp_path, capsys):
    argv = ["bench", "--model", "g-frtm", "--data", str(davis)]
    code = main([*argv, "--variant", "x", str(tmp_path / "no.py"), str(tmp_path / "no.pt")])
    assert code == 1
    assert "--variant x: CONFIG" in capsys.readouterr().err
    cfg = tmp_path / "v.py"
    cfg.write_text("model = dict(type='FRTM')\n")
    code = main([*argv, "--variant", "base", str(cfg), str(cfg)])
    assert code == 1 and "distinct and not 'base'" in capsys.readouterr().err
