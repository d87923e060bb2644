# The previous FRTM file (trained with the previous target models, shipped until
# 2026-12-01) with the official *training* target-model fit at inference (c32, 15
# augmented samples, regularisation 1e-5/1e-4, no pixel weighting). Measured
# (benchmarks/results/frtm_tminf_davis16val/): val J&F 68.7 against 66.7, no video lower.
# git show 21b17fe:vosframe/weights/frtm_effnetlite0_davis16.pt > work_dirs/frtm_v1.pt
# vosframe bench --config configs/frtm_tminf_effnetlite0_davis16.py \
#   --checkpoint work_dirs/frtm_v1.pt \
#   --data ../shared/data/davis2016/val_480p --threads 1 --no-flops
_base_ = ["frtm_effnetlite0_davis16.py"]
model = dict(
    target_model=dict(
        preset="fast",
        c=32,
        num_aug=15,
        filter_reg=(1e-5, 1e-4),
        precond=(1e-5, 1e-4),
        pixel_weighting=None,
        init_iters=(5, 10, 10, 10, 10),
    )
)
