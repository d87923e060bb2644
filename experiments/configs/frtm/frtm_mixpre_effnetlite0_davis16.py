# Control for the still-clip pre-training, stage 2 of 2: the shipped FRTM recipe, unchanged,
# starting from frtm_mixpre_s1_effnetlite0_davis16.py of the same fold and seed (three epochs of
# the shipped recipe's own clips). Per fold K, seed S, after stage 1:
#   vosframe train experiments/configs/frtm/frtm_mixpre_effnetlite0_davis16.py --fold K \
#       --threads 1 --cfg-options seed=S --work-dir work_dirs/frtm_mixpre_foldK_seedS
_base_ = ["../../../configs/frtm/frtm_effnetlite0_davis16.py"]
load_from_vosframe = "work_dirs/frtm_mixpre_s1_fold{fold}_seed{seed}/vosframe_latest.pt"
