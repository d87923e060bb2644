# FRTM with more varied clips: the FRTM recipe with each DAVIS video also stored mirrored
# (features computed on the flipped frames) and half of the clips played backwards, to see
# whether more varied clips close the gap that more epochs of the same clips do not
# (frtm_long_effnetlite0_davis16.py). Previous target models (frtm_tm_v1.py).
#   vosframe train experiments/configs/frtm/frtm_aug_effnetlite0_davis16.py \
#       --work-dir work_dirs/frtm_aug
_base_ = [
    "../../../configs/frtm/frtm_effnetlite0_davis16.py",
    "../../../configs/_base_/models/frtm_tm_v1.py",
]
model = dict(target_model={{_base_.tm_v1}}, train_target_model={{_base_.train_tm_v1}})
train_dataset = dict(
    sources=[
        dict(type="davis", root="../shared/data/davis2016/train_240p", split="train"),
        dict(type="davis", root="../shared/data/davis2016/train_240p", split="train", mirror=True),
        dict(type="synthetic", count=96, length=24, seed=0),
    ],
    reverse_prob=0.5,
)
