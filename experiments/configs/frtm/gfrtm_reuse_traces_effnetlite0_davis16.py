# G-FRTM with the paper's feature reuse (re-entry at the stride-16 refiner level, R_t@16,
# the official translator), trained on inference traces of the frozen FRTM as the shipped
# copy gate is (vosframe.training.gate.reuse_traces): first the template, matching,
# delta-generator and refine-translator learn to give FRTM's own R_t and output at t from
# the cache of frame t - n (n = 1..3), then the gate function learns how much IoU that
# path loses there. FRTM's weights are not changed, so tau = 1 is exactly FRTM.
#   vosframe train-gate experiments/configs/frtm/gfrtm_reuse_traces_effnetlite0_davis16.py \
#       --work-dir work_dirs/gfrtm_reuse_traces
# Per fold (the selection protocol): --cfg-options load_from_vosframe=<fold's FRTM>
# "gate_traces.sequences=[<the fold's fit videos>]".
_base_ = ["../../../configs/frtm/gfrtm_effnetlite0_davis16.py"]
model = dict(
    plugins=[
        dict(type="ReuseGate", preset="paper", reentry="R_t@16", tau=0.7),
        {{_base_.spatial_prior}},
    ]
)
# Every frame once (no frame-step copies): the reuse traces keep the refiner's features.
gate_traces = dict(frame_steps=[1], reuse_steps=2000, reuse_batch_size=8)
