"""The trained memory model: an object hidden for 10+ frames is found again where
it reappears, in both bounded memory modes, and three objects (one appearing mid-clip, with
non-contiguous ids) keep their ids. Skipped until the weights exist
(``vosframe/weights/stcn_effnetlite0_davis16.pt``, or ``VOSFRAME_STCN_CHECKPOINT``)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from toys import LATE_OBJECT_FRAME, LATE_OBJECT_IDS, late_object_clip, mask_iou

import vosframe

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "stcn" / "stcn_effnetlite0_davis16.py"
SHIPPED = ROOT / "vosframe" / "weights" / "stcn_effnetlite0_davis16.pt"
WEIGHTS = Path(os.environ.get("VOSFRAME_STCN_CHECKPOINT", SHIPPED))

pytestmark = pytest.mark.usefixtures("one_thread")


def _model(mode: str):
    if not WEIGHTS.is_file():
        pytest.skip(f"memory-model weights not built ({WEIGHTS})")
    model = vosframe.load_model(config=CONFIG, checkpoint=WEIGHTS)
    if mode == "rde":  # same weights; the SAM of an stcn checkpoint is the running mean
        from vosframe.builder import load_config

        cfg = load_config(str(CONFIG)).model.to_dict()
        cfg["memory"] = dict(mode="rde", every=5)
        rde = vosframe.build_model(cfg)
        rde.load_state_dict(model.state_dict(), strict=False)
        model = rde
    return model.eval()


def hide_and_reappear(hidden: int = 12, seed: int = 3):
    """A textured object on a photo: visible on frames 0-7 (drifting right), absent for
    ``hidden`` frames, then visible again 150 px to the right. Returns frames, masks and
    the first frame of the reappearance."""
    from vosframe.data.textures import random_photo, random_shape, random_texture

    rng = np.random.default_rng(seed)
    h, w, side = 240, 432, 64
    _, photo = random_photo(rng)
    bg = cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA)
    shape = random_shape(rng, side, "ellipse")
    tex = random_texture(rng, side)
    frames, masks = [], []
    back = 8 + hidden
    for t in range(back + 6):
        img, m = bg.copy(), np.zeros((h, w), np.uint8)
        if t < 8 or t >= back:
            x = 40 + 3 * t if t < 8 else 220 + 3 * (t - back)
            y = 90
            img[y : y + side, x : x + side][shape] = tex[shape]
            m[y : y + side, x : x + side][shape] = 1
        frames.append(img)
        masks.append(m)
    return frames, masks, back


@pytest.mark.xfail(
    strict=True,
    reason="known failure of the shipped memory model (docs/memory_model.md): it loses this "
    "textured object before it is hidden and does not find it again; strict, so the suite "
    "says so once a retrained file passes",
)
@pytest.mark.parametrize("mode", ["stcn", "rde"])
def test_hidden_object_is_found_again(mode):
    frames, masks, back = hide_and_reappear()
    session = _model(mode).new_session(precision="fp32")
    ious = []
    for t, frame in enumerate(frames):
        result = session.step(frame, masks[0] if t == 0 else None)
        ious.append(mask_iou(result.labels == 1, masks[t] > 0))
    assert max(ious[back : back + 3]) >= 0.5, ious


def test_three_objects_one_late_keep_their_ids():
    clip = late_object_clip()
    ids, late = LATE_OBJECT_IDS, LATE_OBJECT_FRAME
    session = _model("stcn").new_session(precision="fp32")
    torch.set_num_threads(1)
    for t, frame in enumerate(clip.frames):
        objs = (1, 2) if t == 0 else (3,) if t == late else ()
        result = session.step(frame, {ids[k]: clip.masks[t] == k for k in objs} or None)
        assert set(np.unique(result.labels)) - {0} <= set(ids.values())
    assert session.object_ids == [12, 40, 7]
