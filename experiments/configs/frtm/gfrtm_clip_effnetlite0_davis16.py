# G-FRTM with the gate trained in the generic clip loop (the recipe before the shipped
# trace recipe, configs/frtm/gfrtm_effnetlite0_davis16.py). FRTM stays frozen; only the
# gate's modules learn.
#   vosframe train experiments/configs/frtm/frtm_v1_effnetlite0_davis16.py \
#       --work-dir work_dirs/frtm_v1
#   vosframe train experiments/configs/frtm/gfrtm_clip_effnetlite0_davis16.py \
#       --work-dir work_dirs/gfrtm_clip
#
# Alternative path: "copy" (the object's last output mask): a copied frame costs the
# backbone up to F_t (stride 8) and the gate. Gate target "alt_quality" (not the paper's
# max(m, IoU(y_t, y_last))): p_reuse is trained to predict 1 - (IoU the alternative path
# loses against the full path) / quality_scale, so tau = 0.7 reuses where the predicted IoU
# loss is below 0.3 * 0.15 = 0.045. The gate also sees the change of F_t since the object's
# last computed frame (motion_cue), has no per-sample batch norm (gate_norm=False), and an
# object is recomputed after 2 consecutive reused frames (max_reuse_run). Clips of
# consecutive frames (max_skip=1), as at inference.
_base_ = [
    "../../../configs/frtm/frtm_effnetlite0_davis16.py",
    "../../../configs/_base_/models/frtm_tm_v1.py",
]
model = dict(
    target_model={{_base_.tm_v1}},
    train_target_model={{_base_.train_tm_v1}},
    plugins=[
        dict(
            type="ReuseGate",
            preset="paper",
            tau=0.7,
            variant="copy",
            reentry="R_t@4",
            motion_cue=True,
            gate_norm=False,
            max_reuse_run=2,
        )
    ],
)
plugin_trainer = dict(
    type="GateClipTrainer",
    gate_target="alt_quality",
    quality_scale=0.15,
    train_reuse_prob=0.5,  # caches of varied age, as at inference
    freeze_base=True,  # tau = 1 stays exactly the FRTM it starts from
)
train_dataset = dict(num_frames=6, max_skip=1, samples_per_epoch=240)
train_dataloader = dict(batch_size=4)
load_from_vosframe = "work_dirs/frtm_v1/vosframe_latest.pt"
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [dict(type="MultiStepLR", by_epoch=True, milestones=[7], gamma=0.1)]
train_cfg = dict(by_epoch=True, max_epochs=8)
