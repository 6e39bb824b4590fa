"""The target operations of the arithmetic tasks, by name: the command line lists them without
importing numpy, numba or PyTorch."""
from __future__ import annotations


def sqrt(a):
    """The square root of ``a`` (a numpy array or number, or a torch tensor) by its library's sqrt:
    √-0 = -0, nan below 0 and at -inf; numpy's is correctly rounded, PyTorch's vectorized one on
    the CPU can differ from it in the last bit. Compiled by numba, numpy's
    (:func:`nalm.train.kernels.draw._sqrt_compiled`).

    :data:`TARGETS` is written with it rather than ``a ** 0.5``, which numpy and PyTorch compute
    with their sqrt but numba with pow (pow(-0, 0.5) = +0, pow(-inf, 0.5) = +inf), and for a
    float32 ``a`` in float64.
    """
    import numpy as np  # here: the names of TARGETS are read without numpy (`nalm --help`)

    return np.sqrt(a) if isinstance(a, (np.ndarray, np.generic, float, int)) else a.sqrt()


TARGETS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "square": lambda a, b: a * a,
    "sqrt": lambda a, b: sqrt(a),
    "identity": lambda a, b: a,
    "reciprocal": lambda a, b: 1 / a,
}
"""Target operations by name; each takes (a, b) as numpy arrays or torch tensors, and is
compiled by numba as written for the fused CPU step (:mod:`nalm.train.kernels.draw`): an
operation is written so that numpy, PyTorch and numba evaluate it alike. ``identity`` is Trask
et al.'s Figure 1 task (with a one-element subset, a = x); ``reciprocal`` is Heim et al.'s 1/x
(nmheim/NeuralPowerUnits ``src/arithmetic_dataset.jl:30``), where numba divides in float64 and
rounds once more, which for a division gives numpy's and PyTorch's float32 quotient."""


def check_target(name: str) -> None:
    if name not in TARGETS:
        raise ValueError(f"unknown target {name!r}; known targets: {', '.join(TARGETS)}")
