# The two-stage FRTM recipe (frtm_mixpre_s1/frtm_mixpre_effnetlite0_davis16.py) with the refiner
# run on all clips of a batch at once (train_refiner_batch), stage 1 of 2. Why: run one clip per
# call, the refiner's batch-norm layers train on each sample's own statistics and are evaluated
# with running averages of them, and some trained files lose objects at inference that their
# training did not; on batches of clips (as the official FRTM training) the running averages
# estimate what training normalised with. Its rule: benchmarks/results/frtm_samplebn_heldout/
# README.md ("Next candidate"). Per fold K (none: all 30 videos), seed S:
#   vosframe train experiments/configs/frtm/frtm_bnbatch_s1_effnetlite0_davis16.py --fold K \
#       --threads 1 --cfg-options seed=S --work-dir work_dirs/frtm_bnbatch_s1_foldK_seedS
_base_ = ["frtm_mixpre_s1_effnetlite0_davis16.py"]
model = dict(train_refiner_batch=True)
