# G-FRTM: FRTM + the reuse gate, EfficientNet-Lite0, DAVIS-2016 train (240p) + synthetic clips.
# Train (starts from the trained FRTM; fine-tunes the refiner and trains the gate):
#   vosframe train configs/gfrtm_effnetlite0_davis16.py --work-dir work_dirs/gfrtm
#
# Placement: the paper re-enters at the stride-16 refiner output (R_t@16). On a 2-core CPU
# that saves 14% of a frame's FLOPs (29.6 -> 25.4 GFLOP at 854x480), because the stride-8/4
# refiner levels and the head still run. This config re-enters after the stride-4 level
# (R_t@4) with a light translator (mid 16, 3x3 merge): 29.6 -> 13.3 GFLOP (-55%), plus the
# skipped target-model updates. Measured with vosframe.plugins.reuse_gate.path_flops.
_base_ = ["frtm_effnetlite0_davis16.py"]
model = dict(
    plugins=[
        dict(
            type="ReuseGate",
            tau=0.7,
            reentry="R_t@4",
            translator_mid=16,
            merge_kernel=3,
            m1=1.0,  # the paper's margin for DAVIS
            margin_epochs=3,  # official 120 of 260 epochs; scaled to this short schedule
        )
    ]
)
train_dataset = dict(num_frames=5, max_skip=3, samples_per_epoch=240)
train_dataloader = dict(batch_size=4)
load_from_vosframe = "vosframe/weights/frtm_effnetlite0_davis16.pt"
optim_wrapper = dict(optimizer=dict(lr=5e-4))  # the official G-FRTM learning rate
param_scheduler = [dict(type="MultiStepLR", by_epoch=True, milestones=[3], gamma=0.1)]
train_cfg = dict(by_epoch=True, max_epochs=3)
