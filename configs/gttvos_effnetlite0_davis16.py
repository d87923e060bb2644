# G-TTVOS (the shipped `g-ttvos`): TTVOS + the unchanged ReuseGate plugin (copy variant),
# with the gate trained on TTVOS's inference traces, the G-FRTM recipe (see
# configs/gfrtm_effnetlite0_davis16.py); the previous clip-loop recipe is
# configs/gttvos_clip_effnetlite0_davis16.py. TTVOS runs at 240p, so the traces are
# recorded at DAVIS-2016 train's own 240p. Train (only the gate learns; TTVOS stays frozen):
#   vosframe train-gate configs/gttvos_effnetlite0_davis16.py --work-dir work_dirs/gttvos
_base_ = ["ttvos_effnetlite0_davis16.py", "_base_/gate_traces/davis16_train.py"]
model = dict(
    plugins=[
        dict(
            type="ReuseGate",
            tau=0.7,
            variant="copy",
            gate_target="alt_quality",
            quality_scale=0.2,
            motion_cue=True,
            object_cue=True,
            pixel_cue=True,
            gate_pool=2,
            gate_norm=False,
            max_reuse_run=3,
            freeze_base=True,
        )
    ]
)
load_from_vosframe = "vosframe/weights/ttvos_effnetlite0_davis16.pt"
