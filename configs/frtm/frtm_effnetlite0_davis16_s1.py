# FRTM stage 1 of 2: three epochs of the recipe's own clips (DAVIS-2016 train 240p + synthetic
# clips) at its first learning rate, with no decay; stage 2, frtm_effnetlite0_davis16.py, runs
# the same clips for six more epochs from these weights and divides the rate by 10 for the last.
# Chosen on held-out training folds against the one-stage six-epoch recipe and against a first
# stage on still-image clips (configs/frtm/README.md).
#   vosframe train configs/frtm/frtm_effnetlite0_davis16_s1.py --work-dir work_dirs/frtm_s1
_base_ = ["./frtm_effnetlite0_davis16.py"]
load_from_vosframe = None
param_scheduler = []
train_cfg = dict(by_epoch=True, max_epochs=3)
