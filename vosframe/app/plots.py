"""Plots for benchmarks and the demo (matplotlib, Agg canvas: no display, no global state).

* :func:`plot_accuracy_speed`: J&F against FPS, one labelled point per gate threshold
  (like Fig. 6/7 of Park et al., CVPR 2021);
* :func:`plot_gate_timeline`: per object, which path each frame took, with the clip's motion
  mode per frame and the gate's reuse probability when known.

Figures are drawn on :class:`matplotlib.figure.Figure` objects with an Agg canvas, so
nothing depends on (or changes) pyplot's backend.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

PATH_COLOURS: Mapping[str, str] = {
    "init": "#4c72b0",
    "full": "#c8c8c8",
    "alt": "#dd8452",
    "": "#ffffff",
}
"""Colour per path in timelines (``""``: the object is not tracked on that frame)."""

MOTION_COLOURS: Mapping[str, str] = {
    "start": "#4c72b0",
    "normal": "#e5e5e5",
    "static": "#55a868",
    "jump": "#c44e52",
}
"""Colour per motion mode of a synthetic clip."""


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path


_COLOURS = ("#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3")


def _tau_label(tau: float | None) -> str:
    return "as configured" if tau is None else f"τ={tau:g}" + (" (base)" if tau >= 1 else "")


def plot_accuracy_speed(
    points: Sequence[Mapping[str, float | None]],
    path: str | Path,
    *,
    fps_key: str = "fps_pooled",
    jf_key: str = "J&F",
    title: str | None = None,
) -> Path:
    """Accuracy against speed: one labelled point per threshold, joined in threshold order.

    With points of several variants (a ``variant`` key other than ``"base"``), each variant
    is one coloured curve from the shared base point (τ = 1), as the paper's Figs. 6-7.

    Args:
        points: One mapping per run with ``tau`` (float, or None for an ungated model), the
            FPS under ``fps_key``, the J&F (a fraction) under ``jf_key`` and optionally the
            ``variant`` that ran it.
        path: Output PNG.
        fps_key: Key of the FPS to plot.
        jf_key: Key of the J&F to plot (plotted in percent).
        title: Figure title.

    Returns:
        The written path.
    """
    fig = Figure(figsize=(6.0, 4.2))
    ax = fig.add_subplot(1, 1, 1)
    ordered = sorted(points, key=lambda p: -1.0 if p.get("tau") is None else -float(p["tau"]))
    xs = [float(p[fps_key]) for p in ordered]
    ys = [100.0 * float(p[jf_key]) for p in ordered]
    names = list(dict.fromkeys(p["variant"] for p in ordered if p.get("variant", "base") != "base"))
    if len(names) > 1:
        base = [(x, y) for p, x, y in zip(ordered, xs, ys) if p.get("variant") == "base"]
        for k, name in enumerate(names):
            curve = base + [(x, y) for p, x, y in zip(ordered, xs, ys) if p.get("variant") == name]
            colour = _COLOURS[k % len(_COLOURS)]
            ax.plot(*zip(*curve), "-o", color=colour, linewidth=1.2, markersize=5, label=name)
        ax.legend(fontsize=8)
    elif len(ordered) > 1:
        ax.plot(xs, ys, "-", color="#999999", linewidth=1, zorder=1)
    for p, x, y in zip(ordered, xs, ys):
        base = p.get("tau") is None or float(p["tau"]) >= 1.0
        colour = "#4c72b0" if base else "#dd8452"
        if base or len(names) <= 1:  # variants' points are drawn by their curves
            ax.scatter([x], [y], s=50, marker="s" if base else "o", color=colour, zorder=2)
        label = _tau_label(p.get("tau"))
        ax.annotate(label, (x, y), textcoords="offset points", xytext=(6, 4), fontsize=8)
    pooled = fps_key == "fps_pooled"
    ax.set_xlabel("FPS" + (" (pooled: total frames / total model time)" if pooled else ""))
    ax.set_ylabel("J&F (%)")
    ax.grid(True, alpha=0.3)
    if xs and all(math.isfinite(v) for v in xs + ys):
        dx = (max(xs) - min(xs)) or max(xs) * 0.1 or 1.0
        dy = (max(ys) - min(ys)) or 1.0
        ax.set_xlim(min(xs) - 0.15 * dx, max(xs) + 0.35 * dx)
        ax.set_ylim(min(ys) - 0.2 * dy, max(ys) + 0.25 * dy)
    if title:
        ax.set_title(title, fontsize=10)
    return _save(fig, path)


def plot_gate_timeline(
    paths: Mapping[int, Sequence[str]],
    path: str | Path,
    *,
    motion: Sequence[str] | None = None,
    p_reuse: Mapping[int, Sequence[float]] | None = None,
    tau: float | None = None,
    title: str | None = None,
) -> Path:
    """Per object and frame: the path taken (init / full / alternative), plus context.

    Args:
        paths: ``{object id: [path per frame]}`` with ``init``, ``full``, ``alt`` or ``""``
            (not tracked on that frame).
        path: Output PNG.
        motion: The clip's motion mode per frame (``start``/``normal``/``static``/``jump``),
            drawn as the top row when given.
        p_reuse: ``{object id: [reuse probability per frame]}`` (NaN where the gate did not
            run); drawn below the rows, with ``tau`` as a dashed line, when given.
        tau: The gate threshold (a frame is reused iff ``p_reuse > tau``).
        title: Figure title.

    Returns:
        The written path.
    """
    ids = list(paths)
    n = max((len(v) for v in paths.values()), default=len(motion or ()))
    rows: list[tuple[str, list[str], Mapping[str, str]]] = []
    if motion is not None:
        rows.append(("motion", list(motion), MOTION_COLOURS))
    rows += [(f"object {i}", list(paths[i]), PATH_COLOURS) for i in ids]
    has_p = p_reuse is not None and any(
        any(math.isfinite(v) for v in vals) for vals in p_reuse.values()
    )
    fig = Figure(figsize=(max(6.0, 0.16 * n + 2.0), 0.45 * len(rows) + (2.2 if has_p else 0.9)))
    grid = fig.add_gridspec(2 if has_p else 1, 1, height_ratios=[len(rows), 3] if has_p else [1])
    ax = fig.add_subplot(grid[0])
    for r, (_, values, colours) in enumerate(rows):
        y = len(rows) - 1 - r
        for t, v in enumerate(values):
            colour = colours.get(v, "#ffffff")
            ax.add_patch(Rectangle((t, y + 0.1), 1.0, 0.8, facecolor=colour, edgecolor="white"))
    ax.set_xlim(0, n)
    ax.set_ylim(0, len(rows))
    ax.set_yticks([len(rows) - 1 - r + 0.5 for r in range(len(rows))])
    ax.set_yticklabels([name for name, _, _ in rows])
    ax.set_xlabel("frame")
    handles = [Patch(color=PATH_COLOURS[k], label=k) for k in ("init", "full", "alt")]
    if motion is not None:
        seen = [m for m in MOTION_COLOURS if m in set(motion) and m != "start"]
        handles += [Patch(color=MOTION_COLOURS[m], label=m) for m in seen]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    if has_p:
        assert p_reuse is not None
        axp = fig.add_subplot(grid[1], sharex=ax)
        for i in ids:
            vals = list(p_reuse.get(i, ()))
            axp.plot([t + 0.5 for t in range(len(vals))], vals, ".-", label=f"object {i}")
        if tau is not None:
            axp.axhline(tau, color="k", linestyle="--", linewidth=1, label=f"τ={tau:g}")
        axp.set_ylim(-0.02, 1.02)
        axp.set_ylabel("p_reuse")
        axp.set_xlabel("frame")
        axp.grid(True, alpha=0.3)
        axp.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return _save(fig, path)
