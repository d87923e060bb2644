"""Gauss-Newton + conjugate gradient (FRTM's ``GaussNewtonCG``) and the target-model problem.

The optimiser follows the official one: each Gauss-Newton step solves
``(J^T M J) dx = -J^T grad_f`` with a fixed number of preconditioned CG iterations
(Polak-Ribiere beta clamped at 0, ``alpha = rho / p^T q``), the CG direction persisting
across calls with a forgetting factor, and ``x += dx``. Jacobian products come from
double-backward autograd: ``v = J^T g`` is built with ``create_graph=True`` for a dummy
``g``, then ``J u = d(v . u)/dg`` and ``J^T (M J u)`` is one more backward pass.

The problem is written in generalised Gauss-Newton form: outputs ``f(x)`` (the score maps
and the regularisation residuals), a metric ``M`` (the label stencils of
:mod:`~vosframe.models.frtm.memory` for the scores, identity for the regularisers) and
``grad_f`` (``M f - b``). With ``M = I`` and ``grad_f = f`` this is the official
residual form; with the stencils it is the same loss without full-resolution maps.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence

import attrs
import torch
import torch.nn.functional as F

from vosframe.models.frtm.memory import OFFSETS, apply_gram

TensorList = list[torch.Tensor]


@contextlib.contextmanager
def fp32_autograd(device_type: str) -> Iterator[None]:
    """Enable autograd in fp32 whatever the caller's mode (no_grad, inference_mode, autocast)."""
    with (
        torch.inference_mode(False),
        torch.enable_grad(),
        torch.autocast(device_type=device_type, enabled=False),
    ):
        yield


@attrs.define(eq=False)
class CGState:
    """Conjugate-gradient state carried between optimiser calls (one per object).

    Attributes:
        p: Last search direction (None: start afresh).
        rho: Last ``r^T M^-1 r``.
        r_prev: Last residual (for the Polak-Ribiere beta).
    """

    p: TensorList | None = None
    rho: torch.Tensor = attrs.Factory(lambda: torch.ones(()))
    r_prev: TensorList | None = None


def _ip(a: TensorList, b: TensorList) -> torch.Tensor:
    return sum((x * y).sum() for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


@attrs.define(eq=False)
class TargetModelProblem:
    """FRTM's target-model least-squares problem on samples held as quadratic forms.

    With parameters ``[project, filter]`` the score is ``filter(project(x))``, computed as
    one 3x3 convolution with the fused weight ``einsum(filter, project)`` (both layers are
    bias-free and linear, so this is exact and ~10x cheaper for C_in=256, c=96); with
    parameters ``[filter]`` the samples are already projected. Loss:
    ``sum_n sw_n (s_n^T G_n s_n - 2 s_n^T b_n + c_n) + sum_k ||reg_k x_k||^2``.

    Attributes:
        samples: ``(N, C, h, w)`` fp32 features (raw for the joint problem, projected for
            the filter-only problem).
        gram: ``(N, 9, h, w)`` label stencils.
        rhs: ``(N, 1, h, w)`` label vectors.
        const: ``(N,)`` label constants.
        sample_weights: ``(N,)``.
        regs: Regularisation factor per parameter (``filter_reg``).
        precond: Preconditioner diagonal per parameter.
    """

    samples: torch.Tensor
    gram: torch.Tensor
    rhs: torch.Tensor
    const: torch.Tensor
    sample_weights: torch.Tensor
    regs: tuple[float, ...]
    precond: tuple[float, ...]

    def scores(self, params: TensorList) -> torch.Tensor:
        """Score maps ``(N, 1, h, w)`` of all samples."""
        return conv3x3_to_one(self.samples, fused_weight(params))

    def outputs(self, params: TensorList) -> TensorList:
        """``[scores, reg_k * x_k ...]``."""
        return [self.scores(params), *(r * x for r, x in zip(self.regs, params, strict=True))]

    def metric(self, v: TensorList) -> TensorList:
        """Gauss-Newton metric: ``sw * G`` on the scores, identity on the regularisers."""
        sw = self.sample_weights.view(-1, 1, 1, 1)
        return [sw * apply_gram(self.gram, v[0]), *v[1:]]

    def output_grad(self, f: TensorList) -> TensorList:
        """Half the loss gradient w.r.t. the outputs: ``sw (G s - b)`` and the regularisers."""
        sw = self.sample_weights.view(-1, 1, 1, 1)
        return [sw * (apply_gram(self.gram, f[0]) - self.rhs), *f[1:]]

    def loss(self, params: TensorList) -> torch.Tensor:
        """The official loss ``||r||^2`` (data + regularisation) at ``params``."""
        with torch.no_grad():
            f = self.outputs(params)
            s = f[0]
            quad = (s * apply_gram(self.gram, s)).flatten(1).sum(1)
            lin = (s * self.rhs).flatten(1).sum(1)
            data = (self.sample_weights * (quad - 2 * lin + self.const)).sum()
            return data + sum((t * t).sum() for t in f[1:])

    def precondition(self, r: TensorList) -> TensorList:
        """``M^-1 r``: divide each parameter's entries by its ``precond`` value."""
        return [t / d for t, d in zip(r, self.precond, strict=True)]


def conv3x3_to_one(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``F.conv2d(x, weight, padding=1)`` for a ``(1, C, 3, 3)`` weight, as a matmul.

    ``Y = W^T x`` gives the 9 per-tap maps in one pass over ``x``; the output is the sum of
    the shifted taps. The optimiser's cost is reading the memory samples, and PyTorch's
    CPU convolution with one output channel (and its double backward) is several times
    slower than this matmul form.

    Args:
        x: ``(N, C, h, w)``.
        weight: ``(1, C, 3, 3)``.

    Returns:
        ``(N, 1, h, w)``.
    """
    n, c, h, w = x.shape
    taps = torch.matmul(weight.reshape(c, 9).T, x.reshape(n, c, h * w)).view(n, 9, h, w)
    padded = F.pad(taps, (1, 1, 1, 1))
    out = padded[:, 0:1, 0:h, 0:w]
    for k, (dy, dx) in enumerate(OFFSETS[1:], start=1):
        out = out + padded[:, k : k + 1, 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]
    return out


def fused_weight(params: TensorList) -> torch.Tensor:
    """The 3x3 conv weight of the target model: ``filter`` or ``filter . project``.

    Args:
        params: ``[filter]`` ``(1, c, 3, 3)`` or ``[project, filter]`` with project
            ``(c, C_in, 1, 1)``.

    Returns:
        ``(1, C, 3, 3)``.
    """
    if len(params) == 1:
        return params[0]
    project, filt = params
    return torch.einsum("ockl,ci->oikl", filt, project.flatten(1))


def gauss_newton_cg(
    problem: TargetModelProblem,
    params: TensorList,
    cg_iters: Sequence[int],
    state: CGState,
    forget_factor: float,
) -> TensorList:
    """Run ``len(cg_iters)`` Gauss-Newton steps, step ``k`` with ``cg_iters[k]`` CG iterations.

    Args:
        problem: The least-squares problem.
        params: Initial parameters (not modified).
        cg_iters: CG iterations per GN step, e.g. ``(5, 10, 10, 10, 10)``.
        state: CG state, updated in place (persists across calls).
        forget_factor: ``(1 - precond_lr) ** CG_forgetting_rate``; ``rho`` is divided by it
            at the start of every CG run, 0 resets the state.

    Returns:
        The new parameters (detached, fp32).
    """
    x = [p.detach().float().clone() for p in params]
    for n_cg in cg_iters:
        x = [t.requires_grad_(True) for t in x]
        f0 = problem.outputs(x)
        # The dummy vector g only needs the right shape; giving it grad_f's value makes
        # J^T g equal to the right-hand side, saving one backward pass.
        g = [t.detach().requires_grad_(True) for t in problem.output_grad([v.detach() for v in f0])]
        jtg = torch.autograd.grad(f0, x, g, create_graph=True)
        b = [-t.detach() for t in jtg]
        matvec = functools.partial(_gn_matvec, problem=problem, f0=f0, g=g, jtg=jtg, x=x)
        dx = _run_cg(matvec, b, problem.precondition, n_cg, state, forget_factor)
        x = [(t.detach() + d).detach() for t, d in zip(x, dx, strict=True)]
    return x


def _gn_matvec(
    u: TensorList,
    *,
    problem: TargetModelProblem,
    f0: TensorList,
    g: TensorList,
    jtg: Sequence[torch.Tensor],
    x: TensorList,
) -> TensorList:
    """``J^T M J u`` by double backward: ``J u = d(J^T g . u)/dg``, then one backward pass."""
    ju = torch.autograd.grad(jtg, g, u, retain_graph=True)
    return list(torch.autograd.grad(f0, x, problem.metric(list(ju)), retain_graph=True))


def _run_cg(
    matvec: Callable[[TensorList], TensorList],
    b: TensorList,
    precondition: Callable[[TensorList], TensorList],
    num_iter: int,
    state: CGState,
    forget_factor: float,
) -> TensorList:
    """Preconditioned CG from ``x = 0`` with the official state handling (see module doc)."""
    if forget_factor == 0:
        state.p, state.rho, state.r_prev = None, torch.ones(()), None
    elif state.p is not None:
        state.rho = state.rho / forget_factor
    r = [t.clone() for t in b]
    x: TensorList | None = None
    for i in range(num_iter):
        z = precondition(r)
        rho1 = state.rho
        state.rho = _ip(r, z)
        if state.p is None:
            state.p = [t.clone() for t in z]
        else:
            assert state.r_prev is not None
            beta = ((state.rho - _ip(state.r_prev, z)) / rho1).clamp(min=0)
            beta = torch.nan_to_num(beta, nan=0.0, posinf=0.0)
            state.p = [zi + pi * beta for zi, pi in zip(z, state.p, strict=True)]
        q = matvec(state.p)
        pq = _ip(state.p, q)
        # Guard: a zero direction (exact fit) gives 0/0 in the official code.
        alpha = torch.where(pq > 0, state.rho / pq, torch.zeros_like(pq))
        state.r_prev = [t.clone() for t in r]
        step = [pi * alpha for pi in state.p]
        x = step if x is None else [xi + si for xi, si in zip(x, step, strict=True)]
        if i < num_iter - 1:
            r = [ri - qi * alpha for ri, qi in zip(r, q, strict=True)]
    return x if x is not None else [torch.zeros_like(t) for t in b]
