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
        shared_weights: one NAC weight for both paths, the paper's "iNALU (sw)"
            (daschloer/inalu ``nalu_architectures.py:241-275``, ``nalui1``); default ``False``,
            its "iNALU (iw)" (``nalui2``, lines 202-238), the unit the NALM benchmark runs.
        init_mean, init_std: the means and standard deviations of the normal draws of
            (Ŵ, M̂, G): the paper's defaults (0.88, 0.5, 0) and 0.2 each
            (``nalu_architectures.py:4-10``); its arithmetic experiments set (1, −1, 0) and 0.1
            (``nalu_syn_simple_arith.py:48-54``).

    Shape:
        As for :class:`~nalm.units.nac.NAC`.

    Attributes:
        W_hat, M_hat: additive path, W_hat_mul, M_hat_mul: multiplicative path (absent with
            ``shared_weights``), drawn from N(0.88, 0.2) and N(0.5, 0.2) by default (Schlör et al. 2020).
        G: the gate logits, one per output, N(0, 0.2) by default.
        weight, mul_weight: the effective weights of the two paths (read only).

    Examples::

        >>> import torch
        >>> unit = INALU(2, 1, dtype=torch.float64)
        >>> with torch.no_grad():
        ...     _ = unit.W_hat_mul.fill_(30.0), unit.M_hat_mul.fill_(30.0), unit.G.fill_(-30.0)
        >>> unit(torch.tensor([[-3.0, 4.0]], dtype=torch.float64))  # sign recovered
        tensor([[-12.0000]], dtype=torch.float64, grad_fn=<...>)
    """

    init_options = ("init_mean", "init_std")
    init_scheme = ("by default Ŵ ~ N(0.88, 0.2), M̂ ~ N(0.5, 0.2) per path, G ~ N(0, 0.2) "
                   "(nalm-benchmark stable_nalu/layer/inalu.py:40-52)")

    def __init__(self, in_features: int, out_features: int, *, eps: float = 1e-7, omega: float = 20.0,
                 regularizer_scale: float = 0.05, regularizer_threshold: float = 20.0,
                 regularizer_start: int | None = 10_001, regularizer_max_error: float | None = 1.0,
                 reinitialize: bool | dict = True, shared_weights: bool = False,
                 init_mean: tuple[float, float, float] = (0.88, 0.5, 0.0),
                 init_std: tuple[float, float, float] = (0.2, 0.2, 0.2), members=None, device=None, dtype=None):
        super().__init__(in_features, out_features, members=members, device=device, dtype=dtype)
        self.eps, self.omega = eps, omega
        self.regularizer_scale = regularizer_scale
        self.regularizer_threshold = regularizer_threshold
        self.regularizer_start = regularizer_start
        self.regularizer_max_error = regularizer_max_error
        self.reinitialize = reinitialize
        self.shared_weights = bool(shared_weights)
        self.init_mean, self.init_std = tuple(map(float, init_mean)), tuple(map(float, init_std))
        if len(self.init_mean) != 3 or len(self.init_std) != 3 or min(self.init_std) < 0:
            raise ValueError(f"init_mean and init_std are three values each for (W_hat, M_hat, G), the "
                             f"deviations not negative; got {init_mean!r} and {init_std!r}")
        if isinstance(reinitialize, dict):
            self.plateau_reset = PlateauReset(**reinitialize)
        else:
            self.plateau_reset = PlateauReset() if reinitialize else None
        self.W_hat = self.new_parameter(out_features, in_features)
        self.M_hat = self.new_parameter(out_features, in_features)
        if not self.shared_weights:
            self.W_hat_mul = self.new_parameter(out_features, in_features)
            self.M_hat_mul = self.new_parameter(out_features, in_features)
        self.G = self.new_parameter(out_features)
        self.reset_parameters()

    def init_member(self, W_hat, M_hat, G, W_hat_mul=None, M_hat_mul=None) -> None:
        (w_mean, m_mean, g_mean), (w_std, m_std, g_std) = self.init_mean, self.init_std
        for w_hat, m_hat in ((W_hat, M_hat), (W_hat_mul, M_hat_mul)):
            if w_hat is not None:
                nn.init.normal_(w_hat, w_mean, w_std)
                nn.init.normal_(m_hat, m_mean, m_std)
        nn.init.normal_(G, g_mean, g_std)

    @property
    def paths(self) -> tuple[Tensor, ...]:
        """The NAC matrices of the paths: (Ŵ, M̂), then the multiplicative path's where it has its own."""
        return (self.W_hat, self.M_hat) + (() if self.shared_weights else (self.W_hat_mul, self.M_hat_mul))

    @property
    def weight(self) -> Tensor:
        return F.nac_weight(self.W_hat, self.M_hat)

    @property
    def mul_weight(self) -> Tensor:
        return self.weight if self.shared_weights else F.nac_weight(self.W_hat_mul, self.M_hat_mul)

    def regularization(self, step: int, error: Tensor | None = None) -> Tensor:
        off = self.new_zeros_per_member()
        if self.regularizer_start is None or step < self.regularizer_start:
            return off
        if self.regularizer_max_error is not None and error is None:
            return off
        t = self.regularizer_threshold
        penalty = self.regularizer_scale * sum(
            self.per_member_mean(torch.clamp(t - p.abs(), min=0))  # max(min(-w, w) + t, 0)
            for p in (*self.paths, self.G)
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
                "regularizer_max_error": self.regularizer_max_error, "reinitialize": self.reinitialize,
                **({"shared_weights": True} if self.shared_weights else {}),
                **({"init_mean": self.init_mean, "init_std": self.init_std}
                   if (self.init_mean, self.init_std) != ((0.88, 0.5, 0.0), (0.2, 0.2, 0.2)) else {})}

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


class SharedINALU(INALU):
    """The iNALU with one NAC weight for both paths, the paper's "iNALU (sw)": :class:`INALU`
    with ``shared_weights=True``.

    Examples::

        >>> unit = SharedINALU(2, 1)
        >>> sorted(name for name, _ in unit.named_parameters())
        ['G', 'M_hat', 'W_hat']
    """

    def __init__(self, in_features: int, out_features: int, *, shared_weights: bool = True, **options):
        if not shared_weights:
            raise ValueError("SharedINALU shares its weights: for separate ones, use INALU")
        super().__init__(in_features, out_features, shared_weights=True, **options)
