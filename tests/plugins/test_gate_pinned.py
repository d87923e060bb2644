"""The shipped gated models give the same label maps, bit for bit, as when this test was
pinned: a refactor of the gate or of the engine must not change any output.

The clip is the first frames of a DAVIS 2016 *train* video at its 240p size, run in fp32
on one thread. When other work retrains a shipped gate, it re-pins the hashes here
(``python tests/plugins/test_gate_pinned.py`` prints them).
"""

from __future__ import annotations

import hashlib
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

# Per model: sha256 of the stacked uint8 label maps of frames 1..FRAMES-1, and the paths
# the object took on those frames (the pin must cover frames where the gate reuses).
PINNED: dict[str, tuple[str, str]] = {
    "g-frtm": ("d8ae4970cb98eb17726e948ba7bbc0bb4765c6ea08a1c5002e480e0c0bc726dd", "aaafaaa"),
    "g-ttvos": ("b3711046d5612ee878229dfb51180549afa51970e4a948fcfcfb41e4cee3dea0", "aaafaaf"),
}


def _clip(root: Path) -> tuple[list[np.ndarray], np.ndarray]:
    seq = root / "davis2016" / "train_240p"
    frames = sorted((seq / "JPEGImages" / SEQUENCE).glob("*.jpg"))[:FRAMES]
    images = [np.array(Image.open(f).convert("RGB")) for f in frames]
    first = sorted((seq / "Annotations" / SEQUENCE).glob("*.png"))[0]
    mask = (np.asarray(Image.open(first)) > 0).astype(np.uint8)
    return images, mask


def run_pinned(name: str, root: Path) -> tuple[str, str]:
    """Label-map hash and path string of ``name`` at ``TAU`` on the pinned clip."""
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
    digest = hashlib.sha256(np.stack(labels).astype(np.uint8).tobytes()).hexdigest()
    return digest, paths


@pytest.mark.parametrize("name", sorted(PINNED))
def test_shipped_gate_outputs_are_pinned(name: str, shared_data: Path) -> None:
    if not weights_path(ZOO[name].weights).is_file():
        pytest.skip(f"shipped {name} weights not built")
    digest, paths = run_pinned(name, shared_data)
    want_digest, want_paths = PINNED[name]
    assert "a" in want_paths, "the pinned clip must include reused frames"
    assert paths == want_paths
    assert digest == want_digest


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from conftest import SHARED_DATA

    for model_name in sys.argv[1:] or sorted(PINNED):
        print(model_name, run_pinned(model_name, SHARED_DATA))
