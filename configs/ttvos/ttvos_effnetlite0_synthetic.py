# TTVOS stage 1 (the official saliency stage, adapted): seeded synthetic clips with real-photo
# textures only, with large objects (6-25% of the frame, like salient objects; the default
# synthetic objects cover ~1%). Train:
#   vosframe train configs/ttvos/ttvos_effnetlite0_synthetic.py --work-dir work_dirs/ttvos_s1
_base_ = [
    "../_base_/models/ttvos_effnetlite0.py",
    "../_base_/datasets/davis16_bank_240p.py",
]
train_dataset = dict(
    sources=[
        dict(type="synthetic", count=96, length=24, seed=1, object_size=(1.0, 1.5), max_objects=2)
    ],
    num_frames=4,
    max_skip=3,
    samples_per_epoch=800,
)
train_dataloader = dict(batch_size=8)
# Official: Adam, lr 2e-4, no weight decay, no schedule. A higher rate for a short CPU run.
optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-3, weight_decay=0))
param_scheduler = [dict(type="MultiStepLR", by_epoch=True, milestones=[8], gamma=0.3)]
train_cfg = dict(by_epoch=True, max_epochs=10)
seed = 0
log_interval = 10
