# FRTM trained with the previous target models, run with the official *training*
# target-model fit at inference (c32, 15 augmented samples, regularisation 1e-5/1e-4, no
# pixel weighting): an inference-only change, benchmarked on the frtm_v1 file.
#   vosframe train experiments/configs/frtm/frtm_v1_effnetlite0_davis16.py \
#       --work-dir work_dirs/frtm_v1
#   vosframe bench --config experiments/configs/frtm/frtm_tminf_effnetlite0_davis16.py \
#       --checkpoint work_dirs/frtm_v1/vosframe_latest.pt --data DAVIS_FOLDER --no-flops
_base_ = ["../../../configs/frtm/frtm_effnetlite0_davis16.py"]
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
