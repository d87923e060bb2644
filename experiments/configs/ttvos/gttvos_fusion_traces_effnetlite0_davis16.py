# The supplement's fusion on TTVOS: the feature-reuse gate of
# gttvos_reuse_traces_effnetlite0_davis16.py (same weights file: fusion runs a reuse gate's
# networks), copying the last computed mask where the gate is surer than tau2 and
# translating features (R_t@16) where tau < p_reuse <= tau2.
#   vosframe bench --model g-ttvos --variant fusion \
#       experiments/configs/ttvos/gttvos_fusion_traces_effnetlite0_davis16.py \
#       work_dirs/gttvos_reuse_traces/gate.pt ...
_base_ = ["gttvos_reuse_traces_effnetlite0_davis16.py"]
model = dict(
    plugins=[
        dict(
            type="ReuseGate", preset="paper", reentry="R_t@16", variant="fusion", tau=0.7, tau2=0.9
        ),
        {{_base_.spatial_prior}},
    ]
)
