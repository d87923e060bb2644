"""``train(config)``: build the mmengine Runner from a vosframe config and train.

Config keys (mmengine config, ``_base_`` inheritance):

* ``model``: the base model (and ``plugins``), as for :func:`vosframe.build_model`.
* ``train_dataset``: a dataset config from the ``DATASETS`` registry.
* ``train_dataloader``: ``batch_size``, ``num_workers`` (the dataset is filled in).
* ``optim_wrapper``, ``param_scheduler``, ``train_cfg``: passed to the Runner.
* ``load_from_vosframe``: optional vosframe checkpoint to start from (non-strict: e.g. a
  trained FRTM as the start of G-FRTM, or an earlier training stage). ``{fold}`` and
  ``{seed}`` in it are replaced by the run's fold and seed, so the stages of a staged
  recipe pair up per fold and seed.
* ``work_dir``, ``seed``.
* ``fold``: optional fold of the DAVIS-2016 train table (:mod:`vosframe.data.folds`): every
  ``davis`` source of ``train_dataset`` keeps only that fold's fit videos (:func:`set_fold`;
  ``vosframe train CONFIG --fold K``), and the default work dir gets a ``_fold<K>`` suffix.

The exported checkpoint's metadata lists the DAVIS videos the model was trained on
(``davis_videos``, when the dataset says), so a held-out evaluation can check that its
videos were not among them.

Distributed: under ``torchrun`` (``WORLD_SIZE`` > 1) the gloo process group is created
here before the Runner, so mmengine does not run its own ``init_dist`` (which calls
``torch.cuda.set_device`` unconditionally), and DDP is built with ``device_ids=None`` so
it works on the CPU.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.runner import Runner

from vosframe.builder import load_config
from vosframe.core.checkpoint import load_checkpoint
from vosframe.core.errors import ConfigError, InputError
from vosframe.registry import DATASETS, build_from_cfg
from vosframe.training.adapter import EpochHook, ExportHook, VOSTrainModel


def _distributed() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def build_runner(cfg: Config, work_dir: str | None = None, resume: bool = False) -> Runner:
    """Build the Runner for ``cfg`` (see the module docstring for the keys)."""
    if _distributed() and not dist.is_initialized():
        dist.init_process_group(backend="gloo")
    weights = start_weights(cfg) if cfg.get("load_from_vosframe") else None
    if weights is not None and not Path(weights).is_file():
        raise InputError(
            f"{cfg.filename}: load_from_vosframe={weights!r} does not exist: the run starts "
            "from an earlier stage's weights. Fix: train that stage first (the config's header "
            "names its command), or give a checkpoint with --cfg-options load_from_vosframe=PATH."
        )
    trainer = cfg.get("plugin_trainer")
    model = VOSTrainModel(
        cfg.model.to_dict() if hasattr(cfg.model, "to_dict") else cfg.model,
        trainer.to_dict() if hasattr(trainer, "to_dict") else trainer,
    )
    if weights is not None:
        load_checkpoint(model.vos, weights, strict=False)
    dataset = build_from_cfg(cfg.train_dataset, DATASETS)
    loader = dict(cfg.get("train_dataloader", {}))
    loader.update(
        dataset=dataset,
        sampler=dict(type="DefaultSampler", shuffle=True, seed=cfg.get("seed", 0)),
        collate_fn=dict(type="default_collate"),
    )
    loader.setdefault("batch_size", 4)
    loader.setdefault("num_workers", 0)
    fold = cfg.get("fold")
    stem = Path(cfg.filename).stem + ("" if fold is None else f"_fold{fold}")
    work_dir = work_dir or cfg.get("work_dir") or str(Path("work_dirs") / stem)
    if _distributed():  # read by Runner.wrap_model; device_ids=None keeps DDP on the CPU
        cfg.model_wrapper_cfg = dict(
            type="MMDistributedDataParallel",
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=True,
        )
    command = " ".join(shlex.quote(a) for a in ["vosframe", *sys.argv[1:]])
    meta = {"config_file": str(cfg.filename), "config": cfg.model.to_dict(), "command": command}
    if hasattr(dataset, "davis_videos"):
        meta["davis_videos"] = list(dataset.davis_videos)
    if fold is not None:
        meta["fold"] = fold
    if hasattr(dataset, "source_shares"):  # the mix of sources, repeat factors included
        meta["source_shares"] = [[kind, round(share, 4)] for kind, share in dataset.source_shares()]
    return Runner(
        model=model,
        work_dir=work_dir,
        train_dataloader=loader,
        train_cfg=dict(cfg.get("train_cfg", dict(by_epoch=True, max_epochs=1))),
        optim_wrapper=dict(cfg.optim_wrapper),
        param_scheduler=cfg.get("param_scheduler"),
        default_hooks=dict(
            checkpoint=dict(type="CheckpointHook", interval=1, max_keep_ckpts=2),
            logger=dict(type="LoggerHook", interval=cfg.get("log_interval", 10)),
        ),
        custom_hooks=[EpochHook(), ExportHook(meta=meta)],
        launcher="pytorch" if _distributed() else "none",
        env_cfg=dict(dist_cfg=dict(backend="gloo"), mp_cfg=dict(mp_start_method="fork")),
        randomness=dict(seed=cfg.get("seed", 0)),
        resume=resume,
        cfg=cfg,
    )


def start_weights(cfg: Config) -> str:
    """The checkpoint a run starts from: ``cfg.load_from_vosframe`` with ``{fold}`` and
    ``{seed}`` replaced by the run's fold and seed.

    Raises:
        ConfigError: ``{fold}`` in the path of a run without a fold.
    """
    path = str(cfg.load_from_vosframe)
    if "{fold}" in path:
        if cfg.get("fold") is None:
            raise ConfigError(
                f"{cfg.filename}: load_from_vosframe={path!r} names a fold's checkpoint, but "
                "the run has no fold. Fix: train with --fold K, or give the checkpoint's path."
            )
        path = path.replace("{fold}", str(cfg.fold))
    return path.replace("{seed}", str(cfg.get("seed", 0)))


def set_fold(cfg: Config, fold: int) -> Config:
    """Train on fold ``fold``'s fit videos: set ``fold`` on every ``davis`` and
    ``davis_stills`` source of ``cfg.train_dataset`` and ``cfg.fold`` (in place; returns
    ``cfg``).

    Raises:
        InputError: Unknown fold number.
        ConfigError: The config's ``train_dataset`` has no ``davis`` source to restrict.
    """
    from vosframe.data.folds import fold_table

    sources = cfg.get("train_dataset", {}).get("sources") or []
    davis = [s for s in sources if s.get("type") in ("davis", "davis_stills")]
    if not davis:
        raise ConfigError(
            f"{cfg.filename}: --fold restricts the DAVIS videos of train_dataset.sources, but "
            "the config has no dict(type='davis', ...) source. Fix: drop --fold, or train "
            "from a config that reads DAVIS train through a bank source."
        )
    for source in davis:
        fold_table(source.get("fold_table")).check_fold(fold)
        source["fold"] = fold
    cfg.fold = fold
    return cfg


def train(
    config: str | os.PathLike,
    work_dir: str | None = None,
    resume: bool = False,
    options: dict[str, Any] | None = None,
    fold: int | None = None,
) -> Path:
    """Train from a config file; returns the path of the exported vosframe checkpoint.

    ``fold`` (or the config's ``fold`` key): train on that fold's fit videos only
    (:func:`set_fold`), applied after ``options``.

    Resume reads mmengine's own checkpoints (optimizer, scheduler, message hub) from the
    run's work dir, which vosframe wrote itself: they are loaded as trusted files.
    """
    # Denormal floats make CPU convolutions and their backward 20-50x slower here
    # (measured: a 2-clip FRTM step 7.6 s -> 0.34 s). Flush them to zero.
    torch.set_flush_denormal(True)
    cfg = load_config(config)
    if options:
        cfg.merge_from_dict(options)
    fold = cfg.get("fold") if fold is None else fold  # a config or --cfg-options fold=K too
    if fold is not None:
        set_fold(cfg, fold)
    runner = build_runner(cfg, work_dir, resume)
    _trust_own_checkpoints(runner.work_dir)
    runner.train()
    return Path(runner.work_dir) / "vosframe_latest.pt"


def _trust_own_checkpoints(work_dir: str | os.PathLike) -> None:
    """Let mmengine load its resume checkpoints from this run's work dir.

    mmengine 0.10 resume checkpoints hold Python objects (message-hub history buffers,
    numpy scalars) that torch >= 2.6 refuses under ``weights_only=True``. Files inside the
    run's own work dir were written by vosframe's Runner and are loaded as trusted; any
    other file (e.g. ``load_from``) still loads with ``weights_only=True``. This replaces
    mmengine's local-file loader for the rest of this process (the ``vosframe train``
    command).
    """
    from mmengine.runner.checkpoint import CheckpointLoader

    root = Path(work_dir).resolve()

    def load_local(filename: str, map_location: Any = None) -> Any:
        path = Path(filename).expanduser().resolve()
        if not path.is_file():
            raise FileNotFoundError(f"{path} can not be found.")
        trusted = root == path.parent or root in path.parents
        return torch.load(path, map_location=map_location, weights_only=not trusted)

    CheckpointLoader.register_scheme(prefixes="", loader=load_local, force=True)
