# FRTM trained for 14 more epochs from FRTM with the previous target models: same data,
# loss and optimiser; the learning rate restarts at 1e-3 and drops 10x after epoch 11. Asks
# whether the accuracy gap is the schedule's length.
#   vosframe train experiments/configs/frtm/frtm_v1_effnetlite0_davis16.py \
#       --work-dir work_dirs/frtm_v1
#   vosframe train experiments/configs/frtm/frtm_long_effnetlite0_davis16.py \
#       --work-dir work_dirs/frtm_long
_base_ = [
    "../../../configs/frtm/frtm_effnetlite0_davis16.py",
    "../../../configs/_base_/models/frtm_tm_v1.py",
]
model = dict(target_model={{_base_.tm_v1}}, train_target_model={{_base_.train_tm_v1}})
load_from_vosframe = "work_dirs/frtm_v1/vosframe_latest.pt"
param_scheduler = [dict(type="MultiStepLR", by_epoch=True, milestones=[11], gamma=0.1)]
train_cfg = dict(by_epoch=True, max_epochs=14)
