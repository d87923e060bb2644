# G-FRTM with the paper's placement: re-entry at the stride-16 refiner output (R_t@16) and
# the official translator (mid 48, 5x5 merge). Benchmarked next to the shipped fast
# placement (configs/gfrtm_effnetlite0_davis16.py, R_t@4).
# Train: vosframe train configs/gfrtm_paper_effnetlite0_davis16.py --work-dir work_dirs/gfrtm_paper
_base_ = ["gfrtm_effnetlite0_davis16.py"]
model = dict(
    plugins=[
        dict(
            type="ReuseGate",
            tau=0.7,
            reentry="R_t@16",
            m1=1.0,
            margin_epochs=3,
        )
    ]
)
# The recipe it was trained with (the first G-FRTM schedule: refiner fine-tuned with the gate).
optim_wrapper = dict(optimizer=dict(lr=5e-4))
param_scheduler = [dict(type="MultiStepLR", by_epoch=True, milestones=[3], gamma=0.1)]
train_cfg = dict(by_epoch=True, max_epochs=3)
train_dataset = dict(num_frames=5, max_skip=3, samples_per_epoch=240)
