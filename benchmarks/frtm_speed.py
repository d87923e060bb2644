"""FRTM ms/frame at 854x480 on DAVIS val, with a per-stage breakdown, several setups side by side.

Setups (``--setups``, default all):

* ``anchor-fp32`` / ``anchor-bf16cl``: the official G-FRTM settings (the reuse-gate
  paper's FRTM baseline and the official FRTM code) -- ResNet-18 (random init), FRTM
  "fast" target model, the official full-resolution head, fp32 / bf16 autocast +
  channels_last, native 854x480;
* ``ours-bf16cl``: the shipped FRTM's settings (EfficientNet-Lite0 with ImageNet weights,
  its target model, the fast head at stride 2; without plugins), bf16 + channels_last,
  native 854x480 (``max_internal_size`` 480 is the same size);
* ``ours-bf16cl@360`` / ``ours-bf16cl@240``: the same with ``max_internal_size`` 360 / 240.

Every setup runs the same frames in one process, interleaved per sequence (each sequence
through every setup before the next; the setup order rotates per sequence) after an
untimed warm-up of every setup. The stages are timed from outside, without changing
vosframe: forward hooks on the backbone levels, the refiner levels and the head, and
wrappers around the target model's ``localize`` / ``update`` / ``_fit_filter`` /
``init_object``, the model's ``aggregate`` and the session's ``_result`` (resize to input
size, argmax, copy out). ``other`` is the rest of ``session.step`` (engine bookkeeping,
input conversion, resizing the frame).

With random weights the predicted masks are arbitrary, which changes how often the target
model's memory is updated. ``--oracle-update`` (default on) hands the ground-truth mask to
the target model's update instead of the prediction, so the update schedule (a refit every
8th apply, up to 80 memory samples) costs what it costs with a model that tracks well.

Usage::

    PYTHONPATH=. python benchmarks/frtm_speed.py [--data ../shared/data/davis2016/val_480p]
        [--sequences blackswan,car-shadow] [--frames 40] [--threads 2] [--json out.json]

Times are wall-clock milliseconds; other processes on the machine add noise (compare the
setups of one run with each other, not across runs).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import torch
import torch.nn.functional as F

import vosframe
from vosframe.app.zoo import config_path, weights_path
from vosframe.builder import load_config
from vosframe.data.datasets import DavisDataset

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "davis2016" / "val_480p"


@attrs.define
class Setup:
    """One configuration to time: a model config and session options."""

    model: dict[str, Any]
    precision: str
    max_internal_size: int | None = None


def _anchor() -> dict[str, Any]:
    return dict(
        type="FRTM",
        backbone=dict(type="ResNet", depth=18),  # torchvision random init, nothing loaded
        target_model=dict(preset="fast"),
        refiner=dict(head="official"),
    )


def _ours() -> dict[str, Any]:
    """The shipped FRTM's backbone, target model and refiner, read from its config."""
    model = load_config(str(config_path("frtm/frtm_effnetlite0_davis16.py"))).model.to_dict()
    return {k: model[k] for k in ("type", "backbone", "target_model", "refiner")}


SETUPS: dict[str, Setup] = {
    "anchor-fp32": Setup(_anchor(), "fp32"),
    "anchor-bf16cl": Setup(_anchor(), "bf16"),
    "ours-bf16cl": Setup(_ours(), "bf16"),
    "ours-bf16cl@360": Setup(_ours(), "bf16", 360),
    "ours-bf16cl@240": Setup(_ours(), "bf16", 240),
}


# ----------------------------------------------------------------------------- probes
class Probe:
    """Collects per-stage wall times of the current frame of one model (from outside)."""

    def __init__(self, model: vosframe.VOSModel, oracle: bool) -> None:
        self.frame: dict[str, float] = {}
        self.suspended = 0  # > 0 while inside init_object: nested stages count as init
        self.gt: np.ndarray | None = None
        self.ids: dict[int, int] = {}  # id(localizer state) -> object id
        self.oracle = oracle
        self._open: dict[str, float] = {}
        fe, loc, ref = model.feature_extractor, model.localizer, model.refiner
        for key, level in fe.levels.items():
            self._hook(level, f"backbone s{key}")
        for key, level in ref.stages.items():
            self._hook(level, f"refiner s{key}")
        self._hook(ref.upsampler, "refiner head")
        fe.preprocess = self._wrap(fe.preprocess, "backbone preprocess")
        loc.localize = self._wrap(loc.localize, "tm apply")
        loc.update = self._wrap(self._oracle_update(loc.update), "tm update")
        loc._fit_filter = self._wrap(loc._fit_filter, "tm refit")
        loc.init_object = self._wrap(loc.init_object, "tm init", suspend=True)
        model.aggregate = self._wrap(model.aggregate, "aggregation")

    def _add(self, name: str, ms: float) -> None:
        self.frame[name] = self.frame.get(name, 0.0) + ms

    def _hook(self, module: torch.nn.Module, name: str) -> None:
        def pre(*_: Any) -> None:
            self._open[name] = time.perf_counter()

        def post(*_: Any) -> None:
            if not self.suspended:
                self._add(name, (time.perf_counter() - self._open.pop(name)) * 1000.0)

        module.register_forward_pre_hook(pre)
        module.register_forward_hook(post)

    def _wrap(self, fn: Callable, name: str, suspend: bool = False) -> Callable:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            outer = not self.suspended
            self.suspended += suspend
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.suspended -= suspend
                if outer:
                    self._add(name, (time.perf_counter() - t0) * 1000.0)

        return wrapped

    def _oracle_update(self, update: Callable) -> Callable:
        def wrapped(features: Any, states: Any, probs: torch.Tensor, frame_index: int) -> Any:
            if self.oracle and self.gt is not None:
                gt = torch.from_numpy(self.gt)
                masks = [(gt == self.ids.get(id(s), 1)).float()[None, None] for s in states]
                size = tuple(probs.shape[-2:])
                probs = F.interpolate(torch.cat(masks), size=size, mode="bilinear")
            return update(features, states, probs, frame_index)

        return wrapped

    def wrap_session(self, session: vosframe.Session) -> None:
        """Time the session's output step (resize to input size, argmax, copy out)."""
        session._result = self._wrap(session._result, "output")  # type: ignore[method-assign]


# ----------------------------------------------------------------------------- running
def build(setup: Setup, checkpoint: Path | None) -> tuple[vosframe.VOSModel, str]:
    """Build a setup's model (ours: EfficientNet-Lite0 ImageNet weights, optional FRTM
    checkpoint); returns the model and a note on its weights."""
    cfg = json.loads(json.dumps(setup.model))
    note = "random init"
    if cfg["backbone"]["type"] == "EfficientNetLite0":
        try:
            model = vosframe.build_model(cfg)
            note = "ImageNet backbone, random refiner"
        except vosframe.CheckpointError:
            cfg["backbone"]["pretrained"] = False
            model = vosframe.build_model(cfg)
            note = "random init (Lite0 weights package missing)"
        if checkpoint is not None:
            vosframe.load_checkpoint(model, checkpoint)
            note = f"trained checkpoint {checkpoint.name}"
    else:
        model = vosframe.build_model(cfg)
    return model.eval(), note


def run_sequence(
    model: vosframe.VOSModel,
    probe: Probe,
    setup: Setup,
    frames: list[np.ndarray],
    gts: list[np.ndarray],
) -> list[dict[str, float]]:
    """Run one sequence; returns one record per frame (stage ms, ``total``, ``refit``)."""
    session = model.new_session(
        precision=setup.precision, max_internal_size=setup.max_internal_size
    )
    probe.wrap_session(session)
    records = []
    for t, frame in enumerate(frames):
        probe.frame, probe.gt = {}, gts[t]
        probe.ids = {id(o.localizer): k for k, o in session.objects.items()}
        result = session.step(frame, gts[0] if t == 0 else None)
        rec = dict(probe.frame)
        rec["total"] = result.ms
        records.append(rec)
    return records


@contextlib.contextmanager
def _threads(n: int) -> Iterator[None]:
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def summarise(records: list[dict[str, float]]) -> dict[str, Any]:
    """Per-setup figures over all sequences; ``records`` are per frame, first frames marked."""
    tracked = [r for r in records if not r.get("first")]
    firsts = [r for r in records if r.get("first")]
    totals = [r["total"] for r in tracked]
    keys = {k for r in tracked for k in r if k not in ("total", "first")} | {"other"}
    stages: dict[str, list[float]] = {k: [] for k in keys}
    for r in tracked:
        r = dict(r)
        r["tm update"] = r.get("tm update", 0.0) - r.get("tm refit", 0.0)  # push only
        r["other"] = r["total"] - sum(v for k, v in r.items() if k not in ("total", "first"))
        for k in keys:
            stages[k].append(r.get(k, 0.0))
    all_ms = sum(r["total"] for r in records)
    refits = [r["tm refit"] for r in tracked if r.get("tm refit")]
    return {
        "frames": len(records),
        "ms_median": statistics.median(totals),
        "ms_mean": statistics.fmean(totals),
        "fps_all_frames": len(records) / (all_ms / 1000.0),
        "first_frame_ms": statistics.fmean(r["total"] for r in firsts),
        "refits": len(refits),
        "refit_ms_mean": statistics.fmean(refits) if refits else None,
        "stages_mean_ms": {k: statistics.fmean(v) for k, v in stages.items()},
        "stages_median_ms": {k: statistics.median(v) for k, v in stages.items()},
    }


def stage_order(names: set[str]) -> list[str]:
    """Stages in execution order: backbone (shallow first), target model, refiner, output."""

    def key(n: str) -> tuple:
        group = ("backbone", "tm apply", "refiner", "aggregation", "tm", "output", "other")
        g = next(i for i, p in enumerate(group) if n.startswith(p))
        stride = int(n.split(" s")[1]) if " s" in n and n.split(" s")[1].isdigit() else 0
        return (g, -stride if g == 2 else stride, n)

    return sorted(names, key=key)


def format_tables(results: dict[str, dict[str, Any]], notes: dict[str, str]) -> str:
    """The summary table (one row per setup) and the stage breakdown (mean ms/frame)."""
    names = list(results)
    lines = [
        f"{'setup':<17} {'median':>7} {'mean':>7} {'FPS':>6} {'1st frame':>9} {'refits':>6} "
        f"{'ms/refit':>8}  weights",
    ]
    for n in names:
        r = results[n]
        refit = "-" if r["refit_ms_mean"] is None else f"{r['refit_ms_mean']:.0f}"
        lines.append(
            f"{n:<17} {r['ms_median']:7.1f} {r['ms_mean']:7.1f} {r['fps_all_frames']:6.2f} "
            f"{r['first_frame_ms']:9.0f} {r['refits']:6d} {refit:>8}  {notes[n]}"
        )
    lines.append(
        "median/mean: ms per tracked frame (first frame excluded); FPS: all frames incl. the "
        "first; refits: target-model refits (every 8th apply)"
    )
    all_stages = stage_order({k for r in results.values() for k in r["stages_mean_ms"]})
    lines += ["", "stage, mean ms per tracked frame " + " ".join(f"{n:>16}" for n in names)]
    for s in all_stages:
        cells = []
        for n in names:
            st = results[n]["stages_mean_ms"]
            v = st.get(s)
            share = 100.0 * v / results[n]["ms_mean"] if v is not None else 0.0
            cells.append("-".rjust(16) if v is None else f"{v:8.1f} ({share:4.1f}%)")
        lines.append(f"{s:<33} " + " ".join(cells))
    lines.append(
        f"{'total (mean)':<33} " + " ".join(f"{results[n]['ms_mean']:16.1f}" for n in names)
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sequences", default="blackswan,car-shadow")
    parser.add_argument("--frames", type=int, default=40, help="frames per sequence")
    parser.add_argument("--setups", default=",".join(SETUPS), help="comma-separated names")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (anchor: 2)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up frames per setup")
    parser.add_argument("--checkpoint", type=Path, help="FRTM checkpoint for the ours setups")
    parser.add_argument(
        "--oracle-update",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="give the target model's update the GT mask (default on)",
    )
    parser.add_argument("--json", type=Path, default=Path("frtm_speed.json"))
    args = parser.parse_args(argv)
    names = [s.strip() for s in args.setups.split(",") if s.strip()]
    unknown = [n for n in names if n not in SETUPS]
    if unknown:
        parser.error(f"unknown setups {unknown}; choose from {list(SETUPS)}")
    if not args.data.is_dir():
        parser.error(f"data folder {args.data} does not exist (DAVIS val_480p layout)")
    checkpoint = args.checkpoint
    if checkpoint is None and weights_path("frtm_effnetlite0_davis16.pt").is_file():
        checkpoint = weights_path("frtm_effnetlite0_davis16.pt")
    dataset = DavisDataset(args.data, year="2016", sequences=args.sequences.split(","))
    models, probes, notes = {}, {}, {}
    for n in names:
        models[n], notes[n] = build(SETUPS[n], checkpoint)
        probes[n] = Probe(models[n], args.oracle_update)
    records: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    with _threads(args.threads), torch.no_grad():
        load = os.getloadavg()[0]
        print(f"torch {torch.__version__}, {args.threads} threads, load average {load:.2f}")
        for si, seq in enumerate(dataset):
            count = min(args.frames, len(seq))
            frames = [seq.read_frame(i) for i in range(count)]
            gts = [seq.read_mask(i) for i in range(count)]
            if si == 0:
                for n in names:  # warm-up
                    w = max(2, args.warmup)
                    run_sequence(models[n], probes[n], SETUPS[n], frames[:w], gts[:w])
            for n in names[si % len(names) :] + names[: si % len(names)]:
                recs = run_sequence(models[n], probes[n], SETUPS[n], frames, gts)
                recs[0]["first"] = 1.0
                records[n] += recs
                med = statistics.median(r["total"] for r in recs[1:])
                print(f"  {seq.name:<14} {n:<17} {med:7.1f} ms/frame median", flush=True)
    results = {n: summarise(records[n]) for n in names}
    print(f"\nload average after: {os.getloadavg()[0]:.2f}\n")
    print(format_tables(results, notes))
    report = {
        "torch": torch.__version__,
        "threads": args.threads,
        "load_average_after": os.getloadavg()[0],
        "data": str(args.data),
        "sequences": dataset.names,
        "frames_per_sequence": args.frames,
        "oracle_update": args.oracle_update,
        "setups": {
            n: {**attrs.asdict(SETUPS[n]), "weights": notes[n], **results[n]} for n in names
        },
    }
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.json}")
    return report


if __name__ == "__main__":
    main()
