# Control for the still-clip pre-training (frtm_stillspre_s1_effnetlite0_davis16.py), stage 1 of
# 2: the same first stage (three epochs at the recipe's first learning rate) on the shipped
# recipe's own clips (DAVIS videos and synthetic clips) instead of the still clips; stage 2
# (frtm_mixpre_effnetlite0_davis16.py) is the shipped recipe from it. The still-clip candidate
# trains nine epochs against the shipped six; this control has the same nine without the still
# clips, so the two together separate the still clips from the longer training. Its rule was
# written before its first fold model was trained (benchmarks/results/
# frtm_stillspre_folds34_heldout/README.md, "The control"). Per fold K, seed S:
#   vosframe train experiments/configs/frtm/frtm_mixpre_s1_effnetlite0_davis16.py --fold K \
#       --threads 1 --cfg-options seed=S --work-dir work_dirs/frtm_mixpre_s1_foldK_seedS
_base_ = ["../../../configs/frtm/frtm_effnetlite0_davis16.py"]
param_scheduler = []
train_cfg = dict(by_epoch=True, max_epochs=3)
