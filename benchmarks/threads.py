"""Thread policy benchmark: `vosframe segment` alone, beside a busy process, and two at once.

Runs the real command (a subprocess per job) on a short clip of a DAVIS-2016 *train*
video and records the segmenting FPS that each job reports (model loading excluded):

* ``solo``: one job on an otherwise idle machine (as idle as a shared machine gets);
* ``busy``: one job while a competing process keeps one core busy (a Python spin loop);
* ``pair``: two jobs started together.

each with ``--threads`` = one per physical core (torch's default) and one less (the
vosframe default). The target: in ``pair``, each job keeps at
least half its ``solo`` speed.

Usage::

    python benchmarks/threads.py [--video bear] [--frames 40] [--model g-frtm]
        [--out benchmarks/results/threads]

Writes ``threads.json`` and ``threads.txt`` to ``--out``. Keep clips short: the machine
is shared, and every row runs the clip once per job.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("VOSFRAME_SHARED_DATA", REPO.parent / "shared" / "data"))


def make_clip(video: str, frames: int, root: Path) -> tuple[Path, Path]:
    """Copy the first ``frames`` frames of a DAVIS-2016 train video and its first mask."""
    src = DATA / "davis2016" / "train_240p"
    jpgs = sorted((src / "JPEGImages" / video).glob("*.jpg"))[:frames]
    if not jpgs:
        sys.exit(f"no frames for {video} under {src}; set VOSFRAME_SHARED_DATA")
    fdir = root / "frames"
    fdir.mkdir()
    for p in jpgs:
        shutil.copy(p, fdir / p.name)
    mask = root / "first.png"
    shutil.copy(src / "Annotations" / video / f"{jpgs[0].stem}.png", mask)
    return fdir, mask


def start_job(model: str, frames: Path, mask: Path, out: Path, threads: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "vosframe", "segment", "--model", model, "--frames"]
    cmd += [str(frames), "--masks", str(mask), "--out", str(out), "--json"]
    cmd += ["--threads", str(threads), "--overwrite"]
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def finish(job: subprocess.Popen) -> float:
    out, err = job.communicate()
    if job.returncode != 0:
        sys.exit(f"segment failed ({job.returncode}): {err.decode()[-2000:]}")
    return float(json.loads(out)["fps"])


def spinner() -> subprocess.Popen:
    """A process that keeps one core busy until killed."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def run_row(kind: str, threads: int, args, frames: Path, mask: Path, work: Path) -> dict:
    spin = spinner() if kind == "busy" else None
    try:
        n = 2 if kind == "pair" else 1
        t0 = time.perf_counter()
        jobs = [
            start_job(args.model, frames, mask, work / f"{kind}_{threads}_{i}", threads)
            for i in range(n)
        ]
        fps = [finish(j) for j in jobs]
        wall = time.perf_counter() - t0
    finally:
        if spin is not None:
            spin.kill()
            spin.wait()
    return {"kind": kind, "threads": threads, "fps": fps, "wall_s": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--video", default="bear", help="DAVIS-2016 train video")
    parser.add_argument("--frames", type=int, default=40, help="clip length (30-60)")
    parser.add_argument("--model", default="g-frtm")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/threads")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from vosframe.threads import default_threads, physical_cores

    cores = physical_cores()
    choices = sorted({cores, default_threads()})
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        frames, mask = make_clip(args.video, args.frames, work)
        load_before = os.getloadavg()
        for kind in ("solo", "busy", "pair"):
            for threads in choices:
                row = run_row(kind, threads, args, frames, mask, work)
                print(f"{kind:<5} threads={threads}: FPS {row['fps']}", flush=True)
                rows.append(row)
        load_after = os.getloadavg()
    solo = {r["threads"]: r["fps"][0] for r in rows if r["kind"] == "solo"}
    for r in rows:
        r["vs_own_solo"] = [f / solo[r["threads"]] for f in r["fps"]]
        r["vs_best_solo"] = [f / max(solo.values()) for f in r["fps"]]
    report = {
        "model": args.model,
        "clip": f"davis2016 train_240p {args.video}, first {args.frames} frames",
        "physical_cores": cores,
        "default_threads": default_threads(),
        "cpu": platform.processor() or platform.machine(),
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "note": "FPS as reported by `vosframe segment --json` (segmenting only, model load "
        "excluded). The machine is shared with other jobs: loadavg shows how busy it was.",
        "rows": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "threads.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        f"{args.model} on {report['clip']}; {cores} physical cores; loadavg "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after",
        f"{'case':<6} {'threads':>7} {'FPS per job':>18} {'x own solo':>12} {'x best solo':>12}",
    ]
    for r in rows:
        lines.append(
            f"{r['kind']:<6} {r['threads']:>7} {' '.join(f'{f:.2f}' for f in r['fps']):>18} "
            f"{' '.join(f'{v:.2f}' for v in r['vs_own_solo']):>12} "
            f"{' '.join(f'{v:.2f}' for v in r['vs_best_solo']):>12}"
        )
    (args.out / "threads.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
