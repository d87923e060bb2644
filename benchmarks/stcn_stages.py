"""Per-stage CPU timings of the memory model on one frame (where the time goes).

Run: ``python benchmarks/stcn_stages.py [--size 480] [--threads 2] [--objects 1]
[--mode stcn|rde] [--fp32]``.

Times one tracked frame with a full memory (``max_frames`` frames in ``stcn`` mode; the
three entries of ``rde`` mode): key encoder up to stride 8 (the reuse gate's feature cut),
key encoder stride 8 -> 16, the memory read (key projection, query value, affinity, top-k
softmax, readout), each decoder level and the head, and the memory write (key + value
encoder + the SAM in ``rde`` mode). Weights are random (timings do not depend on them);
the frame is a synthetic photo-textured frame. Medians in ms; other processes on the
machine add noise.
"""

from __future__ import annotations

import argparse

import torch
from _timing import median_ms

from vosframe.core.state import Features
from vosframe.registry import MODELS, build_from_cfg


def synthetic_frame(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A 16:9 synthetic frame with shorter side ``size`` and its first object's mask."""
    from vosframe.data.synthetic import SyntheticClipGenerator

    w = round(size * 16 / 9)
    clip = SyntheticClipGenerator(height=size, width=w, num_frames=1, min_objects=1).generate(0)
    image = torch.from_numpy(clip.frames[0].copy()).permute(2, 0, 1)[None].float() / 255
    return image, torch.from_numpy((clip.masks[0] == 1).astype("float32"))[None, None]


def main() -> None:
    """Print the per-stage medians."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=480, help="shorter side of the frame")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--objects", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--mode", default="stcn", choices=["stcn", "rde"])
    ap.add_argument("--fp32", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    cfg = dict(type="STCN", backbone=dict(type="EfficientNetLite0"), memory=dict(mode=args.mode))
    model = build_from_cfg(cfg, MODELS).eval()
    bf16 = not args.fp32
    if bf16:
        model = model.to(memory_format=torch.channels_last)
    image, mask = synthetic_frame(args.size)
    size = tuple(image.shape[-2:])
    ext, loc, dec = model.feature_extractor, model.localizer, model.refiner
    rows: list[tuple[str, float]] = []
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        maps8 = ext(image, up_to=8)
        feats = Features(ext.resume(maps8), size)
        probs = mask.repeat(args.objects, 1, 1, 1)
        states = [loc.init_object(feats, mask, image) for _ in range(args.objects)]
        for t in range(1, 1 + loc.every * loc.max_frames):  # fill the memory to its bound
            loc.update(feats, states, probs, t)
        memory = len(loc.memory_of(states[0]))
        rows.append(
            ("key encoder -> stride 8 (F_t)", median_ms(lambda: ext(image, up_to=8), args.reps))
        )
        rows.append(("key encoder stride 8 -> 16", median_ms(lambda: ext.resume(maps8), args.reps)))
        rows.append(
            (
                f"memory read ({memory} entries)",
                median_ms(lambda: loc.localize(feats, states), args.reps),
            )
        )
        score = loc.localize(feats, states)
        x = None
        for s in dec.levels:
            rows.append(
                (
                    f"decoder level {s}",
                    median_ms(lambda s=s, x=x: dec.stage(s, x, score, feats), args.reps),
                )
            )
            x = dec.stage(s, x, score, feats)
        rows.append(
            ("head (logit, resize)", median_ms(lambda: dec.head(x, score, feats, size), args.reps))
        )
        rows.append(
            (
                "memory write (key + values" + (" + SAM)" if args.mode == "rde" else ")"),
                median_ms(lambda: loc.update(feats, states, probs, 0), args.reps),
            )
        )
        total = median_ms(
            lambda: dec.run(loc.localize(Features(ext(image), size), states), feats, size),
            args.reps,
        )
    mode = "fp32" if args.fp32 else "bf16+channels_last"
    print(
        f"STCN ({args.mode} memory) stages at {size[1]}x{size[0]}, {args.objects} object(s), "
        f"{mode}, threads={torch.get_num_threads()}"
    )
    for name, ms in rows:
        print(f"  {name:40s} {ms:7.2f} ms")
    print(f"  {'frame without write (extract+read+decode)':40s} {total:7.2f} ms")


if __name__ == "__main__":
    main()
