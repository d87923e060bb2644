# Candidate recipe, not adopted (benchmarks/results/frtm_stills8_folds34_heldout has its rule and
# figures): the still-clip FRTM candidate (frtm_stills_effnetlite0_davis16.py) with half as many
# still clips (every 8th annotated frame instead of every 4th), so that the synthetic clips keep a
# larger share of the training samples (clips are drawn uniformly over (sequence, start frame,
# object) candidates). Everything else is the shipped recipe. Per fold K and seed S:
#   vosframe train experiments/configs/frtm/frtm_stills8_effnetlite0_davis16.py --fold K \
#       --threads 1 --cfg-options seed=S --work-dir work_dirs/frtm_stills8_foldK_seedS
_base_ = ["./frtm_stills_effnetlite0_davis16.py"]
# The still-clip recipe's sources, unchanged but for the still clips' spacing.
train_dataset = dict(
    sources=[
        _base_.train_dataset.sources[0],
        _base_.train_dataset.sources[1],
        dict(_base_.train_dataset.sources[2], every=8),
    ],
)
