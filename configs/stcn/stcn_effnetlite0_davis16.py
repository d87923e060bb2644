# Memory model, stage 2: DAVIS-2016 train clips (240p, 3 frames, STCN's max-skip curriculum)
# with a quarter synthetic clips, from stage 1. Bootstrapped cross entropy throughout.
#   vosframe train configs/stcn/stcn_effnetlite0_synthetic.py --work-dir work_dirs/stcn_s1
#   vosframe train configs/stcn/stcn_effnetlite0_davis16.py --work-dir work_dirs/stcn [--fold K]
_base_ = ["../_base_/models/stcn_effnetlite0.py"]
# Inference at 360p internal (trained at 240p): chosen on fold 0's held-out videos with
# `vosframe select --grid max_internal_size=240,360` (benchmarks/results/stcn_fold0_gpu1_size).
model = dict(
    bootstrap=dict(start=0.2, end=0.7, top_p=0.15, epochs=12),
    max_internal_size=360,
)
train_dataset = dict(
    type="MemoryClipDataset",
    sources=[
        dict(type="davis", root="../shared/data/davis2016/train_240p", weight=3.0),
        dict(type="synthetic", seed=1, object_size=(0.5, 1.0), motion="normal", weight=1.0),
    ],
    num_frames=3,
    size=(240, 432),
    max_objects=3,
    # STCN's curriculum (skips in annotated frames of the source; progress = epoch / 12).
    max_skip=[(0.0, 5), (0.1, 10), (0.2, 15), (0.3, 20), (0.4, 25), (0.9, 5)],
    curriculum_epochs=12,
    samples_per_epoch=400,
)
train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False)
load_from_vosframe = "work_dirs/stcn_s1/vosframe_latest.pt"
optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=5e-4, weight_decay=1e-7))
param_scheduler = [dict(type="MultiStepLR", by_epoch=True, milestones=[10], gamma=0.1)]
train_cfg = dict(by_epoch=True, max_epochs=12)
seed = 0
log_interval = 10
