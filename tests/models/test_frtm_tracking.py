"""The shipped FRTM tracks several objects, one appearing mid-clip, with the right ids."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from toys import LATE_OBJECT_FRAME, LATE_OBJECT_IDS, late_object_clip, mask_iou

from vosframe.app.zoo import ZOO, load_model, weights_path

pytestmark = pytest.mark.skipif(
    not weights_path(ZOO["frtm"].weights).is_file(), reason="shipped FRTM weights not built"
)


def test_three_objects_one_appearing_mid_clip_keep_their_ids():
    torch.set_num_threads(2)
    # Checks id handling with the real model; segmentation quality is measured by the
    # benchmarks (this lightly trained model loses objects of ~1 stride-16 cell).
    clip = late_object_clip()
    ids, late = LATE_OBJECT_IDS, LATE_OBJECT_FRAME

    def given(t: int, objs: tuple[int, ...]) -> dict[int, np.ndarray]:
        return {ids[k]: clip.masks[t] == k for k in objs}

    model = load_model("frtm")
    session = model.new_session(precision="fp32")
    ious: dict[int, list[float]] = {v: [] for v in ids.values()}
    cross: dict[int, list[float]] = {v: [] for v in ids.values()}
    for t, frame in enumerate(clip.frames):
        masks = given(0, (1, 2)) if t == 0 else given(late, (3,)) if t == late else None
        result = session.step(frame, masks)
        present = set(np.unique(result.labels)) - {0}
        assert present <= set(ids.values())
        if t < late:
            assert ids[3] not in present and ids[3] not in result.paths
        for k, uid in ids.items():
            if (k == 3 and t > late) or (k != 3 and t > 0):
                pred = result.labels == uid
                ious[uid].append(mask_iou(pred, clip.masks[t] == k))
                others = [mask_iou(pred, clip.masks[t] == j) for j in ids if j != k]
                cross[uid].append(max(others))
    assert session.object_ids == [12, 40, 7]
    for uid, values in ious.items():
        # each id follows its own object: far more overlap with it than with any other
        assert np.mean(values) > 0.35, (uid, values)
        assert np.mean(values) > 3 * np.mean(cross[uid]), (uid, values, cross[uid])
