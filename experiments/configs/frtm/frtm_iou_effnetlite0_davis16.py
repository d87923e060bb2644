# The two-stage FRTM recipe with a soft-IoU loss, stage 2 of 2: the shipped recipe plus the same
# loss, starting from frtm_iou_s1_effnetlite0_davis16.py of the same fold and seed. Per fold K,
# seed S, after stage 1:
#   vosframe train experiments/configs/frtm/frtm_iou_effnetlite0_davis16.py --fold K \
#       --threads 1 --cfg-options seed=S --work-dir work_dirs/frtm_iou_foldK_seedS
_base_ = ["../../../configs/frtm/frtm_effnetlite0_davis16.py"]
model = dict(aux_losses=[dict(type="SoftIoULoss", weight=1.0)])
load_from_vosframe = "work_dirs/frtm_iou_s1_fold{fold}_seed{seed}/vosframe_latest.pt"
