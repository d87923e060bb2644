# Control for TTVOS's still-clip stage (ttvos_stillspre_s1_effnetlite0_davis16.py), the middle of
# three stages: after the synthetic stage 1 (configs/ttvos/ttvos_effnetlite0_synthetic.py), three
# epochs of the shipped stage 2's own clips (DAVIS videos and synthetic clips) at its first
# learning rate, instead of the still clips; then ttvos_mixpre_effnetlite0_davis16.py (the shipped
# stage 2, unchanged) starts from it. On FRTM the same control was as good as the still-clip
# stage: the longer training, not the still clips, gained. This separates the two on TTVOS. Its
# rule was written before its first fold model was trained
# (benchmarks/results/ttvos_stillspre_folds012_heldout/README.md, "The control"). Per fold K,
# seed S, after stage 1:
#   vosframe train experiments/configs/ttvos/ttvos_mixpre_s1_effnetlite0_davis16.py --fold K \
#       --threads 1 --cfg-options seed=S --work-dir work_dirs/ttvos_mixpre_s1_foldK_seedS
_base_ = ["../../../configs/ttvos/ttvos_effnetlite0_davis16.py"]
param_scheduler = []
train_cfg = dict(by_epoch=True, max_epochs=3)
