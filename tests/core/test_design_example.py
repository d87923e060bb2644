"""The worked example of docs/design.md ("Writing a path plugin") runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from vosframe.registry import PLUGINS

pytestmark = pytest.mark.usefixtures("one_thread")

DOC = Path(__file__).parents[2] / "docs" / "design.md"


def _example() -> str:
    text = DOC.read_text()
    section = text.split("### Writing a path plugin", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "docs/design.md lost its worked example"
    return match.group(1)


def test_the_docs_path_plugin_builds_runs_and_alternates():
    code = _example()
    ns: dict = {}
    try:
        exec(compile(code, str(DOC), "exec"), ns)
        model = ns["model"]
        plugin = model.path_plugin
        assert type(plugin).__name__ == "EveryOther"
        rng = np.random.default_rng(0)
        frames = [rng.integers(0, 255, (64, 96, 3), dtype=np.uint8) for _ in range(5)]
        label = np.zeros((64, 96), np.uint8)
        label[20:44, 30:60] = 1
        session = model.new_session(precision="fp32")
        paths = []
        for i, frame in enumerate(frames):
            result = session.step(frame, label if i == 0 else None)
            paths.append(result.paths[1].path)
            assert result.probs[1].shape[-2:] == (64, 96)
        assert paths == ["init", "full", "alt", "full", "alt"]
        forced = model.new_session(precision="fp32", force="full")
        forced.step(frames[0], label)
        assert forced.step(frames[1]).paths[1].path == "full"
        assert forced.step(frames[2]).paths[1].path == "full"
    finally:
        PLUGINS.module_dict.pop("EveryOther", None)
