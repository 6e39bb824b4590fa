"""The Neural Addition Unit and Neural Multiplication Unit of Madsen & Johansen (2020)."""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from . import functional as F
from .base import KernelLayer, Scheduled


class _Regularized(Scheduled):
    """A unit with a clamped weight and Madsen & Johansen's ramped sparsity regularizer."""

    lower: float  # weight range, enforced in forward and by project_()

    def __init__(self, in_features: int, out_features: int, **kwargs):
        super().__init__(in_features, out_features, **kwargs)
        self.W = self.new_parameter(out_features, self.weight_columns())
        self.reset_parameters()

    def weight_columns(self) -> int:
        """Columns of W: one per input (units that weigh more than the inputs say how many)."""
        return self.in_features

    @property
    def weight(self) -> Tensor:
        return self.W.clamp(self.lower, 1.0)

    def sparsity(self) -> Tensor:
        """R = mean(min(|W|, |1 - |W||)) per member over the raw, unclamped W: zero exactly when
        every |W| is 0 or 1, with gradient 0 there (``|·|`` has gradient 0 at 0 in PyTorch).

        As stable-nalu ``stable_nalu/functional/regualizer.py:21-25`` (NMU) and ``:42-47``
        (NAU), applied to the raw parameter (``layer/re_regualized_linear_nac.py:54-59``,
        ``layer/re_regualized_linear_mnac.py:59-64``); the mean is over all of a layer's
        weights, and the layers' terms are summed (``abstract/_extended_torch_module.py:35-48``).
        For the NMU's W ∈ [0, 1], :math:`|1 - |W|| = |1 - W|`, the reference's form.
        """
        w = self.W.abs()
        return self.per_member_mean(torch.minimum(w, (1 - w).abs()))

    def regularization(self, step: int, error: Tensor | None = None) -> Tensor:
        scale = self.regularizer_weight(step)
        if scale == 0:
            return self.new_zeros_per_member()
        return scale * self.sparsity()

    def project_(self) -> None:
        with torch.no_grad():
            self.W.clamp_(self.lower, 1.0)


class NAU(_Regularized):
    r"""Neural addition unit: :math:`y = x W^T` with :math:`W \in [-1, 1]`.

    Madsen & Johansen, "Neural Arithmetic Units", ICLR 2020, section 2.3. The weight is
    clamped to [-1, 1] in the forward pass and clipped in place after every optimizer step
    (:meth:`project_`). The regularizer :math:`\lambda(t) \cdot \text{mean}(\min(|W|, |1-|W||))`
    (on the raw W, see :meth:`sparsity`)
    pulls weights to -1, 0 or 1, with :math:`\lambda(t)` ramping linearly from 0 at
    ``regularizer_start`` to ``regularizer_scale`` at ``regularizer_end`` (defaults: the
    paper's 0.01, 5e3 and 5e4).

    Args:
        in_features, out_features, members, device, dtype: as for :class:`~nalm.units.nac.NAC`.
        regularizer_scale, regularizer_start, regularizer_end: the schedule above; one left out
            (None) takes its default from ``schedule``.

    Shape:
        As for :class:`~nalm.units.nac.NAC`.

    Attributes:
        W: the trained weight, initialized :math:`U[-r, r]`,
            :math:`r = \min(0.5, \sqrt{3} \sqrt{2 / (in + out)})` (Madsen & Johansen 2020).
        weight: W clamped to [-1, 1] (read only).

    Examples::

        >>> import torch
        >>> nau = NAU(3, 1)
        >>> with torch.no_grad():
        ...     _ = nau.W.copy_(torch.tensor([[1.0, -1.0, 0.0]]))
        >>> nau(torch.tensor([[5.0, 2.0, 9.0]]))
        tensor([[3.]], grad_fn=<...>)
    """

    lower = -1.0
    schedule = (0.01, 5e3, 5e4)
    init_scheme = ("U[-r, r], r = min(0.5, √3·√(2/(in+out))) "
                   "(stable-nalu stable_nalu/layer/re_regualized_linear_nac.py:44-46)")

    def init_member(self, W: Tensor) -> None:
        r = min(0.5, math.sqrt(3.0) * math.sqrt(2.0 / (self.in_features + self.out_features)))
        nn.init.uniform_(W, -r, r)

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        return F.linear(x, self.weight)

    def kernel_layer(self) -> KernelLayer:
        return KernelLayer("linear", weight=self.weight)


class NMU(_Regularized):
    r"""Neural multiplication unit: :math:`y_j = \prod_i (W_{ji} x_i + 1 - W_{ji})`, :math:`W \in [0, 1]`.

    Madsen & Johansen, "Neural Arithmetic Units", ICLR 2020, section 2.4. A weight of 1
    multiplies its input in, a weight of 0 leaves a factor of 1. Weights are clamped to
    [0, 1] in the forward pass and clipped after every optimizer step; the regularizer is
    :math:`\lambda(t) \cdot \text{mean}(\min(|W|, |1-W|))` with the paper's defaults 10, 1e6 and
    2e6 (shorter benchmarks move the ramp earlier).

    Args:
        in_features, out_features, members, device, dtype: as for :class:`~nalm.units.nac.NAC`.
        regularizer_scale, regularizer_start, regularizer_end: the schedule, as for :class:`NAU`.

    Shape:
        As for :class:`~nalm.units.nac.NAC`.

    Attributes:
        W: the trained weight, initialized :math:`U[0.25, 0.75]` (Madsen & Johansen 2020).
        weight: W clamped to [0, 1] (read only).

    Numerics:
        A product of many large inputs can overflow to ``inf``; nothing is clamped.

    Examples::

        >>> import torch
        >>> nmu = NMU(3, 1)
        >>> with torch.no_grad():
        ...     _ = nmu.W.copy_(torch.tensor([[1.0, 1.0, 0.0]]))
        >>> nmu(torch.tensor([[5.0, -2.0, 9.0]]))
        tensor([[-10.]], grad_fn=<...>)
    """

    lower = 0.0
    schedule = (10.0, 1e6, 2e6)
    init_scheme = "U[0.25, 0.75] (stable-nalu stable_nalu/layer/re_regualized_linear_mnac.py:47-49)"

    def init_member(self, W: Tensor) -> None:
        nn.init.uniform_(W, 0.25, 0.75)

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        return F.nmu(x, self.over_batch(self.weight))

    def kernel_layer(self) -> KernelLayer:
        return KernelLayer("nmu", weight=self.weight)
