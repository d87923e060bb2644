# Memory model with the RDE memory, stage 3 (RDE-VOS's stage with its losses): 5-frame DAVIS
# clips (+ synthetic), from stage 2; the SAM is new, the rest continues training.
#   vosframe train configs/stcn/stcn_rde_effnetlite0_davis16.py --work-dir work_dirs/stcn_rde
_base_ = ["../_base_/models/stcn_rde_effnetlite0.py"]
model = dict(bootstrap=dict(start=0.0, end=0.5, top_p=0.15, epochs=6))
train_dataset = dict(
    type="MemoryClipDataset",
    sources=[
        dict(type="davis", root="../shared/data/davis2016/train_240p", weight=3.0),
        dict(type="synthetic", seed=2, object_size=(0.5, 1.0), motion="normal", weight=1.0),
    ],
    num_frames=5,
    size=(240, 432),
    max_objects=3,
    max_skip=[(0.0, 5), (0.3, 10), (0.8, 5)],
    curriculum_epochs=6,
    samples_per_epoch=400,
)
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False)
load_from_vosframe = "work_dirs/stcn/vosframe_latest.pt"
optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=2e-4, weight_decay=1e-7))
param_scheduler = [dict(type="MultiStepLR", by_epoch=True, milestones=[5], gamma=0.1)]
train_cfg = dict(by_epoch=True, max_epochs=6)
seed = 0
log_interval = 10
