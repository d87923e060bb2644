# Candidate recipe, not adopted (it lost on held-out folds and on the synthetic suites:
# benchmarks/results/ttvos_stills_paste_folds012_heldout): the still-clip recipe
# (ttvos_stills_effnetlite0_davis16.py) with one object of another fit video pasted into each
# still clip, moving on its own and drawn on top (vosframe.data.stills.paste_still_object). The
# still clips alone won on held-out folds but told several objects apart less well on the
# synthetic suites (DAVIS-2016's frames show one object each); the pasted object gives every
# still clip a second real object, which is a target in its own right and a distractor (and
# occluder) for the other. Judged against the shipped recipe's fold models by the fold rule and
# the synthetic suites (docs/selection_protocol.md;
# benchmarks/results/ttvos_stills_paste_folds012_heldout).
# Per fold K and seed S:
#   vosframe train experiments/configs/ttvos/ttvos_stills_paste_effnetlite0_davis16.py \
#       --fold K --threads 1 --cfg-options seed=S --work-dir work_dirs/ttvos_paste_foldK_seedS
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
            paste=1,
        ),
    ],
)
