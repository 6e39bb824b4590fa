"""The improved NALU (iNALU) of Schlör, Ring & Hotho (2020)."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from . import functional as F
from .base import ArithmeticUnit, PlateauReset, StepSchedule, Switch


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

    The paper's training aids, as the NALM benchmark runs them (bmistry4/nalm-benchmark
    experiments/single_layer_benchmark.py), are part of the unit except the first:

    * gradient clipping to ±0.1 (``--clip-grad-value 0.1``, lfs_batch_jobs/single_layer_task/
      benchmarking/single_layer_benchmark.sh:87) is a training option,
      :attr:`~nalm.train.TrainConfig.grad_clip`;
    * the regularizer
      :math:`0.05 \sum_{P \in \{\hat W, \hat M, \hat W_m, \hat M_m, G\}} \text{mean}(\max(20 - |P|, 0))`,
      over the five parameters, gate included (stable_nalu/layer/inalu.py:31-35,
      stable_nalu/functional/regualizer.py:128-133), pushes them away from zero so tanh and
      sigmoid saturate. It is on, per member, at steps after 10,000 while the member's
      interpolation MSE at the latest evaluation is below 1
      (single_layer_benchmark.py:663; daschloer/inalu nalu_syn_simple_arith.py tests the
      training batch's loss after epoch 10 instead);
    * re-initialization on plateaus: :attr:`plateau_reset` tells the training loop to re-initialize a
      member whose stored errors stop falling (see :class:`~nalm.units.base.PlateauReset`;
      single_layer_benchmark.py:696-707). The reference keeps the optimizer's state, and so
      does the training loop.

    Args:
        in_features, out_features, members, device, dtype: as for :class:`~nalm.units.nac.NAC`.
        eps: lower bound on :math:`|x|` inside the log (paper: 1e-7).
        omega: upper bound on the log-space output before ``exp`` (paper: 20), so the
            multiplicative path cannot overflow.
        regularizer_scale, regularizer_threshold: 0.05 and the 20 in :math:`\max(20 - |P|, 0)`.
        regularizer_start: the first step with the regularizer on (10,001: the reference's
            ``epoch_i > 10000``); ``None``: never.
        regularizer_max_error: the regularizer is on only for members whose interpolation MSE
            at the latest evaluation is below this (reference: 1); ``None``: whatever the
            error. Without an error (``regularization(step)``) a bound keeps it off.
        reinitialize: re-initialize members on plateaus (the reference's ``--reinit``), with
            :class:`~nalm.units.base.PlateauReset`'s defaults, or a dict of its fields.

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

    init_scheme = ("Ŵ ~ N(0.88, 0.2), M̂ ~ N(0.5, 0.2) per path, G ~ N(0, 0.2) "
                   "(nalm-benchmark stable_nalu/layer/inalu.py:40-52)")

    def __init__(self, in_features: int, out_features: int, *, eps: float = 1e-7, omega: float = 20.0,
                 regularizer_scale: float = 0.05, regularizer_threshold: float = 20.0,
                 regularizer_start: int | None = 10_001, regularizer_max_error: float | None = 1.0,
                 reinitialize: bool | dict = True, members=None, device=None, dtype=None):
        super().__init__(in_features, out_features, members=members, device=device, dtype=dtype)
        self.eps, self.omega = eps, omega
        self.regularizer_scale = regularizer_scale
        self.regularizer_threshold = regularizer_threshold
        self.regularizer_start = regularizer_start
        self.regularizer_max_error = regularizer_max_error
        self.reinitialize = reinitialize
        if isinstance(reinitialize, dict):
            self.plateau_reset = PlateauReset(**reinitialize)
        else:
            self.plateau_reset = PlateauReset() if reinitialize else None
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

    def regularization(self, step: int, error: Tensor | None = None) -> Tensor:
        off = self.new_zeros_per_member()
        if self.regularizer_start is None or step < self.regularizer_start:
            return off
        if self.regularizer_max_error is not None and error is None:
            return off
        t = self.regularizer_threshold
        penalty = self.regularizer_scale * sum(
            self.per_member_mean(torch.clamp(t - p.abs(), min=0))  # max(min(-w, w) + t, 0)
            for p in (self.W_hat, self.M_hat, self.W_hat_mul, self.M_hat_mul, self.G)
        )
        if self.regularizer_max_error is None:
            return penalty
        return torch.where(error.to(penalty.device) < self.regularizer_max_error, penalty, off)

    def step_schedules(self) -> list[StepSchedule]:
        """The regularizer's first step (none where it is never on), and the plateau reset's."""
        regularizer = ([] if self.regularizer_start is None or not self.regularizer_scale
                       else [Switch("regularizer", ("regularizer_start",), self.regularizer_start)])
        return regularizer + super().step_schedules()

    def options(self) -> dict:
        return {"eps": self.eps, "omega": self.omega, "regularizer_scale": self.regularizer_scale,
                "regularizer_threshold": self.regularizer_threshold, "regularizer_start": self.regularizer_start,
                "regularizer_max_error": self.regularizer_max_error, "reinitialize": self.reinitialize}

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
