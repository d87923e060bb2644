# FRTM with the previous target-model settings (configs/_base_/models/frtm_tm_v1.py): the
# shipped FRTM recipe (configs/frtm/frtm_effnetlite0_davis16.py) with the fast inference
# preset and the cheaper training fit. The FRTM experiments below start from (or bench) the
# file this writes, work_dirs/frtm_v1/vosframe_latest.pt:
#   vosframe train experiments/configs/frtm/frtm_v1_effnetlite0_davis16.py \
#       --work-dir work_dirs/frtm_v1
# It retrains the recipe of the FRTM file those experiments were recorded with; it is not
# checked to reproduce that file bit for bit.
_base_ = [
    "../../../configs/frtm/frtm_effnetlite0_davis16.py",
    "../../../configs/_base_/models/frtm_tm_v1.py",
]
model = dict(target_model={{_base_.tm_v1}}, train_target_model={{_base_.train_tm_v1}})
