"""Per-stage CPU timings of FRTM's target model and refiner at 854x480.

Run: ``PYTHONPATH=. python benchmarks/frtm_stages.py [--reps 5] [--objects 1]``.

Features are random tensors with the channel counts of EfficientNet-Lite0 (24/40/112/320)
and ResNet-18 (64/128/256/512) at strides 4/8/16/32; the backbone itself is not timed
(augmented first-frame features come from a stub). Times are medians in milliseconds;
other processes on the machine add noise.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch
from _timing import median_ms

from vosframe.core.state import Features
from vosframe.models.frtm.augment import augment_first_frame
from vosframe.models.frtm.refiner import FRTMRefiner
from vosframe.models.frtm.target_model import FRTMTargetModel

SIZE = (480, 854)
BACKBONES = {
    "effnet-lite0": {4: 24, 8: 40, 16: 112, 32: 320},
    "resnet18": {4: 64, 8: 128, 16: 256, 32: 512},
}


def make_features(channels: dict[int, int], channels_last: bool = False) -> Features:
    gen = torch.Generator().manual_seed(0)
    maps = {}
    for s, c in channels.items():
        t = torch.randn(1, c, -(-SIZE[0] // s), -(-SIZE[1] // s), generator=gen).relu()
        maps[s] = t.contiguous(memory_format=torch.channels_last) if channels_last else t
    return Features(maps, SIZE)


def make_frame() -> tuple[torch.Tensor, torch.Tensor]:
    """A smooth random image with an elliptic object mask (about 8% of the frame)."""
    gen = torch.Generator().manual_seed(0)
    image = torch.nn.functional.interpolate(
        torch.rand(1, 3, 30, 54, generator=gen), SIZE, mode="bilinear"
    )
    yy, xx = torch.meshgrid(torch.arange(SIZE[0]), torch.arange(SIZE[1]), indexing="ij")
    mask = (((yy - 240) / 110.0) ** 2 + ((xx - 427) / 110.0) ** 2 <= 1).float()[None, None]
    return image, mask


def bench_target_model(name: str, channels: dict[int, int], reps: int, n_obj: int) -> None:
    feats = make_features(channels)
    image, mask = make_frame()
    cin = channels[16]
    print(f"\n== target model, {name} (C_in={cin}), stride-16 map 30x54, c=96 ==")
    aug_ms = median_ms(lambda: augment_first_frame(image, mask, 4, 0), reps)
    print(f"  augmentation (4 samples, cv2)          {aug_ms:8.1f} ms")

    def stub(images: torch.Tensor) -> Features:  # the backbone is not timed
        return Features({16: feats[16].expand(images.shape[0], -1, -1, -1)}, SIZE)

    for preset in ("test", "fast"):
        row = _bench_preset(
            FRTMTargetModel.from_preset(preset, cin), feats, image, mask, stub, reps, n_obj
        )
        print(f"  [{preset:4s}] " + row)


def _bench_preset(
    tm: FRTMTargetModel,
    feats: Features,
    image: torch.Tensor,
    mask: torch.Tensor,
    stub: Callable[[torch.Tensor], Features],
    reps: int,
    n_obj: int,
) -> str:
    tm.set_feature_fn(stub)
    with torch.no_grad():
        init_ms = median_ms(lambda: tm.init_object(feats, mask, image=image), reps)
        noaug_ms = median_ms(lambda: tm.init_object(feats, mask), reps)
        state = tm.init_object(feats, mask, image=image)
        states = [state] + [tm.init_object(feats, mask) for _ in range(n_obj - 1)]
        apply_ms = median_ms(lambda: tm.localize(feats, states, count=False), reps * 4)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            apply_bf = median_ms(lambda: tm.localize(feats, states, count=False), reps * 4)
        mem = state.memory
        while mem.size < mem.capacity:  # fill the memory (80 samples)
            mem.push(mem.samples[0], mem.gram[0], mem.rhs[0], mem.const[0])
        probs = mask * 0.9
        state.applies = 1
        push_ms = median_ms(lambda: tm.update(feats, [state], probs, 1), reps)

        def update_8th() -> None:
            state.applies = state.optimized_at + tm.update_every
            tm.update(feats, [state], probs, state.applies)

        upd_ms = median_ms(update_8th, reps)
    return (
        f"init {init_ms:7.1f} ms (incl. aug; w/o aug {noaug_ms:6.1f}) | "
        f"apply x{n_obj} fp32 {apply_ms:5.2f} bf16 {apply_bf:5.2f} ms | "
        f"update: push {push_ms:5.1f} ms, 8th apply ({mem.capacity} samples) {upd_ms:6.1f} ms"
    )


def bench_refiner(name: str, channels: dict[int, int], reps: int, n_obj: int) -> None:
    print(f"\n== refiner, {name} {channels}, {n_obj} object(s), 854x480 ==")
    score = torch.randn(n_obj, 1, 30, 54)
    for mode in ("fp32", "bf16+CL"):
        cl = mode != "fp32"
        feats = make_features(channels, channels_last=cl)
        row = []
        for head, hs in (("official", 2), ("fast", 2), ("fast", 4)):
            ref = FRTMRefiner(channels, head=head, head_stride=hs).eval()
            if cl:
                ref = ref.to(memory_format=torch.channels_last)
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=cl):
                row += _bench_refiner_head(ref, score, feats, reps, levels=head == "official")
        print(f"  {mode:8s} " + " | ".join(row) + "  (ms)")


def _bench_refiner_head(
    ref: FRTMRefiner, score: torch.Tensor, feats: Features, reps: int, levels: bool
) -> list[str]:
    row = []
    x = None
    for s in ref.levels:
        if levels:
            ms = median_ms(lambda s=s, x=x: ref.stage(s, x, score, feats), reps)
            row.append(f"s{s} {ms:6.1f}")
        x = ref.stage(s, x, score, feats)
    assert x is not None
    tag = "official" if ref.head_kind == "official" else f"fast{ref.logit_stride}"
    ms = median_ms(lambda: ref.head(x, score, feats, SIZE), reps)
    total = median_ms(lambda: ref.run(score, feats, SIZE), reps)
    return [*row, f"head[{tag}] {ms:6.1f}", f"total[{tag}] {total:6.1f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--objects", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", choices=("target", "refiner"), default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for name, channels in BACKBONES.items():
        if args.only in (None, "target"):
            bench_target_model(name, channels, args.reps, args.objects)
        if args.only in (None, "refiner"):
            bench_refiner(name, channels, args.reps, args.objects)


if __name__ == "__main__":
    main()
