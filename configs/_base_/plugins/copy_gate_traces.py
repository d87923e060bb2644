# The copy reuse gate of the shipped G-FRTM and G-TTVOS, and its training on inference
# traces (`vosframe train-gate CONFIG`). A model config uses it as
#   _base_ = ["<base model>.py", "_base_/plugins/copy_gate_traces.py"]
#   model = dict(plugins=[{{_base_.copy_gate}}])
#
# The gate runs on F_t average-pooled by 2 (gate_pool), sees the change of F_t since the
# object's last computed frame (motion_cue), relative to the object's size (object_cue),
# and the change of the pixels around the object's boundary (pixel_cue). Its target
# (alt_quality, quality_scale) is how much IoU copying the last mask loses against the
# model's own output. An object is recomputed after 3 consecutive copied frames.
copy_gate = dict(
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
    freeze_base=True,  # tau = 1 stays exactly the base model
)
# The frozen base model runs over DAVIS-2016 train; every 5th sequence is held out for
# calibration.
gate_traces = dict(
    data="../shared/data/davis2016/train_240p",
    steps=1500,
    batch_size=16,
    lr=1e-3,
    holdout=0.2,
    seed=0,
    precision="auto",
    threads=1,  # the recorded traces and the training depend on the thread count
)
