# Training a copy reuse gate on inference traces (`vosframe train-gate CONFIG`): the frozen
# base model runs over DAVIS-2016 train; every 5th sequence is held out for calibration.
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
