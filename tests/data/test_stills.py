"""Still-image clips (vosframe.data.stills) and their bank source (davis_stills)."""

from __future__ import annotations

import numpy as np
import pytest
from mmengine.config import Config

from vosframe.core.errors import ConfigError, InputError
from vosframe.data.stills import (
    StillClipRecipe,
    elastic_field,
    paste_still_object,
    place_object,
    still_clip,
)
from vosframe.training.bank import davis_stills_source
from vosframe.training.datasets import BankClipDataset
from vosframe.training.train import set_fold


def _image(h: int = 96, w: int = 160) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    mask = np.zeros((h, w), np.uint8)
    mask[30:60, 40:80] = 1
    mask[10:25, 110:140] = 2
    mask[0:4, 0:4] = 255  # ignored pixels are not an object
    return frame, mask


def test_a_still_clip_is_a_pure_function_of_the_rng_and_keeps_labels_exact():
    frame, mask = _image()
    frames, masks = still_clip(frame, mask, np.random.default_rng(3), 6, (96, 160))
    again = still_clip(frame, mask, np.random.default_rng(3), 6, (96, 160))
    other = still_clip(frame, mask, np.random.default_rng(4), 6, (96, 160))
    assert len(frames) == len(masks) == 6
    assert frames[0].shape == (96, 160, 3) and masks[0].shape == (96, 160)
    assert frames[0].dtype == masks[0].dtype == np.uint8
    assert all((a == b).all() for a, b in zip(frames + masks, again[0] + again[1]))
    assert not np.array_equal(masks[0], other[1][0])
    for m in masks:  # nearest-neighbour warps: no new label, every object stays in view
        assert set(np.unique(m).tolist()) <= {0, 1, 2, 255}
        assert (m == 1).sum() > 0.3 * 1200 * 0.5 and (m == 2).sum() > 0
    assert len({m.tobytes() for m in masks}) == 6  # each frame has its own warp


def test_the_frames_move_the_pixels_with_their_labels():
    """A frame warped alone shows object 1's pixels where its warped mask says."""
    frame = np.zeros((96, 160, 3), np.uint8)
    frame[30:60, 40:80] = (250, 10, 10)  # object 1 is red on black
    mask = np.zeros((96, 160), np.uint8)
    mask[30:60, 40:80] = 1
    recipe = StillClipRecipe(augment=StillClipRecipe().augment.disabled())
    frames, masks = still_clip(frame, mask, np.random.default_rng(1), 3, (96, 160), recipe)
    for f, m in zip(frames, masks):
        red = f[..., 0] > 128
        assert (red & (m == 1)).sum() > 0.9 * (m == 1).sum()
        assert (red & (m == 0)).sum() < 0.1 * (m == 1).sum()
    assert not (masks[0] == masks[1]).all()  # the elastic field alone moves them


def test_the_elastic_field_is_bounded_and_smooth():
    mx, my = elastic_field(np.random.default_rng(0), (96, 160), 4.0, 4)
    xs, ys = np.meshgrid(np.arange(160), np.arange(96))
    assert np.abs(mx - xs).max() <= 7.6 and np.abs(my - ys).max() <= 7.6  # cubic: 1.9x
    assert np.abs(np.diff(mx - xs, axis=1)).max() < 1.0  # neighbours move together
    assert np.abs(mx - xs).max() > 1.0  # and it does move them


def test_bad_still_clips_are_refused():
    frame, mask = _image()
    with pytest.raises(InputError, match="differ in size"):
        still_clip(frame, mask[:50], np.random.default_rng(0), 4, (96, 160))
    with pytest.raises(InputError, match="at least 2 frames"):
        still_clip(frame, mask, np.random.default_rng(0), 1, (96, 160))
    with pytest.raises(InputError, match="elastic"):
        StillClipRecipe(elastic=0.5)
    with pytest.raises(ConfigError, match="every >= 1"):
        list(davis_stills_source("unused", every=0))


def videos_in_order(root, names) -> list[str]:
    from vosframe.data.datasets import DavisDataset

    return [n for n in DavisDataset(root, resolution="").names if n in names]


def test_davis_stills_keep_out_the_folds_select_videos(shared_data, tmp_path):
    from vosframe.data.folds import fold_table

    root = shared_data / "davis2016" / "train_240p"
    table = fold_table(None)
    source = list(davis_stills_source(root, fold=1, every=20, length=3, seed=5))
    videos = {name.split("@")[0].removeprefix("davis/") for name, _ in source}
    assert videos == set(table.fit(1)) and not videos & set(table.select(1))
    name, load = source[0]
    assert name == f"davis/{videos_in_order(root, table.fit(1))[0]}@still-3f-e0.02-5-0"
    frames, masks = load()
    again = dict(davis_stills_source(root, fold=1, every=20, length=3, seed=5))[name]()
    assert len(frames) == 3 and all((a == b).all() for a, b in zip(masks, again[1]))
    assert (masks[0] > 0).any()
    ds = BankClipDataset(
        tmp_path / "bank",
        dict(type="ResNet", depth=18),
        [dict(type="davis_stills", root=str(root), every=40, length=3, fold=1)],
        size=(96, 160),
        num_frames=3,
        max_skip=1,
        samples_per_epoch=2,
    )
    assert ds.davis_videos == sorted(table.fit(1))  # the stills' videos count as seen
    assert ds[0]["frames"].shape == (3, 3, 96, 160)


def test_fold_restricts_the_stills_source_too():
    cfg = Config(
        dict(
            train_dataset=dict(
                sources=[
                    dict(type="davis", root="r"),
                    dict(type="davis_stills", root="r"),
                    dict(type="synthetic", count=1),
                ]
            )
        )
    )
    sources = set_fold(cfg, 2).train_dataset.sources
    assert [s.get("fold") for s in sources] == [2, 2, None]


def _donor() -> tuple[np.ndarray, np.ndarray]:
    image = np.zeros((120, 200, 3), np.uint8)
    image[20:100, 50:150] = (10, 250, 10)  # a green object on black
    obj = np.zeros((120, 200), np.uint8)
    obj[20:100, 50:150] = 1
    return image, obj


def test_a_placed_object_is_scaled_into_the_canvas():
    image, obj = _donor()
    moved, mask = place_object(image, obj, np.random.default_rng(0), (96, 160), (0.5, 0.5))
    ys, xs = np.nonzero(mask)
    assert moved.shape == (96, 160, 3) and set(np.unique(mask).tolist()) == {0, 1}
    assert max(np.ptp(ys), np.ptp(xs)) + 1 == pytest.approx(48, abs=2)  # half of 96
    assert (moved[mask == 1, 1] > 200).all()  # the object's own pixels moved with it
    with pytest.raises(InputError, match="empty"):
        place_object(image, np.zeros_like(obj), np.random.default_rng(0), (96, 160))


def test_a_pasted_object_moves_on_its_own_above_the_clip_and_keeps_it_visible():
    frame, mask = _image()
    frames, masks = still_clip(frame, mask, np.random.default_rng(3), 5, (96, 160))
    out_f, out_m = paste_still_object(frames, masks, _donor(), np.random.default_rng(7))
    again = paste_still_object(frames, masks, _donor(), np.random.default_rng(7))
    assert all((a == b).all() for a, b in zip(out_f + out_m, again[0] + again[1]))
    for f, m, m0 in zip(out_f, out_m, masks):
        assert (m == 3).sum() > 0  # the next free label (255 is not one)
        assert (f[m == 3, 1] > 150).mean() > 0.9  # green where it is labelled
        assert ((m == 3) == (m0 != m)).all()  # only its pixels changed label
        for obj in (1, 2):  # the clip's own objects stay mostly visible
            assert (m == obj).sum() >= 0.5 * (m0 == obj).sum()
    offsets = [np.argwhere(m == 3).mean(axis=0) - np.argwhere(m == 1).mean(axis=0) for m in out_m]
    assert np.ptp(np.array(offsets), axis=0).max() > 1.0  # not glued to object 1
    with pytest.raises(InputError, match="match"):
        paste_still_object(frames, masks[:-1], _donor(), np.random.default_rng(0))


def test_davis_stills_paste_objects_of_other_fit_videos_only(shared_data):
    from vosframe.data.folds import fold_table

    root = shared_data / "davis2016" / "train_240p"
    table = fold_table(None)
    plain = dict(davis_stills_source(root, fold=1, every=40, length=3, seed=5))
    pasted = dict(davis_stills_source(root, fold=1, every=40, length=3, seed=5, paste=1))
    # the settings and the donor (which depends on the fold) are in the name
    assert {n.replace("-p1-", "-").split("+")[0] for n in pasted} == set(plain)
    name = next(iter(pasted))
    frames, masks = pasted[name]()
    base_frames, base_masks = plain[name.replace("-p1-", "-").split("+")[0]]()
    assert set(np.unique(masks[0]).tolist()) - {255} == {0, 1, 2}
    assert (masks[0] == 2).any() and (masks[0] == 1).sum() >= 0.5 * (base_masks[0] == 1).sum()
    assert (frames[0][masks[0] != 2] == base_frames[0][masks[0] != 2]).all()
    for clip_name, load in pasted.items():  # donors: the fold's fit videos, not the clip's
        (donor,) = load.args[-1]
        assert donor.name in table.fit(1) and donor.name != load.args[0].name
        assert clip_name.startswith(f"davis/{load.args[0].name}@")
        assert clip_name.endswith(f"+{donor.name}")
    other_fold = dict(davis_stills_source(root, fold=2, every=40, length=3, seed=5, paste=1))
    for clip_name, load in other_fold.items():  # a clip shared by both folds' names
        if clip_name in pasted:  # ... is the same clip: the same donor
            assert load.args[-1][0].name == pasted[clip_name].args[-1][0].name
    with pytest.raises(ConfigError, match="paste"):
        list(davis_stills_source(root, fold=1, paste=-1))
