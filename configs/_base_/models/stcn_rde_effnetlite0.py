# The memory model with RDE-VOS's recurrent dynamic embedding (constant-size memory updated
# by the SAM) and RDE's two losses. Weights: the official README's stage-2 command uses 5 on
# a KL averaged over all elements (also over 1024 channels); ours is the per-position KL
# (vosframe/models/stcn/losses.py), so 5 would be ~1000x stronger. 0.5 keeps the guidance
# term of the order of the segmentation loss at the start of the stage.
_base_ = ["./stcn_effnetlite0.py"]
model = dict(
    memory=dict(_delete_=True, mode="rde", every=5, duplicate_first=False),
    top_k=20,
    aux_losses=[
        dict(type="UnbiasedGuidanceLoss", weight=0.5),
        dict(type="MaskConsistencyLoss", weight=0.5),
    ],
)
