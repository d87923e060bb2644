"""The memory localizer: key projection, per-object memory, memory read, memory write.

Per object, the state (:class:`MemoryState`, an ``attrs`` class held by the session) holds
the memory frames as (key, value) pairs at stride 16. Keys depend on the image only, so a
frame's key tensor is computed once and the *same tensor* is stored in every object that
writes that frame; :meth:`MemoryLocalizer.localize` groups objects whose memories hold the
same key tensors and computes their affinity once.

Memory modes (bounded; ``memory=dict(mode=...)`` in the model config):

* ``"stcn"``: the first frame (permanent) plus every ``every``-th frame, at most
  ``max_frames`` frames; the oldest non-permanent frame is dropped first (STCN's schedule
  with a cap, as Cutie's FIFO memory).
* ``"rde"``: RDE-VOS's recurrent dynamic embedding: a constant-size embedding updated by the
  SAM (:class:`~vosframe.models.stcn.modules.SAM`) from the previous embedding and each new
  memory frame (the first update fuses the first frame with the first memory frame), plus
  the first frame and the latest memory frame: three entries of ``h16 x w16``.

  Decision: the official code queries ``[RDE, latest, first, first]`` (the first frame
  twice). Duplicating a memory entry only adds ``log 2`` to the affinities of the first
  frame before the softmax, a bias the trained model can carry itself, and with the top-k
  read it makes every top-k set hold identical pairs (half as many distinct neighbours).
  The default is the first frame once; ``duplicate_first=True`` restores the official query.

Memory writes happen in :meth:`MemoryLocalizer.update` (called by the engine on frames an
object took the full path, never on frames a plugin reused): at inference on frames
``frame_index % every == 0`` (absolute index, as STCN's ``ti % mem_every``) or when
``every`` frames passed since the object's last write (a write the gate skipped is made
up on the next full frame); in training on every frame (STCN's and RDE's training: frame
``t`` reads the memory of frames ``0..t-1``).

Memory read (STCN): affinity ``(2 k_m^T k_q - |k_m|^2) / sqrt(C_k)`` (negative squared L2
distance without the query's constant norm), softmax over the memory; top-k (``top_k``
largest per query pixel, the rest zero) at inference, the full softmax in training.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import attrs
import torch
from torch import nn

from vosframe.core.errors import ConfigError
from vosframe.core.stages import TargetLocalizer
from vosframe.core.state import Features

from .modules import SAM, ValueEncoder

MemoryMode = Literal["stcn", "rde"]


@attrs.define(eq=False)
class MemoryFrame:
    """One memory entry.

    Attributes:
        key: ``(1, Ck, h, w)`` key (shared by every object that stored this frame).
        value: ``(1, Cv, h, w)`` this object's value.
        frame: Session frame index it was written on (-1: the object's first frame).
    """

    key: torch.Tensor
    value: torch.Tensor
    frame: int


@attrs.define(eq=False)
class MemoryState:
    """Per-object memory.

    Attributes:
        first: The object's first frame (permanent).
        frames: ``stcn``: the non-permanent memory frames, oldest first; ``rde``: the latest
            memory frame only.
        rde: ``rde`` mode: the recurrent dynamic embedding (None before the first write).
        last_write: Frame index of the last write (None before the first).
        full: Training only: every frame written (the full memory the unbiased-guidance
            loss compares the bounded memory with); empty at inference.
    """

    first: MemoryFrame
    frames: list[MemoryFrame] = attrs.Factory(list)
    rde: MemoryFrame | None = None
    last_write: int | None = None
    full: list[MemoryFrame] = attrs.Factory(list)

    def tensors(self) -> list[torch.Tensor]:
        """Every tensor the state holds (for memory accounting)."""
        entries = [self.first, *self.frames, *self.full] + ([self.rde] if self.rde else [])
        return [t for e in entries for t in (e.key, e.value)]


def share_keys(memories: Sequence[Sequence[MemoryFrame]]) -> None:
    """Make equal keys the same tensor across the objects' memories, in place.

    Objects given on the same frame are initialised one by one (the core's contract), so
    each first-frame entry gets its own copy of the frame's key; once they are one tensor,
    :meth:`MemoryLocalizer.read` computes the affinity once for all of them (and the
    duplicate copies are freed). Keys written by ``update`` are shared already.
    """
    canonical: list[torch.Tensor] = []
    for mem in memories:
        for m in mem:
            for c in canonical:
                if m.key is c:
                    break
                if m.key.shape == c.shape and torch.equal(m.key, c):
                    m.key = c
                    break
            else:
                canonical.append(m.key)


def affinity(mem_key: torch.Tensor, query_key: torch.Tensor) -> torch.Tensor:
    """STCN's L2 affinity ``(M, Q)``: ``(2 k_m^T k_q - |k_m|^2) / sqrt(C)``.

    Args:
        mem_key: ``(C, M)`` memory keys.
        query_key: ``(C, Q)`` query keys.
    """
    c = mem_key.shape[0]
    a = 2 * mem_key.transpose(0, 1) @ query_key
    b = mem_key.pow(2).sum(0)[:, None]
    return (a - b) / math.sqrt(c)


def read_memory(
    mem_key: torch.Tensor, query_key: torch.Tensor, mem_values: torch.Tensor, top_k: int | None
) -> torch.Tensor:
    """Readout ``(G, Cv, Q)`` of G objects' values from one shared memory of keys.

    Equal to ``mem_values @ memory_softmax(affinity(mem_key, query_key), top_k)``, computed
    query-major: the affinity is built as ``(Q, M)`` so the top-k runs along contiguous
    rows, and the top-k readout gathers only the ``k`` selected values per query instead
    of multiplying by a mostly-zero ``(M, Q)`` matrix (far faster on a CPU:
    ``benchmarks/stcn_stages.py``).

    Args:
        mem_key: ``(Ck, M)`` memory keys.
        query_key: ``(Ck, Q)`` query keys.
        mem_values: ``(G, Cv, M)`` memory values.
        top_k: Top-k (None: full softmax).
    """
    scale = 1.0 / math.sqrt(mem_key.shape[0])
    # one fused pass over the (Q, M) matrix: (2 scale) q^T k_m - scale |k_m|^2
    logits = torch.addmm(
        mem_key.pow(2).sum(0)[None] * scale,
        query_key.transpose(0, 1) * (2 * scale),
        mem_key,
        beta=-1,
    )
    if top_k is None or top_k >= logits.shape[1]:
        return mem_values @ torch.softmax(logits, 1).transpose(0, 1)
    values, index = logits.topk(top_k, dim=1)  # (Q, k)
    weights = torch.softmax(values, 1)
    return torch.einsum("gcqk,qk->gcq", mem_values[:, :, index], weights.to(mem_values.dtype))


def memory_softmax(logits: torch.Tensor, top_k: int | None) -> torch.Tensor:
    """Softmax over the memory (dim 0); with ``top_k``, only the ``k`` largest per column."""
    logits = logits.float()
    if top_k is None or top_k >= logits.shape[0]:
        return torch.softmax(logits, 0)
    values, index = logits.topk(top_k, dim=0)
    return torch.zeros_like(logits).scatter_(0, index, torch.softmax(values, 0))


class MemoryLocalizer(TargetLocalizer):
    """Key projection, query value, value encoder and the memory of each object.

    ``localize`` returns, per object, ``cat(readout, query value)`` at stride 16
    (``2 Cv`` channels): STCN's decoder input.

    Args:
        c4: Stride-4 feature channels.
        c16: Stride-16 feature channels.
        key_channels: Key channels (64 in STCN).
        value_channels: Value channels (512 in STCN).
        mode: ``"stcn"`` or ``"rde"``.
        every: Memory write period at inference.
        max_frames: ``stcn`` mode: most memory frames, the first included (>= 2).
        top_k: Top-k of the inference read (None: full softmax).
        duplicate_first: ``rde`` mode: query the first frame twice (official code).
    """

    stride = 16
    feature_strides = (4, 16)
    bounded_state = True

    def __init__(
        self,
        c4: int,
        c16: int,
        key_channels: int = 64,
        value_channels: int = 128,
        mode: MemoryMode = "stcn",
        every: int = 5,
        max_frames: int = 8,
        top_k: int | None = 20,
        duplicate_first: bool = False,
    ) -> None:
        super().__init__()
        if mode not in ("stcn", "rde"):
            raise ConfigError(f"memory mode must be 'stcn' or 'rde', got {mode!r}")
        if every < 1 or max_frames < 2:
            raise ConfigError(
                f"memory needs every >= 1 and max_frames >= 2 (first frame + one more), got "
                f"every={every}, max_frames={max_frames}"
            )
        if top_k is not None and top_k < 1:
            raise ConfigError(f"top_k must be >= 1 or None, got {top_k}")
        self.mode, self.every, self.max_frames = mode, int(every), int(max_frames)
        self.top_k, self.duplicate_first = top_k, bool(duplicate_first)
        self.key_channels, self.value_channels = key_channels, value_channels
        self.score_channels = 2 * value_channels
        self.key_proj = nn.Conv2d(c16, key_channels, 3, padding=1)
        nn.init.orthogonal_(self.key_proj.weight)
        nn.init.zeros_(self.key_proj.bias)
        self.query_value = nn.Conv2d(c16, value_channels, 3, padding=1)
        self.value_encoder = ValueEncoder(c4, c16, value_channels)
        self.sam_key = SAM(key_channels) if mode == "rde" else None
        self.sam_value = SAM(value_channels) if mode == "rde" else None

    # ------------------------------------------------------------------ encoding
    def key(self, features: Features) -> torch.Tensor:
        """``(1, Ck, h16, w16)`` key of a frame (image only)."""
        return self.key_proj(features[16])

    def encode_values(
        self, features: Features, masks: torch.Tensor, others: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``(N, Cv, h16, w16)`` values of N objects from their masks ``(N, 1, H, W)``."""
        if others is None:
            others = torch.zeros_like(masks)
        return self.value_encoder(features[4], features[16], masks, others)

    @staticmethod
    def others_of(probs: torch.Tensor) -> torch.Tensor:
        """``(N, 1, H, W)`` sum of the other objects' probabilities, clamped to ``[0, 1]``."""
        return (probs.sum(0, keepdim=True) - probs).clamp(0.0, 1.0)

    # ------------------------------------------------------------------ memory views
    def memory_of(self, state: MemoryState, full: bool = False) -> list[MemoryFrame]:
        """The entries an object's query reads (``full``: the training-only full memory)."""
        if full:
            return [state.first, *state.full]
        if self.mode == "stcn":
            return [state.first, *state.frames]
        out = [state.first] if state.rde is None else [state.rde, *state.frames, state.first]
        return out + [state.first] if self.duplicate_first else out

    def read(
        self, features: Features, states: Sequence[MemoryState], full: bool = False
    ) -> torch.Tensor:
        """``(N, 2 Cv, h, w)``: memory readout of each object concatenated with the query value."""
        f16 = features[16]
        qk = self.key_proj(f16)
        qv = self.query_value(f16)
        h, w = qk.shape[-2:]
        top_k = None if self.training else self.top_k
        groups: dict[tuple[int, ...], list[int]] = {}
        memories = [self.memory_of(s, full) for s in states]
        share_keys(memories)
        for i, mem in enumerate(memories):
            groups.setdefault(tuple(id(m.key) for m in mem), []).append(i)
        readout: list[torch.Tensor | None] = [None] * len(states)
        for members in groups.values():
            mem = memories[members[0]]
            mk = torch.cat([m.key.flatten(2)[0] for m in mem], 1)
            mv = torch.stack(
                [torch.cat([m.value.flatten(2)[0] for m in memories[i]], 1) for i in members]
            )
            # fp32 even under autocast: the affinities are large negative distances whose
            # softmax bf16 would distort.
            with torch.autocast(qk.device.type, enabled=False):
                out = read_memory(mk.float(), qk.flatten(2)[0].float(), mv.float(), top_k)
                out = out.view(len(members), -1, h, w)
            for j, i in enumerate(members):
                readout[i] = out[j : j + 1]
        r = torch.cat(readout)  # type: ignore[arg-type]
        return torch.cat([r.to(qv.dtype), qv.expand(len(states), -1, -1, -1)], 1)

    # ------------------------------------------------------------------ contract
    def init_object(
        self, features: Features, mask: torch.Tensor, image: torch.Tensor
    ) -> MemoryState:
        """Memory with the first frame (value from the given mask; no other objects known)."""
        return self.init_state(self.key(features), self.encode_values(features, mask.float()))

    @staticmethod
    def init_state(key: torch.Tensor, value: torch.Tensor) -> MemoryState:
        """A memory holding one first frame ``(key, value)``."""
        return MemoryState(MemoryFrame(key, value, -1))

    def localize(self, features: Features, states: Sequence[MemoryState]) -> torch.Tensor:
        """Read each object's (bounded) memory."""
        return self.read(features, states)

    def due(self, state: MemoryState, frame_index: int) -> bool:
        """Whether a full-path frame is written to the object's memory."""
        if self.training:
            return True
        if frame_index % self.every == 0:
            return True
        return state.last_write is not None and frame_index - state.last_write >= self.every

    def update(
        self,
        features: Features,
        states: Sequence[MemoryState],
        probs: torch.Tensor,
        frame_index: int,
    ) -> None:
        """Write the frame to the memory of the objects it is due for.

        Values are encoded from the aggregated probabilities (STCN encodes memory from its
        own soft output); the "others" channel is the sum of the other updated objects'.
        """
        write = [i for i, s in enumerate(states) if self.due(s, frame_index)]
        if not write:
            return
        key = self.key(features)
        p = probs.float()
        others = self.others_of(p)
        values = self.encode_values(features, p[write], others[write])
        new = [MemoryFrame(key, values[j : j + 1], frame_index) for j in range(len(write))]
        self.write([states[i] for i in write], new)

    def write(self, states: Sequence[MemoryState], new: Sequence[MemoryFrame]) -> None:
        """Add one new frame to each object's memory (bounded by the mode)."""
        for s, m in zip(states, new):
            s.last_write = m.frame
            if self.training:
                s.full.append(m)
        if self.mode == "stcn":
            for s, m in zip(states, new):
                s.frames.append(m)
                del s.frames[: max(0, len(s.frames) - (self.max_frames - 1))]
            return
        assert self.sam_key is not None and self.sam_value is not None
        prev = [s.rde or s.first for s in states]
        keys: dict[tuple[int, int], torch.Tensor] = {}  # objects with one history share keys
        for p, m in zip(prev, new):
            pair = (id(p.key), id(m.key))
            if pair not in keys:
                keys[pair] = self.sam_key(p.key, m.key)
        values = self.sam_value(
            torch.cat([p.value for p in prev]), torch.cat([m.value for m in new])
        )
        for j, (s, p, m) in enumerate(zip(states, prev, new)):
            s.rde = MemoryFrame(keys[(id(p.key), id(m.key))], values[j : j + 1], m.frame)
            s.frames = [m]

    def extra_repr(self) -> str:
        """Sizes and schedule."""
        return (
            f"mode={self.mode}, every={self.every}, max_frames={self.max_frames}, "
            f"top_k={self.top_k}, key={self.key_channels}, value={self.value_channels}"
        )


def state_nbytes(states: Sequence[Any]) -> int:
    """Bytes of every tensor in a list of :class:`MemoryState` (for memory-flatness checks)."""
    return sum(t.numel() * t.element_size() for s in states for t in s.tensors())
