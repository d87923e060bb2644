# The two-stage FRTM recipe with the refiner run on all clips of a batch at once, stage 2 of 2:
# the shipped recipe with train_refiner_batch, starting from frtm_bnbatch_s1_effnetlite0_davis16.py
# of the same fold and seed. Per fold K, seed S, after stage 1:
#   vosframe train experiments/configs/frtm/frtm_bnbatch_effnetlite0_davis16.py --fold K \
#       --threads 1 --cfg-options seed=S --work-dir work_dirs/frtm_bnbatch_foldK_seedS
_base_ = ["../../../configs/frtm/frtm_effnetlite0_davis16.py"]
model = dict(train_refiner_batch=True)
load_from_vosframe = "work_dirs/frtm_bnbatch_s1_fold{fold}_seed{seed}/vosframe_latest.pt"
