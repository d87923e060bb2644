# G-FRTM with the supplement's reuseM: a reused frame's mask is the object's last computed
# mask translated by Delta_t (a small translator at the internal size), trained on traces of
# the frozen FRTM (vosframe.training.gate.mask_traces): the copy traces are enough, then
# first the template, matching, delta-generator and mask translator learn to give FRTM's
# own output at t from the mask of t - n (n = 1..3), then the gate function learns how much
# IoU that path loses. FRTM's weights are not changed, so tau = 1 is exactly FRTM.
#   vosframe train-gate experiments/configs/frtm/gfrtm_reusemask_traces_effnetlite0_davis16.py \
#       --work-dir work_dirs/gfrtm_reusemask_traces
# Per fold (the selection protocol): --fold K --cfg-options load_from_vosframe=<fold's FRTM>.
_base_ = ["../../../configs/frtm/gfrtm_effnetlite0_davis16.py"]
model = dict(
    plugins=[
        dict(type="ReuseGate", preset="paper", variant="reuse_mask", tau=0.7),
        {{_base_.spatial_prior}},
    ]
)
# Every frame once (as the feature-reuse recipe); 1000 path steps of 8 samples.
gate_traces = dict(frame_steps=[1], mask_steps=1000, mask_batch_size=8)
