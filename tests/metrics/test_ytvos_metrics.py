"""The (unofficial) YouTube-VOS evaluation mode on a synthetic meta.json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vosframe.cli.main import main
from vosframe.core.errors import DataError
from vosframe.data.masks import write_mask
from vosframe.metrics import categories_of, evaluate_youtube_vos

FRAMES = [f"{t:05d}" for t in range(0, 30, 5)]  # 00000 ... 00025, every 5th frame


def _gt(t: int) -> np.ndarray:
    m = np.zeros((48, 64), np.uint8)
    m[5:20, 4 + 2 * t : 20 + 2 * t] = 1
    if t >= 2:  # object 2 appears mid-video, at 00010
        m[30:44, 40 - t : 56 - t] = 2
    return m


@pytest.fixture
def ytvos(tmp_path: Path) -> Path:
    split = tmp_path / "train"
    for t, name in enumerate(FRAMES):
        write_mask(split / "Annotations" / "vid1" / f"{name}.png", _gt(t))
    meta = {
        "videos": {
            "vid1": {
                "objects": {
                    "1": {"category": "cat", "frames": FRAMES},
                    "2": {"category": "zebra", "frames": FRAMES[2:]},
                }
            }
        }
    }
    (split / "meta.json").write_text(json.dumps(meta))
    return split


def _predict(folder: Path, transform=lambda t, m: m) -> None:
    for t, name in enumerate(FRAMES):
        write_mask(folder / "vid1" / f"{name}.png", transform(t, _gt(t)))


def test_late_object_and_required_frames(ytvos: Path, tmp_path: Path) -> None:
    pred = tmp_path / "pred"
    # wrong only where the masks are given (each object's first frame): not scored
    _predict(pred, lambda t, m: np.zeros_like(m) if t == 0 else np.where((m == 2) & (t == 2), 0, m))
    out = evaluate_youtube_vos(ytvos, pred, ytvos / "meta.json")
    objs = {o.object_id: o for o in out.result.objects}
    assert objs[1].frames == tuple(FRAMES[1:])
    assert objs[2].frames == tuple(FRAMES[3:])
    assert objs[2].category == "zebra"
    assert all(o.J_mean == 1.0 and o.F_mean == 1.0 for o in objs.values())
    figures = out.figures()
    assert figures["Overall"] == 1.0 and np.isnan(figures["J_unseen"])  # all seen by default


def test_seen_unseen_split(ytvos: Path, tmp_path: Path) -> None:
    pred = tmp_path / "pred"
    _predict(pred, lambda t, m: np.where(m == 2, 0, m))  # object 2 is never found
    out = evaluate_youtube_vos(ytvos, pred, ytvos / "meta.json", seen_categories={"cat"})
    figures = out.figures()
    assert figures["J_seen"] == 1.0 and figures["F_seen"] == 1.0
    assert figures["J_unseen"] == 0.0 and figures["F_unseen"] == 0.0
    assert figures["Overall"] == 0.5
    assert categories_of(ytvos / "meta.json") == {"cat", "zebra"}


def test_ytvos_errors(ytvos: Path, tmp_path: Path) -> None:
    pred = tmp_path / "pred"
    _predict(pred, lambda t, m: np.where(m == 1, 3, m))
    with pytest.raises(DataError, match=r"label\(s\) \[3\]"):
        evaluate_youtube_vos(ytvos, pred, ytvos / "meta.json")
    _predict(pred)
    (pred / "vid1" / "00015.png").unlink()
    with pytest.raises(DataError, match="00015.png is missing"):
        evaluate_youtube_vos(ytvos, pred, ytvos / "meta.json")
    (ytvos / "bad.json").write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        evaluate_youtube_vos(ytvos, pred, ytvos / "bad.json")


def test_ytvos_cli(ytvos: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    pred = tmp_path / "pred"
    _predict(pred)
    args = ["eval", "--gt", str(ytvos), "--pred", str(pred), "--ytvos-meta"]
    code = main([*args, str(ytvos / "meta.json"), "--json", "--no-csv"])
    out, err = capsys.readouterr()
    assert code == 0 and "UNOFFICIAL" in err
    figures = json.loads(out)
    assert figures["Overall"] == 1.0 and figures["J_unseen"] is None
