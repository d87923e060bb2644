# Control for TTVOS's still-clip stage, the last of three stages: the shipped stage 2, unchanged,
# starting from ttvos_mixpre_s1_effnetlite0_davis16.py of the same fold and seed (three epochs of
# the shipped stage 2's own clips). Per fold K, seed S:
#   vosframe train experiments/configs/ttvos/ttvos_mixpre_effnetlite0_davis16.py --fold K \
#       --threads 1 --cfg-options seed=S --work-dir work_dirs/ttvos_mixpre_foldK_seedS
_base_ = ["../../../configs/ttvos/ttvos_effnetlite0_davis16.py"]
load_from_vosframe = "work_dirs/ttvos_mixpre_s1_fold{fold}_seed{seed}/vosframe_latest.pt"
