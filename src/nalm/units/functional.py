"""Pure math of the arithmetic units, free of parameters and modules.

Every function broadcasts over leading dimensions, so the same code serves a single unit
(weight ``(out, in)``, input ``(*, in)``) and a population (weight ``(M, out, in)``, input
``(batch, in)`` shared by all members or ``(M, batch, in)``, one batch per member).
"""
from __future__ import annotations

import math
from decimal import Decimal
from typing import Callable

import torch
from torch import Tensor

# Bytes in one SIMD register of the instruction set ATen's kernels use on this CPU (its
# Vectorized<T> width); None for one we do not know, padded to 64 elements, a multiple of all.
_REGISTER_BYTES = {"DEFAULT": 32, "AVX2": 32, "AVX512": 64}.get(torch.backends.cpu.get_cpu_capability())


def simd_multiple(dtype: torch.dtype) -> int:
    """The step of ATen's vectorized element-wise loops on this CPU, in elements of ``dtype``:
    two SIMD registers (16 float32 with AVX2, 32 with AVX-512)."""
    return 2 * _REGISTER_BYTES // dtype.itemsize if _REGISTER_BYTES else 64


def simd(fn: Callable[..., Tensor], *tensors: Tensor) -> Tensor:
    """``fn(*tensors)`` (tensors of one shape) with every element computed by ATen's SIMD kernel.

    ATen computes the last ``numel % (2 · SIMD width)`` elements of an element-wise op with
    a scalar routine whose transcendental functions (exp, log, tanh, sigmoid, cos) can round
    differently by one ulp. Which elements fall there depends on the tensor's total size, so
    a member of a population would not compute exactly what it computes alone. Padding to a
    multiple of that step (:func:`simd_multiple`) sends every element through the SIMD path;
    under Adam, chaotic runs such as a diverging NALU otherwise amplify that one ulp into
    different weights. A tensor already a multiple (a population of 100 NALUs of 2 × 100
    weights in float32) is not copied: the copies took half the time of a NALU's weights.
    """
    t = tensors[0]
    n = t.numel()
    multiple = simd_multiple(t.dtype)
    if n % multiple == 0 or t.device.type != "cpu":
        return fn(*tensors)
    pad = (0, multiple - n % multiple)
    padded = [torch.nn.functional.pad(x.reshape(-1), pad, value=1.0) for x in tensors]
    return fn(*padded)[:n].view(t.shape)


def power(base: Tensor, exponent: Tensor) -> Tensor:
    """``base ** exponent``, broadcast, every element through ATen's SIMD kernel (see :func:`simd`)."""
    return simd(torch.pow, *torch.broadcast_tensors(base, exponent))


def exp(t: Tensor) -> Tensor:
    return simd(torch.exp, t)


def log(t: Tensor) -> Tensor:
    return simd(torch.log, t)


def sigmoid(t: Tensor) -> Tensor:
    return simd(torch.sigmoid, t)


def cos(t: Tensor) -> Tensor:
    return simd(torch.cos, t)


def linear(x: Tensor, weight: Tensor) -> Tensor:
    """``x @ weight.T``, broadcasting a shared ``(batch, in)`` input over members.

    A population weight ``(M, out, in)`` always goes through one batched matmul, whatever
    M is and whether the input is shared: each member then gets exactly the arithmetic it
    would get alone (bit for bit), which keeps chaotic training runs (NALU under Adam)
    identical inside and outside a population.
    """
    if weight.dim() == 3:
        if x.dim() == 2:
            x = x.expand(weight.shape[0], -1, -1)  # (M, batch, in), a view
        return _BatchedLinear.apply(x, weight)  # (M, batch, out)
    return torch.matmul(x, weight.transpose(-1, -2))


class _BatchedLinear(torch.autograd.Function):
    """x·Wᵀ for populations, computed as (W·xᵀ)ᵀ, whose weight gradient is computed as gᵀ·x.

    Both products have the few outputs as rows: BLAS runs gᵀ·x several times faster than
    autograd's own xᵀ·g on these shapes, and the forward product takes the matching order
    (``python -m benchmarks.batched_linear`` times both orders of each).
    """

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor) -> Tensor:
        ctx.save_for_backward(x, weight)
        # Made contiguous (a copy of only M·batch·out values): reductions over a transposed
        # layout would sum in another order than a member alone does.
        return torch.bmm(weight, x.transpose(1, 2)).transpose(1, 2).contiguous()  # (M, batch, out)

    @staticmethod
    def backward(ctx, grad: Tensor):
        x, weight = ctx.saved_tensors
        grad_x = torch.bmm(grad, weight) if ctx.needs_input_grad[0] else None
        grad_weight = torch.bmm(grad.transpose(1, 2), x) if ctx.needs_input_grad[1] else None
        return grad_x, grad_weight


def nac_weight(w_hat: Tensor, m_hat: Tensor) -> Tensor:
    """W = tanh(Ŵ) ⊙ σ(M̂) (Trask et al. 2018, eq. 1): biased toward -1, 0 and 1."""
    return simd(torch.tanh, w_hat) * sigmoid(m_hat)


def log_magnitude(x: Tensor, eps: float) -> Tensor:
    """log(|x| + eps), the input of every log-space path (eps keeps log(0) finite)."""
    return log(x.abs() + eps)


def gated_mix(gate: Tensor, add: Tensor, mul: Tensor) -> Tensor:
    """g ⊙ a + (1 - g) ⊙ m, the NALU's choice between its two paths."""
    return gate * add + (1 - gate) * mul


def nmu(x: Tensor, weight: Tensor) -> Tensor:
    """y_j = Π_i (W_ji x_i + 1 - W_ji) (Madsen & Johansen 2020, eq. 4).

    ``weight`` must already carry a batch axis for populations: ``(M, 1, out, in)``.
    """
    terms = weight * x.unsqueeze(-2) + 1 - weight  # (*, batch, out, in)
    return terms.prod(dim=-1)  # (*, batch, out)


def npu(x: Tensor, w_re: Tensor, w_im: Tensor | None, gate: Tensor | None, eps: float) -> Tensor:
    """The (real) neural power unit of Heim et al. (2020), eq. 5-7.

    The complex logarithm of a negative number adds iπ; the NPU keeps its real and imaginary
    parts apart, so the sign of a product of negative inputs comes back through the cosine.
    ``w_im=None`` gives the RealNPU, whose imaginary weights are fixed at zero; ``gate=None``
    the ungated NaiveNPU, r = |x| + eps and k = π[x < 0] (eq. 5).
    """
    negative = math.pi * (x < 0).to(x.dtype)
    if gate is None:
        magnitude, phase = log(x.abs() + eps), negative
    else:
        g = gate.clamp(0, 1)
        magnitude = log(g * (x.abs() + eps) + 1 - g)  # (*, batch, in): log r
        phase = g * negative  # (*, batch, in): k
    if w_im is None:
        return exp(linear(magnitude, w_re)) * cos(linear(phase, w_re))
    return exp(linear(magnitude, w_re) - linear(phase, w_im)) * cos(
        linear(phase, w_re) + linear(magnitude, w_im)
    )


def sign_product(x: Tensor, weight: Tensor) -> Tensor:
    """iNALU sign recovery: Π_j (sign(x_j)|W_j| + 1 - |W_j|), clipped to [-1, 1].

    ``weight`` must already carry a batch axis for populations: ``(M, 1, out, in)``.
    """
    w = weight.abs()
    terms = torch.sign(x).unsqueeze(-2) * w + 1 - w  # (*, batch, out, in)
    return terms.prod(dim=-1).clamp(-1, 1)  # (*, batch, out)


def ramp(step: int, scale: float, start: float, end: float) -> float:
    """λ(t) = scale · clip((t - start) / (end - start), 0, 1): Madsen & Johansen's schedule."""
    if end <= start:
        return scale if step >= start else 0.0
    return scale * min(max((step - start) / (end - start), 0.0), 1.0)


def grown(step: int, start: float, end: float, growth: float, every: int) -> float:
    """``start`` multiplied by ``growth`` every ``every`` steps while below ``end`` (divided while
    above it, where ``start > end``), computed in decimal so that 1e-9 × 10 × 10 is 1e-7 exactly:
    the NPU's L1 schedule (nalm-benchmark ``experiments/single_layer_benchmark.py:583-586``)."""
    start, end, growth, every = (Decimal(str(v)) for v in (start, end, growth, every))
    value = start
    for _ in range(step // int(every)):  # ends within log(end/start)/log(growth) + 1 rounds
        if value < end and start <= end:
            value *= growth
        elif value > end and start > end:
            value /= growth
        else:
            break
    return float(value)
