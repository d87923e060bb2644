# Candidate recipe (not yet compared on the folds): FRTM's shipped recipe with hard
# synthetic clips added to its bank sources (vosframe.data.stress.hard_clip: objects hidden
# by an occluder or gone for 3-8 frames and back, small objects of 0.3-2% of the frame, fast
# non-rigid deformation, an unlabelled look-alike of the target). Everything else is the
# shipped recipe, so a paired fold comparison measures the clips alone. Per fold, beside the
# shipped recipe's fold models (docs/selection_protocol.md):
#   vosframe train experiments/configs/frtm/frtm_hard_effnetlite0_davis16.py --fold K \
#       --threads 1 --work-dir work_dirs/frtm_hard_foldK_seed0
_base_ = ["../../../configs/frtm/frtm_effnetlite0_davis16.py"]
train_dataset = dict(
    sources=[
        dict(type="davis", root="../shared/data/davis2016/train_240p", split="train"),
        dict(type="synthetic", count=96, length=24, seed=0),
        dict(type="stress", count=120, length=24, seed=0),
    ],
)
