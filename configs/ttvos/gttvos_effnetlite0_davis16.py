# G-TTVOS (the shipped `g-ttvos`): TTVOS + the unchanged ReuseGate plugin (copy variant),
# with the gate trained on TTVOS's inference traces, the G-FRTM recipe (see
# configs/frtm/gfrtm_effnetlite0_davis16.py); the previous clip-loop recipe is
# experiments/configs/ttvos/gttvos_clip_effnetlite0_davis16.py. TTVOS runs at 240p, so the
# traces are recorded at DAVIS-2016 train's own 240p. Train (only the gate learns; TTVOS
# stays frozen):
#   vosframe train-gate configs/ttvos/gttvos_effnetlite0_davis16.py --work-dir work_dirs/gttvos
# The gate and its training settings are configs/_base_/plugins/copy_gate_traces.py.
# Its default tau (0.7) and drift budget (1) are copy_gate_ttvos's, chosen on held-out folds.
_base_ = ["ttvos_effnetlite0_davis16.py", "../_base_/plugins/copy_gate_traces.py"]
model = dict(plugins=[{{_base_.copy_gate_ttvos}}, {{_base_.spatial_prior}}])
load_from_vosframe = "vosframe/weights/ttvos_effnetlite0_davis16.pt"
