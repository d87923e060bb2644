"""Configs: one folder per model family under ``configs/`` (installed), experiments apart.

Every shipped zoo config exists, loads (``_base_`` chains resolve) and builds; every
installed config is a zoo model or a training stage its family README lists; each family
README's table of shipped models agrees with the zoo; no config points to a file that is
neither in the repository nor written by a command its README gives (or a cache/data folder
its README names). Experiment configs load from their folder outside the package.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vosframe.app.zoo import ZOO, config_path
from vosframe.builder import build_model, load_config

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
EXPERIMENTS = REPO / "experiments" / "configs"
FAMILIES = sorted(
    d.name for d in CONFIGS.iterdir() if d.is_dir() and not d.name.startswith(("_", "."))
)
INSTALLED = sorted(p for f in FAMILIES for p in (CONFIGS / f).glob("*.py"))
EXPERIMENT_CONFIGS = sorted(EXPERIMENTS.glob("*/*.py"))


def _rel(path: Path) -> str:
    return str(path.relative_to(REPO))


def _section(text: str, title: str) -> str:
    """The body of the markdown section ``## title`` (empty when absent)."""
    parts = text.split(f"\n## {title}\n", 1)
    return parts[1].split("\n## ", 1)[0] if len(parts) == 2 else ""


def _strings(node, key: str = ""):
    """``(key, value)`` for every string in a config dict, nested lists included."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(v, k)
    elif isinstance(node, list | tuple):
        for v in node:
            yield from _strings(v, key)
    elif isinstance(node, str):
        yield key, node


def _file_paths(cfg) -> set[str]:
    """Strings of a loaded config that name files or folders (``a/b``, ``*.pt``)."""
    return {
        v for _, v in _strings(cfg.to_dict()) if "/" in v or v.endswith((".pt", ".pth", ".json"))
    }


def _missing_paths(config: Path, readme: Path) -> list[str]:
    """Paths of ``config`` that do not exist, are not named in ``readme`` and are not under
    the ``--work-dir`` of a command ``readme`` gives."""
    text = readme.read_text(encoding="utf-8")
    work_dirs = set(re.findall(r"--work-dir (\S+)", text))
    missing = []
    for path in sorted(_file_paths(load_config(str(config)))):
        produced = any(path.startswith(w.rstrip("/") + "/") for w in work_dirs)
        if not ((REPO / path).exists() or f"`{path}`" in text or produced):
            missing.append(path)
    return missing


def test_configs_live_in_family_folders_each_with_a_readme():
    assert [p.name for p in CONFIGS.glob("*.py")] == ["__init__.py"]
    assert set(FAMILIES) == {"frtm", "ttvos", "stcn"}
    for family in FAMILIES:
        assert (CONFIGS / family / "README.md").is_file(), family


@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_config_is_installed_in_its_family_folder(name):
    card = ZOO[name]
    family, file = card.config.split("/")
    assert family in FAMILIES and (CONFIGS / family / file).is_file(), card.config
    assert config_path(card.config).is_file()


@pytest.mark.parametrize("path", INSTALLED, ids=lambda p: p.stem)
def test_installed_config_loads_and_builds(path):
    cfg = load_config(str(path))
    model = build_model(cfg.model.to_dict())
    assert model.localizer is not None and model.refiner is not None
    if "gate_traces" in cfg:  # a train-gate recipe: a base model to start from
        assert Path(cfg.load_from_vosframe).name.endswith(".pt")


@pytest.mark.parametrize("family", ["frtm", "ttvos", "stcn"])
def test_family_readme_table_agrees_with_the_zoo(family):
    text = (CONFIGS / family / "README.md").read_text(encoding="utf-8")
    rows = {}
    for line in _section(text, "Shipped models").splitlines():
        m = re.match(r"\| `([a-z0-9-]+)` \|(.*)\|$", line)
        if m:
            rows[m.group(1)] = [c.strip().strip("`") for c in m.group(2).split("|")]
    expected = {n: c for n, c in ZOO.items() if c.config.split("/")[0] == family}
    assert set(rows) == set(expected), (sorted(rows), sorted(expected))
    for name, (config, jf, fps, tau, weights) in rows.items():
        card = expected[name]
        assert f"{family}/{config}" == card.config, name
        assert float(jf) == card.jf and float(fps) == card.fps, name
        assert (tau == "-" and card.tau is None) or float(tau) == card.tau, name
        files = [card.weights] + ([card.plugin_weights] if card.plugin_weights else [])
        assert weights.replace("`", "").split(" + ") == files, name


@pytest.mark.parametrize("family", ["frtm", "ttvos", "stcn"])
def test_every_installed_config_is_a_zoo_model_or_a_listed_stage(family):
    text = (CONFIGS / family / "README.md").read_text(encoding="utf-8")
    rows = _section(text, "Training stages")
    stages = set(re.findall(r"^\| `([a-z0-9_]+\.py)` \|", rows, flags=re.MULTILINE))
    shipped = {c.config.split("/")[1] for c in ZOO.values() if c.config.startswith(family + "/")}
    files = {p.name for p in (CONFIGS / family).glob("*.py")}
    assert files == shipped | stages, (sorted(files), sorted(shipped), sorted(stages))
    assert not shipped & stages


@pytest.mark.parametrize("path", INSTALLED, ids=lambda p: p.stem)
def test_installed_config_paths_exist_or_are_produced_by_its_readme(path):
    assert _missing_paths(path, path.parent / "README.md") == []


def test_path_check_catches_a_file_from_git_history(tmp_path):
    config = tmp_path / "c.py"
    model = 'model = dict(type="FRTM")\n'
    config.write_text(model + 'load_from_vosframe = "work_dirs/frtm_v1.pt"\n')
    readme = tmp_path / "README.md"
    readme.write_text("vosframe train c.py --work-dir work_dirs/frtm\n")
    assert _missing_paths(config, readme) == ["work_dirs/frtm_v1.pt"]
    readme.write_text("vosframe train c.py --work-dir work_dirs/frtm_v1\n")
    assert _missing_paths(config, readme) == ["work_dirs/frtm_v1.pt"]  # not under that dir
    config.write_text(model + 'load_from_vosframe = "work_dirs/frtm_v1/vosframe_latest.pt"\n')
    assert _missing_paths(config, readme) == []


@pytest.mark.parametrize("path", EXPERIMENT_CONFIGS, ids=lambda p: p.stem)
def test_experiment_config_loads_outside_the_package(path):
    assert not path.is_relative_to(CONFIGS)
    load_config(str(path))
    assert _missing_paths(path, EXPERIMENTS / "README.md") == [], _rel(path)
