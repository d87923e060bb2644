# G-TTVOS with the supplement's reuseM: a reused frame's mask is the object's last computed
# mask translated by Delta_t, trained on copy traces of the frozen shipped TTVOS
# (vosframe.training.gate.mask_traces). TTVOS records its localizer score, so L_Delta
# applies, except where the cache is the first frame (its mask was given, so TTVOS computed
# no score there). tau = 1 is exactly TTVOS.
#   vosframe train-gate experiments/configs/ttvos/gttvos_reusemask_traces_effnetlite0_davis16.py \
#       --work-dir work_dirs/gttvos_reusemask_traces
_base_ = ["../../../configs/ttvos/gttvos_effnetlite0_davis16.py"]
model = dict(
    plugins=[
        dict(type="ReuseGate", preset="paper", variant="reuse_mask", tau=0.7),
        {{_base_.spatial_prior}},
    ]
)
gate_traces = dict(frame_steps=[1], mask_steps=1000, mask_batch_size=8)
