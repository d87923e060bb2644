"""Per-stage CPU timings of TTVOS on one DAVIS frame (where the time goes).

Run: ``python benchmarks/ttvos_stages.py [--size 480] [--threads 2] [--objects 1]``.

Times every stage of one tracked frame with the model's inference settings (bf16 autocast
+ channels_last, or ``--fp32``): backbone up to stride 8 (the reuse gate's feature cut),
backbone stride 8 -> 16, the localizer (template attention + short-term matching), each
decoder level, the full-resolution head and the template update. Weights are random
unless ``--checkpoint`` is given (timings do not depend on them). Medians in ms; other
processes on the machine add noise.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch
from _timing import median_ms

from vosframe.core.state import Features
from vosframe.registry import MODELS, build_from_cfg

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "davis2016" / "val_480p"


def load_frame(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A DAVIS val frame and its mask at shorter side ``size`` (a random one if absent)."""
    seqs = sorted((DATA / "JPEGImages").glob("*")) if DATA.is_dir() else []
    if seqs:
        img = cv2.imread(str(sorted(seqs[0].glob("*.jpg"))[0]))[:, :, ::-1]
        ann = cv2.imread(str(sorted((DATA / "Annotations" / seqs[0].name).glob("*.png"))[0]), 0)
    else:
        img = np.random.default_rng(0).integers(0, 255, (480, 854, 3), dtype=np.uint8)
        ann = np.zeros((480, 854), np.uint8)
        ann[150:330, 300:550] = 1
    h, w = img.shape[:2]
    scale = size / min(h, w)
    out = (round(w * scale), round(h * scale))
    img = cv2.resize(np.ascontiguousarray(img), out, interpolation=cv2.INTER_AREA)
    ann = cv2.resize(ann, out, interpolation=cv2.INTER_NEAREST)
    image = torch.from_numpy(img.copy()).permute(2, 0, 1)[None].float() / 255
    return image, torch.from_numpy((ann > 0).astype(np.float32))[None, None]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=480, help="shorter side of the frame")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--objects", type=int, default=1)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--fp32", action="store_true")
    ap.add_argument("--backbone", default="EfficientNetLite0")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    model = build_from_cfg(dict(type="TTVOS", backbone=dict(type=args.backbone)), MODELS).eval()
    bf16 = not args.fp32
    if bf16:
        model = model.to(memory_format=torch.channels_last)
    image, mask = load_frame(args.size)
    if bf16:
        image = image.contiguous(memory_format=torch.channels_last)
    size = tuple(image.shape[-2:])
    ext, loc, dec = model.feature_extractor, model.localizer, model.refiner
    rows: list[tuple[str, float]] = []
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        maps8 = ext(image, up_to=8)
        full = ext.resume(maps8)
        feats = Features(full, size)
        states = [loc.init_object(feats, mask, image) for _ in range(args.objects)]
        rows.append(
            ("backbone -> stride 8 (F_t)", median_ms(lambda: ext(image, up_to=8), args.reps))
        )
        rows.append(("backbone stride 8 -> 16", median_ms(lambda: ext.resume(maps8), args.reps)))
        rows.append(
            (
                "localizer (attention + short-term)",
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
        assert x is not None
        rows.append(
            (
                "head (stride 4 -> full, PixelShuffle)",
                median_ms(lambda: dec.head(x, score, feats, size), args.reps),
            )
        )
        probs = torch.sigmoid(dec.head(x, score, feats, size)).float()

        def update() -> None:
            st = [loc.init_object(feats, mask, image) for _ in range(args.objects)]
            loc.update(feats, st, probs, 1)

        init_ms = median_ms(
            lambda: [loc.init_object(feats, mask, image) for _ in range(args.objects)], args.reps
        )
        rows.append(("template update", median_ms(update, args.reps) - init_ms))
        total = median_ms(
            lambda: dec.run(loc.localize(Features(ext(image), size), states), feats, size),
            args.reps,
        )
    mode = "fp32" if args.fp32 else "bf16+channels_last"
    print(
        f"TTVOS ({args.backbone}) stages at {size[1]}x{size[0]}, {args.objects} object(s), "
        f"{mode}, threads={torch.get_num_threads()}"
    )
    for name, ms in rows:
        print(f"  {name:40s} {ms:7.2f} ms")
    print(f"  {'full frame (backbone+localizer+decoder)':40s} {total:7.2f} ms")


if __name__ == "__main__":
    main()
