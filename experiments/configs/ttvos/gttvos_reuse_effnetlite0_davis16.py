# G-TTVOS with the paper's feature reuse (translated R_t@16 + S_hat): TTVOS + the same
# ReuseGate plugin, attached through the skip points TTVOS declares. Starts from the shipped
# TTVOS, frozen; only the gate's modules learn.
#   vosframe train experiments/configs/ttvos/gttvos_reuse_effnetlite0_davis16.py \
#       --work-dir work_dirs/gttvos_reuse
#
# Placement (benchmarks/ttvos_stages.py): TTVOS's decoder is tiny; what a reused frame
# saves is the backbone's stride-16 level, the template attention, the short-term branch
# and the template update. The backbone up to F_t (stride 8) is paid on every frame. The
# paper's re-entry point (R_t@16, the decoder's stride-16 feature) costs no more here than
# re-entering later (a translator at stride 4 costs more than the decoder levels it skips),
# and the stride-8/4 levels then still read the current frame's features.
_base_ = ["../../../configs/ttvos/ttvos_effnetlite0_davis16.py"]
model = dict(plugins=[dict(type="ReuseGate", preset="paper", tau=0.7, reentry="R_t@16")])
plugin_trainer = dict(
    type="GateClipTrainer",
    gate_target="alt_quality",  # p_reuse predicts the IoU the alternative path loses
    quality_scale=0.2,
    train_reuse_prob=0.5,  # caches of varied age, as at inference
    freeze_base=True,  # tau = 1 stays exactly the shipped TTVOS
)
train_dataset = dict(num_frames=5, max_skip=3, samples_per_epoch=400)
train_dataloader = dict(batch_size=8)
load_from_vosframe = "vosframe/weights/ttvos_effnetlite0_davis16.pt"
optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-3, weight_decay=0))
param_scheduler = [dict(type="MultiStepLR", by_epoch=True, milestones=[5], gamma=0.1)]
train_cfg = dict(by_epoch=True, max_epochs=6)
