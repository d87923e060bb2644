# The previous G-TTVOS (shipped until its gate was trained on inference traces, see
# configs/gttvos_effnetlite0_davis16.py; bench: benchmarks/results/gttvos_clip_davis16val).
# TTVOS + the same ReuseGate plugin as G-FRTM, attached
# through the skip points TTVOS declares (no TTVOS code in the plugin, no gate code in TTVOS).
# "copy" variant: on a reused frame the object's previous mask is copied (no decoder, no
# translator). TTVOS's decoder is so light that translating features saves little
# (configs/gttvos_reuse_effnetlite0_davis16.py); copying skips everything after the gate.
# Train (from the shipped TTVOS, frozen; only the gate learns):
#   vosframe train configs/gttvos_clip_effnetlite0_davis16.py --work-dir work_dirs/gttvos_copy
_base_ = ["gttvos_reuse_effnetlite0_davis16.py"]
model = dict(
    plugins=[
        dict(
            type="ReuseGate",
            tau=0.7,
            variant="copy",
            gate_target="alt_quality",
            quality_scale=0.2,
            train_reuse_prob=0.5,
            freeze_base=True,
        )
    ]
)
param_scheduler = [dict(type="MultiStepLR", by_epoch=True, milestones=[4], gamma=0.1)]
train_cfg = dict(by_epoch=True, max_epochs=5)
