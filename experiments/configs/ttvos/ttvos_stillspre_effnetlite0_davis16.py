# Candidate recipe, the last of three stages: TTVOS's shipped stage 2, unchanged, starting from
# ttvos_stillspre_s1_effnetlite0_davis16.py of the same fold and seed (synthetic clips, then
# still-image clips, then videos). A paired fold comparison against the shipped recipe measures
# the still-clip stage alone. Rule: benchmarks/results/ttvos_stillspre_folds012_heldout/.
# Per fold K, seed S:
#   vosframe train experiments/configs/ttvos/ttvos_stillspre_effnetlite0_davis16.py --fold K \
#       --threads 1 --cfg-options seed=S --work-dir work_dirs/ttvos_stillspre_foldK_seedS
_base_ = ["../../../configs/ttvos/ttvos_effnetlite0_davis16.py"]
load_from_vosframe = "work_dirs/ttvos_stillspre_s1_fold{fold}_seed{seed}/vosframe_latest.pt"
