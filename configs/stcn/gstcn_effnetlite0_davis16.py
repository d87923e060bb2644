# G-STM: the memory model + the unchanged ReuseGate plugin (copy variant), its gate trained on
# the memory model's inference traces as the shipped G-FRTM / G-TTVOS gates are. A reused
# frame is never written to memory (the engine updates only full-path objects). Train (only
# the gate learns; the memory model stays frozen) once the base weights exist:
#   vosframe train-gate configs/stcn/gstcn_effnetlite0_davis16.py --work-dir work_dirs/gstcn
# The drift budget is G-FRTM's (the selection rule was not run on this model's traces).
_base_ = ["stcn_effnetlite0_davis16.py", "../_base_/plugins/copy_gate_traces.py"]
model = dict(plugins=[{{_base_.copy_gate_stcn}}])
load_from_vosframe = "vosframe/weights/stcn_effnetlite0_davis16.pt"
