"""The README's table of shipped models agrees with the zoo that `vosframe models` lists."""

from __future__ import annotations

import re
from pathlib import Path

from vosframe.app.zoo import ZOO

README = Path(__file__).resolve().parents[1] / "README.md"


def _shipped_rows() -> dict[str, list[str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Shipped models", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        m = re.match(r"\| `([a-z0-9-]+)` \|(.*)\|$", line)
        if m:
            rows[m.group(1)] = [c.strip() for c in m.group(2).split("|")]
    return rows


def test_readme_table_lists_every_shipped_model_with_the_zoo_figures():
    rows = _shipped_rows()
    assert set(rows) == set(ZOO), (sorted(rows), sorted(ZOO))
    for name, cells in rows.items():
        card = ZOO[name]
        _, held_out, val_jf, gap, fps, tau = cells
        if card.heldout_jf is None:
            assert held_out.startswith("not measured") and gap == "-", name
        else:
            assert float(re.match(r"[0-9.]+", held_out).group()) == card.heldout_jf, name
            assert float(gap) == round(card.heldout_jf - card.jf, 1), name
        assert float(val_jf) == card.jf, name
        assert float(fps) == card.fps, name
        assert (tau == "-" and card.tau is None) or float(tau) == card.tau, name
