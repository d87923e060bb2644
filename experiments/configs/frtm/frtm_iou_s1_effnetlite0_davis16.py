# The two-stage FRTM recipe (frtm_mixpre_s1/frtm_mixpre_effnetlite0_davis16.py) with a soft-IoU
# loss added to the clip loop's cross entropy, stage 1 of 2. Why: with cross entropy alone the
# first stage sits at empty thresholded masks (object pixels below 0.5) for a varying part of
# its constant-learning-rate epochs; the soft IoU weighs each object as a whole, whatever its
# size. Its rule and results:
# benchmarks/results/frtm_shipped_suites/README.md ("The first stage stalls"). Per fold K
# (none: all 30 videos), seed S:
#   vosframe train experiments/configs/frtm/frtm_iou_s1_effnetlite0_davis16.py --fold K \
#       --threads 1 --cfg-options seed=S --work-dir work_dirs/frtm_iou_s1_foldK_seedS
_base_ = ["frtm_mixpre_s1_effnetlite0_davis16.py"]
model = dict(aux_losses=[dict(type="SoftIoULoss", weight=1.0)])
