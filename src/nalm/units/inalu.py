"""The improved NALU (iNALU) of Schlör, Ring & Hotho (2020)."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from . import functional as F
from .base import ArithmeticUnit


class INALU(ArithmeticUnit):
    r"""iNALU: a NALU with separate path weights, a bounded log path and sign recovery.

    Schlör, Ring & Hotho, "iNALU: Improved Neural Arithmetic Logic Unit", Frontiers in
    Artificial Intelligence 2020:

    .. math::
        a = x W_a^T,\quad
        m = \exp(\min(\log(\max(|x|, \epsilon)) W_m^T, \omega)) \odot s,\quad
        y = g \odot a + (1 - g) \odot m,\quad g = \sigma(G)

    with NAC weights :math:`W = \tanh(\hat W) \odot \sigma(\hat M)` for each path, a gate
    that does not depend on the input, and the sign
    :math:`s_j = \text{clip}(\prod_i (\text{sign}(x_i) |W_{m,ji}| + 1 - |W_{m,ji}|), -1, 1)`.
    The regularizer :math:`0.05 \cdot \text{mean}(\max(\min(-w, w) + t, 0))` over the
    pre-activation matrices pushes them away from zero, so tanh and sigmoid saturate; the
    paper switches it on once the loss drops below 1, here it starts at step
    ``regularizer_start`` (a step-based schedule keeps the unit interface loss-free; ``None``,
    the default, leaves it off, since at initialization the term is about 1). The
    paper's gradient clipping (±0.1) is a training option, and its re-initialization on
    plateaus is not part of the unit.

    Args:
        in_features, out_features, members, device, dtype: as for :class:`~nalm.units.nac.NAC`.
        eps: lower bound on :math:`|x|` inside the log (paper: 1e-7).
        omega: upper bound on the log-space output before ``exp`` (paper: 20), so the
            multiplicative path cannot overflow.
        regularizer_scale, regularizer_threshold, regularizer_start: 0.05, t = 20, and the
            first step with the regularizer on (``None``: never).

    Shape:
        As for :class:`~nalm.units.nac.NAC`.

    Attributes:
        W_hat, M_hat: additive path, W_hat_mul, M_hat_mul: multiplicative path, drawn from
            N(0.88, 0.2) and N(0.5, 0.2) (Schlör et al. 2020).
        G: the gate logits, one per output, N(0, 0.2).
        weight, mul_weight: the effective weights of the two paths (read only).

    Examples::

        >>> import torch
        >>> unit = INALU(2, 1, dtype=torch.float64)
        >>> with torch.no_grad():
        ...     _ = unit.W_hat_mul.fill_(30.0), unit.M_hat_mul.fill_(30.0), unit.G.fill_(-30.0)
        >>> unit(torch.tensor([[-3.0, 4.0]], dtype=torch.float64))  # sign recovered
        tensor([[-12.0000]], dtype=torch.float64, grad_fn=<...>)
    """

    def __init__(self, in_features: int, out_features: int, *, eps: float = 1e-7, omega: float = 20.0,
                 regularizer_scale: float = 0.05, regularizer_threshold: float = 20.0,
                 regularizer_start: int | None = None, members=None, device=None, dtype=None):
        super().__init__(in_features, out_features, members=members, device=device, dtype=dtype)
        self.eps, self.omega = eps, omega
        self.regularizer_scale = regularizer_scale
        self.regularizer_threshold = regularizer_threshold
        self.regularizer_start = regularizer_start
        self.W_hat = self.new_parameter(out_features, in_features)
        self.M_hat = self.new_parameter(out_features, in_features)
        self.W_hat_mul = self.new_parameter(out_features, in_features)
        self.M_hat_mul = self.new_parameter(out_features, in_features)
        self.G = self.new_parameter(out_features)
        self.reset_parameters()

    def init_member(self, W_hat, M_hat, W_hat_mul, M_hat_mul, G) -> None:
        for w_hat, m_hat in ((W_hat, M_hat), (W_hat_mul, M_hat_mul)):
            nn.init.normal_(w_hat, 0.88, 0.2)
            nn.init.normal_(m_hat, 0.5, 0.2)
        nn.init.normal_(G, 0.0, 0.2)

    @property
    def weight(self) -> Tensor:
        return F.nac_weight(self.W_hat, self.M_hat)

    @property
    def mul_weight(self) -> Tensor:
        return F.nac_weight(self.W_hat_mul, self.M_hat_mul)

    def regularization(self, step: int) -> Tensor:
        if self.regularizer_start is None or step < self.regularizer_start:
            return self.new_zeros_per_member()
        t = self.regularizer_threshold
        penalties = [
            self.per_member_mean(torch.clamp(t - p.abs(), min=0))  # max(min(-w, w) + t, 0)
            for p in (self.W_hat, self.M_hat, self.W_hat_mul, self.M_hat_mul)
        ]
        return self.regularizer_scale * sum(penalties) / len(penalties)

    def options(self) -> dict:
        return {"eps": self.eps, "omega": self.omega, "regularizer_start": self.regularizer_start}

    def sparsity_error(self) -> Tensor:
        """The mean of the two paths' sparsity errors; the gate is not measured (nalm-benchmark
        ``stable_nalu/layer/inalu.py:63-70``, read as the run's error by
        ``stable_nalu/reader/tensorboard_metric_reader.py:108-116``)."""
        return (self.largest_distance_from_integers(self.weight)
                + self.largest_distance_from_integers(self.mul_weight)) / 2

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        add = F.linear(x, self.weight)
        w_mul = self.mul_weight
        log_x = F.log(x.abs().clamp(min=self.eps))
        mul = F.exp(F.linear(log_x, w_mul).clamp(max=self.omega))
        mul = mul * F.sign_product(x, self.over_batch(w_mul))
        return F.gated_mix(F.sigmoid(self.over_batch(self.G)), add, mul)
