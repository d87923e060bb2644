"""Multi-object soft aggregation: per-object foreground probabilities -> class probabilities.

Each function maps ``(N, 1, H, W)`` independent per-object probabilities to
``(N + 1, 1, H, W)`` probabilities that sum to one over classes, background first.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

import torch

from vosframe.core.errors import ConfigError

_EPS = 1e-7


def min_odds(probs: torch.Tensor) -> torch.Tensor:
    """FRTM / AGAME aggregation: background = min_i(1 - p_i), softmax over the odds p/(1-p).

    This is what the official FRTM and TTVOS code do (softmax of the *odds*, not of the
    log-odds).
    """
    p = probs.float().clamp(_EPS, 1 - _EPS)
    bg = (1 - p).min(dim=0, keepdim=True).values
    allp = torch.cat([bg, p], dim=0).clamp(_EPS, 1 - _EPS)
    return torch.softmax(allp / (1 - allp), dim=0)


def prod_logodds(probs: torch.Tensor) -> torch.Tensor:
    """STM / STCN aggregation: background = prod_i(1 - p_i), softmax over the log-odds."""
    p = probs.float().clamp(_EPS, 1 - _EPS)
    bg = torch.prod(1 - p, dim=0, keepdim=True)
    allp = torch.cat([bg, p], dim=0).clamp(_EPS, 1 - _EPS)
    return torch.softmax(torch.log(allp / (1 - allp)), dim=0)


def class_argmax(probs: torch.Tensor) -> torch.Tensor:
    """``probs.argmax(0)`` for ``(C, H, W)`` class maps, computed as a running comparison.

    Same result as ``argmax`` (the first maximum wins on ties), but ``argmax`` over the
    outer class dimension is ~30 ms for two classes at 854x480 on a CPU; this is ~1 ms.

    Returns:
        ``(H, W)`` int64 class indices.
    """
    best = probs[0]
    index = torch.zeros(probs.shape[1:], dtype=torch.int64, device=probs.device)
    for c in range(1, probs.shape[0]):
        better = probs[c] > best
        best = torch.where(better, probs[c], best)
        index.masked_fill_(better, c)
    return index


AGGREGATORS: MappingProxyType[str, Callable[[torch.Tensor], torch.Tensor]] = MappingProxyType(
    {"min_odds": min_odds, "prod_logodds": prod_logodds}
)


def get_aggregator(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """Look an aggregation function up by name."""
    try:
        return AGGREGATORS[name]
    except KeyError:
        raise ConfigError(
            f"unknown aggregation {name!r}; choose one of {sorted(AGGREGATORS)}"
        ) from None
