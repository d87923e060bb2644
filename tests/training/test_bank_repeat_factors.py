"""Per-source repeat factors of the bank's training clips."""

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


def test_without_factors_each_candidate_is_equally_likely(bank):
    ds = _dataset(bank, SOURCES)
    owner = ["stress" if s.name.startswith("stress/") else "synthetic" for s in ds.sequences]
    counts = [sum(owner[s] == k for s, _, _ in ds.candidates) for k in ("synthetic", "stress")]
    shares = ds.source_shares()
    assert [k for k, _ in shares] == ["synthetic", "stress"]
    assert [v for _, v in shares] == pytest.approx(np.array(counts) / sum(counts))
    # with a factor of 1 everywhere the shares stay, only the random stream changes
    repeated = _dataset(bank, [dict(s, repeat_factor=1) for s in SOURCES])
    assert repeated.source_shares() == pytest.approx(shares)


def test_a_repeat_factor_sets_a_sources_share_of_the_clips(bank):
    base = dict(_dataset(bank, SOURCES).source_shares())
    ds = _dataset(bank, [SOURCES[0], dict(SOURCES[1], repeat_factor=4)])
    shares = dict(ds.source_shares())
    expected = 4 * base["stress"] / (4 * base["stress"] + base["synthetic"])
    assert shares["stress"] == pytest.approx(expected)
    drawn = np.mean([_from_stress(ds, i) for i in range(len(ds))])
    assert abs(drawn - expected) < 0.06  # 600 draws: ~3 standard deviations
    plain = np.mean([_from_stress(_dataset(bank, SOURCES), i) for i in range(len(ds))])
    assert drawn - plain > 0.15  # the factor moved what is drawn, not only the report


@pytest.mark.parametrize("factor", [0, -1, float("nan"), "a lot", None])
def test_a_bad_repeat_factor_is_refused_before_the_bank_is_built(tmp_path, factor):
    with pytest.raises(ConfigError, match="repeat_factor of the 'stress' bank source.*Fix"):
        _dataset(tmp_path / "bank", [SOURCES[0], dict(SOURCES[1], repeat_factor=factor)])
    assert not (tmp_path / "bank").exists()


def test_a_memory_datasets_weight_key_is_refused_with_the_bank_key_named(tmp_path):
    with pytest.raises(ConfigError, match="takes repeat_factor, not weight.*Fix"):
        _dataset(tmp_path / "bank", [SOURCES[0], dict(SOURCES[1], weight=2)])
    assert not (tmp_path / "bank").exists()


@pytest.mark.parametrize("share", [0.2, 0.6])
def test_a_share_fixes_a_sources_part_of_the_clips_whatever_its_candidates(bank, share):
    ds = _dataset(bank, [SOURCES[0], dict(SOURCES[1], share=share)])
    assert dict(ds.source_shares())["stress"] == pytest.approx(share)
    drawn = np.mean([_from_stress(ds, i) for i in range(len(ds))])
    assert abs(drawn - share) < 3 * np.sqrt(share * (1 - share) / len(ds)) + 0.01
    # the same share from a source with other candidates (a longer stress clip)
    longer = dict(SOURCES[1], length=18, share=share)
    assert dict(_dataset(bank, [SOURCES[0], longer]).source_shares())["stress"] == pytest.approx(
        share
    )


@pytest.mark.parametrize(
    "sources, match",
    [
        ([SOURCES[0], dict(SOURCES[1], share=1.2)], "share of the 'stress' bank source.*Fix"),
        ([SOURCES[0], dict(SOURCES[1], share="half")], "share of the 'stress' bank source.*Fix"),
        (
            [SOURCES[0], dict(SOURCES[1], share=0.3, repeat_factor=2)],
            "both share and repeat_factor.*Fix",
        ),
        (
            [dict(SOURCES[0], share=0.5), dict(SOURCES[1], share=0.5)],
            "leave no part of the clips.*Fix",
        ),
    ],
)
def test_bad_shares_are_refused_before_the_bank_is_built(tmp_path, sources, match):
    with pytest.raises(ConfigError, match=match):
        _dataset(tmp_path / "bank", sources)
    assert not (tmp_path / "bank").exists()


def test_a_share_beside_sources_without_clips_is_explained(bank):
    from vosframe.core.errors import DataError

    with pytest.raises(DataError, match="without a share have no training clip.*Fix"):
        BankClipDataset(
            bank,
            BACKBONE,
            [SOURCES[0], dict(SOURCES[1], share=0.5)],
            size=(64, 96),
            num_frames=7,  # longer than the 6-frame synthetic clips, not the 12-frame stress one
            max_skip=1,
            samples_per_epoch=10,
            seed=0,
        )
