# The paper's feature reuse on FRTM (the gate of gfrtm_reuse_traces_effnetlite0_davis16.py,
# same weights file) with the shipped gates' run cap: an object is recomputed after 3
# reused frames in a row, so the cache is never older than the ages (1..3) the path was
# trained on. The paper has no cap; this is a policy setting, no retraining.
#   vosframe select \
#       --config experiments/configs/frtm/gfrtm_reuse_cap_traces_effnetlite0_davis16.py \
#       --checkpoint 'work_dirs/frtm_fold{fold}_seed0/vosframe_latest.pt' \
#       --plugin-weights 'work_dirs/gfrtm_reuse_fold{fold}/gate.pt' --folds 2 --grid tau=0.9,0.7
_base_ = ["gfrtm_reuse_traces_effnetlite0_davis16.py"]
model = dict(
    plugins=[
        dict(type="ReuseGate", preset="paper", reentry="R_t@16", tau=0.7, max_reuse_run=3),
        {{_base_.spatial_prior}},
    ]
)
