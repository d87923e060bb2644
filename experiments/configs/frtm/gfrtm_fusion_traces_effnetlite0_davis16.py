# The supplement's fusion on FRTM: the feature-reuse gate of
# gfrtm_reuse_traces_effnetlite0_davis16.py (same weights file: fusion runs a reuse gate's
# networks), copying the last computed mask where the gate is surer than tau2 and
# translating features (R_t@16) where tau < p_reuse <= tau2. A copy skips the refiner's
# tail that feature reuse still runs. Train the reuse gate, then run this config with it:
#   vosframe train-gate experiments/configs/frtm/gfrtm_reuse_traces_effnetlite0_davis16.py \
#       --work-dir work_dirs/gfrtm_reuse_traces
#   vosframe bench --model g-frtm --variant fusion \
#       experiments/configs/frtm/gfrtm_fusion_traces_effnetlite0_davis16.py \
#       work_dirs/gfrtm_reuse_traces/gate.pt ...
_base_ = ["gfrtm_reuse_traces_effnetlite0_davis16.py"]
model = dict(
    plugins=[
        dict(
            type="ReuseGate", preset="paper", reentry="R_t@16", variant="fusion", tau=0.7, tau2=0.9
        ),
        {{_base_.spatial_prior}},
    ]
)
