"""Built-in plugin: registers vosframe's own models, backbones, plugins, datasets and metrics.

It goes through the same pluggy hooks as third-party plugins (see
:mod:`vosframe.discovery`). Imports happen inside the hooks, when the registries are
first used, so ``import vosframe`` stays cheap.
"""

from __future__ import annotations

from vosframe.discovery.hookspecs import Register, hookimpl


@hookimpl
def register_models(register: Register) -> None:
    """FRTM, TTVOS and the STCN-style memory model."""
    from vosframe.models.frtm.model import FRTM
    from vosframe.models.stcn.model import STCN
    from vosframe.models.ttvos.model import TTVOS

    register(FRTM)
    register(TTVOS)
    register(STCN)


@hookimpl
def register_backbones(register: Register) -> None:
    """ResNet-18/50/101 and EfficientNet-Lite0 backbones."""
    from vosframe.models.backbones import EfficientNetLite0, ResNet

    register(ResNet)
    register(EfficientNetLite0)


@hookimpl
def register_plugins(register: Register) -> None:
    """The reuse gate, the scheduled-reuse baseline and the spatial prior."""
    from vosframe.plugins.reuse_gate import ReuseGate
    from vosframe.plugins.schedule import ScheduledReuse
    from vosframe.plugins.spatial_prior import SpatialPrior

    register(ReuseGate)
    register(ScheduledReuse)
    register(SpatialPrior)


@hookimpl
def register_datasets(register: Register) -> None:
    """Dataset readers, training clip samplers and the feature-bank clip dataset."""
    from vosframe.data.clips import ClipDataset, SyntheticClipDataset
    from vosframe.data.datasets import DavisDataset, FolderDataset
    from vosframe.models.stcn.data import MemoryClipDataset
    from vosframe.training.datasets import BankClipDataset

    for cls in (DavisDataset, FolderDataset, ClipDataset, SyntheticClipDataset, BankClipDataset):
        register(cls)
    register(MemoryClipDataset)


@hookimpl
def register_metrics(register: Register) -> None:
    """DAVIS J&F as an mmengine metric."""
    from vosframe.metrics.runner_metric import DavisJF

    register(DavisJF)


@hookimpl
def register_hooks(register: Register) -> None:
    """Runner hooks: epoch propagation and vosframe checkpoint export."""
    from vosframe.training.adapter import EpochHook, ExportHook

    register(EpochHook)
    register(ExportHook)


@hookimpl
def register_losses(register: Register) -> None:
    """Auxiliary training losses: temporal consistency, soft IoU and the memory model's."""
    from vosframe.losses import SoftIoULoss, TemporalConsistencyLoss
    from vosframe.models.stcn.losses import MaskConsistencyLoss, UnbiasedGuidanceLoss

    register(TemporalConsistencyLoss)
    register(SoftIoULoss)
    register(UnbiasedGuidanceLoss)
    register(MaskConsistencyLoss)


@hookimpl
def register_trainers(register: Register) -> None:
    """The reuse gate's clip-loop recipe."""
    from vosframe.training.gate.clip import GateClipTrainer

    register(GateClipTrainer)
