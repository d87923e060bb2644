# Memory model, stage 1 (STM/STCN's still-image stage, adapted): 3-frame synthetic clips of
# up to 3 photo-textured objects under per-frame affine + elastic deformation.
#   vosframe train configs/stcn/stcn_effnetlite0_synthetic.py --work-dir work_dirs/stcn_s1
_base_ = ["../_base_/models/stcn_effnetlite0.py"]
train_dataset = dict(
    type="MemoryClipDataset",
    sources=[dict(type="synthetic", seed=0, object_size=(0.5, 1.0), motion="normal")],
    num_frames=3,
    size=(240, 432),
    max_objects=3,
    samples_per_epoch=400,
)
train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False)
# STCN: Adam, wd 1e-7; a higher rate for short runs.
optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-3, weight_decay=1e-7))
param_scheduler = [dict(type="MultiStepLR", by_epoch=True, milestones=[8], gamma=0.1)]
train_cfg = dict(by_epoch=True, max_epochs=10)
seed = 0
log_interval = 10
