r"""Mass-conserving fully connected layers (Hoedt et al. 2021) as the NALM benchmark codes them.

Hoedt, Kratzert, Klotz, Halmich, Holzleitner, Nearing, Hochreiter & Klambauer, "MC-LSTM:
Mass-Conserving LSTM", ICML 2021, section 5.2 (static arithmetic); bmistry4/nalm-benchmark@120ec8e
``stable_nalu/layer/mcfc.py``, copied there from hoedt/stable-nalu. Each input's mass is
split over the outputs by a softmax, and an output gate lets part of it through:

.. math::
    y_j = \sigma(w_j + b_j) \sum_i x_i \, \mathrm{softmax}_j(R_{i,:})

The gate's input is the constant 1, so neither factor depends on the data and the layer is
linear: :math:`y = x W^T` with :math:`W_{ji} = \sigma(w_j + b_j)\,\mathrm{softmax}_j(R_{i,:})`,
which is how it is computed here (the reference multiplies the two factors after the sum; the
results agree to rounding). With one output the softmax is 1 and the layer can only add.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from . import functional as F
from .base import KernelLayer, Scheduled


class _MassConserving(Scheduled):
    """The junction R, the output gate (w, b) and the regularizer shared by MC-FC and MulMCFC."""

    schedule = (10.0, 1e6, 2e6)

    def __init__(self, in_features: int, out_features: int, **kwargs):
        super().__init__(in_features, out_features, **kwargs)
        self.R = self.new_parameter(in_features, out_features)
        self.gate_weight = self.new_parameter(out_features, 1)
        self.gate_bias = self.new_parameter(out_features)

    def init_junction(self, R: Tensor, gate_weight: Tensor, gate_bias: Tensor) -> None:
        """R: the identity for a square layer, else ``orthogonal_`` (``mclstm.py:163-172``); the
        gate: ``orthogonal_`` weight, zero bias (``mclstm.py:140-142``)."""
        if self.in_features == self.out_features:
            nn.init.eye_(R)
        else:
            nn.init.orthogonal_(R)
        nn.init.orthogonal_(gate_weight)
        nn.init.zeros_(gate_bias)

    @property
    def weight(self) -> Tensor:
        """The linear map W (out, in): the output gate times the junction's softmax."""
        junction = torch.softmax(self.R, dim=-1).transpose(-1, -2)  # (out, in)
        gate = F.sigmoid(self.gate_weight[..., 0] + self.gate_bias)  # (out,)
        return gate.unsqueeze(-1) * junction

    def regularization(self, step: int, error: Tensor | None = None) -> Tensor:
        """λ(t) · −(mean(R²) + mean(w²) + mean(b²)) (``mcfc.py:56-62``): the reference's sign, which
        rewards large parameters and so saturates the softmax and the gate."""
        scale = self.regularizer_weight(step)
        if scale == 0:
            return self.new_zeros_per_member()
        squares = [self.per_member_mean(p ** 2) for p in (self.R, self.gate_weight, self.gate_bias)]
        return -scale * (squares[0] + squares[1] + squares[2])


class MCFC(_MassConserving):
    r"""Mass-conserving fully connected layer (MC-FC): see the module docstring for the formula.

    Args:
        in_features, out_features, members, device, dtype: as for :class:`~nalm.units.nac.NAC`.
        regularizer_scale, regularizer_start, regularizer_end: λ(t) of the regularizer, ramped
            as the NAU's; defaults: the reference script's λ 10 from 1e6 to 2e6 steps (the
            benchmark ramps from 20k to 35k, ``marc_single_layer.sh:41-50``).

    Attributes:
        R: the junction, shape ``(in, out)``; gate_weight ``(out, 1)`` and gate_bias ``(out,)``:
            the output gate. weight: the linear map they make (read only).

    Examples::

        >>> import torch
        >>> unit = MCFC(2, 1, dtype=torch.float64)
        >>> with torch.no_grad():
        ...     _ = unit.gate_bias.fill_(40.0)  # gate open: σ ≈ 1
        >>> unit(torch.tensor([[3.0, 4.0]], dtype=torch.float64))
        tensor([[7.]], dtype=torch.float64, grad_fn=<...>)
    """

    init_scheme = ("R: identity if in = out, else orthogonal_; gate weight orthogonal_, bias 0 "
                   "(nalm-benchmark stable_nalu/layer/mclstm.py:140-142, 163-172)")

    def __init__(self, in_features: int, out_features: int, **kwargs):
        super().__init__(in_features, out_features, **kwargs)
        self.reset_parameters()

    def init_member(self, R: Tensor, gate_weight: Tensor, gate_bias: Tensor) -> None:
        self.init_junction(R, gate_weight, gate_bias)

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        return F.linear(x, self.weight)

    def kernel_layer(self) -> KernelLayer:
        return KernelLayer("linear", weight=self.weight, parameters=(self.R, self.gate_weight, self.gate_bias),
                           weight_map="mcfc", sparsity_weight=self.regularizer_weight, regularizer="squares")


class MulMCFC(_MassConserving):
    r"""MC-FC in log space: :math:`y = \exp(\mathrm{MCFC}(\log x) + \alpha)`.

    Hoedt et al. 2021, section 5.2, as nalm-benchmark codes it (``stable_nalu/layer/mcfc.py:81-119``):
    the reference's extra "trash" output of the original is dropped, and there is no eps, so a
    negative input gives nan and 0 gives an output of 0 or inf. The bias α (``out``) starts at 0
    and is not regularized.

    Args:
        As for :class:`MCFC`.

    Examples::

        >>> import torch
        >>> unit = MulMCFC(2, 1, dtype=torch.float64)
        >>> with torch.no_grad():
        ...     _ = unit.gate_bias.fill_(40.0)
        >>> unit(torch.tensor([[3.0, 4.0]], dtype=torch.float64))
        tensor([[12.]], dtype=torch.float64, grad_fn=<...>)
    """

    init_scheme = MCFC.init_scheme + "; α 0 (mcfc.py:91, 95)"
    positive_inputs_only = True

    def __init__(self, in_features: int, out_features: int, **kwargs):
        super().__init__(in_features, out_features, **kwargs)
        self.bias = self.new_parameter(out_features)
        self.reset_parameters()

    def init_member(self, R: Tensor, gate_weight: Tensor, gate_bias: Tensor, bias: Tensor) -> None:
        self.init_junction(R, gate_weight, gate_bias)
        nn.init.zeros_(bias)

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        return F.exp(F.linear(F.log(x), self.weight) + self.over_batch(self.bias))
