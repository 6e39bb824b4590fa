"""The Neural Power Unit and its real-valued variant (Heim, Pevný & Šmídl 2020)."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from . import functional as F
from .base import ArithmeticUnit, Growth, Ramp, StepSchedule
from .nau_nmu import NAU

INITS = ("glorot", "small-uniform", "nau")
"""Initializations of the exponents: Glorot uniform (Heim et al.'s layers' default,
nmheim/NeuralPowerUnits ``src/npu.jl:38-44, 95-96``), or U[0, 0.1) (``rand(Float32, a, b)/10``,
the ``"rand"`` init of their arithmetic task, ``src/arithmetic_models.jl:37-38``)."""

PENALTIES = ("l1", "norm")
"""How the penalty measures the parameters: ``'l1'``, Σ|θ| over every element (nalm-benchmark);
``'norm'``, the sum of each parameter's 2-norm, which is what Heim et al.'s ``norm(params, 1)``
computes (Julia's norm of a collection of arrays with p = 1 sums the arrays' own 2-norms:
JuliaLang/LinearAlgebra.jl#1105; nmheim/NeuralPowerUnits ``scripts/arithmetic/add_l1_runs.jl:38``)."""


class RealNPU(ArithmeticUnit):
    r"""Real neural power unit: :math:`z = \exp(W \log r) \odot \cos(W k)`.

    Heim, Pevný & Šmídl, "Neural Power Units", NeurIPS 2020, eq. 7, with the relevance gate
    :math:`\hat g = \text{clip}(g, 0, 1)`, :math:`r = \hat g \odot (|x| + \epsilon) + 1 - \hat g`
    and :math:`k = \hat g \odot \pi \odot [x < 0]`. Exponents in W raise inputs to powers
    (1 multiplies, -1 divides, 0.5 takes a square root); the cosine restores the sign of
    negative inputs. The regularizer is an L1 penalty :math:`\beta(t) \sum |\theta|` over every
    parameter :math:`\theta`, the gate included (nalm-benchmark
    ``stable_nalu/functional/regualizer.py:6-11``, applied to ``model.parameters()`` in
    ``experiments/single_layer_benchmark.py:634-635``). :math:`\beta` starts at ``beta_start``
    and, every ``beta_step`` steps while it is below ``beta_end``, is multiplied by
    ``beta_growth`` (``experiments/single_layer_benchmark.py:640-651``); so it may end above
    ``beta_end`` when the growth does not divide the range. The defaults are the benchmark's
    for multiplication, 1e-7 → 1e-5, ×10 every 10k steps
    (``lfs_batch_jobs/single_layer_task/benchmarking/single_layer_benchmark.sh:63``, growth and
    step from ``experiments/single_layer_benchmark.py:235-244``); it used 1e-9 → 1e-7 for
    division (``single_layer_benchmark.sh:132``).

    Mistry et al.'s modified RealNPU (bmistry4/nalm-division ``stable_nalu/layer/npu_real.py``)
    is this unit with three options: ``clip`` clamps W to [-1, 1] and g to [0, 1] after every
    step (``optimize``, :76-85); ``init`` draws W as the NAU (:58-63); ``discretize`` adds
    ``λ(t)·(w·mean(|1 - |W||) + g·mean(min(|g|, |1 - g|)))`` over the raw parameters, which
    pulls W to ±1 and g to 0 or 1 (``stable_nalu/functional/regualizer.py:50-54, 107-113``),
    with λ(t) ramped from 0 at ``regularizer_start`` to 1 at ``regularizer_end``
    (``--reg-scale-type madsen``, ``experiments/single_layer.py:675-680, 733-736``).

    Args:
        in_features, out_features, members, device, dtype: as for :class:`~nalm.units.nac.NAC`.
        eps: added to :math:`|x|` inside the log.
        beta_start, beta_end, beta_growth, beta_step: the L1 schedule; ``beta_start > beta_end``
            divides by the growth instead, down to ``beta_end`` (as the benchmark's code);
            ``beta_start = beta_end = 0`` turns the penalty off (Heim et al.'s simple task).
        init: how the exponents start, one of :data:`INITS` (``'glorot'``: Glorot uniform; ``'nau'``:
            U[-r, r], r = min(0.5, √3·√(2/(in+out))), nalm-division's ``xavier-uniform-constrained``).
        gate_init: the value every gate starts at.
        penalty: ``'l1'`` (the default, above) or ``'norm'``: :math:`\beta(t) \sum_\theta
            \|\theta\|_2`, each parameter's 2-norm (:data:`PENALTIES`).
        clip: ``"none"``, ``"w"``, ``"g"`` or ``"wg"``: the parameters clamped after each step.
        discretize: the weights (w, g) of the W and gate regularizers; (0, 0) turns them off.
        regularizer_start, regularizer_end: their ramp.

    Shape:
        As for :class:`~nalm.units.nac.NAC`.

    Attributes:
        W: exponents, Glorot-uniform initialized (Heim et al. 2020) by default.
        g: the relevance gate, one per input, initialized to 0.5 by default.

    Numerics:
        ``exp`` can overflow to ``inf`` for large exponents and inputs; nothing is clamped.

    Examples::

        >>> import torch
        >>> npu = RealNPU(2, 1, dtype=torch.float64)
        >>> with torch.no_grad():
        ...     _ = npu.W.copy_(torch.tensor([[1.0, 1.0]])), npu.g.fill_(1.0)
        >>> npu(torch.tensor([[-3.0, 4.0]], dtype=torch.float64)).round(decimals=6)
        tensor([[-12.0000]], dtype=torch.float64, grad_fn=<...>)
    """

    init_scheme = "W Glorot uniform, g = 0.5 (nalm-benchmark stable_nalu/layer/npu_real.py:62-71)"

    DEFAULTS = {"init": "glorot", "gate_init": 0.5, "penalty": "l1"}
    """The defaults of the options that :meth:`options` reports only where they differ."""

    init_options = ("init", "gate_init")

    MODIFIED = {"clip": "none", "discretize": (0.0, 0.0), "regularizer_start": 0, "regularizer_end": 0}
    """The modifications' options and their defaults: Heim et al.'s RealNPU."""

    def __init__(self, in_features: int, out_features: int, *, eps: float = 1e-7,
                 beta_start: float = 1e-7, beta_end: float = 1e-5, beta_growth: float = 10.0,
                 beta_step: int = 10_000, init: str = "glorot", gate_init: float = 0.5, penalty: str = "l1",
                 clip: str = "none", discretize: tuple[float, float] = (0.0, 0.0), regularizer_start: int = 0,
                 regularizer_end: int = 0,
                 members=None, device=None, dtype=None):
        super().__init__(in_features, out_features, members=members, device=device, dtype=dtype)
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        if penalty not in PENALTIES:
            raise ValueError(f"penalty must be one of {PENALTIES}, got {penalty!r}")
        if not 0 <= beta_start or not beta_growth > 1 or not (isinstance(beta_step, int) and beta_step >= 1):
            raise ValueError(f"beta_step must be a positive integer, beta_start non-negative and beta_growth "
                             f"above 1, got {beta_step!r}, {beta_start!r} and {beta_growth!r}")
        if beta_start == 0 != beta_end:  # 0 never grows: no penalty, which beta_end must say
            raise ValueError(f"beta_start 0 (no L1 penalty) needs beta_end 0, got {beta_end!r}")
        if clip not in ("none", "w", "g", "wg"):
            raise ValueError(f"clip must be one of none, w, g, wg, got {clip!r}")
        if len(discretize) != 2 or any(isinstance(v, bool) or not 0 <= v for v in discretize):
            raise ValueError(f"discretize must be two non-negative weights (W, gate), got {discretize!r}")
        self.eps = eps
        self.beta = (beta_start, beta_end, beta_growth, beta_step)
        self.init, self.gate_init, self.penalty = init, float(gate_init), penalty
        self.clip = clip
        self.discretize = tuple(float(v) for v in discretize)
        self.regularizer_start, self.regularizer_end = regularizer_start, regularizer_end
        self.create_parameters()
        self.reset_parameters()

    def create_parameters(self) -> None:
        self.W = self.new_parameter(self.out_features, self.in_features)
        self.g = self.new_parameter(self.in_features)

    def init_member(self, W: Tensor, g: Tensor) -> None:
        self.init_exponents(W)
        nn.init.constant_(g, self.gate_init)

    def init_exponents(self, W: Tensor) -> None:
        """Draw the (real) exponents as :attr:`init` says."""
        if self.init == "glorot":
            nn.init.xavier_uniform_(W)
        elif self.init == "nau":
            NAU.init_member(self, W)
        else:
            nn.init.uniform_(W, 0.0, 0.1)

    def beta_at(self, step: int) -> float:
        """β at ``step``, computed in decimal as the benchmark does, so 1e-9 × 10 × 10 is 1e-7
        exactly (``experiments/single_layer_benchmark.py:583-586``).

        >>> npu = RealNPU(2, 1, beta_start=1e-9, beta_end=1e-7)
        >>> [npu.beta_at(s) for s in (0, 9_999, 10_000, 20_000, 10**9)]
        [1e-09, 1e-09, 1e-08, 1e-07, 1e-07]
        """
        return F.grown(step, *self.beta)

    def step_schedules(self) -> list[StepSchedule]:
        """The L1 penalty's growth, and the discretizing regularizers' ramp where they are on."""
        growth = Growth("L1 penalty", ("beta_start", "beta_end", "beta_growth", "beta_step"), *self.beta)
        ramp = Ramp("discretizing regularizer", ("regularizer_start", "regularizer_end"), 1.0,
                    self.regularizer_start, self.regularizer_end)
        return [growth] + ([ramp] if any(self.discretize) else [])

    def regularization(self, step: int, error: Tensor | None = None) -> Tensor:
        own = self.parameters(recurse=False)
        if self.penalty == "l1":
            penalty = self.beta_at(step) * sum(self.per_member_sum(p.abs()) for p in own)
        else:  # vector_norm's gradient at 0 is 0 (NPU's W_im starts there), as Zygote's for Julia's norm
            penalty = self.beta_at(step) * sum(torch.linalg.vector_norm(p) if self.members is None
                                               else torch.linalg.vector_norm(p.flatten(1), dim=1) for p in own)
        weight = F.ramp(step, 1.0, self.regularizer_start, self.regularizer_end) if any(self.discretize) else 0.0
        if weight:
            w, g = self.discretize
            penalty = penalty + weight * (w * self.per_member_mean((1 - self.W.abs()).abs())
                                          + g * self.per_member_mean(torch.minimum(self.g.abs(), (1 - self.g).abs())))
        return penalty

    @torch.no_grad()
    def project_(self) -> None:
        if "w" in self.clip:
            self.W.clamp_(-1.0, 1.0)
        if "g" in self.clip:
            self.g.clamp_(0.0, 1.0)

    def options(self) -> dict:
        start, end, growth, every = self.beta
        modified = {"clip": self.clip, "discretize": self.discretize, "regularizer_start": self.regularizer_start,
                    "regularizer_end": self.regularizer_end}
        chosen = {"init": self.init, "gate_init": self.gate_init, "penalty": self.penalty}
        return {"eps": self.eps, "beta_start": start, "beta_end": end, "beta_growth": growth, "beta_step": every,
                **{k: v for k, v in chosen.items() if k in self.DEFAULTS and v != self.DEFAULTS[k]},
                **({} if modified == self.MODIFIED else modified)}

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        return F.npu(x, self.W, None, self.over_batch(self.g), self.eps)

    def sparsity_error(self) -> Tensor:
        """The sparsity error of the exponents W; the gate is not measured (nalm-benchmark
        ``stable_nalu/layer/npu_real.py:93``: only ``W_real`` is read,
        ``stable_nalu/reader/tensorboard_metric_reader.py:120-130``)."""
        return self.largest_distance_from_integers(self.W)


class NPU(RealNPU):
    r"""Neural power unit with complex weights :math:`W = W_{re} + i W_{im}`.

    Heim, Pevný & Šmídl, "Neural Power Units", NeurIPS 2020, eq. 5-6:

    .. math::
        z = \exp(W_{re} \log r - W_{im} k) \odot \cos(W_{re} k + W_{im} \log r)

    with :math:`r`, :math:`k` and the gate as in :class:`RealNPU`. :math:`W_{im}` starts at
    zero, so at initialization the NPU computes what a RealNPU with the same :math:`W_{re}`
    does.

    Args:
        As for :class:`RealNPU`.

    Shape:
        As for :class:`~nalm.units.nac.NAC`.

    Attributes:
        W_re: real part, Glorot uniform; W_im: imaginary part, zeros; g: gate, 0.5.

    Examples::

        >>> import torch
        >>> npu = NPU(2, 1, dtype=torch.float64)
        >>> with torch.no_grad():
        ...     _ = npu.W_re.copy_(torch.tensor([[1.0, 1.0]])), npu.g.fill_(1.0)
        >>> npu(torch.tensor([[-3.0, -4.0]], dtype=torch.float64)).round(decimals=6)
        tensor([[12.0000]], dtype=torch.float64, grad_fn=<...>)
    """

    init_scheme = "W_re Glorot uniform, W_im = 0, g = 0.5 (nalm-benchmark stable_nalu/layer/npu.py:55-66)"

    def __init__(self, in_features: int, out_features: int, **options):
        modified = {k: v for k, v in options.items() if k in self.MODIFIED}
        if modified:
            raise ValueError(f"{', '.join(modified)}: the modifications are the RealNPU's (Mistry et al.), not the NPU's")
        super().__init__(in_features, out_features, **options)

    def create_parameters(self) -> None:
        self.W_re = self.new_parameter(self.out_features, self.in_features)
        self.W_im = self.new_parameter(self.out_features, self.in_features)
        self.g = self.new_parameter(self.in_features)

    def init_member(self, W_re: Tensor, W_im: Tensor, g: Tensor) -> None:
        self.init_exponents(W_re)
        nn.init.zeros_(W_im)
        nn.init.constant_(g, self.gate_init)

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        return F.npu(x, self.W_re, self.W_im, self.over_batch(self.g), self.eps)

    def sparsity_error(self) -> Tensor:
        """The mean of the real and imaginary parts' sparsity errors; the gate is not measured
        (nalm-benchmark ``stable_nalu/layer/npu.py:93-97``,
        ``stable_nalu/reader/tensorboard_metric_reader.py:120-140``)."""
        return (self.largest_distance_from_integers(self.W_re)
                + self.largest_distance_from_integers(self.W_im)) / 2


class NaiveNPU(NPU):
    r"""Neural power unit without the relevance gate: Heim et al.'s NaiveNPU.

    Heim, Pevný & Šmídl, "Neural Power Units", NeurIPS 2020, eq. 5 (the ``NPUX`` layer of
    nmheim/NeuralPowerUnits ``src/npu.jl:10-29``):

    .. math::
        z = \exp(W_{re} \log r - W_{im} k) \odot \cos(W_{re} k + W_{im} \log r)

    with :math:`r = |x| + \epsilon` and :math:`k = \pi [x < 0]`. Without a gate, an input that
    is zero drives :math:`\log r` to :math:`\log \epsilon`, which the gate of :class:`NPU`
    exists to avoid; the paper shows the difference on its 100-input task.

    Args:
        As for :class:`RealNPU`, without ``gate_init``.

    Shape:
        As for :class:`~nalm.units.nac.NAC`.

    Attributes:
        W_re: real part (Glorot uniform by default); W_im: imaginary part, zeros.
        g: ones, the gate held open (no parameter): what :class:`NPU` computes at g = 1.

    Examples::

        >>> import torch
        >>> npu = NaiveNPU(2, 1, dtype=torch.float64)
        >>> with torch.no_grad():
        ...     _ = npu.W_re.copy_(torch.tensor([[1.0, -1.0]]))
        >>> npu(torch.tensor([[-3.0, 4.0]], dtype=torch.float64)).round(decimals=6)
        tensor([[-0.7500]], dtype=torch.float64, grad_fn=<...>)
        >>> sorted(name for name, _ in npu.named_parameters())
        ['W_im', 'W_re']
    """

    init_scheme = "W_re Glorot uniform, W_im = 0 (nmheim/NeuralPowerUnits src/npu.jl:15-19)"

    DEFAULTS = {"init": "glorot", "penalty": "l1"}  # no gate to start anywhere
    init_options = ("init",)

    def __init__(self, in_features: int, out_features: int, **options):
        if "gate_init" in options:
            raise TypeError("NaiveNPU has no gate, so no gate_init")
        super().__init__(in_features, out_features, **options)

    def create_parameters(self) -> None:
        self.W_re = self.new_parameter(self.out_features, self.in_features)
        self.W_im = self.new_parameter(self.out_features, self.in_features)

    def init_member(self, W_re: Tensor, W_im: Tensor) -> None:
        self.init_exponents(W_re)
        nn.init.zeros_(W_im)

    @property
    def g(self) -> Tensor:
        """The gate, open for every input: ones of the shape an :class:`NPU`'s gate has."""
        lead = () if self.members is None else (self.members,)
        return torch.ones(*lead, self.in_features, dtype=self.W_re.dtype, device=self.W_re.device)

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        return F.npu(x, self.W_re, self.W_im, None, self.eps)


class ModifiedRealNPU(RealNPU):
    r"""Mistry et al.'s modified Real NPU: the :class:`RealNPU` with its W and gate clipped, W
    drawn as the NAU's, and both regularized towards discrete values.

    "Learning Division with Neural Arithmetic Logic Modules" (Mistry, Farrahi & Hare 2021),
    section 4, as its scripts run it (bmistry4/nalm-division
    ``lfs_batch_jobs/single_layer_task/neurips_2021/sltr-in2.sh:51-61``: ``--npu-clip wg
    --regualizer-npu-w 1 --regualizer-gate 1 --reg-scale-type madsen --regualizer-scaling-start
    40000 --regualizer-scaling-end 50000 --npu-Wr-init xavier-uniform-constrained``). Its
    defaults are those; the L1 schedule is the :class:`RealNPU`'s.

    Args:
        As for :class:`RealNPU`, with the modifications on by default.

    Examples::

        >>> import torch
        >>> npu = ModifiedRealNPU(2, 1, dtype=torch.float64)
        >>> bool(npu.W.abs().max() <= 0.5), npu.regularization(50_000) > npu.regularization(0)
        (True, tensor(True))
        >>> with torch.no_grad():
        ...     _ = npu.W.fill_(3.0), npu.g.fill_(-1.0)
        >>> npu.project_(); npu.W.tolist(), npu.g.tolist()
        ([[1.0, 1.0]], [0.0, 0.0])
    """

    init_scheme = ("W U[-r, r], r = min(0.5, √3·√(2/(in+out))), as the NAU's; g = 0.5 (bmistry4/nalm-division "
                   "stable_nalu/layer/npu_real.py:57-66)")

    DEFAULTS = {**RealNPU.DEFAULTS, "init": "nau"}

    def __init__(self, in_features: int, out_features: int, *, clip: str = "wg", init: str = "nau",
                 discretize: tuple[float, float] = (1.0, 1.0), regularizer_start: int = 40_000,
                 regularizer_end: int = 50_000, **options):
        super().__init__(in_features, out_features, clip=clip, init=init, discretize=discretize,
                         regularizer_start=regularizer_start, regularizer_end=regularizer_end, **options)
