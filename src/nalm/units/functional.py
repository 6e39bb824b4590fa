"""Pure math of the arithmetic units, free of parameters and modules.

Every function broadcasts over leading dimensions, so the same code serves a single unit
(weight ``(out, in)``, input ``(*, in)``) and a population (weight ``(M, out, in)``, input
``(batch, in)`` shared by all members or ``(M, batch, in)``, one batch per member).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor


def linear(x: Tensor, weight: Tensor) -> Tensor:
    """``x @ weight.T``, broadcasting a shared ``(batch, in)`` input over members."""
    return torch.matmul(x, weight.transpose(-1, -2))


def nac_weight(w_hat: Tensor, m_hat: Tensor) -> Tensor:
    """W = tanh(Ŵ) ⊙ σ(M̂) (Trask et al. 2018, eq. 1): biased toward -1, 0 and 1."""
    return torch.tanh(w_hat) * torch.sigmoid(m_hat)


def log_magnitude(x: Tensor, eps: float) -> Tensor:
    """log(|x| + eps), the input of every log-space path (eps keeps log(0) finite)."""
    return torch.log(x.abs() + eps)


def gated_mix(gate: Tensor, add: Tensor, mul: Tensor) -> Tensor:
    """g ⊙ a + (1 - g) ⊙ m, the NALU's choice between its two paths."""
    return gate * add + (1 - gate) * mul


def nmu(x: Tensor, weight: Tensor) -> Tensor:
    """y_j = Π_i (W_ji x_i + 1 - W_ji) (Madsen & Johansen 2020, eq. 4).

    ``weight`` must already carry a batch axis for populations: ``(M, 1, out, in)``.
    """
    terms = weight * x.unsqueeze(-2) + 1 - weight  # (*, batch, out, in)
    return terms.prod(dim=-1)  # (*, batch, out)


def npu(x: Tensor, w_re: Tensor, w_im: Tensor | None, gate: Tensor, eps: float) -> Tensor:
    """The (real) neural power unit of Heim et al. (2020), eq. 5-7.

    The complex logarithm of a negative number adds iπ; the NPU keeps its real and imaginary
    parts apart, so the sign of a product of negative inputs comes back through the cosine.
    ``w_im=None`` gives the RealNPU, whose imaginary weights are fixed at zero.
    """
    g = gate.clamp(0, 1)
    magnitude = torch.log(g * (x.abs() + eps) + 1 - g)  # (*, batch, in): log r
    phase = g * math.pi * (x < 0).to(x.dtype)  # (*, batch, in): k
    if w_im is None:
        return torch.exp(linear(magnitude, w_re)) * torch.cos(linear(phase, w_re))
    return torch.exp(linear(magnitude, w_re) - linear(phase, w_im)) * torch.cos(
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
