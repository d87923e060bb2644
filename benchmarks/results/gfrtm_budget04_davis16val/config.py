# The shipped g-frtm with drift_budget 0.4 (chosen on the held-out train closed loop).
# vosframe bench --config benchmarks/results/gfrtm_budget04_davis16val/config.py \
#   --checkpoint vosframe/weights/gfrtm_effnetlite0_davis16.pt \
#   --data ../shared/data/davis2016/val_480p --threads 1
_base_ = ["../../../configs/frtm/gfrtm_effnetlite0_davis16.py"]
model = dict(
    plugins=[
        {
            "type": "ReuseGate",
            "tau": 0.7,
            "variant": "copy",
            "gate_target": "alt_quality",
            "quality_scale": 0.2,
            "motion_cue": True,
            "object_cue": True,
            "pixel_cue": True,
            "gate_pool": 2,
            "gate_norm": False,
            "max_reuse_run": 3,
            "drift_budget": 0.4,
            "copy_motion": True,
            "moved_cues": True,
            "freeze_base": True,
            "pre_gate": True,
        },
        {"type": "SpatialPrior", "margin": 0.5, "min_radius": 8},
    ]
)
