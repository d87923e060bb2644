# TTVOS on EfficientNet-Lite0, stage 2 (the official video stages, adapted): DAVIS-2016 train
# (240p) + synthetic clips, starting from stage 1 (synthetic clips only). Train:
#   vosframe train configs/ttvos/ttvos_effnetlite0_synthetic.py --work-dir work_dirs/ttvos_s1
#   vosframe train configs/ttvos/ttvos_effnetlite0_davis16.py --work-dir work_dirs/ttvos
_base_ = [
    "../_base_/models/ttvos_effnetlite0.py",
    "../_base_/datasets/davis16_bank_240p.py",
    "../_base_/plugins/spatial_prior.py",
]
# Inference at 240 (shorter side), the scale it was trained at: the template attention and
# the short-term branch see objects at the scale they were trained on only there (the
# figures: configs/ttvos/README.md). The spatial prior (configs/_base_/plugins/
# spatial_prior.py) acts at inference only; it was added after the shipped weights were
# trained.
model = dict(max_internal_size=240, plugins=[{{_base_.spatial_prior}}])
train_dataset = dict(
    sources=[
        dict(type="davis", root="../shared/data/davis2016/train_240p", split="train"),
        dict(type="synthetic", count=96, length=24, seed=0),
        dict(type="synthetic", count=96, length=24, seed=1, object_size=(1.0, 1.5), max_objects=2),
    ],
    num_frames=6,
    max_skip=3,
    samples_per_epoch=800,
)
train_dataloader = dict(batch_size=8)
load_from_vosframe = "work_dirs/ttvos_s1/vosframe_latest.pt"
optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=3e-4, weight_decay=0))
param_scheduler = [dict(type="MultiStepLR", by_epoch=True, milestones=[10], gamma=0.3)]
train_cfg = dict(by_epoch=True, max_epochs=12)
seed = 0
log_interval = 10
