"""Text tables, CSV files and JSON for evaluation results."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from vosframe.metrics.results import GLOBAL_KEYS, EvaluationResult

CSV_FLOAT_FORMAT = "%.3f"
"""Float format of the CSV files (the official code writes ``%.3f`` too)."""


def _fmt(value: float, width: int = 8) -> str:
    return f"{'nan':>{width}}" if math.isnan(value) else f"{value:>{width}.3f}"


def format_table(result: EvaluationResult, title: str = "") -> str:
    """Per-sequence rows and a global row with J&F and J/F Mean, Recall, Decay.

    Per-sequence figures are pooled over that sequence's objects; the global row pools all
    objects of all sequences (the official global figures). Values are fractions.

    Args:
        result: Evaluation result.
        title: Optional first line.

    Returns:
        The table as text (no trailing newline).
    """
    headers = ["J&F", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay"]
    per_seq = result.per_sequence()
    name_width = max([len("sequence"), len("Global"), *(len(s) for s in per_seq)]) + 2
    head = f"{'sequence':<{name_width}}{'objects':>8}" + "".join(f"{h:>10}" for h in headers)
    lines = [title] if title else []
    lines += [head, "-" * len(head)]
    counts = {s: 0 for s in per_seq}
    for o in result.objects:
        counts[o.sequence] += 1
    for seq, figures in per_seq.items():
        cells = "".join(_fmt(figures[k], 10) for k in GLOBAL_KEYS)
        lines.append(f"{seq:<{name_width}}{counts[seq]:>8}{cells}")
    lines.append("-" * len(head))
    figures = result.global_figures()
    cells = "".join(_fmt(figures[k], 10) for k in GLOBAL_KEYS)
    lines.append(f"{'Global':<{name_width}}{len(result.objects):>8}{cells}")
    return "\n".join(lines)


def global_json(result: EvaluationResult) -> str:
    """The seven global figures as a JSON object (fractions, official key names)."""
    figures = result.global_figures()
    return json.dumps({k: figures[k] for k in GLOBAL_KEYS})


def write_csv(result: EvaluationResult, directory: str | Path, prefix: str = "") -> list[Path]:
    """Write the official-style CSV files of a run.

    * ``<prefix>global_results.csv``: the seven global figures (header + one row);
    * ``<prefix>per-object_results.csv``: one row per object (``<sequence>_<id>``) with its
      J&F-Mean and six statistics (the official file only has the two means);
    * ``<prefix>per-sequence_results.csv``: one row per sequence (pooled over its objects).

    Args:
        result: Evaluation result.
        directory: Output folder (created if needed).
        prefix: File-name prefix, e.g. ``"osvos_"``.

    Returns:
        The written paths.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    global_path = directory / f"{prefix}global_results.csv"
    figures = result.global_figures()
    with global_path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(GLOBAL_KEYS)
        writer.writerow([CSV_FLOAT_FORMAT % figures[k] for k in GLOBAL_KEYS])
    paths = [global_path]
    tables = {
        "per-sequence_results.csv": result.per_sequence(),
        "per-object_results.csv": result.per_object(),
    }
    for filename, rows in tables.items():
        path = directory / f"{prefix}{filename}"
        with path.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["Sequence", *GLOBAL_KEYS])
            for name, row in rows.items():
                writer.writerow([name, *(CSV_FLOAT_FORMAT % row[k] for k in GLOBAL_KEYS)])
        paths.append(path)
    return paths
