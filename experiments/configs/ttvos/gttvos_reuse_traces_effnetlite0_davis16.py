# G-TTVOS with the paper's feature reuse (re-entry at the decoder's stride-16 feature,
# R_t@16), trained on inference traces of the frozen shipped TTVOS as the shipped copy gate
# is (vosframe.training.gate.reuse_traces): the template, matching, delta-generator and
# refine-translator learn to give TTVOS's own R_t and output at t from the cache of frame
# t - n (n = 1..3), then the gate function learns how much IoU that path loses there.
# TTVOS's weights are not changed, so tau = 1 is exactly TTVOS. The clip-loop recipe of the
# same path is gttvos_reuse_effnetlite0_davis16.py.
#   vosframe train-gate experiments/configs/ttvos/gttvos_reuse_traces_effnetlite0_davis16.py \
#       --work-dir work_dirs/gttvos_reuse_traces
_base_ = ["../../../configs/ttvos/gttvos_effnetlite0_davis16.py"]
model = dict(
    plugins=[
        dict(type="ReuseGate", preset="paper", reentry="R_t@16", tau=0.7),
        {{_base_.spatial_prior}},
    ]
)
# Every frame once (no frame-step copies): the reuse traces keep the decoder's features.
gate_traces = dict(frame_steps=[1], reuse_steps=1000, reuse_batch_size=8)
