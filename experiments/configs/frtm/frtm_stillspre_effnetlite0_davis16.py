# Candidate recipe, not adopted (see frtm_stillspre_s1_effnetlite0_davis16.py). Stage 2 of 2: the
# shipped FRTM recipe, unchanged, starting from the refiner that
# frtm_stillspre_s1_effnetlite0_davis16.py pre-trained on still-image clips of the same fold and
# seed (STM's order: static images, then videos). A paired fold comparison against the shipped
# recipe measures the pre-training alone. The rule it is judged by was written before its first fold
# model was trained (benchmarks/results/frtm_stillspre_folds34_heldout/). Per fold K, seed S, after
# stage 1:
#   vosframe train experiments/configs/frtm/frtm_stillspre_effnetlite0_davis16.py --fold K \
#       --threads 1 --cfg-options seed=S --work-dir work_dirs/frtm_stillspre_foldK_seedS
_base_ = ["../../../configs/frtm/frtm_effnetlite0_davis16.py"]
load_from_vosframe = "work_dirs/frtm_stillspre_s1_fold{fold}_seed{seed}/vosframe_latest.pt"
