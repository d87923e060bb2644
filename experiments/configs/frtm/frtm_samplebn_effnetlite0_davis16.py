# The shipped FRTM with its refiner's batch-norm layers evaluated with each sample's own
# statistics (bn_stats="sample"), as the clip loop trains them (one clip per refiner call),
# instead of running averages. An inference setting: any FRTM file loads into it. Its rule:
# benchmarks/results/frtm_samplebn_heldout/README.md.
#   vosframe select --config experiments/configs/frtm/frtm_samplebn_effnetlite0_davis16.py \
#       --checkpoint 'work_dirs/frtm_mixpre_fold{fold}_seed0/vosframe_latest.pt' --threads 2
_base_ = ["../../../configs/frtm/frtm_effnetlite0_davis16.py"]
model = dict(refiner=dict(bn_stats="sample"))
