"""Cross-validation folds of a training set: fit on some videos, select on the others.

Every choice (recipe settings, seeds, inference settings) is made on held-out videos of
the *training* set, never on the validation set (``docs/selection_protocol.md``). A
:class:`FoldTable` splits a fixed list of videos into ``K`` folds; fold ``k`` selects on
its own videos and fits on all the others, so with ``K = 5`` and 30 videos each model is
trained on 24 videos and judged on 6, and every video is held out exactly once.

The DAVIS-2016 train table (:data:`DAVIS16_TRAIN_FOLDS`) is written out literally below,
so it never changes silently (a test pins it); :func:`make_folds` is the rule that
produced it: the videos ordered by ``sha256(f"{seed}:{name}")`` (seed 0), cut into ``K``
consecutive groups. The rule needs no random generator, so it gives the same table on
every Python and NumPy version.

Python API::

    from vosframe.data.folds import DAVIS16_TRAIN_FOLDS as folds
    folds.select(0)   # the 6 held-out videos of fold 0
    folds.fit(0)      # the 24 videos a fold-0 model is trained on
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

import attrs

from vosframe.core.errors import InputError

__all__ = ["DAVIS16_TRAIN_FOLDS", "FOLD_TABLES", "Fold", "FoldTable", "fold_table", "make_folds"]


@attrs.frozen
class Fold:
    """One fold of a :class:`FoldTable`.

    Attributes:
        index: Fold number, from 0.
        fit: Videos a model of this fold is trained on (every other fold's videos).
        select: Held-out videos its settings are judged on.
    """

    index: int
    fit: tuple[str, ...]
    select: tuple[str, ...]


def _check_groups(groups: tuple[tuple[str, ...], ...]) -> None:
    names = [n for g in groups for n in g]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if len(groups) < 2 or any(not g for g in groups) or dupes:
        raise InputError(
            f"a fold table needs at least 2 non-empty folds and each video in one fold only; "
            f"got {len(groups)} fold(s), repeated videos {dupes}"
        )


@attrs.frozen
class FoldTable:
    """A fixed split of a training set's videos into folds.

    Attributes:
        name: Name of the table (recorded in results).
        groups: The held-out (select) videos of each fold; fold ``k`` fits on the others.
    """

    name: str
    groups: tuple[tuple[str, ...], ...] = attrs.field(
        converter=lambda gs: tuple(tuple(g) for g in gs)
    )

    def __attrs_post_init__(self) -> None:
        _check_groups(self.groups)

    @property
    def num_folds(self) -> int:
        """Number of folds ``K``."""
        return len(self.groups)

    @property
    def videos(self) -> tuple[str, ...]:
        """Every video of the table, sorted by name."""
        return tuple(sorted(n for g in self.groups for n in g))

    def check_fold(self, k: int) -> int:
        """Return ``k`` if it is a fold of this table.

        Raises:
            InputError: ``k`` is not in ``0 .. K-1`` (the message names the range).
        """
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < self.num_folds:
            raise InputError(
                f"fold {k!r} does not exist in the fold table {self.name!r}. Fix: give a fold "
                f"number from 0 to {self.num_folds - 1}."
            )
        return k

    def select(self, k: int) -> tuple[str, ...]:
        """The held-out videos of fold ``k`` (in table order)."""
        return self.groups[self.check_fold(k)]

    def fit(self, k: int) -> tuple[str, ...]:
        """The videos a model of fold ``k`` is trained on, sorted by name."""
        held = set(self.select(k))
        return tuple(n for n in self.videos if n not in held)

    def fit_of(self, k: int, available: Iterable[str], where: object) -> tuple[str, ...]:
        """:meth:`fit`, after checking that a data folder holds every video of the table.

        Args:
            k: The fold.
            available: The video names the folder holds.
            where: The folder, for the message.

        Raises:
            InputError: Unknown fold, or some of the table's videos are missing.
        """
        missing = sorted(set(self.videos) - set(available))
        if missing:
            raise InputError(
                f"fold {k} of {self.name!r} needs the videos {missing[:5]}, which are not in "
                f"{where}. Fix: point the source at the training set the table splits, or "
                f"drop fold="
            )
        return self.fit(k)

    def fold(self, k: int) -> Fold:
        """Fold ``k`` as a :class:`Fold`."""
        return Fold(k, self.fit(k), self.select(k))

    def folds(self, ks: Iterable[int] | None = None) -> list[Fold]:
        """Folds ``ks`` (default: all), checked."""
        return [self.fold(k) for k in (range(self.num_folds) if ks is None else ks)]

    def fold_of(self, video: str) -> int:
        """The fold in which ``video`` is held out.

        Raises:
            InputError: The video is not in the table.
        """
        for k, group in enumerate(self.groups):
            if video in group:
                return k
        raise InputError(f"video {video!r} is not in the fold table {self.name!r}")


def make_folds(names: Sequence[str], num_folds: int = 5, seed: int = 0) -> list[tuple[str, ...]]:
    """Split ``names`` into ``num_folds`` groups by a seeded hash order.

    The videos are ordered by ``sha256(f"{seed}:{name}")`` and cut into consecutive groups
    whose sizes differ by at most one (the first groups get the extra videos).

    Raises:
        InputError: Fewer videos than folds, fewer than 2 folds, or repeated names.
    """
    if num_folds < 2 or len(names) < num_folds or len(set(names)) != len(names):
        raise InputError(
            f"cannot split {len(names)} video(s) into {num_folds} folds: need at least 2 "
            f"folds, at least one video per fold and unique names"
        )
    order = sorted(names, key=lambda n: hashlib.sha256(f"{seed}:{n}".encode()).hexdigest())
    base, extra = divmod(len(order), num_folds)
    groups, start = [], 0
    for k in range(num_folds):
        size = base + (1 if k < extra else 0)
        groups.append(tuple(order[start : start + size]))
        start += size
    return groups


DAVIS16_TRAIN_FOLDS = FoldTable(
    "davis16-train-5fold",
    (
        ("paragliding", "bus", "bear", "rhino", "rollerblade", "hockey"),
        ("dance-jump", "elephant", "tennis", "horsejump-low", "car-turn", "hike"),
        ("dog-agility", "mallard-fly", "flamingo", "breakdance-flare", "bmx-bumps", "motorbike"),
        ("boat", "surf", "lucia", "motocross-bumps", "train", "kite-walk"),
        ("stroller", "swing", "scooter-gray", "soccerball", "mallard-water", "drift-turn"),
    ),
)
"""The 30 DAVIS-2016 train videos in 5 folds (24 fit / 6 select), ``make_folds(.., 5, 0)``."""

FOLD_TABLES: Mapping[str, FoldTable] = MappingProxyType(
    {DAVIS16_TRAIN_FOLDS.name: DAVIS16_TRAIN_FOLDS}
)
"""Fold tables by name (read-only; pass a :class:`FoldTable` for another split)."""


def fold_table(table: str | FoldTable | None = None) -> FoldTable:
    """A fold table by name (default: the DAVIS-2016 train table), or ``table`` itself.

    Raises:
        InputError: Unknown name (the message lists the known ones).
    """
    if table is None:
        return DAVIS16_TRAIN_FOLDS
    if isinstance(table, FoldTable):
        return table
    if table not in FOLD_TABLES:
        raise InputError(
            f"no fold table {table!r}; known tables: {', '.join(FOLD_TABLES)}. Fix: use one of "
            f"them or pass a FoldTable."
        )
    return FOLD_TABLES[table]
