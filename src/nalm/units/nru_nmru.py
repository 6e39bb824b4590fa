"""Division units of Mistry et al. (2022): the neural reciprocal unit (NRU) and the neural
multiplication-reciprocal unit (NMRU).

"Exploring the Learning Mechanisms of Neural Division Modules", Mistry, Farrahi & Hare,
TMLR 2022, coded in bmistry4/nalm-division@61fa973 (the units were removed from
nalm-benchmark in its commit 922b970). Both compute differently in training and in
evaluation (``module.train()`` / ``module.eval()``): the training loop evaluates in eval mode.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from . import functional as F
from .nau_nmu import NAU, _Regularized

FLOAT32_EPS = torch.finfo(torch.float32).eps
"""The NMRU's training-time guard against 1/0 (``concat_reciprocal_nmu.py:27``)."""

SHARPNESS = 1000.0
"""The NRU's smooth |W| in training is tanh²(1000 W) (``stable_nalu/functional/mnac.py:28-30``)."""


class NRU(_Regularized):
    r"""Neural reciprocal unit: each weight raises its input to a power in [-1, 1].

    Mistry et al. 2022, section 3 (``stable_nalu/layer/reciprocal_nmu.py:88-107`` with
    ``stable_nalu/functional/mnac.py:27-31``, mode ``'div'``):

    .. math::
        y_j = \prod_i \left(\operatorname{sign}(x_i) |x_i|^{W_{ji}} s(W_{ji}) + 1 - s(W_{ji})\right)

    with :math:`s(w) = \tanh^2(1000 w)` in training (a smooth :math:`|w|`) and :math:`|w|` in
    evaluation. A weight of 1 multiplies its input in, -1 divides by it, 0 leaves a factor of 1.
    W is clipped to [-1, 1] after every step, and the NAU's regularizer
    :math:`\lambda(t) \cdot \text{mean}(\min(|W|, |1-|W||))` pulls it to -1, 0, 1 (defaults: the
    reference script's λ 10 ramped from 1e6 to 2e6 steps, ``experiments/single_layer.py:38-42``;
    the single-module benchmark ramps from 20k to 35k).

    Args:
        in_features, out_features, members, device, dtype: as for :class:`~nalm.units.nac.NAC`.
        regularizer_scale, regularizer_start, regularizer_end: as for :class:`~nalm.units.nau_nmu.NAU`.

    Attributes:
        W: the trained weight, initialized as the NAU's (``reciprocal_nmu.py:56-72``).
        weight: W clamped to [-1, 1] (read only).

    Numerics:
        No eps: an input of 0 under a negative weight gives ``inf``, as in the reference.

    Examples::

        >>> import torch
        >>> nru = NRU(2, 1, dtype=torch.float64).eval()
        >>> with torch.no_grad():
        ...     _ = nru.W.copy_(torch.tensor([[1.0, -1.0]]))
        >>> nru(torch.tensor([[6.0, -4.0]], dtype=torch.float64))
        tensor([[-1.5000]], dtype=torch.float64, grad_fn=<...>)
    """

    lower = -1.0
    schedule = (10.0, 1e6, 2e6)
    init_scheme = ("U[-r, r], r = min(0.5, √3·√(2/(in+out))), as the NAU's "
                   "(bmistry4/nalm-division stable_nalu/layer/reciprocal_nmu.py:56-72)")
    init_member = NAU.init_member

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        w = self.over_batch(self.weight)  # (out, in) or (M, 1, out, in)
        share = F.simd(torch.tanh, SHARPNESS * w) ** 2 if self.training else w.abs()
        x = x.unsqueeze(-2)  # (*, batch, 1, in)
        terms = torch.sign(x) * F.power(x.abs(), w) * share + (1 - share)
        return terms.prod(dim=-1)


class NMRU(_Regularized):
    r"""Neural multiplication-reciprocal unit: an NMU over the inputs and their reciprocals, with
    the signs recovered as the Real NPU recovers them.

    Mistry et al. 2022, section 3; the paper's NMRU is the code's ``SignNMRU``
    (``stable_nalu/layer/concat_reciprocal_nmu_sign_retrieval.py:81-114``; the class named
    ``NMRU`` there is the ablation without sign recovery). With
    :math:`\tilde x = [x, 1/(x + \epsilon)]` (:math:`\epsilon` the float32 machine epsilon in
    training, 0 in evaluation, ``concat_reciprocal_nmu.py:69-71``):

    .. math::
        y_j = \prod_k \left(W_{jk} |\tilde x_k| + 1 - W_{jk}\right)
              \cdot \cos\Big(\pi \sum_k W_{jk} [\tilde x_k < 0]\Big)

    W (``out × 2·in``) is clipped to [0, 1] after every step, with the NMU's regularizer
    :math:`\lambda(t) \cdot \text{mean}(\min(|W|, |1-W|))` (defaults as for :class:`NRU`). The
    benchmark trains it with gradient-norm clipping at 1 and lr 1e-2
    (``lfs_batch_jobs/single_layer_task/neurips_2021/sltr-in2.sh:74-82``).

    Args:
        As for :class:`NRU`.

    Attributes:
        W: the trained weight, shape ``(out, 2·in)``: columns ``in`` onward weigh the
            reciprocals; initialized :math:`U[0.25, 0.75]` (``concat_reciprocal_nmu.py:46-49``).
        weight: W clamped to [0, 1] (read only).

    Examples::

        >>> import torch
        >>> nmru = NMRU(2, 1, dtype=torch.float64).eval()
        >>> with torch.no_grad():
        ...     _ = nmru.W.copy_(torch.tensor([[1.0, 0.0, 0.0, 1.0]]))  # x0 · (1 / x1)
        >>> nmru(torch.tensor([[6.0, -4.0]], dtype=torch.float64))
        tensor([[-1.5000]], dtype=torch.float64, grad_fn=<...>)
    """

    lower = 0.0
    schedule = (10.0, 1e6, 2e6)
    init_scheme = "U[0.25, 0.75] (bmistry4/nalm-division stable_nalu/layer/concat_reciprocal_nmu.py:46-49)"

    def weight_columns(self) -> int:
        return 2 * self.in_features

    def init_member(self, W: Tensor) -> None:
        nn.init.uniform_(W, 0.25, 0.75)

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        reciprocal = 1 / (x + FLOAT32_EPS) if self.training else 1 / x
        both = torch.cat([x, reciprocal], dim=-1)  # (*, batch, 2·in)
        w = self.weight
        # A view of w (as a population's over_batch is) sums the product's two uses of w before
        # the phase's use joins them, so a member's gradient adds up in the same order alone.
        magnitude = F.nmu(both.abs(), self.over_batch(w.view_as(w)))
        phase = math.pi * (both < 0).to(both.dtype)
        return magnitude * F.cos(F.linear(phase, w))
