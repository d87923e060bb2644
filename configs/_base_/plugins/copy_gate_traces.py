# The copy reuse gate of the shipped gated models and its training on inference traces
# (`vosframe train-gate CONFIG`). A model config uses it as
#   _base_ = ["<base model>.py", "_base_/plugins/copy_gate_traces.py"]
#   model = dict(plugins=[{{_base_.copy_gate}}])
#
# ReuseGate's "shipped" preset (plugins/reuse_gate/options.py) is this gate: it copies the
# mask of an object's last computed frame, moved with the object's pixels; it sees the
# change of F_t (pooled by 2) since that frame, relative to the object's size, and the
# change of the pixels around its boundary beyond its shift; a pre-gate copies from the
# pixel cues alone before the backbone runs; an object is recomputed after 3 copies in a
# row, and sooner when its computed masks drift fast (drift_budget). How each setting was
# chosen: docs/reuse_gate.md.
# The cascade (G-FRTM). A session's default tau and the drift budget: the pair that reuses
# the most on the five held-out folds while losing at most 0.5 J&F against FRTM there
# (vosframe select over a tau x drift_budget grid; docs/reuse_gate.md).
copy_gate = dict(type="ReuseGate", tau=0.9, drift_budget=4.0)
# Without the pre-gate. A session's default tau and the drift budget: the pair that reuses
# the most on TTVOS's held-out folds (two seeds) while losing at most 0.5 J&F against TTVOS
# on the mean and at most 1.0 on the median video (configs/ttvos/README.md).
copy_gate_ttvos = dict(type="ReuseGate", pre_gate=False, tau=0.7, drift_budget=1.0)
# Without the pre-gate; a session's default tau chosen on the memory model's held-out traces.
copy_gate_stcn = dict(type="ReuseGate", pre_gate=False, tau=0.9)
# The trace recipe: the frozen base model runs over DAVIS-2016 train; every 5th sequence
# is held out for the calibration report.
gate_traces = dict(
    data="../shared/data/davis2016/train_240p",
    steps=1500,
    batch_size=16,
    lr=1e-3,
    quality_scale=0.2,  # IoU a copy may lose against the full path before its target is 0
    holdout=0.2,
    seed=0,
    precision="auto",
    threads=1,  # the recorded traces and the training depend on the thread count
    pre_over_weight=1.0,  # pre-gate only: weight of over-estimates of the target
)
