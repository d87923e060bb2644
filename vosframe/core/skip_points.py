"""Skip points: where a plugin may cut a base model's computation and re-enter it.

A base model *declares* the skip points it offers (:class:`SkipPoints`); a plugin
*declares* what it needs (:class:`Need`); :func:`resolve` checks one against the other at
build time, as mmdet's plugin positions are validated, and fails with an error that
lists both sides.

The three kinds follow the reuse-gate paper (supplement, section 3):

* ``feature_cut`` (F_t): the last feature level that is always computed. On the
  alternative path the feature extractor stops there.
* ``reentry`` (R_t): the output of a refiner level. The alternative path supplies it (and
  the score), and the refiner continues with the next level on the current frame's
  features. A model may offer several (e.g. at stride 16 and at stride 8).
* ``previous``: the "previous information" a plugin compares the frame against: the last
  computed localizer score (``source="score"``) or the last output mask
  (``source="mask"``), at a given stride.
"""

from __future__ import annotations

from typing import Literal

import attrs

from vosframe.core.errors import SkipPointError

Kind = Literal["feature_cut", "reentry", "previous"]


@attrs.frozen
class SkipPoint:
    """One skip point a base model offers.

    Attributes:
        name: Unique name, e.g. ``"F_t"``, ``"R_t@16"``, ``"prev"``.
        kind: ``feature_cut``, ``reentry`` or ``previous``.
        stride: Stride of the tensor at this point.
        channels: Channels of the tensor at this point.
        caches: What is cached at this point (for humans and ``vosframe models``).
        source: For ``previous`` only: ``"score"`` or ``"mask"``.
    """

    name: str
    kind: Kind
    stride: int
    channels: int
    caches: str = ""
    source: Literal["score", "mask"] | None = None

    def describe(self) -> str:
        """One-line human description."""
        extra = f", source={self.source}" if self.source else ""
        return f"{self.name} ({self.kind}, stride {self.stride}, {self.channels} ch{extra})"


@attrs.frozen
class SkipPoints:
    """The set of skip points a base model offers.

    Attributes:
        points: All offered points; names are unique.
        default_reentry: Name of the re-entry point used when a plugin names none.
    """

    points: tuple[SkipPoint, ...]
    default_reentry: str | None = None

    def __attrs_post_init__(self) -> None:
        names = [p.name for p in self.points]
        if len(set(names)) != len(names):
            raise SkipPointError(f"skip point names must be unique, got {names}")
        kinds = {p.kind for p in self.points}
        if self.default_reentry is None and "reentry" in kinds:
            first = next(p for p in self.points if p.kind == "reentry")
            object.__setattr__(self, "default_reentry", first.name)
        if self.default_reentry is not None and self.default_reentry not in names:
            raise SkipPointError(
                f"default re-entry point {self.default_reentry!r} is not among {names}"
            )

    def of_kind(self, kind: Kind) -> tuple[SkipPoint, ...]:
        """All points of one kind."""
        return tuple(p for p in self.points if p.kind == kind)

    def get(self, name: str) -> SkipPoint:
        """The point called ``name``; raises :class:`SkipPointError` listing the others."""
        for p in self.points:
            if p.name == name:
                return p
        raise SkipPointError(f"no skip point {name!r}; the model offers: {self.describe()}")

    def describe(self) -> str:
        """Comma-separated description of all points."""
        return ", ".join(p.describe() for p in self.points) or "(none)"

    def to_json(self) -> list[dict]:
        """JSON-able list (for ``vosframe models --json``)."""
        return [attrs.asdict(p) for p in self.points]


@attrs.frozen
class Need:
    """A skip point a plugin needs.

    Attributes:
        kind: The kind of point needed.
        name: A specific point name, or None for "the model's one/default of this kind".
        stride: Required stride, or None for any.
        source: For ``previous``: required source, or None for any.
    """

    kind: Kind
    name: str | None = None
    stride: int | None = None
    source: Literal["score", "mask"] | None = None

    def describe(self) -> str:
        """Human description."""
        parts = [self.kind]
        if self.name:
            parts.append(f"named {self.name!r}")
        if self.stride:
            parts.append(f"at stride {self.stride}")
        if self.source:
            parts.append(f"from the {self.source}")
        return " ".join(parts)


def _match(need: Need, offered: SkipPoints) -> SkipPoint | None:
    candidates = offered.of_kind(need.kind)
    if need.name is not None:
        candidates = tuple(p for p in candidates if p.name == need.name)
    elif need.kind == "reentry" and need.stride is None and offered.default_reentry:
        candidates = tuple(p for p in candidates if p.name == offered.default_reentry)
    if need.stride is not None:
        candidates = tuple(p for p in candidates if p.stride == need.stride)
    if need.source is not None:
        candidates = tuple(p for p in candidates if p.source == need.source)
    return candidates[0] if candidates else None


def resolve(needs: tuple[Need, ...], offered: SkipPoints, *, model: str, plugin: str) -> dict:
    """Match a plugin's needs against a model's offer.

    Args:
        needs: What the plugin needs.
        offered: What the model offers.
        model: Model name (for the error message).
        plugin: Plugin name (for the error message).

    Returns:
        The matched points keyed by kind (one per kind).

    Raises:
        SkipPointError: Listing what the model offers and what the plugin needs.
    """
    matched: dict[str, SkipPoint] = {}
    missing = []
    for need in needs:
        point = _match(need, offered)
        if point is None:
            missing.append(need)
        else:
            matched[need.kind] = point
    if missing:
        raise SkipPointError(
            f"plugin {plugin!r} cannot attach to model {model!r}: it needs "
            f"{'; '.join(n.describe() for n in missing)}, but the model offers "
            f"{offered.describe()}. Fix: choose a skip point the model offers in the plugin's "
            f"config (e.g. reentry='{offered.default_reentry}'), or declare the missing point "
            f"in the model's skip_points()."
        )
    return matched
