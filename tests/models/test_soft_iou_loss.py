"""The soft-IoU auxiliary loss: its value, its pull on small objects, its wiring."""

import pytest
import torch
import torch.nn.functional as F

import vosframe
from vosframe.core.losses import LossContext
from vosframe.losses import SoftIoULoss

pytestmark = pytest.mark.usefixtures("one_thread")


def _ctx(logits: torch.Tensor, gt: torch.Tensor) -> LossContext:
    return LossContext(1, torch.zeros(1, 1, 2, 2), {}, logits, gt, gt)


def test_value_is_one_minus_the_soft_iou():
    gt = torch.zeros(1, 1, 4, 4)
    gt[..., :2, :] = 1  # 8 object pixels
    logits = torch.zeros(1, 1, 4, 4)  # p = 0.5 everywhere
    # intersection 8 * 0.5 = 4, union 16 * 0.5 + 8 - 4 = 12 -> 1 - 5 / 13 with smooth 1
    out = SoftIoULoss(weight=2.0)(_ctx(logits, gt))["loss_iou"]
    assert float(out) == pytest.approx(2.0 * (1 - 5 / 13))


def test_confident_right_mask_is_near_zero_and_empty_frames_want_empty_masks():
    gt = torch.zeros(1, 1, 8, 8)
    gt[..., 2:5, 2:5] = 1
    right = torch.where(gt > 0, 20.0, -20.0)
    loss = SoftIoULoss()
    assert float(loss(_ctx(right, gt))["loss_iou"]) < 1e-6
    empty = torch.zeros_like(gt)
    assert float(loss(_ctx(torch.full_like(gt, -20.0), empty))["loss_iou"]) < 1e-6
    assert float(loss(_ctx(torch.full_like(gt, 20.0), empty))["loss_iou"]) > 0.95


def test_pulls_a_small_object_up_where_cross_entropy_barely_does():
    """The stalled state (background suppressed, a small object's pixels just below 0.5:
    an empty thresholded mask at a low cross entropy): the soft IoU's gradient on the
    object's pixels is far larger than the mean cross entropy's."""
    gt = torch.zeros(1, 1, 64, 64)
    gt[..., 30:34, 30:34] = 1  # 16 of 4096 pixels
    logits = torch.where(gt > 0, -1.0, -6.0).requires_grad_(True)
    F.binary_cross_entropy_with_logits(logits, gt).backward()
    bce_pull = -logits.grad[gt > 0].mean()
    logits.grad = None
    SoftIoULoss()(_ctx(logits, gt))["loss_iou"].backward()
    iou_pull = -logits.grad[gt > 0].mean()
    assert bce_pull > 0 and iou_pull > 20 * bce_pull


@pytest.mark.parametrize("kw", [dict(weight=0.0), dict(smooth=-1.0)])
def test_bad_settings_are_refused(kw):
    with pytest.raises(vosframe.ConfigError, match="Fix"):
        SoftIoULoss(**kw)


def test_any_base_model_enables_it_in_config():
    torch.manual_seed(0)
    model = vosframe.build_model(
        dict(
            type="FRTM",
            backbone=dict(type="ResNet", depth=18),
            target_model=dict(num_aug=1, init_iters=(2, 2)),
            aux_losses=[dict(type="SoftIoULoss", weight=1.0)],
        )
    )
    frames = torch.rand(1, 3, 3, 64, 96)
    masks = torch.zeros(1, 3, 1, 64, 96)
    masks[..., 20:40, 30:60] = 1
    losses = model({"frames": frames, "masks": masks}, mode="loss")
    assert {"loss_seg", "loss_iou"} <= set(losses)
    assert 0 < float(losses["loss_iou"]) <= 1
    losses["loss_iou"].backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.refiner.parameters())
