# The memory model with RDE-VOS's recurrent dynamic embedding (constant-size memory updated
# by the SAM) and RDE's two losses (weights of the official README's stage-2 command).
_base_ = ["./stcn_effnetlite0.py"]
model = dict(
    memory=dict(_delete_=True, mode="rde", every=5, duplicate_first=False),
    top_k=20,
    aux_losses=[
        dict(type="UnbiasedGuidanceLoss", weight=5.0),
        dict(type="MaskConsistencyLoss", weight=5.0),
    ],
)
