"""Training configuration: a dataclass that rejects unknown keys."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import torch

from ..units import load_network
from .optim import OPTIMIZERS

DTYPES = ("float32", "float64")
KERNELS = ("triton", "autograd")


LATER_FIELDS = {"grad_norm_clip": None, "kernel": None}
"""Fields added to :class:`TrainConfig` after results were stored, with their defaults."""


@dataclass
class TrainConfig:
    """How every member of a population is trained and evaluated.

    Args:
        optimizer: ``adam``, ``rmsprop`` or ``sgd``.
        lr: learning rate; a list sweeps it: the runner trains one member per (seed, target,
            learning rate), all in one population.
        batch_size: samples per step when the task draws a fresh batch every step.
        iterations: optimizer steps (0 evaluates the initialization only).
        eval_every: evaluate on the fixed interpolation and extrapolation sets every this
            many steps (and after the last step).
        eval_samples: size of each fixed evaluation set.
        hidden: hidden size of the two-layer networks; ``None`` for a single layer; a list of
            widths for deeper MLPs (e.g. ``[8, 8, 8]``, Trask et al.'s identity experiment).
        grad_clip: clip gradient elements to ±this value (``None``: no clipping).
        grad_norm_clip: scale each member's gradient down to this L2 norm over all its
            parameters when it is longer, as ``torch.nn.utils.clip_grad_norm_`` does for one
            model (``None``: no clipping).
        unit_options: keyword arguments per unit name, e.g. ``{"nmu": {"regularizer_start": 2e4}}``.
        dtype: ``float32`` or ``float64``.
        device: ``cpu`` or ``cuda`` (whether this machine has one: :meth:`check_device`).
        threads: CPU threads for PyTorch (1 is fastest for these tiny models; see benchmarks/).
        fused: on the CPU, train networks of NAC, NAC•, NAU, NMU, NALU, G-NALU and MC-FC layers on fresh
            static batches with the fused step (:mod:`nalm.train.fused`), which agrees with
            PyTorch's autograd to rounding; ``False`` uses autograd everywhere.
        kernel: ``"triton"`` trains with the Triton trainer (:mod:`nalm.train.gpu`), a kernel
            launch per ``eval_every`` steps that agrees with the fused step to float32 rounding,
            and refuses a population it does not train; on the CPU it needs
            ``TRITON_INTERPRET=1`` (Triton's interpreter, slow: for tests). ``"autograd"``:
            PyTorch's autograd step, the reference, on any device. ``None``: on a CUDA device
            the Triton trainer where Triton is installed and it trains the population, else
            (silently) autograd; on the CPU the fused step or autograd, as ``fused`` says
            (:func:`nalm.train.gpu.trainer.kernel_layers` decides). Stored with a run's config
            when given, so its runs are not mistaken for the default's.
    """

    optimizer: str = "adam"
    lr: float | list[float] = 1e-3
    batch_size: int = 128
    iterations: int = 100_000
    eval_every: int = 1000
    eval_samples: int = 10_000
    hidden: int | list[int] | None = 2
    grad_clip: float | None = None
    grad_norm_clip: float | None = None
    unit_options: dict = field(default_factory=dict)
    dtype: str = "float32"
    device: str = "cpu"
    threads: int = 1
    fused: bool = True
    kernel: str | None = None

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; known: {', '.join(OPTIMIZERS)}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {self.dtype!r}")
        for name in ("batch_size", "eval_every", "eval_samples", "threads"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(self.unit_options, dict) or not all(
                isinstance(unit, str) and isinstance(options, dict) for unit, options in self.unit_options.items()):
            raise ValueError(f"unit_options must map unit names to their options, e.g. {{\"nau\": "
                             f"{{\"regularizer_scale\": 0.1}}}}, got {self.unit_options!r}")
        if not isinstance(self.fused, bool):
            raise ValueError(f"fused must be true or false, got {self.fused!r}")
        if self.kernel is not None and self.kernel not in KERNELS:
            raise ValueError(f"unknown kernel {self.kernel!r}; known: {', '.join(KERNELS)} (or null: the default step)")
        if not isinstance(self.iterations, int) or self.iterations < 0:
            raise ValueError(f"iterations must be a non-negative integer, got {self.iterations!r}")
        widths = [self.hidden] if isinstance(self.hidden, int) else self.hidden or []
        if isinstance(self.hidden, tuple):
            self.hidden = list(self.hidden)
        if not all(isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in widths):
            raise ValueError(f"hidden must be a positive integer, a list of them, or None; got {self.hidden!r}")
        try:
            torch.device(self.device)
        except RuntimeError:
            raise ValueError(f"unknown device {self.device!r}; use cpu or cuda") from None
        for name in ("grad_clip", "grad_norm_clip"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
                raise ValueError(f"{name} must be a positive number or None, got {value!r}")
        rates = self.lr if isinstance(self.lr, list) else [self.lr]
        if not rates or not all(isinstance(r, (int, float)) and not isinstance(r, bool) and r > 0 for r in rates):
            raise ValueError(f"lr must be a positive number or a non-empty list of them, got {self.lr!r}")

    def check_device(self) -> None:
        """Raise a ValueError unless this machine can train on ``device``.

        Checked when training starts, not when a config is built: a config read back from a
        store written on a GPU machine must still build on a CPU-only one (to explain, report
        and plot its runs, which load weights on the CPU).
        """
        if torch.device(self.device).type == "cuda" and not torch.cuda.is_available():
            raise ValueError("device cuda requested, but this PyTorch has no CUDA device available")

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """Build from a mapping, naming any unknown key."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown config key {unknown[0]!r}; known keys: {', '.join(sorted(known))}")
        return cls(**values)

    @property
    def rates(self) -> list[float]:
        """The learning rates to run: ``lr`` itself, or each of a list."""
        return list(self.lr) if isinstance(self.lr, list) else [self.lr]

    @property
    def uses_kernel(self) -> bool:
        """Whether the Triton trainer is asked for and trains anything: ``kernel`` is
        ``"triton"`` and there are iterations to train (an untrained network needs neither the
        kernel nor its checks)."""
        return self.kernel == "triton" and self.iterations > 0

    def to_dict(self) -> dict:
        """Every field, except those added after stores existed while they hold their defaults
        (:data:`LATER_FIELDS`): runs stored before a field existed keep their config hashes."""
        values = dataclasses.asdict(self)
        return {k: v for k, v in values.items() if k not in LATER_FIELDS or v != LATER_FIELDS[k]}

    def load_network(self, model: str, task, weights: dict, members: int | None = None):
        """``model`` for ``task`` as this config builds it (hidden size, unit options, dtype),
        holding stored ``weights`` (:func:`nalm.units.load_network`)."""
        return load_network(model, weights, in_features=task.in_features, hidden=self.hidden,
                            unit_options=self.unit_options, recurrent=task.recurrent, members=members,
                            dtype=getattr(torch, self.dtype))

    def replace(self, **changes) -> "TrainConfig":
        return self.from_dict({**self.to_dict(), **changes})
