"""Paired comparison of two recipes on the held-out folds, judged by a rule fixed in advance.

A recipe change (more training clips, another loss, a shorter schedule) is a different set
of trained weights, not an inference setting, so :func:`~vosframe.app.selection.run_folds`
cannot compare it as a variant. Each recipe is run over the folds on its own
(``vosframe select --checkpoint 'work_dirs/<recipe>_fold{fold}_seed<S>/...'``), and
:func:`compare_selections` pairs the two reports video by video: on every fold both cover,
each video's J&F is averaged over each recipe's seeds and the candidate's minus the base's
is that video's gain.

A mean gain over a dozen videos can rest on one video that one recipe loses and the other
keeps (a few tens of points), so the verdict is an :class:`AdoptionRule` with three checks,
all of which must hold: the mean gain, the median video's gain (robust to one outlier) and
the worst fold's loss. The rule is given before the reports are read, and is written into
the comparison beside the figures, so a reader sees what was decided and on what.
"""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Mapping
from typing import Any

import attrs

from vosframe.app.outdir import write_report_files
from vosframe.core.errors import InputError

__all__ = [
    "AdoptionRule",
    "PAIRING_KEYS",
    "compare_selections",
    "format_comparison",
    "write_comparison",
]

PAIRING_KEYS: tuple[str, ...] = ("data", "fold_table", "short_side", "precision")
"""Report settings that must agree for two reports' videos to be paired (the model and
checkpoints differ: they are what is compared)."""

TIE = 0.5
"""A video whose gain is within this many J&F points either way counts as a tie."""


def _finite(name: str):
    def check(_inst: Any, _attr: Any, value: float) -> None:
        if not isinstance(value, (int, float)) or value != value or abs(value) == float("inf"):
            raise InputError(f"{name} must be a finite number of J&F points, got {value!r}")

    return check


@attrs.frozen
class AdoptionRule:
    """When a candidate recipe replaces the base one (all in J&F points, candidate - base).

    Attributes:
        min_mean_gain: The mean gain over the paired videos must be at least this.
        min_median_gain: The median video's gain must be at least this (a mean carried by
            one video fails here).
        max_fold_loss: No fold may lose more than this (its mean gain >= -max_fold_loss).
    """

    min_mean_gain: float = attrs.field(default=1.0, validator=_finite("min_mean_gain"))
    min_median_gain: float = attrs.field(default=0.0, validator=_finite("min_median_gain"))
    max_fold_loss: float = attrs.field(default=2.0, validator=_finite("max_fold_loss"))

    def __attrs_post_init__(self) -> None:
        if self.max_fold_loss < 0:
            raise InputError(
                f"max_fold_loss is a loss in points and cannot be negative, got "
                f"{self.max_fold_loss}. Fix: e.g. 2.0 (no fold may lose more than 2 points)."
            )


def _variant(report: Mapping[str, Any], name: str | None, which: str) -> str:
    names = [v["variant"] for v in report.get("variants", [])]
    if not names:
        raise InputError(f"the {which} report has no variants. Fix: give a selection.json.")
    if name is None:
        return names[0]
    if name not in names:
        raise InputError(
            f"the {which} report has no variant {name!r}; it has {names}. Fix: name one of them."
        )
    return name


def _per_video(report: Mapping[str, Any], variant: str) -> dict[tuple[int, str], float]:
    """(fold, video) -> J&F averaged over the variant's seeds on that fold."""
    values: dict[tuple[int, str], list[float]] = {}
    for run in report["runs"]:
        if run["variant"] != variant:
            continue
        for video, scores in run["videos"].items():
            values.setdefault((int(run["fold"]), video), []).append(scores["J&F"])
    return {key: statistics.fmean(v) for key, v in values.items()}


def _seeds(report: Mapping[str, Any], variant: str) -> int:
    return len({r["seed"] for r in report["runs"] if r["variant"] == variant})


def compare_selections(
    base: Mapping[str, Any],
    candidate: Mapping[str, Any],
    *,
    rule: AdoptionRule | None = None,
    base_variant: str | None = None,
    candidate_variant: str | None = None,
) -> dict[str, Any]:
    """Pair two selection reports video by video and judge the candidate by ``rule``.

    Args:
        base: The report of the recipe in use (``selection.json`` as a dict).
        candidate: The report of the recipe that might replace it.
        rule: The adoption rule, fixed before the reports were made (default
            :class:`AdoptionRule`'s).
        base_variant: Which of ``base``'s variants to compare (default its first).
        candidate_variant: Which of ``candidate``'s variants (default its first).

    Returns:
        The comparison: the paired folds and videos, each video's J&F for both and its gain,
        per-fold and mean gains, the median video's gain, wins / ties / losses, each rule
        check with its outcome, and the verdict (``"adopt"`` or ``"keep the base"``).

    Raises:
        InputError: A report without runs; reports on other data, fold tables, sizes or
            precisions; an unknown variant; no fold in common; or a fold whose videos
            differ between the reports.
    """
    rule = rule or AdoptionRule()
    for which, report in (("base", base), ("candidate", candidate)):
        if not isinstance(report, Mapping) or "runs" not in report:
            raise InputError(
                f"the {which} report is not a selection report (no 'runs'). Fix: give the "
                "selection.json that `vosframe select` wrote."
            )
    for key in PAIRING_KEYS:
        if base.get(key) != candidate.get(key):
            raise InputError(
                f"the reports differ in {key} ({base.get(key)!r} vs {candidate.get(key)!r}): "
                "their videos cannot be paired. Fix: run both recipes with the same "
                "`vosframe select` settings."
            )
    bv = _variant(base, base_variant, "base")
    cv = _variant(candidate, candidate_variant, "candidate")
    b, c = _per_video(base, bv), _per_video(candidate, cv)
    folds_b, folds_c = {k for k, _ in b}, {k for k, _ in c}
    folds = sorted(folds_b & folds_c)
    if not folds:
        raise InputError(
            f"the base covers folds {sorted(folds_b)}, the candidate {sorted(folds_c)}: none "
            "in common. Fix: run the candidate on the base's folds (--folds)."
        )
    for k in folds:
        vb = sorted(v for f, v in b if f == k)
        vc = sorted(v for f, v in c if f == k)
        if vb != vc:
            raise InputError(
                f"fold {k} has videos {vb} in the base and {vc} in the candidate: another "
                "fold table or data folder. Fix: compare reports of the same folds."
            )
    videos = [
        {
            "video": v,
            "fold": k,
            "base": b[(k, v)],
            "candidate": c[(k, v)],
            "gain": c[(k, v)] - b[(k, v)],
        }
        for (k, v) in sorted(b)
        if k in folds
    ]
    gains = [row["gain"] for row in videos]
    fold_gain = {
        str(k): statistics.fmean(r["gain"] for r in videos if r["fold"] == k) for k in folds
    }
    fold_base = {
        str(k): statistics.fmean(r["base"] for r in videos if r["fold"] == k) for k in folds
    }
    fold_cand = {
        str(k): statistics.fmean(r["candidate"] for r in videos if r["fold"] == k) for k in folds
    }
    mean_gain = statistics.fmean(fold_gain.values())
    median_gain = statistics.median(gains)
    worst_fold = min(fold_gain.values())
    checks = [
        {
            "check": f"mean gain >= {rule.min_mean_gain:+.1f}",
            "points": 100 * mean_gain,
            "passed": 100 * mean_gain >= rule.min_mean_gain,
        },
        {
            "check": f"median video's gain >= {rule.min_median_gain:+.1f}",
            "points": 100 * median_gain,
            "passed": 100 * median_gain >= rule.min_median_gain,
        },
        {
            "check": f"worst fold's gain >= {-rule.max_fold_loss:+.1f}",
            "points": 100 * worst_fold,
            "passed": 100 * worst_fold >= -rule.max_fold_loss,
        },
    ]
    unpaired = sorted((folds_b | folds_c) - set(folds))
    return {
        "base": {
            "model": base.get("model"),
            "checkpoints": base.get("checkpoints"),
            "variant": bv,
            "seeds": _seeds(base, bv),
            "J&F": statistics.fmean(fold_base.values()),
            "folds": fold_base,
        },
        "candidate": {
            "model": candidate.get("model"),
            "checkpoints": candidate.get("checkpoints"),
            "variant": cv,
            "seeds": _seeds(candidate, cv),
            "J&F": statistics.fmean(fold_cand.values()),
            "folds": fold_cand,
        },
        **{key: base.get(key) for key in PAIRING_KEYS},
        "folds": folds,
        "unpaired_folds": unpaired,
        "rule": attrs.asdict(rule),
        "mean_gain": mean_gain,
        "median_gain": median_gain,
        "fold_gain": fold_gain,
        "wins": sum(g > TIE / 100 for g in gains),
        "ties": sum(abs(g) <= TIE / 100 for g in gains),
        "losses": sum(g < -TIE / 100 for g in gains),
        "videos": videos,
        "checks": checks,  # values in J&F points, as the rule
        "verdict": "adopt" if all(ch["passed"] for ch in checks) else "keep the base",
    }


def _pts(v: float, sign: bool = False) -> str:
    text = f"{100 * v:+.1f}" if sign else f"{100 * v:.1f}"
    return "0.0" if float(text) == 0 else text


def format_comparison(comparison: Mapping[str, Any]) -> str:
    """A markdown summary of :func:`compare_selections`' result."""
    b, c = comparison["base"], comparison["candidate"]
    folds = comparison["folds"]
    lines = [
        "# Paired recipe comparison on the held-out folds",
        "",
        f"Base: `{b['model']}` {b['checkpoints']} (variant {b['variant']}, {b['seeds']} "
        f"seed(s)). Candidate: `{c['model']}` {c['checkpoints']} (variant {c['variant']}, "
        f"{c['seeds']} seed(s)). Folds {', '.join(map(str, folds))} of "
        f"`{comparison['fold_table']}`; J&F in %, each video averaged over each recipe's "
        "seeds; gain = candidate - base.",
        "",
        "| | J&F | " + " | ".join(f"fold {k}" for k in folds) + " |",
        "|---" * (2 + len(folds)) + "|",
    ]
    for label, side in (("base", b), ("candidate", c)):
        lines.append(
            f"| {label} | {_pts(side['J&F'])} | "
            + " | ".join(_pts(side["folds"][str(k)]) for k in folds)
            + " |"
        )
    lines.append(
        f"| gain | {_pts(comparison['mean_gain'], True)} | "
        + " | ".join(_pts(comparison["fold_gain"][str(k)], True) for k in folds)
        + " |"
    )
    lines += [
        "",
        f"Median video's gain {_pts(comparison['median_gain'], True)}; {comparison['wins']} videos "
        f"gain, {comparison['ties']} tie (within {TIE} points), {comparison['losses']} lose.",
        "",
        "| rule (fixed before scoring) | value | passed |",
        "|---|---|---|",
    ]
    lines += [
        f"| {ch['check']} | {ch['points']:+.1f} | {'yes' if ch['passed'] else 'no'} |"
        for ch in comparison["checks"]
    ]
    lines += [
        "",
        f"**Verdict: {comparison['verdict']}.**",
        "",
        "| video | fold | base | candidate | gain |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['video']} | {r['fold']} | {_pts(r['base'])} | {_pts(r['candidate'])} | "
        f"{_pts(r['gain'], True)} |"
        for r in sorted(comparison["videos"], key=lambda r: (r["fold"], r["video"]))
    ]
    if comparison["unpaired_folds"]:
        lines += [
            "",
            f"Folds {comparison['unpaired_folds']} are in one report only and are not compared.",
        ]
    return "\n".join(lines) + "\n"


def write_comparison(
    comparison: dict[str, Any], out_dir: str | os.PathLike, *, overwrite: bool = False
) -> dict[str, str]:
    """Write ``comparison.json`` and ``comparison.md`` into ``out_dir`` (each atomically).

    Raises:
        InputError: ``out_dir`` already holds a comparison and ``overwrite`` is False.
    """
    written = write_report_files(
        out_dir,
        {
            "comparison.json": json.dumps(comparison, indent=2) + "\n",
            "comparison.md": format_comparison(comparison),
        },
        overwrite=overwrite,
        what="a comparison",
    )
    return {"json": written["comparison.json"], "markdown": written["comparison.md"]}
