"""FRTM's weighted sample memory, with labels stored as low-resolution quadratic forms.

The official target-model loss compares the bilinearly *upsampled* score ``U s`` with a
full-resolution label ``y`` under per-pixel weights ``w``:
``sum_p w_p^2 ((U s)_p - y_p)^2``. Expanding the square,

    loss(s) = s^T G s - 2 s^T b + c,   G = U^T diag(w^2) U,  b = U^T (w^2 * y),  c = sum w^2 y^2,

and because each output pixel of a bilinear resize reads two adjacent rows and two adjacent
columns, ``G`` only couples score pixels at most one row/column apart: it is a 9-point
stencil at score resolution. A memory slot therefore stores the ``(9, h, w)`` stencil,
the ``(1, h, w)`` vector ``b`` and the scalar ``c`` instead of two full-resolution maps.
The loss, its gradient and its Gauss-Newton matrix are the official ones (up to
floating-point rounding), computed at stride 16. At 480p (30x54 scores, c=96) a label
takes 50x less memory (a whole slot ~6x less: 55 MB instead of 310 MB for 80 slots), and
the optimiser does no full-resolution work.
"""

from __future__ import annotations

import attrs
import torch
import torch.nn.functional as F

OFFSETS = tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1))
"""Stencil offsets ``(dy, dx)`` in the order of a stencil's 9 channels."""


def hinge_pixel_weights(
    labels: torch.Tensor, tf: float | None = 0.1, min_pixels: int = 10
) -> tuple[torch.Tensor, torch.Tensor]:
    """FRTM's 'hinge' pixel weighting: squared weights of foreground and background pixels.

    ``a_f`` is the foreground fraction of ``labels > 0.5`` (``tf`` if fewer than ``min_pixels``
    foreground pixels). If ``a_f < tf``, foreground pixels weigh ``tf / a_f`` and background
    pixels ``(1 - tf) / (1 - a_f)``; otherwise both weigh 1. The official code multiplies
    residuals by the square root of these.

    Args:
        labels: ``(N, 1, H, W)`` masks (soft masks are thresholded at 0.5).
        tf: Target foreground influence; None disables the weighting (all ones).
        min_pixels: Below this many foreground pixels, ``a_f := tf``.

    Returns:
        ``(wf, wb)``, each ``(N,)``: squared weights of foreground / background pixels.
    """
    n = labels.shape[0]
    ones = labels.new_ones(n, dtype=torch.float32)
    if tf is None:
        return ones, ones.clone()
    fg = (labels > 0.5).flatten(1).sum(1).float()
    af = fg / labels[0].numel()
    af = torch.where(fg < min_pixels, torch.full_like(af, tf), af)
    hinge = af < tf
    wf = torch.where(hinge, tf / af, ones)
    wb = torch.where(hinge, (1 - tf) / (1 - af), ones)
    return wf, wb


def interpolation_matrix(n_in: int, n_out: int, device: torch.device | None = None) -> torch.Tensor:
    """The ``(n_out, n_in)`` matrix of a 1-D bilinear resize (``align_corners=False``).

    Obtained by resizing the identity with :func:`torch.nn.functional.interpolate`, so it
    has PyTorch's exact weights, border clamping included.
    """
    eye = torch.eye(n_in, device=device, dtype=torch.float64).view(n_in, 1, n_in, 1)
    cols = F.interpolate(eye, size=(n_out, 1), mode="bilinear", align_corners=False)
    return cols.view(n_in, n_out).T.contiguous()


def _neighbour_products(u: torch.Tensor) -> torch.Tensor:
    """``(3, n_out, n_in)``: ``u[p, i] * u[p, i + d]`` for ``d = -1, 0, 1`` (0 off the edge)."""
    zero = torch.zeros_like(u[:, :1])
    left = torch.cat((zero, u[:, :-1]), dim=1)  # u[p, i - 1]
    right = torch.cat((u[:, 1:], zero), dim=1)  # u[p, i + 1]
    return torch.stack((u * left, u * u, u * right))


def label_quadratic_form(
    labels: torch.Tensor, wf: torch.Tensor, wb: torch.Tensor, score_size: tuple[int, int]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Turn full-resolution labels and pixel weights into score-resolution quadratic forms.

    Args:
        labels: ``(N, 1, H, W)`` labels in ``[0, 1]`` (soft masks allowed).
        wf: ``(N,)`` squared weights of pixels with ``label > 0.5``.
        wb: ``(N,)`` squared weights of the other pixels.
        score_size: ``(h, w)`` of the score that is upsampled to ``(H, W)``.

    Returns:
        ``gram`` ``(N, 9, h, w)``, ``rhs`` ``(N, 1, h, w)`` and ``const`` ``(N,)`` (fp32), such
        that ``sum w2 * (upsample(s) - y)^2 == <s, apply_gram(gram, s)> - 2 <s, rhs> + const``.
    """
    n, _, H, W = labels.shape
    h, w = score_size
    y = labels.reshape(n, H, W).double()
    w2 = torch.where(y > 0.5, wf.double().view(n, 1, 1), wb.double().view(n, 1, 1))
    uy = interpolation_matrix(h, H, labels.device)  # (H, h)
    ux = interpolation_matrix(w, W, labels.device)  # (W, w)
    py = _neighbour_products(uy).permute(0, 2, 1).reshape(3 * h, H)  # rows (dy, i)
    px = _neighbour_products(ux).permute(1, 0, 2).reshape(W, 3 * w)  # cols (dx, j)
    gram = (py @ w2 @ px).view(n, 3, h, 3, w).permute(0, 1, 3, 2, 4).reshape(n, 9, h, w)
    rhs = (uy.T @ (w2 * y) @ ux).view(n, 1, h, w)
    const = (w2 * y * y).sum(dim=(1, 2))
    return gram.float().contiguous(), rhs.float(), const.float()


def apply_gram(gram: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Multiply score maps by their stencils: ``(G s)[i, j] = sum_d G_d[i, j] s[i+dy, j+dx]``.

    Args:
        gram: ``(N, 9, h, w)`` stencils from :func:`label_quadratic_form`.
        s: ``(N, 1, h, w)`` score maps.

    Returns:
        ``(N, 1, h, w)``.
    """
    h, w = s.shape[-2:]
    padded = F.pad(s, (1, 1, 1, 1))
    shifted = torch.cat(
        [padded[:, :, 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dy, dx in OFFSETS], dim=1
    )
    return (gram * shifted).sum(dim=1, keepdim=True)


@attrs.define(eq=False)
class SampleMemory:
    """Fixed-capacity weighted training memory of one FRTM target model.

    Slot ``k`` holds a (projected) feature map, the quadratic form of its label and a
    weight. Empty slots have weight 0 and are skipped by the optimiser.

    Attributes:
        samples: ``(capacity, C, h, w)`` feature maps.
        gram: ``(capacity, 9, h, w)`` label stencils (:func:`label_quadratic_form`).
        rhs: ``(capacity, 1, h, w)`` label vectors.
        const: ``(capacity,)`` label constants.
        weights: ``(capacity,)`` sample weights; they sum to 1 over the filled slots.
        learning_rate: Weight of a new sample relative to the previous newest, ``lr``.
        size: Number of filled slots.
        previous_replace: Slot written by the last :meth:`push` (None before the first).
    """

    samples: torch.Tensor
    gram: torch.Tensor
    rhs: torch.Tensor
    const: torch.Tensor
    weights: torch.Tensor
    learning_rate: float = 0.1
    size: int = 0
    previous_replace: int | None = None

    @property
    def capacity(self) -> int:
        """Number of slots."""
        return int(self.weights.shape[0])

    @classmethod
    def create(
        cls,
        capacity: int,
        samples: torch.Tensor,
        gram: torch.Tensor,
        rhs: torch.Tensor,
        const: torch.Tensor,
        learning_rate: float = 0.1,
    ) -> SampleMemory:
        """Allocate a memory and fill its first ``K`` slots (FRTM's initialisation).

        Weights: ``1/K`` each, the first sample (the original frame) ``2/K``, normalised.

        Args:
            capacity: Number of slots (>= K).
            samples: ``(K, C, h, w)``.
            gram: ``(K, 9, h, w)``.
            rhs: ``(K, 1, h, w)``.
            const: ``(K,)``.
            learning_rate: See :attr:`learning_rate`.
        """
        k = samples.shape[0]
        if not 0 < k <= capacity:
            raise ValueError(f"cannot initialise a memory of capacity {capacity} with {k} samples")

        def alloc(t: torch.Tensor) -> torch.Tensor:
            out = t.new_zeros(capacity, *t.shape[1:], dtype=torch.float32)
            out[:k] = t.detach()
            return out

        weights = samples.new_zeros(capacity, dtype=torch.float32)
        weights[:k] = 1.0 / k
        weights[0] = 2.0 / k
        weights[:k] /= weights[:k].sum()
        return cls(alloc(samples), alloc(gram), alloc(rhs), alloc(const), weights, learning_rate, k)

    def push(
        self, sample: torch.Tensor, gram: torch.Tensor, rhs: torch.Tensor, const: torch.Tensor
    ) -> int:
        """Insert one sample with FRTM's rule, in place; returns the slot written.

        The slot with the smallest weight (an empty one while any is left) is replaced. The
        new weight is that of the previously inserted sample divided by ``1 - lr`` (``lr``
        for the first push, after dividing all weights by ``1 - lr``); then all weights are
        renormalised, so older samples decay geometrically.
        """
        sw, lr = self.weights, self.learning_rate
        if self.size == 0 or lr == 1:
            sw.zero_()
            sw[0] = 1.0
            slot = 0
        else:
            slot = int(torch.argmin(sw))
            if self.previous_replace is None:
                sw /= 1 - lr
                sw[slot] = lr
            else:
                sw[slot] = sw[self.previous_replace] / (1 - lr)
        sw /= sw.sum()
        self.samples[slot] = sample.detach().reshape(self.samples.shape[1:])
        self.gram[slot] = gram.detach().reshape(self.gram.shape[1:])
        self.rhs[slot] = rhs.detach().reshape(self.rhs.shape[1:])
        self.const[slot] = const.detach().reshape(())
        self.previous_replace = slot
        self.size = min(self.size + 1, self.capacity)
        return slot

    def active(self) -> torch.Tensor:
        """Indices of the slots with a positive weight (the ones the loss uses)."""
        return torch.nonzero(self.weights > 0).view(-1)
