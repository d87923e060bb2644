_base_ = ["../../../../configs/frtm/gfrtm_effnetlite0_davis16.py"]
model = dict(plugins=[dict(type="ReuseGate", tau=0.9, drift_budget=4.0), {{_base_.spatial_prior}}])
