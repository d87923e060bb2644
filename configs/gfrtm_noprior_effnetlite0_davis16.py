# G-FRTM without the spatial prior: the shipped g-frtm recipe
# (configs/gfrtm_effnetlite0_davis16.py) with FRTM's SpatialPrior plugin removed, kept
# because the reuse-gate issue's target is measured against the base model it gates.
# It also runs without the drift budget the shipped gates use (as it was measured).
# Measured (benchmarks/results/gfrtm_noprior_davis16val, 10 DAVIS-16 val sequences, 1
# thread): tau 1 J&F 63.3; tau 0.7 62.5 (-0.8), 38% reuse, 1.51x pooled. Its gate was the
# shipped file before the prior was added; it is in the repository's history, or train it
# again (the recipe of configs/gfrtm_effnetlite0_davis16.py on traces without the prior):
#   git show fd49c74:vosframe/weights/gfrtm_effnetlite0_davis16.pt > gfrtm_noprior.pt
#   vosframe train-gate configs/gfrtm_noprior_effnetlite0_davis16.py \
#       --work-dir work_dirs/gfrtm_noprior
#   vosframe bench --config configs/gfrtm_noprior_effnetlite0_davis16.py \
#       --checkpoint gfrtm_noprior.pt --data ../shared/data/davis2016/val_480p --threads 1
# Run with FRTM's previous target models (_base_/models/frtm_tm_v1.py), as measured; its
# gate file holds the FRTM it was trained on (the shipped one until 2026-12-01):
#   git show 21b17fe:vosframe/weights/frtm_effnetlite0_davis16.pt > work_dirs/frtm_v1.pt
_base_ = ["gfrtm_effnetlite0_davis16.py", "_base_/models/frtm_tm_v1.py"]
model = dict(
    target_model={{_base_.tm_v1}},
    train_target_model={{_base_.train_tm_v1}},
    plugins=[{{_base_.copy_gate_cascade_nobudget}}],
)
load_from_vosframe = "work_dirs/frtm_v1.pt"
gate_traces = dict(pre_over_weight=4.0)  # as its gate was trained (the shipped one uses 1)
