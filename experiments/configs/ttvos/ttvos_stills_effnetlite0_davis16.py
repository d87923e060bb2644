# Candidate recipe: it won on held-out folds 0-2 against the shipped recipe's fold models
# (docs/selection_protocol.md; benchmarks/results/ttvos_stills_folds012_heldout) but was not
# shipped, because it tells several objects apart less well on the synthetic suites
# (benchmarks/results/ttvos_stills_synthetic_suites). TTVOS's shipped stage 2 with
# still-image clips added to its sources (STM's static-image stage, vosframe.data.stills):
# every 4th annotated frame of each fit video becomes an 8-frame clip of random affine and
# elastic warps of that one image. The shipped model learns matching from 24 fit videos, a
# few dozen objects at the scales and poses those videos show; the still clips show the
# same real objects at other zooms, rotations, shears and positions. Everything else is the
# shipped recipe, so a paired fold comparison measures the clips alone. Per fold K and
# seed S:
#   vosframe train experiments/configs/ttvos/ttvos_stills_effnetlite0_davis16.py --fold K \
#       --threads 1 --cfg-options seed=S --work-dir work_dirs/ttvos_stills_foldK_seedS
#   vosframe select --config configs/ttvos/ttvos_effnetlite0_davis16.py --folds K \
#       --checkpoint 'work_dirs/ttvos_stills_fold{fold}_seedS/vosframe_latest.pt' ...
_base_ = ["../../../configs/ttvos/ttvos_effnetlite0_davis16.py"]
train_dataset = dict(
    sources=[
        dict(type="davis", root="../shared/data/davis2016/train_240p", split="train"),
        dict(type="synthetic", count=96, length=24, seed=0),
        dict(type="synthetic", count=96, length=24, seed=1, object_size=(1.0, 1.5), max_objects=2),
        dict(
            type="davis_stills",
            root="../shared/data/davis2016/train_240p",
            split="train",
            every=4,
            length=8,
            seed=0,
        ),
    ],
)
