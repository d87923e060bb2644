"""Describe what is registered: models with their skip points, backbones, plugins, and
which distribution provided each (the library side of ``vosframe models``)."""

from __future__ import annotations

import inspect
from typing import Any

from vosframe.discovery import default_host, failures
from vosframe.registry import REGISTRIES


def _summary(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.splitlines()[0] if doc else ""


def describe_registered(*, with_skip_points: bool = True) -> dict[str, Any]:
    """Everything registered, as JSON-able data.

    Args:
        with_skip_points: Build each base model with its default arguments to list its
            skip points (models that need arguments report why they could not be built).

    Returns:
        ``{"models": [...], "backbones": [...], "plugins": [...], "datasets": [...],
        "metrics": [...], "hooks": [...], "failures": [...]}``.
    """
    host = default_host()
    host.ensure_loaded()
    out: dict[str, Any] = {}
    for key, registry in REGISTRIES.items():
        rows = []
        for name in registry.names():
            obj = registry.get(name)
            row: dict[str, Any] = {
                "name": name,
                "distribution": host.source_of(key, name),
                "summary": _summary(obj),
            }
            if key == "models" and with_skip_points:
                try:
                    row["skip_points"] = obj().validate_skip_points().to_json()
                except Exception as exc:  # a model that needs config to build
                    row["skip_points"] = None
                    row["skip_points_error"] = f"{type(exc).__name__}: {exc}"
            if key == "plugins":
                try:
                    needs = obj().needs
                except Exception:
                    needs = getattr(obj, "needs", ())
                row["needs"] = [n.describe() for n in needs]
            rows.append(row)
        out[key] = rows
    out["failures"] = [
        {"name": f.name, "distribution": f.distribution, "stage": f.stage, "error": f.error}
        for f in failures()
    ]
    return out
