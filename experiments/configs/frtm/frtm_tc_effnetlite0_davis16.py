# FRTM + the temporal consistency loss of TTVOS (the TTVOS paper applies it to FRTM too),
# continuing the training of FRTM with the previous target models. Continued training and
# the extra loss are confounded here (no run without the loss).
#   vosframe train experiments/configs/frtm/frtm_v1_effnetlite0_davis16.py \
#       --work-dir work_dirs/frtm_v1
#   vosframe train experiments/configs/frtm/frtm_tc_effnetlite0_davis16.py \
#       --work-dir work_dirs/frtm_tc
_base_ = [
    "../../../configs/frtm/frtm_effnetlite0_davis16.py",
    "../../../configs/_base_/models/frtm_tm_v1.py",
]
model = dict(
    target_model={{_base_.tm_v1}},
    train_target_model={{_base_.train_tm_v1}},
    aux_losses=[dict(type="TemporalConsistencyLoss", level=8, weight=1.0)],
)
train_dataset = dict(num_frames=4)
load_from_vosframe = "work_dirs/frtm_v1/vosframe_latest.pt"
optim_wrapper = dict(optimizer=dict(lr=3e-4))
param_scheduler = [dict(type="MultiStepLR", by_epoch=True, milestones=[6], gamma=0.3)]
train_cfg = dict(by_epoch=True, max_epochs=8)
