# FRTM, EfficientNet-Lite0, trained on DAVIS-2016 train (240p) + synthetic clips.
# Train:  vosframe train configs/frtm_effnetlite0_davis16.py --work-dir work_dirs/frtm
_base_ = [
    "_base_/models/frtm_effnetlite0.py",
    "_base_/datasets/davis16_bank_240p.py",
    "_base_/schedules/adam_cpu.py",
    "_base_/plugins/spatial_prior.py",
]
# Inference: drop predicted components far from the object's previous mask (the plugin
# takes no part in training; the shipped weights were trained before it was added).
model = dict(plugins=[{{_base_.spatial_prior}}])
