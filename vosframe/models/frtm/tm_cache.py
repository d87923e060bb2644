"""Disk cache of the target models fitted on training clips (the official code's ``tmcache``).

A training target model is a pure function of the clip's first frame, its mask, the
frozen backbone and the fitting settings, so it can be fitted once and reused by every
later epoch and every later run (another seed, a longer schedule). The official code
caches them to disk for the same reason.

Layout: ``<root>/<fingerprint>/<key>.pt`` where ``<fingerprint>`` hashes the fitting
settings and the backbone (its class, config and a sample of its weights) and ``<key>`` is
the clip's stable key (:class:`~vosframe.training.datasets.BankClipDataset` puts the hash
of its feature bank in it). Files hold ``{"project", "filter"}``, written atomically and
read with ``weights_only=True``; an unreadable or mismatched file is refitted and
overwritten, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import torch

from vosframe.core.checkpoint import atomic_save

log = logging.getLogger(__name__)


def backbone_fingerprint(extractor: torch.nn.Module, config: Any) -> dict[str, Any]:
    """Describe a frozen backbone: class, config and a hash of a sample of its weights.

    The weight sample tells apart two random initialisations (or two weight files) with the
    same config, so their target models never share a cache entry.
    """
    digest = hashlib.sha1()
    for name, p in sorted(extractor.state_dict().items()):
        digest.update(name.encode())
        digest.update(p.detach().flatten()[:32].float().cpu().numpy().tobytes())
    return {
        "class": type(extractor).__name__,
        "config": config,
        "weights": digest.hexdigest()[:16],
    }


class TargetModelDiskCache:
    """Fitted training target models on disk, keyed by clip key.

    Args:
        root: Cache folder (created on the first write).
        fingerprint: JSON-able description of everything a fit depends on besides the clip
            (settings, backbone); its hash names the sub-folder.
    """

    def __init__(self, root: str | Path, fingerprint: dict[str, Any]) -> None:
        text = json.dumps(fingerprint, sort_keys=True, default=str)
        self.fingerprint = text
        self.folder = Path(root) / hashlib.sha1(text.encode()).hexdigest()[:12]

    def path(self, key: str) -> Path:
        """The file of ``key`` (``/`` in keys become ``__``)."""
        return self.folder / (key.replace("/", "__") + ".pt")

    def get(self, key: str) -> tuple[torch.Tensor, torch.Tensor] | None:
        """``(project, filter)`` stored for ``key``, or None (missing or unreadable)."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
            if payload.get("fingerprint") != self.fingerprint:
                return None
            return payload["project"], payload["filter"]
        except Exception as exc:  # corrupt file: refit (and overwrite) rather than fail
            log.warning("ignoring unreadable target-model cache file %s (%s); refitting", path, exc)
            return None

    def put(self, key: str, project: torch.Tensor, filt: torch.Tensor) -> None:
        """Store ``key``'s weights (atomically: a crash never leaves a half-written file)."""
        payload = {
            "fingerprint": self.fingerprint,
            "project": project.detach().float().cpu().contiguous(),
            "filter": filt.detach().float().cpu().contiguous(),
        }
        atomic_save(payload, self.path(key))
