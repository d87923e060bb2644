"""``vosframe eval``: table, JSON, CSV and errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vosframe.cli.main import main
from vosframe.data.masks import write_mask
from vosframe.metrics import GLOBAL_KEYS


def _make(folder: Path, shift: int = 0) -> None:
    for s, n in (("alpha", 5), ("beta", 6)):
        for t in range(n):
            m = np.zeros((40, 60), np.uint8)
            m[10:25, 5 + 3 * t + shift : 20 + 3 * t + shift] = 1
            m[28:36, 40:50] = 2 if s == "beta" else 0
            write_mask(folder / s / f"{t:05d}.png", m)


def test_eval_table_json_and_csv(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _make(tmp_path / "gt")
    _make(tmp_path / "pred", shift=1)
    code = main(
        [
            "eval",
            "--gt",
            str(tmp_path / "gt"),
            "--pred",
            str(tmp_path / "pred"),
            "--json",
            "--csv-dir",
            str(tmp_path / "csv"),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    figures = json.loads(out)
    assert list(figures) == list(GLOBAL_KEYS)
    assert all(0.0 <= figures[k] <= 1.0 for k in ("J&F-Mean", "J-Mean", "F-Mean", "J-Recall"))
    assert "alpha" in err and "beta" in err and "Global" in err  # the table went to stderr
    csvs = sorted(p.name for p in (tmp_path / "csv").iterdir())
    assert csvs == [
        "pred_global_results.csv",
        "pred_per-object_results.csv",
        "pred_per-sequence_results.csv",
    ]
    rows = (tmp_path / "csv" / "pred_per-object_results.csv").read_text().splitlines()
    assert rows[0].startswith("Sequence,J&F-Mean") and rows[1].startswith("alpha_1,")
    assert len(rows) == 1 + 3  # alpha_1, beta_1, beta_2


def test_eval_prints_table_without_json(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _make(tmp_path / "gt")
    code = main(["eval", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "gt"), "--no-csv"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert "J&F" in out and "F-Decay" in out
    global_row = [line for line in out.splitlines() if line.startswith("Global")][0]
    assert global_row.split()[1:5] == ["3", "1.000", "1.000", "1.000"]
    assert not list(tmp_path.glob("*.csv"))


def test_eval_errors_exit_1_with_message(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _make(tmp_path / "gt")
    _make(tmp_path / "pred")
    write_mask(tmp_path / "pred" / "alpha" / "00002.png", np.full((40, 60), 3, np.uint8))
    code = main(
        ["eval", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "pred"), "--no-csv"]
    )
    _, err = capsys.readouterr()
    assert code == 1
    assert "label 3" in err and "00002.png" in err
    code = main(["eval", "--pred", str(tmp_path / "pred")])
    assert code == 1 and "--gt is required" in capsys.readouterr().err


@pytest.mark.shared_data
def test_eval_davis16_val_against_itself(shared_data: Path, capsys: pytest.CaptureFixture) -> None:
    gt = shared_data / "davis2016" / "val_480p" / "Annotations"
    code = main(["eval", "--gt", str(gt), "--pred", str(gt), "--json", "--no-csv"])
    out, err = capsys.readouterr()
    assert code == 0
    figures = json.loads(out)
    assert figures == {
        "J&F-Mean": 1.0,
        "J-Mean": 1.0,
        "J-Recall": 1.0,
        "J-Decay": 0.0,
        "F-Mean": 1.0,
        "F-Recall": 1.0,
        "F-Decay": 0.0,
    }
    assert err.count("1.000") >= 10 * 5  # every sequence row is perfect


@pytest.mark.shared_data
def test_eval_davis16_val_against_osvos(shared_data: Path, capsys: pytest.CaptureFixture) -> None:
    golden = json.loads((shared_data / "golden" / "official_davis_jf.json").read_text())
    expected = golden["A_davis16_gt_vs_osvos"]["global"]
    code = main(
        [
            "eval",
            "--gt",
            str(shared_data / "davis2016" / "val_480p"),
            "--pred",
            str(shared_data / "golden" / "osvos"),
            "--skip-missing",
            "--json",
            "--no-csv",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    figures = json.loads(out)
    for key in GLOBAL_KEYS:
        assert figures[key] == pytest.approx(expected[key], abs=1e-12)
    assert "skipped 4 sequence(s)" in err
