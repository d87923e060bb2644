# The previous G-FRTM (shipped until the gate was trained on inference traces, see
# configs/gfrtm_effnetlite0_davis16.py): the gate trained in the generic clip loop.
# Train (starts from the shipped FRTM, which stays frozen; only the gate's modules learn):
#   vosframe train configs/gfrtm_clip_effnetlite0_davis16.py --work-dir work_dirs/gfrtm_clip
# Its weights are not shipped any more; its bench is benchmarks/results/gfrtm_clip_davis16val.
#
# Alternative path: "copy" (the object's last output mask). Measured on this 2-core CPU
# (1 thread, 360p internal): a copied frame costs the backbone up to F_t (stride 8) and the
# gate; translating features re-entering at R_t@4 (the first shipped G-FRTM) also runs the
# translator and the refiner's head, and its chains of reuses drifted (J&F 50 at tau 0.7).
#
# Gate target: "alt_quality" (not the paper's max(m, IoU(y_t, y_last))): p_reuse is trained
# to predict 1 - (IoU the alternative path loses against the full path) / quality_scale, so
# tau = 0.7 reuses where the predicted IoU loss is below 0.3 * 0.15 = 0.045. The paper's
# target gave a flat p_reuse (see plugins/reuse_gate/training.py). The gate also sees the
# change of F_t since the object's last computed frame (motion_cue), has no per-sample batch
# norm (gate_norm=False) and an object is recomputed after 2 consecutive reused frames
# (max_reuse_run). Clips of consecutive frames (max_skip=1), as at inference.
#
# Measured (vosframe bench --model g-frtm, 10 DAVIS-16 val sequences, 1 thread; full output in
# benchmarks/results/gfrtm_clip_davis16val): tau 1 J&F 63.3 at 10.3 FPS; 0.7: -0.3, 1.00x, 5.5%
# reuse; 0.5: -1.2, 1.20x, 25%; 0.4: -2.4, 1.37x, 40%; 0.3: -3.2, 1.56x, 53%. A copied frame
# costs 27 ms, a full frame 90 ms (84.6 without the gate). The gate is calibrated too
# conservatively for tau = 0.7 (quality_scale 0.3 instead reused 67% at every tau, -4 J&F).
# Run with FRTM's previous target models (_base_/models/frtm_tm_v1.py), as measured.
_base_ = ["frtm_effnetlite0_davis16.py", "_base_/models/frtm_tm_v1.py"]
model = dict(
    target_model={{_base_.tm_v1}},
    train_target_model={{_base_.train_tm_v1}},
    plugins=[
        dict(
            type="ReuseGate",
            tau=0.7,
            variant="copy",
            reentry="R_t@4",
            gate_target="alt_quality",
            quality_scale=0.15,
            train_reuse_prob=0.5,  # caches of varied age, as at inference
            motion_cue=True,
            gate_norm=False,
            max_reuse_run=2,
            freeze_base=True,  # tau = 1 stays exactly the shipped FRTM
        )
    ],
)
train_dataset = dict(num_frames=6, max_skip=1, samples_per_epoch=240)
train_dataloader = dict(batch_size=4)
# The FRTM file it started from (the shipped one until 2026-12-01):
#   git show 21b17fe:vosframe/weights/frtm_effnetlite0_davis16.pt > work_dirs/frtm_v1.pt
load_from_vosframe = "work_dirs/frtm_v1.pt"
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [dict(type="MultiStepLR", by_epoch=True, milestones=[7], gamma=0.1)]
train_cfg = dict(by_epoch=True, max_epochs=8)
