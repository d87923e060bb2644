"""The shipped gated models give the label maps that were pinned when their gates were
trained: a refactor of the gate or of the engine must not change the outputs.

The clip is the first frames of a DAVIS 2016 *train* video at its 240p size, run in fp32
on one thread. The pinned label maps and gate paths are stored in ``pinned_labels.npz``
beside this file. The paths must match exactly; each frame's object mask must match the
pinned one up to an IoU of ``MIN_IOU``, not bit for bit: the same code can give masks
that differ in a few boundary pixels with another thread count, CPU or library build
(FRTM's first-frame augmentation warps with OpenCV), while a change of behaviour moves
far more. When other work retrains a shipped gate, it re-pins the file
(``python tests/plugins/test_gate_pinned.py --write [MODEL ...]``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vosframe.app.zoo import ZOO, load_model, weights_path

SEQUENCE = "car-turn"
FRAMES = 8
TAU = 0.7
MODELS = ("g-frtm", "g-ttvos")
PIN_FILE = Path(__file__).with_name("pinned_labels.npz")
MIN_IOU = 0.98


def _clip(root: Path) -> tuple[list[np.ndarray], np.ndarray]:
    seq = root / "davis2016" / "train_240p"
    frames = sorted((seq / "JPEGImages" / SEQUENCE).glob("*.jpg"))[:FRAMES]
    images = [np.array(Image.open(f).convert("RGB")) for f in frames]
    first = sorted((seq / "Annotations" / SEQUENCE).glob("*.png"))[0]
    mask = (np.asarray(Image.open(first)) > 0).astype(np.uint8)
    return images, mask


def run_pinned(name: str, root: Path) -> tuple[np.ndarray, str]:
    """Label maps ``(FRAMES - 1, H, W)`` and gate paths of ``name`` at ``TAU`` on the clip."""
    images, mask = _clip(root)
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        session = load_model(name).new_session(precision="fp32", tau=TAU)
        labels, paths = [], ""
        for t, image in enumerate(images):
            result = session.step(image, mask if t == 0 else None)
            if t:
                labels.append(result.labels)
                paths += result.paths[1].path[0]
    finally:
        torch.set_num_threads(old)
    return np.stack(labels).astype(np.uint8), paths


def mask_ious(a: np.ndarray, b: np.ndarray) -> list[float]:
    """Per-frame IoU of the object masks (label 1) of two label-map stacks."""
    ious = []
    for x, y in zip(a == 1, b == 1):
        union = int((x | y).sum())
        ious.append(1.0 if union == 0 else int((x & y).sum()) / union)
    return ious


@pytest.mark.parametrize("name", MODELS)
def test_shipped_gate_outputs_are_pinned(name: str, shared_data: Path) -> None:
    if not weights_path(ZOO[name].weights).is_file():
        pytest.skip(f"shipped {name} weights not built")
    pinned = np.load(PIN_FILE)
    want_labels, want_paths = pinned[f"{name}/labels"], str(pinned[f"{name}/paths"])
    labels, paths = run_pinned(name, shared_data)
    assert "a" in want_paths, "the pinned clip must include reused frames"
    assert (want_labels == 1).any(axis=(1, 2)).all(), "the pinned masks must not be empty"
    assert paths == want_paths
    assert labels.shape == want_labels.shape
    assert min(mask_ious(labels, want_labels)) >= MIN_IOU


def test_mask_ious_sees_a_changed_mask() -> None:
    a = np.zeros((2, 10, 10), np.uint8)
    a[:, 2:6, 2:6] = 1
    b = a.copy()
    b[1, 2:6, 2:4] = 0
    assert mask_ious(a, a) == [1.0, 1.0]
    assert mask_ious(a, b) == [1.0, 0.5]


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from conftest import SHARED_DATA

    args = [a for a in sys.argv[1:] if a != "--write"]
    stored = dict(np.load(PIN_FILE)) if PIN_FILE.is_file() else {}
    for model_name in args or MODELS:
        got_labels, got_paths = run_pinned(model_name, SHARED_DATA)
        print(model_name, got_paths, (got_labels == 1).mean(axis=(1, 2)).round(4).tolist())
        stored[f"{model_name}/labels"], stored[f"{model_name}/paths"] = got_labels, got_paths
    if "--write" in sys.argv:
        tmp = PIN_FILE.with_name(PIN_FILE.name + ".tmp")
        with tmp.open("wb") as f:
            np.savez_compressed(f, **stored)
        tmp.replace(PIN_FILE)
        print("wrote", PIN_FILE)
