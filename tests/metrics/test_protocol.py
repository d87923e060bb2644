"""Protocol tests of the DAVIS evaluation (as the official davis2017-evaluation code), on
synthetic data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vosframe.core.errors import DataError, InputError
from vosframe.data.masks import davis_palette, write_mask
from vosframe.metrics import (
    EvaluationResult,
    evaluate_folders,
    evaluate_sequence,
    frame_scores,
    pooled_figures,
)


def _disc(shape, cy, cx, r):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


def _moving_discs(n=6, shape=(60, 80), objects=2, offset=0):
    frames = []
    for t in range(n):
        m = np.zeros(shape, np.uint8)
        for k in range(objects):
            m[_disc(shape, 15 + 25 * k, 15 + 4 * t + offset, 8)] = k + 1
        frames.append(m)
    return frames


def _write(folder: Path, masks, names=None) -> None:
    for i, m in enumerate(masks):
        write_mask(folder / f"{(names[i] if names else f'{i:05d}')}.png", m)


def test_first_and_last_frames_are_not_scored() -> None:
    gt = _moving_discs()
    pred = [np.zeros_like(m) for m in gt]  # wrong on the first and last frame only
    pred[1:-1] = gt[1:-1]
    objs = evaluate_sequence(gt, pred, name="s")
    assert [o.object_id for o in objs] == [1, 2]
    assert objs[0].frames == ("00001", "00002", "00003", "00004")
    assert all(o.J_mean == 1.0 and o.F_mean == 1.0 for o in objs)
    assert evaluate_sequence(gt, [None, *gt[1:-1], None])[0].J_mean == 1.0


def test_objects_come_from_first_gt_frame() -> None:
    gt = _moving_discs(objects=1)
    for m in gt[2:]:  # object 2 appears late: ignored
        m[40:50, 60:70] = 2
    objs = evaluate_sequence(gt, [np.where(m == 2, 0, m) for m in gt])
    assert [o.object_id for o in objs] == [1] and objs[0].J_mean == 1.0


def test_late_object_in_prediction_is_an_error_not_an_exit() -> None:
    gt = _moving_discs(objects=1)
    pred = [m.copy() for m in gt]
    pred[2][40:50, 60:70] = 2
    with pytest.raises(InputError, match="label 2.*only 1 object"):
        evaluate_sequence(gt, pred, name="seq")


def test_missing_id_is_scored_against_empty_gt_and_missing_objects_score_zero() -> None:
    gt = _moving_discs(objects=2)
    gt = [np.where(m == 1, 3, m) for m in gt]  # labels {2, 3}: id 1 missing
    objs = evaluate_sequence(gt, gt)
    assert [o.object_id for o in objs] == [1, 2, 3]
    assert objs[0].J_mean == 1.0 and objs[0].F_mean == 1.0  # empty vs empty
    pred = [np.where(m == 3, 0, m) for m in gt]  # object 3 never predicted
    objs = evaluate_sequence(gt, pred)
    assert objs[2].J_mean == 0.0 and objs[2].F_mean == 0.0 and objs[2].J_recall == 0.0


def test_gt_void_255_is_background() -> None:
    gt = _moving_discs(objects=1)
    for m in gt:
        m[50:55, :] = 255
    objs = evaluate_sequence(gt, [np.where(m == 255, 0, m) for m in gt])
    assert len(objs) == 1 and objs[0].J_mean == 1.0
    objs = evaluate_sequence(gt, [np.where(m == 255, 1, m) for m in gt])
    assert objs[0].J_mean < 1.0  # predicting the void area as the object is penalised


def test_binary_format_maps_255_to_object_one() -> None:
    gt = [np.where(m > 0, 255, 0).astype(np.uint8) for m in _moving_discs(objects=1)]
    objs = evaluate_sequence(gt, [m // 255 * 7 for m in gt], gt_format="binary")
    assert len(objs) == 1 and objs[0].J_mean == 1.0
    assert evaluate_sequence(gt, gt, gt_format="auto")[0].J_mean == 1.0
    with pytest.raises(InputError, match="no object"):
        evaluate_sequence(gt, gt, gt_format="indexed")  # 255 is void there


def test_globals_pool_objects_not_sequences() -> None:
    a = evaluate_sequence(_moving_discs(objects=1), _moving_discs(objects=1), name="a")
    gt_b = _moving_discs(objects=3, shape=(90, 80))
    pred_b = [np.where(m == 1, 0, m) for m in gt_b]
    b = evaluate_sequence(gt_b, pred_b, name="b")
    figures = pooled_figures(a + b)
    assert figures["J-Mean"] == pytest.approx((1.0 + 0.0 + 1.0 + 1.0) / 4)  # not (1 + 2/3) / 2
    assert figures["J&F-Mean"] == pytest.approx((figures["J-Mean"] + figures["F-Mean"]) / 2)
    detail = EvaluationResult(tuple(a + b)).to_dict()
    assert json.loads(json.dumps(detail))["global"] == figures
    assert set(detail["per_object"]["b_2"]) >= {"evaluated_frames", "J_per_frame", "F_decay"}
    assert detail["per_sequence"]["b"]["J-Mean"] == pytest.approx(2 / 3)


def test_f_radius_comes_from_the_evaluated_resolution() -> None:
    gt = np.zeros((120, 214), bool)
    gt[30:90, 50:150] = True
    pred = np.roll(gt, 3, axis=1)
    small = frame_scores(gt, pred)[1]  # radius ceil(0.008 * 245.3) = 2 < shift 3
    big_gt = np.kron(gt, np.ones((4, 4), bool))  # 480 x 856: radius 8
    big_pred = np.kron(pred, np.ones((4, 4), bool))  # shift 12 > 8
    assert small < 1.0
    assert frame_scores(big_gt, np.roll(big_gt, 6, axis=1))[1] == 1.0  # 6 <= 8
    assert frame_scores(big_gt, big_pred)[1] < 1.0


def test_shape_and_length_errors() -> None:
    gt = _moving_discs()
    with pytest.raises(InputError, match="at least 3"):
        evaluate_sequence(gt[:2], gt[:2])
    with pytest.raises(InputError, match="predictions for"):
        evaluate_sequence(gt, gt[:-1])
    bad = [m.copy() for m in gt]
    bad[2] = np.zeros((30, 40), np.uint8)
    with pytest.raises(InputError, match="resize predictions"):
        evaluate_sequence(gt, bad)
    with pytest.raises(InputError, match="no object"):
        evaluate_sequence([np.zeros_like(gt[0]), *gt[1:]], gt)


# ---------------------------------------------------------------- folders


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    for s, (objects, offset) in {"seq-a": (1, 0), "seq-b": (2, 2), "seq-c": (3, 1)}.items():
        masks = _moving_discs(n=7, shape=(90, 80), objects=objects, offset=offset)
        _write(gt / s, masks)
        _write(pred / s, [np.roll(m, 1, axis=1) for m in masks])
    return gt, pred


def test_scoring_workers_do_not_inherit_the_clis_sigterm_handler() -> None:
    """The CLI turns SIGTERM into KeyboardInterrupt for its cleanup; the pool stops its
    workers with SIGTERM when it closes, so a worker that inherited that handler would print
    a traceback. Checked in a child process, whose signal handlers the test may change."""
    code = (
        "import signal; from vosframe.app.outdir import terminate_as_interrupt; "
        "from vosframe.metrics.evaluate import worker_pool; terminate_as_interrupt(); "
        "pool = worker_pool(1); "
        "print(pool.apply(signal.getsignal, (signal.SIGTERM,)) == signal.SIG_DFL, "
        "signal.getsignal(signal.SIGTERM) != signal.SIG_DFL); pool.close(); pool.join()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]  # the worker: default; the parent: its own


def test_folders_match_in_memory_and_workers(folders: tuple[Path, Path]) -> None:
    gt, pred = folders
    one = evaluate_folders(gt, pred, workers=1)
    two = evaluate_folders(gt, pred, workers=2)
    assert one.sequences == ["seq-a", "seq-b", "seq-c"]
    assert [o.name for o in one.objects] == [o.name for o in two.objects]
    assert one.global_figures() == two.global_figures()
    for o1, o2 in zip(one.objects, two.objects):
        np.testing.assert_array_equal(o1.J, o2.J)
        np.testing.assert_array_equal(o1.F, o2.F)
    memory = evaluate_sequence(
        _moving_discs(n=7, shape=(90, 80), objects=2, offset=2),
        [np.roll(m, 1, axis=1) for m in _moving_discs(n=7, shape=(90, 80), objects=2, offset=2)],
        name="seq-b",
    )
    assert [o.J_mean for o in memory] == [o.J_mean for o in one.objects if o.sequence == "seq-b"]


def test_folder_selection_and_missing_predictions(folders: tuple[Path, Path]) -> None:
    gt, pred = folders
    assert evaluate_folders(gt, pred, sequences=["seq-c", "seq-a"]).sequences == ["seq-c", "seq-a"]
    with pytest.raises(InputError, match="not in"):
        evaluate_folders(gt, pred, sequences=["nope"])
    for p in (pred / "seq-b").iterdir():
        p.unlink()
    (pred / "seq-b").rmdir()
    with pytest.raises(DataError, match="lack 1 of 3"):
        evaluate_folders(gt, pred)
    result = evaluate_folders(gt, pred, skip_missing=True)
    assert result.sequences == ["seq-a", "seq-c"]
    assert any("skipped" in n for n in result.notes)


def test_folder_errors(folders: tuple[Path, Path]) -> None:
    gt, pred = folders
    (pred / "seq-a" / "00003.png").unlink()
    with pytest.raises(DataError, match="missing.*00003.png"):
        evaluate_folders(gt, pred, sequences=["seq-a"])
    (pred / "seq-a" / "00000.png").unlink()  # the first frame is not needed
    write_mask(pred / "seq-a" / "00003.png", np.full((90, 80), 2, np.uint8))
    with pytest.raises(DataError, match="label 2.*00003.png|00003.png.*label 2"):
        evaluate_folders(gt, pred, sequences=["seq-a"])
    write_mask(pred / "seq-a" / "00003.png", np.zeros((45, 40), np.uint8))
    with pytest.raises(DataError, match="GT resolution"):
        evaluate_folders(gt, pred, sequences=["seq-a"])
    (pred / "seq-a" / "00003.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="corrupt"):
        evaluate_folders(gt, pred, sequences=["seq-a"])
    write_mask(gt / "seq-b" / "00000.png", np.zeros((90, 80), np.uint8))
    with pytest.raises(DataError, match="first GT mask.*no object"):
        evaluate_folders(gt, pred, sequences=["seq-b"])
    (gt / "seq-c" / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="notes.txt"):
        evaluate_folders(gt, pred, sequences=["seq-c"])
    with pytest.raises(DataError, match="does not exist"):
        evaluate_folders(gt / "missing", pred)
    (gt / "empty").mkdir()
    with pytest.raises(DataError, match="empty"):
        evaluate_folders(gt, pred, sequences=["empty"], skip_missing=False)


def test_short_gt_sequence_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path / "gt" / "s", _moving_discs(n=2))
    _write(tmp_path / "pred" / "s", _moving_discs(n=2))
    with pytest.raises(DataError, match="at least 3"):
        evaluate_folders(tmp_path / "gt", tmp_path / "pred")


def test_prediction_png_kinds(tmp_path: Path) -> None:
    masks = _moving_discs(n=5, objects=2)
    _write(tmp_path / "gt" / "s", masks)
    for i, m in enumerate(masks):  # grayscale L PNG with labels and RGB with palette colours
        Image.fromarray(m).save(tmp_path / f"{i}.png")
    folder = tmp_path / "pred" / "s"
    folder.mkdir(parents=True)
    for i, m in enumerate(masks):
        image = Image.fromarray(m) if i % 2 else Image.fromarray(davis_palette()[m])
        image.save(folder / f"{i:05d}.png")
    result = evaluate_folders(tmp_path / "gt", tmp_path / "pred")
    assert result.global_figures()["J&F-Mean"] == 1.0
    rgb = davis_palette()[masks[2]].copy()
    rgb[0, 0] = (1, 2, 3)
    Image.fromarray(rgb).save(folder / "00002.png")
    with pytest.raises(DataError, match="not a DAVIS palette colour"):
        evaluate_folders(tmp_path / "gt", tmp_path / "pred")


def test_single_sequence_folders(tmp_path: Path) -> None:
    masks = _moving_discs(n=5)
    _write(tmp_path / "gt", masks)
    _write(tmp_path / "pred", masks)
    result = evaluate_folders(tmp_path / "gt", tmp_path / "pred")
    assert result.sequences == ["gt"] and result.global_figures()["J-Mean"] == 1.0
