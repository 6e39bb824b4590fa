"""Baselines: a population-capable linear layer and the MLP of Trask et al. (2018)."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from . import functional as F
from .base import ArithmeticUnit
from .nalu import init_linear_


class Linear(ArithmeticUnit):
    r"""``torch.nn.Linear`` that can also hold a population: :math:`y = x W^T + b`.

    Args:
        in_features, out_features, members, device, dtype: as for :class:`~nalm.units.nac.NAC`.
        bias: learn an additive bias (default ``True``).

    Shape:
        As for :class:`~nalm.units.nac.NAC`.

    Attributes:
        weight, bias: initialized exactly as ``torch.nn.Linear`` initializes them.

    Examples::

        >>> Linear(3, 2, members=5)(torch.rand(7, 3)).shape
        torch.Size([5, 7, 2])
    """

    def __init__(self, in_features: int, out_features: int, *, bias: bool = True, members=None,
                 device=None, dtype=None):
        super().__init__(in_features, out_features, members=members, device=device, dtype=dtype)
        self.weight = self.new_parameter(out_features, in_features)
        self.bias = self.new_parameter(out_features) if bias else None
        self.reset_parameters()

    def init_member(self, weight: Tensor, bias: Tensor | None = None) -> None:
        init_linear_(weight, bias)

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        y = F.linear(x, self.weight)
        return y if self.bias is None else y + self.over_batch(self.bias)


class PReLU(nn.Module):
    """``torch.nn.PReLU`` with one slope per member (0.25 at start, as PyTorch's)."""

    def __init__(self, *, members=None, device=None, dtype=None):
        super().__init__()
        self.members = members
        shape = (1,) if members is None else (members, 1)  # member m's slice: PyTorch's (1,)
        self.weight = nn.Parameter(torch.empty(shape, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.constant_(self.weight, 0.25)

    def reset_member(self, index: int | None) -> None:
        with torch.no_grad():
            nn.init.constant_(self.weight if index is None else self.weight[index], 0.25)

    def forward(self, x: Tensor) -> Tensor:
        slope = self.weight if self.members is None else self.weight.unsqueeze(1)  # (M, 1, 1)
        return torch.where(x >= 0, x, slope * x)


ACTIVATIONS = {
    "hardtanh": nn.Hardtanh,
    "sigmoid": nn.Sigmoid,
    "relu6": nn.ReLU6,
    "tanh": nn.Tanh,
    "tanhshrink": nn.Tanhshrink,
    "hardshrink": nn.Hardshrink,
    "leakyrelu": nn.LeakyReLU,
    "softshrink": nn.Softshrink,
    "softsign": nn.Softsign,
    "relu": nn.ReLU,
    "prelu": PReLU,
    "softplus": nn.Softplus,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}
"""Activations by name: the 14 of Trask et al.'s Figure 1, plus gelu and silu."""

FIGURE1_ACTIVATIONS = tuple(name for name in ACTIVATIONS if name not in ("gelu", "silu"))


class Activation(nn.Module):
    """A ``torch.nn`` activation computed with :func:`~nalm.units.functional.simd`, so a
    population member's output is bit-identical to the same MLP's alone."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name
        object.__setattr__(self, "fn", ACTIVATIONS[name]())  # parameter-free: keep it out of repr

    def forward(self, x: Tensor) -> Tensor:
        return F.simd(self.fn, x)

    def extra_repr(self) -> str:
        return self.name


def make_activation(name: str | None, *, members=None, device=None, dtype=None) -> nn.Module:
    """The activation module called ``name`` (``None``: identity, a linear network)."""
    if name is None or name == "none":
        return nn.Identity()
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; known: none, {', '.join(ACTIVATIONS)}")
    if name == "prelu":
        return PReLU(members=members, device=device, dtype=dtype)
    return Activation(name)
