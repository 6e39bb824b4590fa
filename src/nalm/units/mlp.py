"""Baselines: a population-capable linear layer and the MLP of Trask et al. (2018)."""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from . import functional as F
from .base import ArithmeticUnit
from .nalu import init_linear_
from .registry import ACTIVATIONS


LINEAR_INITS = ("torch", "xavier", "xavier-tanh", "kaiming-relu", "selu")
"""Initializations of :class:`Linear`: ``'torch'`` is ``torch.nn.Linear``'s; the others are
those of stable-nalu's ``BasicLayer`` (``stable_nalu/layer/basic.py:20-46``), with a zero bias
(``basic.py:70-73``)."""


def init_layer_(weight: Tensor, bias: Tensor | None, scheme: str) -> None:
    r"""Fill a linear layer's weight and bias in place by a scheme of :data:`LINEAR_INITS`.

    ``'xavier'``: ``xavier_uniform_`` gain 1 (stable-nalu's linear, sigmoid and softsign);
    ``'xavier-tanh'``: gain 5/3; ``'kaiming-relu'``: ``kaiming_uniform_(nonlinearity='relu')``
    (its ReLU, ReLU6 and ELU); ``'selu'``: :math:`U[\pm\sqrt{3/\text{fan\_in}}]`.
    """
    if scheme == "torch":
        init_linear_(weight, bias)
        return
    if scheme == "xavier":
        nn.init.xavier_uniform_(weight, gain=nn.init.calculate_gain("linear"))
    elif scheme == "xavier-tanh":
        nn.init.xavier_uniform_(weight, gain=nn.init.calculate_gain("tanh"))
    elif scheme == "kaiming-relu":
        nn.init.kaiming_uniform_(weight, nonlinearity="relu")
    elif scheme == "selu":
        bound = math.sqrt(3 / weight.shape[1])
        nn.init.uniform_(weight, -bound, bound)
    else:
        raise ValueError(f"init must be one of {LINEAR_INITS}, got {scheme!r}")
    if bias is not None:
        nn.init.zeros_(bias)


class Linear(ArithmeticUnit):
    r"""``torch.nn.Linear`` that can also hold a population: :math:`y = x W^T + b`.

    Args:
        in_features, out_features, members, device, dtype: as for :class:`~nalm.units.nac.NAC`.
        bias: learn an additive bias (default ``True``).
        init: one of :data:`LINEAR_INITS` (see :func:`init_layer_`); default ``'torch'``.

    Shape:
        As for :class:`~nalm.units.nac.NAC`.

    Attributes:
        weight, bias: initialized by ``init``; by default exactly as ``torch.nn.Linear``.

    Examples::

        >>> Linear(3, 2, members=5)(torch.rand(7, 3)).shape
        torch.Size([5, 7, 2])
    """

    def __init__(self, in_features: int, out_features: int, *, bias: bool = True, init: str = "torch",
                 members=None, device=None, dtype=None):
        super().__init__(in_features, out_features, members=members, device=device, dtype=dtype)
        if init not in LINEAR_INITS:
            raise ValueError(f"init must be one of {LINEAR_INITS}, got {init!r}")
        self.init = init
        self.weight = self.new_parameter(out_features, in_features)
        self.bias = self.new_parameter(out_features) if bias else None
        self.reset_parameters()

    def init_member(self, weight: Tensor, bias: Tensor | None = None) -> None:
        init_layer_(weight, bias, self.init)

    def options(self) -> dict:
        return {} if self.init == "torch" else {"init": self.init}

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


FIGURE1_ACTIVATIONS = tuple(name for name in ACTIVATIONS if name not in ("gelu", "silu"))

MLP_INITS = ("torch", "stable-nalu")
"""Initializations of an MLP: every layer as ``torch.nn.Linear``, or as stable-nalu's."""

STABLE_NALU_INITS = {
    None: "xavier",  # 'linear', also every output layer (stable_nalu/network/simple_function_static.py:32-33)
    "tanh": "xavier-tanh",
    "sigmoid": "xavier",
    "relu6": "kaiming-relu",
    "softsign": "xavier",
    "selu": "selu",
    "elu": "kaiming-relu",
    "relu": "kaiming-relu",
}
"""stable-nalu's initialization of a layer followed by each activation it has
(``stable_nalu/layer/basic.py:20-46``); ``None`` is a layer with no activation."""


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
