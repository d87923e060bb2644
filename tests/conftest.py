"""Shared pytest fixtures.

Tests that read ``../shared/data`` use the ``shared_data`` fixture. On a user's machine
without that folder they are skipped with a reason; ``.ci/run`` sets
``VOSFRAME_REQUIRE_SHARED_DATA=1`` so that its absence fails the run instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("VOSFRAME_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ``../shared/data`` (DAVIS 2016 + golden numbers); skips when absent."""
    if not (SHARED_DATA / "davis2016").is_dir():
        msg = f"shared data not found at {SHARED_DATA} (set VOSFRAME_SHARED_DATA to its path)"
        if os.environ.get("VOSFRAME_REQUIRE_SHARED_DATA") == "1":
            pytest.fail(msg + "; VOSFRAME_REQUIRE_SHARED_DATA=1 makes this a failure")
        pytest.skip(msg)
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _torch_threads():
    """Keep tests deterministic and light on a 2-core machine."""
    import torch

    torch.manual_seed(0)
    yield


@pytest.fixture
def one_thread():
    """One intra-op torch thread for the test: small tensors gain nothing from two, and on
    a busy 2-core machine two spinning threads slow tests down several-fold. Use it with
    ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
