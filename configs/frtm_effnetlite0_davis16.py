# FRTM, EfficientNet-Lite0, trained on DAVIS-2016 train (240p) + synthetic clips.
# Train:  vosframe train configs/frtm_effnetlite0_davis16.py --work-dir work_dirs/frtm
# The shipped file was trained with these settings (then in configs/frtm_tm_effnetlite0_
# davis16.py, commit e1a971f): seed 0, 6 epochs, 48 min on 2 threads without the disk cache;
# epoch-6 mean loss 0.0142 (0.0275 with the previous target models). Val J&F 75.0 at 360p
# internal in bf16 (benchmarks/results/gfrtm_davis16val/, tau 1). The previous file (val 66.7)
# is `git show 21b17fe:vosframe/weights/frtm_effnetlite0_davis16.pt`.
_base_ = [
    "_base_/models/frtm_effnetlite0.py",
    "_base_/datasets/davis16_bank_240p.py",
    "_base_/schedules/adam_cpu.py",
    "_base_/plugins/spatial_prior.py",
]
model = dict(
    # Inference: drop predicted components far from the object's previous mask (the plugin
    # takes no part in training).
    plugins=[{{_base_.spatial_prior}}],
    # Training target models are fitted once per clip key and stored here (keyed by the
    # fitting settings and the backbone), so later runs skip the fits (official tmcache).
    train_tm_cache="work_dirs/tm_cache",
)
