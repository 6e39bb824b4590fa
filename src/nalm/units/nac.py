"""The neural accumulators of Trask et al. (2018): NAC (additive) and NAC• (multiplicative)."""
from __future__ import annotations

import math
from functools import lru_cache

from torch import Tensor, nn

from . import functional as F
from .base import ArithmeticUnit, KernelLayer, unregularized
from .input_regularizer import InputRegularized

INITS = ("stable-nalu", "blog", "small-uniform")
"""Initialization schemes of the NAC-based units (see :func:`init_nac_`)."""


def nac_weight_variance(r: float) -> float:
    r"""Var(W) of :math:`W = \tanh(\hat W)\,\sigma(\hat M)` with :math:`\hat W, \hat M \sim U[-r, r]`.

    :math:`E[\tanh^2(\hat W)] = 1 - \tanh(r)/r` and, since :math:`\sigma(m) - 1/2` is odd,
    :math:`E[\sigma^2(\hat M)] = (r - \tanh(r/2)) / (2r)`; W has mean 0, so its variance is
    their product (stable-nalu ``stable_nalu/layer/nac.py:10-20``).

    >>> nac_weight_variance(0.0)
    0.0
    """
    if r == 0:
        return 0.0
    return (1 - math.tanh(r) / r) * (r - math.tanh(r / 2)) / (2 * r)


@lru_cache(maxsize=None)
def nac_w_optimal_r(fan_in: int, fan_out: int) -> float:
    r"""The r of :math:`U[-r, r]` for :math:`\hat W, \hat M` that gives W Glorot's variance.

    Solves :math:`\text{fan} \cdot \text{Var}(W) = 2` (Glorot & Bengio 2010) for r in [0, 10]
    by bisection, with :math:`\text{fan} = \max(\text{fan\_in} + \text{fan\_out}, 5)`: Var(W)
    stays under 1/2, so a fan of 4 or less has no solution and the fan is floored
    (stable-nalu ``stable_nalu/layer/nac.py:22-30``, also nalm-benchmark
    ``stable_nalu/layer/nac.py:22-30``).

    >>> round(nac_w_optimal_r(100, 2), 3), round(nac_w_optimal_r(2, 1), 2)
    (0.504, 9.47)
    """
    fan = max(fan_in + fan_out, 5)
    low, high = 0.0, 10.0  # fan * Var(W) - 2 is increasing in r: negative at 0, positive at 10
    while True:
        mid = (low + high) / 2
        if mid in (low, high):
            return mid
        if fan * nac_weight_variance(mid) < 2:
            low = mid
        else:
            high = mid


def init_nac_(tensor: Tensor, scheme: str, fan_in: int, fan_out: int) -> Tensor:
    r"""Fill a NAC matrix (:math:`\hat W` or :math:`\hat M`) in place by a named scheme.

    * ``'stable-nalu'``: :math:`U[-r, r]` with ``r = nac_w_optimal_r(fan_in, fan_out)``, the
      scheme of both rigorous benchmarks (stable-nalu ``stable_nalu/layer/nac.py:54-57``;
      nalm-benchmark ``stable_nalu/layer/nac.py:55-58``): 0.504 for a 100 → 2 layer.
    * ``'blog'``: ``kaiming_uniform_(a=√5)``, i.e. ``torch.nn.Linear``'s weight init, as in
      the seed blog's code (vrxacs/NALU-pytorch ``models/nac.py:29-30``).
    * ``'small-uniform'``: U[0, 0.1), the ``"rand"`` init of Heim et al.'s arithmetic task
      (nmheim/NeuralPowerUnits ``src/arithmetic_models.jl:37-38, 57-65``).

    Depends only on the shapes, so a population member draws what a standalone unit draws.
    """
    if scheme == "stable-nalu":
        r = nac_w_optimal_r(fan_in, fan_out)
        return nn.init.uniform_(tensor, -r, r)
    if scheme == "blog":
        return nn.init.kaiming_uniform_(tensor, a=math.sqrt(5))
    if scheme == "small-uniform":
        return nn.init.uniform_(tensor, 0.0, 0.1)
    raise ValueError(f"init must be one of {INITS}, got {scheme!r}")


def check_init(init: str) -> str:
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    return init


class NAC(InputRegularized, ArithmeticUnit):
    r"""Neural accumulator: :math:`y = x W^T` with :math:`W = \tanh(\hat W) \odot \sigma(\hat M)`.

    Trask et al., "Neural Arithmetic Logic Units", NeurIPS 2018, eq. 1. The weight is a
    function of two trained matrices, recomputed in every forward pass, so saturating it
    pulls each entry toward -1, 0 or 1 and the unit adds and subtracts its inputs without
    scaling them. No bias.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        init: how :math:`\hat W` and :math:`\hat M` are drawn, one of :data:`INITS` (see
            :func:`init_nac_`); default ``'stable-nalu'``, the scheme of Madsen & Johansen's and
            Mistry et al.'s code (the paper gives none).
        regularizer_z: the weight of Madsen & Johansen's input regularizer R_z on the effective
            weight, :math:`\text{mean}((1 - |W|) \cdot \bar x^2)` (:meth:`input_regularizer`), the
            regularization of this unit; 0 (off) by default. Their NAC+,R_z of sequential MNIST
            (stable-nalu ``stable_nalu/layer/nac.py:40-71``, ``--regualizer-z 1`` in
            ``lfs_batch_jobs/sequential_mnist_sum_long.sh``). While it is on, every training
            forward pass keeps its input until :meth:`project_`, and the fused step is not used.
        members: if given, hold that many independent units as one population.
        device, dtype: factory keyword arguments for the parameters.

    Shape:
        - Input: :math:`(*, H_{in})`; with ``members=M``, :math:`(B, H_{in})` shared by all
          members or :math:`(M, B, H_{in})`.
        - Output: :math:`(*, H_{out})`; with ``members=M``, :math:`(M, B, H_{out})`.

    Attributes:
        W_hat, M_hat: the trained matrices, shape ``(out_features, in_features)`` (with a
            leading member dimension in a population), initialized by ``init``.
        weight: the effective weight :math:`W` (read only).

    Examples::

        >>> import torch
        >>> nac = NAC(2, 1, dtype=torch.float64)
        >>> with torch.no_grad():
        ...     _ = nac.W_hat.fill_(20.0), nac.M_hat.fill_(20.0)  # saturate: W = [1, 1]
        >>> nac(torch.tensor([[3.0, 4.0]], dtype=torch.float64))
        tensor([[7.0000]], dtype=torch.float64, grad_fn=<...>)
        >>> NAC(2, 1, members=8)(torch.rand(16, 2)).shape
        torch.Size([8, 16, 1])
    """

    z_input = 0.0  # R_z of addition, as the NAU's

    def __init__(self, in_features: int, out_features: int, *, init: str = "stable-nalu", regularizer_z: float = 0.0,
                 members=None, device=None, dtype=None):
        super().__init__(in_features, out_features, members=members, device=device, dtype=dtype)
        self.init = check_init(init)
        self._init_input_regularizer(regularizer_z)
        self.W_hat = self.new_parameter(out_features, in_features)
        self.M_hat = self.new_parameter(out_features, in_features)
        self.reset_parameters()

    def init_member(self, W_hat: Tensor, M_hat: Tensor) -> None:
        for p in (W_hat, M_hat):
            init_nac_(p, self.init, self.in_features, self.out_features)

    def options(self) -> dict:
        return {"init": self.init, **self.input_regularizer_options()}

    @property
    def weight(self) -> Tensor:
        """The effective weight tanh(Ŵ)⊙σ(M̂); a derived tensor, never a Parameter."""
        return F.nac_weight(self.W_hat, self.M_hat)

    def z_magnitude(self) -> Tensor:
        """|W| of the effective weight, as the reference's ``RegualizerNAUZ(nac_weight(...))``."""
        return self.weight.abs()

    def regularization(self, step: int, error: Tensor | None = None) -> Tensor:
        z = self.input_regularization()
        return super().regularization(step, error) if z is None else z

    def project_(self) -> None:
        """Drop the inputs kept for R_z (called after every optimizer step)."""
        self.forget_inputs()

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        self.remember_input(x)
        return F.linear(x, self.weight)

    def weight_source(self) -> dict:
        """The :class:`~nalm.units.base.KernelLayer` fields that say how Ŵ and M̂ give the weight
        (no regularizer)."""
        return dict(parameters=(self.W_hat, self.M_hat), weight_map="nac", sparsity_weight=unregularized)

    def kernel_layer(self) -> KernelLayer:
        return KernelLayer("linear", weight=self.weight, **self.weight_source())


class LogSpaceProduct:
    r"""The NAC•'s log-space product, :math:`y = \exp(\log(|x| + \epsilon) W^T)`, for the units
    that share it (NAC•, NAC•,σ, NAC•,NMU) and differ only in their weight.

    A unit mixing it in, before its :class:`~nalm.units.base.ArithmeticUnit` base, supplies
    ``weight`` (the effective W), ``eps``, ``weight_range``: the interval ``(low, high)``
    its weight lies in, which :mod:`nalm.explain` rounds the weight within, and
    ``weight_source()``: the :class:`~nalm.units.base.KernelLayer` fields that say how its
    parameters give W.
    """

    eps: float
    weight: Tensor
    weight_range: tuple[float, float]

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        logs = F.log_magnitude(x, self.eps)
        self.keep_log_input(logs)
        return F.exp(F.linear(logs, self.weight))

    def keep_log_input(self, logs: Tensor) -> None:
        """What the linear map in log space sees, for a unit that keeps its inputs (R_z); nothing by default."""

    def kernel_layer(self) -> KernelLayer:
        return KernelLayer("log-linear", log_weight=self.weight, eps=self.eps, **self.weight_source())


class MultiplicativeNAC(LogSpaceProduct, NAC):
    r"""NAC•: a NAC in log space, :math:`y = \exp(\log(|x| + \epsilon) W^T)`.

    Trask et al. (2018), the multiplicative path of the NALU used on its own (Madsen &
    Johansen 2020 call it NAC•). Weights of 1 and -1 multiply and divide; the sign of the
    input is lost.

    Args:
        in_features, out_features, init, members, device, dtype: as for :class:`NAC`.
        eps: added to :math:`|x|` before the log so that a zero input stays finite; default
            1e-7 as in stable-nalu ``stable_nalu/network/simple_function_static.py:9`` and
            nalm-benchmark ``stable_nalu/network/single_layer.py:9``.

    Shape:
        As for :class:`NAC`.

    Attributes:
        W_hat, M_hat, weight: as for :class:`NAC`.

    Numerics:
        ``exp`` overflows to ``inf`` once :math:`\log(|x|+\epsilon) W^T` passes about 88 in
        float32 (709 in float64); the unit does not clamp it, so the output is then ``inf``
        and the training loop records the member as diverged.

    Examples::

        >>> import torch
        >>> unit = MultiplicativeNAC(2, 1, dtype=torch.float64)
        >>> with torch.no_grad():
        ...     _ = unit.W_hat.copy_(torch.tensor([[20.0, -20.0]])), unit.M_hat.fill_(20.0)
        >>> unit(torch.tensor([[6.0, 3.0]], dtype=torch.float64))  # W = [1, -1]: a / b
        tensor([[2.0000]], dtype=torch.float64, grad_fn=<...>)
    """

    weight_range = (-1.0, 1.0)

    def __init__(self, in_features: int, out_features: int, *, eps: float = 1e-7, init: str = "stable-nalu",
                 members=None, device=None, dtype=None):
        self.eps = eps
        super().__init__(in_features, out_features, init=init, members=members, device=device, dtype=dtype)

    def options(self) -> dict:
        return {"eps": self.eps, **super().options()}
