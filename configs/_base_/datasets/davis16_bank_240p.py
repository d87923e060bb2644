# DAVIS-2016 train (240p) + seeded synthetic sequences, backbone features precomputed once.
# `vosframe train CONFIG --fold K` (or fold=K in the davis source) keeps only the 24 fit
# videos of fold K (vosframe/data/folds.py; docs/selection_protocol.md).
bank_backbone = dict(type="EfficientNetLite0", pretrained=True, frozen=True)
train_dataset = dict(
    type="BankClipDataset",
    root="work_dirs/bank_effnetlite0_240p",
    backbone=bank_backbone,
    sources=[
        dict(type="davis", root="../shared/data/davis2016/train_240p", split="train"),
        dict(type="synthetic", count=96, length=24, seed=0),
    ],
    size=(240, 427),
    strides=(4, 8, 16, 32),
    num_frames=3,
    max_skip=5,
    samples_per_epoch=800,
)
train_dataloader = dict(batch_size=8, num_workers=0)
