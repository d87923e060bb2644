# G-TTVOS with the gate trained in the generic clip loop (the recipe before the shipped
# trace recipe, configs/ttvos/gttvos_effnetlite0_davis16.py): TTVOS + the same ReuseGate
# plugin, attached through the skip points TTVOS declares. "copy" variant: on a reused
# frame the object's previous mask is copied (no decoder, no translator); TTVOS's decoder
# is so light that translating features saves little (gttvos_reuse_effnetlite0_davis16.py).
# Starts from the shipped TTVOS, frozen; only the gate learns.
#   vosframe train experiments/configs/ttvos/gttvos_clip_effnetlite0_davis16.py \
#       --work-dir work_dirs/gttvos_clip
_base_ = ["gttvos_reuse_effnetlite0_davis16.py"]
model = dict(plugins=[dict(type="ReuseGate", preset="paper", tau=0.7, variant="copy")])
param_scheduler = [dict(type="MultiStepLR", by_epoch=True, milestones=[4], gamma=0.1)]
train_cfg = dict(by_epoch=True, max_epochs=5)
