# The paper's feature reuse on FRTM with re-entry at the stride-8 refiner level (R_t@8):
# the same recipe as gfrtm_reuse_traces_effnetlite0_davis16.py, one level later, so the
# alternative path skips the stride-32, 16 and 8 levels and runs only the stride-4 level
# and the head. Timed with an untrained gate by benchmarks/gate_paths.py:
#   PYTHONPATH=. python benchmarks/gate_paths.py --frames 20 --reps 2 --threads 1 \
#       --variant reuse@8 \
#       experiments/configs/frtm/gfrtm_reuse8_traces_effnetlite0_davis16.py untrained
_base_ = ["gfrtm_reuse_traces_effnetlite0_davis16.py"]
model = dict(
    plugins=[
        dict(type="ReuseGate", preset="paper", reentry="R_t@8", tau=0.7),
        {{_base_.spatial_prior}},
    ]
)
