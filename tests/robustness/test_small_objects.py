"""Small objects: objects of 0.3-1% of the frame stay tracked.

The suite runs the shipped ``frtm`` on fixed-seed synthetic clips (one textured object of
0.3-1% of a 240 x 432 frame, 40 frames of normal motion) with the session's crop views on.
Without them (``small_objects=None``) the same clips score a mean IoU of about 0.1
(``docs/small_objects.md``); the threshold is the issue's 0.5.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from toys import ToyOnline, ToyTemplate, toy_clip

from vosframe import InputError, UnknownObjectError
from vosframe.core.crops import crop, paste
from vosframe.core.scale import SmallObjects, object_cells, upscale_zoom, zoom_for
from vosframe.data.stress import SMALL_OBJECT_CLIPS as SMALL_CLIPS

pytestmark = pytest.mark.usefixtures("one_thread")


SUITE_SEEDS = (100, 101, 102)


def _mean_iou(session, clip) -> float:
    ious = []
    for t, (frame, gt) in enumerate(zip(clip.frames, clip.masks)):
        result = session.step(frame, masks=gt if t == 0 else None)
        if t:
            a, b = result.labels == 1, gt == 1
            ious.append(np.count_nonzero(a & b) / max(1, np.count_nonzero(a | b)))
    return float(np.mean(ious))


@pytest.fixture(scope="module")
def frtm():
    from vosframe.app.zoo import load_model

    return load_model("frtm")


def test_shipped_frtm_keeps_small_objects(frtm):
    scores = []
    for seed in SUITE_SEEDS:
        clip = SMALL_CLIPS.generate(seed)
        area = (clip.masks == 1).mean(axis=(1, 2))
        assert area.min() >= 0.003 and area.max() <= 0.01, f"seed {seed}: areas {area}"
        session = frtm.new_session(precision="fp32", small_objects="crop")
        scores.append(_mean_iou(session, clip))
    assert np.mean(scores) >= 0.5, f"mean IoU per clip {scores}"


# ----------------------------------------------------------------------------- unit checks


def test_policy_parsing_and_zoom():
    assert SmallObjects.parse(None) is None and SmallObjects.parse("off") is None
    assert SmallObjects.parse("upscale").mode == "upscale"
    with pytest.raises(InputError, match="crop"):
        SmallObjects.parse("zoom")
    with pytest.raises(InputError, match="min_cells"):
        SmallObjects(min_cells=0)
    policy = SmallObjects(min_cells=4, max_zoom=3)
    mask = np.zeros((64, 64), bool)
    mask[:16, :16] = True  # 16 px side: 1 cell at stride 16
    assert object_cells(mask, 1.0, 16) == 1.0
    assert zoom_for(1.0, policy) == 3.0  # capped
    assert zoom_for(2.0, policy) == 2.0
    assert zoom_for(5.0, policy) == 1.0 and zoom_for(0.0, policy) == 1.0
    assert upscale_zoom([mask, np.zeros_like(mask)], 2.0, 16, policy) == 2.0


def test_crop_and_paste_round_trip():
    # a linear ramp: bilinear sampling reproduces it exactly, so any misalignment (e.g. a
    # half-pixel shift between crop and paste) shows as an error
    ys, xs = torch.meshgrid(torch.arange(40.0), torch.arange(60.0), indexing="ij")
    image = (xs + 2 * ys)[None, None] / 120
    box = (10.0, 5.0, 30.0, 25.0)  # 20 px sampled at 2x
    window = crop(image, box, 40)
    assert window.shape == (1, 1, 40, 40)
    assert torch.allclose(
        window[0, 0, 0, :2], (torch.tensor([10.25, 10.75]) - 0.5 + 2 * 4.75) / 120
    )
    back = paste(window[0, 0], box, (40, 60), (40, 60))
    inside = (slice(6, 24), slice(11, 29))
    assert torch.allclose(back[0, 0][inside], image[0, 0][inside], atol=1e-5)
    assert float(back[0, 0, :, :9].abs().max()) == 0.0  # zero outside the window
    assert float(back[0, 0, 27:].abs().max()) == 0.0
    # pasting into a frame of another size (the parent's internal size) scales the box
    half = paste(window[0, 0], box, (40, 60), (20, 30))
    assert torch.allclose(
        half[0, 0, 4:11, 6:14], image[0, 0, 8:22:2, 12:28:2] + 1.5 / 120, atol=1e-5
    )


@pytest.mark.parametrize("cls", [ToyOnline, ToyTemplate])
def test_large_objects_are_unaffected(cls):
    torch.manual_seed(0)
    model = cls()
    frames, label0 = toy_clip(5, h=96, w=128)  # 12 px squares: 0.75 cells at stride 16
    big = np.kron(label0[:48, :64], np.ones((2, 2), np.uint8))  # 24 px: 1.5 cells
    outs = []
    for mode in (None, "crop", "upscale"):
        policy = SmallObjects(mode, min_cells=1.2) if mode else None
        session = model.new_session(precision="fp32", small_objects=policy)
        outs.append([session.step(f, big if t == 0 else None).probs for t, f in enumerate(frames)])
        assert session.object_ids == [3, 7]
    for other in outs[1:]:
        for a, b in zip(outs[0], other):
            assert a.keys() == b.keys()
            assert all(torch.equal(a[i], b[i]) for i in a)


def test_crop_views_track_remove_and_count():
    torch.manual_seed(0)
    model = ToyOnline()
    frames, label0 = toy_clip(6, h=96, w=128)  # 12 px squares: small at stride 16
    session = model.new_session(precision="fp32", small_objects="crop")
    r0 = session.step(frames[0], label0)
    assert session.object_ids == [3, 7]
    assert r0.labels.shape == label0.shape and set(r0.probs) == {3, 7}
    assert (r0.labels == label0).all()  # given masks are exact
    r1 = session.step(frames[1])
    assert {p.path for p in r1.paths.values()} == {"full"}
    assert r1.probs[3].shape == label0.shape
    session.remove(3)
    assert session.object_ids == [7]
    r2 = session.step(frames[2])
    assert set(r2.probs) == {7} and 3 not in np.unique(r2.labels)
    summary = session.summary()
    assert summary["objects"]["3"]["removed"] and summary["objects"]["7"]["frames"]["full"] == 2
    with pytest.raises(UnknownObjectError):
        session.remove(3)
    # re-giving an id re-initialises it; a large mask goes to the main engine
    big = np.zeros_like(label0, bool)
    big[20:80, 20:100] = True
    r3 = session.step(frames[3], {7: big})
    assert r3.paths[7].path == "init" and session.object_ids == [7]
    assert 7 in session.objects
