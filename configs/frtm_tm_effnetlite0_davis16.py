# FRTM with converged, augmented target models in training and at inference (experiment).
# Train:  vosframe train configs/frtm_tm_effnetlite0_davis16.py --work-dir work_dirs/frtm_tm
# Why: fitted on frame 0 of 16 DAVIS-2016 *train* videos (240p), the IoU of score > 0.5 at
# stride 16 on frames 1-40 is 0.18 for the shipped training fit (1 sample, 2 GN steps),
# 0.28 for the shipped inference fit (official 'fast'), 0.70 for the official training
# settings (c32, 15 samples, 5 GN) and 0.74 for the fit below (work_dirs/s9/sweep.py).
# The shipped refiner with c32/15 samples/low regularisation at inference only: val J&F
# 68.7 against 66.7 (every video equal or higher; work_dirs/s9/frtm_tm32.py). This recipe
# was trained once (seed 0, 48 min on 2 threads, before train_tm_cache existed, so its fits
# were not stored): epoch-6 mean loss 0.0142 against 0.0275 for the shipped run. Its val
# J&F is not measured yet; not shipped.
_base_ = ["frtm_effnetlite0_davis16.py"]
_tm = dict(c=32, num_aug=8, init_iters=(10, 20, 20, 20, 20))
model = dict(
    target_model=dict(
        preset="fast", filter_reg=(1e-5, 1e-4), precond=(1e-5, 1e-4), pixel_weighting=None, **_tm
    ),
    train_target_model=_tm,
    train_tm_cache="work_dirs/tm_cache",
)
