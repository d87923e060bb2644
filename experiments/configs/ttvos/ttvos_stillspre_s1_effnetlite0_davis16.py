# Candidate recipe, the middle of three stages: TTVOS after its synthetic stage 1
# (configs/ttvos/ttvos_effnetlite0_synthetic.py) trained on still-image clips of the fold's fit
# videos alone, then ttvos_stillspre_effnetlite0_davis16.py (the shipped stage 2, unchanged)
# starts from it. The still clips (every 4th annotated frame as an 8-frame clip of random affine
# and elastic warps of that one image, vosframe.data.stills) gained on held-out folds when mixed
# into stage 2 but cost the multi-object and re-find behaviour the synthetic suites check; on
# FRTM the same clips as a stage of their own before the shipped recipe kept the gain and the
# suites. Three epochs at stage 2's first learning rate. The rule it is judged by was written
# before its first fold model was trained (benchmarks/results/ttvos_stillspre_folds012_heldout/).
# Per fold K, seed S, after stage 1:
#   vosframe train experiments/configs/ttvos/ttvos_stillspre_s1_effnetlite0_davis16.py --fold K \
#       --threads 1 --cfg-options seed=S --work-dir work_dirs/ttvos_stillspre_s1_foldK_seedS
_base_ = ["./ttvos_stills_effnetlite0_davis16.py"]
train_dataset = dict(sources=[_base_.train_dataset.sources[3]])
param_scheduler = []
train_cfg = dict(by_epoch=True, max_epochs=3)
