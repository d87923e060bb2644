# Candidate recipe (not yet compared on the folds): the memory model's shipped stage 2 with
# hard synthetic clips as a third source (vosframe.data.clips.HardClipDataset: objects
# hidden by an occluder or gone and back, small objects, fast non-rigid deformation, an
# unlabelled look-alike; the first frame and two later frames drawn over a 16-frame clip),
# a fifth of the clips. Everything else is the shipped recipe, so a paired fold comparison
# (`vosframe select --compare`) measures the clips alone. Per fold, beside the shipped
# recipe's fold models (docs/selection_protocol.md); a GPU run is advised (the memory
# model's CPU schedule is long):
#   vosframe train experiments/configs/stcn/stcn_hard_effnetlite0_davis16.py --fold K \
#       --work-dir work_dirs/stcn_hard_foldK_seed0
_base_ = ["../../../configs/stcn/stcn_effnetlite0_davis16.py"]
train_dataset = dict(
    sources=[
        dict(type="davis", root="../shared/data/davis2016/train_240p", weight=3.0),
        dict(type="synthetic", seed=1, object_size=(0.5, 1.0), motion="normal", weight=1.0),
        dict(type="stress", seed=0, clip_length=16, weight=1.0),
    ],
)
