# G-FRTM with the paper's placement: re-entry at the stride-16 refiner output (R_t@16) and
# the official translator (mid 48, 5x5 merge), trained with the first G-FRTM schedule (the
# refiner fine-tuned with the gate), from FRTM with the previous target models.
#   vosframe train experiments/configs/frtm/frtm_v1_effnetlite0_davis16.py \
#       --work-dir work_dirs/frtm_v1
#   vosframe train experiments/configs/frtm/gfrtm_paper_effnetlite0_davis16.py \
#       --work-dir work_dirs/gfrtm_paper
_base_ = [
    "../../../configs/frtm/gfrtm_effnetlite0_davis16.py",
    "../../../configs/_base_/models/frtm_tm_v1.py",
]
model = dict(
    target_model={{_base_.tm_v1}},
    train_target_model={{_base_.train_tm_v1}},
    plugins=[dict(type="ReuseGate", preset="paper", tau=0.7, reentry="R_t@16")],
)
# The recipe it was trained with (the first G-FRTM schedule: refiner fine-tuned with the gate).
plugin_trainer = dict(type="GateClipTrainer", m1=1.0, margin_epochs=3, freeze_base=False)
optim_wrapper = dict(optimizer=dict(lr=5e-4))
param_scheduler = [dict(type="MultiStepLR", by_epoch=True, milestones=[3], gamma=0.1)]
train_cfg = dict(by_epoch=True, max_epochs=3)
train_dataset = dict(num_frames=5, max_skip=3, samples_per_epoch=240)
load_from_vosframe = "work_dirs/frtm_v1/vosframe_latest.pt"
