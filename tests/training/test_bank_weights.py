"""Per-source sampling weights of the bank's training clips."""

from __future__ import annotations

import numpy as np
import pytest

from vosframe.core.errors import ConfigError
from vosframe.training.datasets import BankClipDataset

BACKBONE = dict(type="ResNet", depth=18)


def _dataset(root, sources, samples=600):
    return BankClipDataset(
        root,
        BACKBONE,
        sources,
        size=(64, 96),
        num_frames=2,
        max_skip=1,
        samples_per_epoch=samples,
        seed=0,
    )


def _from_stress(ds, i):
    return "/stress/" in ds[i]["key"]


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    return tmp_path_factory.mktemp("weights") / "bank"


SOURCES = [
    dict(type="synthetic", count=2, length=6, seed=1),
    dict(type="stress", count=1, length=12, seed=2, kinds=["occlusion"]),
]


def test_without_weights_each_candidate_is_equally_likely(bank):
    ds = _dataset(bank, SOURCES)
    owner = ["stress" if s.name.startswith("stress/") else "synthetic" for s in ds.sequences]
    counts = [sum(owner[s] == k for s, _, _ in ds.candidates) for k in ("synthetic", "stress")]
    shares = ds.source_shares()
    assert [k for k, _ in shares] == ["synthetic", "stress"]
    assert [v for _, v in shares] == pytest.approx(np.array(counts) / sum(counts))
    # with a weight of 1 everywhere the shares stay, only the random stream changes
    weighted = _dataset(bank, [dict(s, weight=1) for s in SOURCES])
    assert weighted.source_shares() == pytest.approx(shares)


def test_a_weight_sets_a_sources_share_of_the_clips(bank):
    base = dict(_dataset(bank, SOURCES).source_shares())
    ds = _dataset(bank, [SOURCES[0], dict(SOURCES[1], weight=4)])
    shares = dict(ds.source_shares())
    expected = 4 * base["stress"] / (4 * base["stress"] + base["synthetic"])
    assert shares["stress"] == pytest.approx(expected)
    drawn = np.mean([_from_stress(ds, i) for i in range(len(ds))])
    assert abs(drawn - expected) < 0.06  # 600 draws: ~3 standard deviations
    plain = np.mean([_from_stress(_dataset(bank, SOURCES), i) for i in range(len(ds))])
    assert drawn - plain > 0.15  # the weight moved what is drawn, not only the report


@pytest.mark.parametrize("weight", [0, -1, float("nan"), "a lot", None])
def test_a_bad_weight_is_refused_before_the_bank_is_built(tmp_path, weight):
    with pytest.raises(ConfigError, match="weight of the 'stress' bank source.*Fix"):
        _dataset(tmp_path / "bank", [SOURCES[0], dict(SOURCES[1], weight=weight)])
    assert not (tmp_path / "bank").exists()
