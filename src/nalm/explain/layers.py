"""One symbolic rule per unit: round the unit's weights and write its outputs as SymPy expressions.

Each rule takes the unit, the SymPy expressions of its inputs, the numeric values of its
inputs on the probe (some gates depend on the input) and the :class:`Grid` to round to, and
returns a :class:`LayerFormula`: the output expressions and, for every rounded quantity, how
far it was from its rounded value. On the integer grid the rounding targets are the values at
which each unit computes exact arithmetic:

========================  =====================================================================
NAC, NAU                  weights to -1, 0, 1: ``y = Σ w_i x_i``
NAC• (``nac-mul``)        weights to -1, 0, 1: ``y = Π |x_i|^w_i`` (the sign is lost)
NAC•,σ and NAC•,NMU       weights to 0, 1: ``y = Π_{w_i = 1} |x_i|`` (the sign is lost)
NMU                       weights to 0, 1: ``y = Π_{w_i = 1} x_i``
NALU                      both paths as above, the gate σ(x Gᵀ) averaged over the probe
iNALU                     as the NALU with a constant gate; its sign recovery makes the
                          multiplicative path ``Π x_i^w_i``
NPU, RealNPU              exponents to the nearest multiple of 1/2, the relevance gate to 0, 1,
                          imaginary exponents to 0 (a nonzero one is refused: complex formula)
G-NALU                    as the NALU (its golden-ratio functions give its weights and gate)
NRU                       weights to -1, 0, 1: ``y = Π x_i^w_i`` (evaluation mode)
NMRU                      weights to 0, 1: ``y = Π_{w_k = 1} x̃_k`` over x̃ = [x, 1/x]
MC-FC                     as the NAC: its linear map σ(w + b)·softmax(R) to 0, 1
========================  =====================================================================

On a grid of rationals (denominators up to ``q``) the same weights may take values such as
1/2 or 2/3, and each rule writes what the unit computes there: ``w·x + 1 - w`` for an NMU
weight strictly between 0 and 1, ``|x|^w`` for a fractional exponent. Gates are never put on
a finer grid: a gate that averages between ``GATE_UNDECIDED`` is not rounded, the formula
keeps both paths mixed by its mean value (rounded to two decimals) and the layer reports it
undecided. The FauxNALU and the MLP's Linear layer are refused: an unconstrained linear layer
with a bias has no value to round its weights to, so any formula would be a guess.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Sequence

import numpy as np
import sympy
import torch

from ..units import INALU, MCFC, NAC, NALU, NAU, NMRU, NMU, NPU, NRU, RealNPU
from ..units.nac import LogSpaceProduct

GATE_UNDECIDED = (0.1, 0.9)
"""A gate whose mean over the probe lies strictly between these is reported undecided."""


class ExplainError(ValueError):
    """The module has no symbolic rule (or its rounded weights give no real formula)."""


@dataclass
class LayerFormula:
    """A unit's rounded formula and how much rounding moved each of its weights.

    Attributes:
        unit: the unit's class name.
        outputs: one SymPy expression per output, in terms of the layer's inputs.
        distances: per rounded quantity (``weight``, ``mul_weight``, ``gate``, ``W_re``, ...),
            the absolute distance of every entry from its rounded value.
        notes: remarks for the reader, e.g. an undecided gate.
    """

    unit: str
    outputs: list[sympy.Expr]
    distances: dict[str, np.ndarray]
    notes: list[str] = field(default_factory=list)

    @property
    def max_distance(self) -> float:
        """The largest distance of any rounded quantity in this layer (0 when none)."""
        return max((float(d.max()) for d in self.distances.values() if d.size), default=0.0)


def numpy_of(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float64).numpy()


MAX_DENOMINATOR = 4
"""The finest grid :func:`nalm.explain.explain` tries: rationals p/q with q ≤ 4 (1/2, 1/3, 2/3,
1/4, 3/4, ...). Finer grids would fit ever more networks to within the tolerance by chance."""


@dataclass(frozen=True)
class Grid:
    """The values weights are rounded to: the rationals whose denominators are at most
    ``denominator`` (1: the integers). Each weight goes to the nearest such value; of values
    equally near, the one with the smallest denominator.

    >>> Grid(4).round(np.array([0.52, 0.7, -0.98]), -1, 1)[0].tolist()
    [0.5, 0.6666666666666666, -1.0]
    """

    denominator: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.denominator <= MAX_DENOMINATOR:
            raise ValueError(f"a grid's denominator must be in [1, {MAX_DENOMINATOR}], got {self.denominator}")

    def at_least(self, denominator: int) -> "Grid":
        """This grid, or the finer one of denominator ``denominator`` (NPU exponents: halves)."""
        return Grid(max(self.denominator, denominator))

    def round(self, w: np.ndarray, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
        """``w`` clipped to [low, high] (integers or infinite) and rounded, and the distances."""
        clipped = np.clip(w, low, high)
        rounded = np.round(clipped)
        for q in range(2, self.denominator + 1):
            finer = np.round(clipped * q) / q
            rounded = np.where(np.abs(clipped - finer) < np.abs(clipped - rounded), finer, rounded)
        return rounded, np.abs(clipped - rounded)

    def __str__(self) -> str:
        return "integers" if self.denominator == 1 else f"rationals with denominators up to {self.denominator}"


def to_sympy(value: float) -> sympy.Rational:
    """A rounded value (a rational on a :class:`Grid`) as an exact SymPy number."""
    fraction = Fraction(float(value)).limit_denominator(MAX_DENOMINATOR)
    return sympy.Rational(fraction.numerator, fraction.denominator)


def linear(weights: np.ndarray, inputs: Sequence[sympy.Expr]) -> list[sympy.Expr]:
    """y_j = Σ_i w_ji x_i for rounded weights."""
    return [sympy.Add(*(to_sympy(w) * x for w, x in zip(row, inputs) if w != 0)) for row in weights]


def power_product(weights: np.ndarray, inputs: Sequence[sympy.Expr], magnitude: bool) -> list[sympy.Expr]:
    """y_j = Π_i x_i^w_ji, or Π_i |x_i|^w_ji when ``magnitude`` (paths that drop the sign)."""
    out = []
    for row in weights:
        factors = [(sympy.Abs(x) if magnitude else x) ** to_sympy(w) for w, x in zip(row, inputs) if w != 0]
        out.append(sympy.Mul(*factors))
    return out


def decide_gate(mean: np.ndarray, layer: str) -> tuple[list[sympy.Expr], np.ndarray, list[str]]:
    """Round per-output mean gate values to 0/1, or keep an undecided one as a number."""
    low, high = GATE_UNDECIDED
    gates, distances, notes = [], [], []
    for j, g in enumerate(mean):
        if low < g < high:
            gates.append(sympy.Float(round(float(g), 2), 3))
            distances.append(min(g, 1 - g))
            notes.append(f"{layer}: gate of output {j} is undecided (mean {g:.2f}); both paths kept")
        else:
            gates.append(sympy.Integer(int(g >= 0.5)))
            distances.append(abs(g - round(g)))
    return gates, np.asarray(distances), notes


def gated(gates, add, mul) -> list[sympy.Expr]:
    return [g * a + (1 - g) * m for g, a, m in zip(gates, add, mul)]


# -- rules ---------------------------------------------------------------------------------
def nac_rule(unit, inputs, probe, grid: Grid) -> LayerFormula:
    w, d = grid.round(numpy_of(unit.weight), -1, 1)
    return LayerFormula(type(unit).__name__, linear(w, inputs), {"weight": d})


def log_product_rule(unit, inputs, probe, grid: Grid) -> LayerFormula:
    """NAC•, NAC•,σ and NAC•,NMU: Π_i |x_i|^w_i, the weights rounded within the unit's ``weight_range``."""
    w, d = grid.round(numpy_of(unit.weight), *unit.weight_range)
    return LayerFormula(type(unit).__name__, power_product(w, inputs, magnitude=True), {"weight": d})


def nmu_rule(unit, inputs, probe, grid: Grid) -> LayerFormula:
    w, d = grid.round(numpy_of(unit.weight), 0, 1)
    outputs = []
    for row in w:  # w x + 1 - w: x at w = 1, a factor of 1 at w = 0
        factors = [x if v == 1 else to_sympy(v) * x + 1 - to_sympy(v) for v, x in zip(row, inputs) if v != 0]
        outputs.append(sympy.Mul(*factors))
    return LayerFormula("NMU", outputs, {"weight": d})


def nalu_rule(unit, inputs, probe, grid: Grid) -> LayerFormula:
    w_add, d_add = grid.round(numpy_of(unit.weight), -1, 1)
    w_mul, d_mul = grid.round(numpy_of(unit.mul_weight), -1, 1)
    with torch.no_grad():
        values = numpy_of(unit.gate_values(probe))  # (batch, out) or (batch, 1) for a scalar gate
    mean = np.broadcast_to(values.mean(0), (unit.out_features,))
    gates, d_gate, notes = decide_gate(mean, "NALU")
    distances = {"weight": d_add, "gate": d_gate}
    if not unit.shared_weights:
        distances["mul_weight"] = d_mul
    mul = power_product(w_mul, inputs, magnitude=True)
    return LayerFormula("NALU", gated(gates, linear(w_add, inputs), mul), distances, notes)


def inalu_rule(unit, inputs, probe, grid: Grid) -> LayerFormula:
    w_add, d_add = grid.round(numpy_of(unit.weight), -1, 1)
    w_mul, d_mul = grid.round(numpy_of(unit.mul_weight), -1, 1)
    mean = 1 / (1 + np.exp(-numpy_of(unit.G)))  # the gate does not depend on the input
    gates, d_gate, notes = decide_gate(mean, "iNALU")
    distances = {"weight": d_add, "gate": d_gate, **({} if unit.shared_weights else {"mul_weight": d_mul})}
    return LayerFormula("INALU", gated(gates, linear(w_add, inputs), signed_product(w_mul, inputs)), distances, notes)


def signed_product(weights: np.ndarray, inputs: Sequence[sympy.Expr]) -> list[sympy.Expr]:
    """The iNALU's multiplicative path with its sign recovery, Π_i |x_i|^w_i (sign(x_i)|w_i| + 1 - |w_i|)
    (the clip to [-1, 1] never acts: every factor of the sign lies in it). At |w| = 1 a factor is
    x^w; a fractional |w| keeps the magnitude and its share of the sign."""
    out = []
    for row in weights:
        factors = []
        for w, x in zip(row, inputs):
            if w == 0:
                continue
            size = to_sympy(abs(w))
            sign = 1 if size == 1 else sympy.sign(x) * size + 1 - size
            factors.append(x ** to_sympy(w) if size == 1 else sympy.Abs(x) ** to_sympy(w) * sign)
        out.append(sympy.Mul(*factors))
    return out


def npu_rule(unit, inputs, probe, grid: Grid) -> LayerFormula:
    complex_unit = isinstance(unit, NPU)
    w, d_w = grid.at_least(2).round(numpy_of(unit.W_re if complex_unit else unit.W), -np.inf, np.inf)
    g, d_g = Grid().round(numpy_of(unit.g), 0, 1)  # a gate: open or closed
    distances = {"W_re" if complex_unit else "W": d_w, "g": d_g}
    if complex_unit:
        w_im, d_im = Grid(2).round(numpy_of(unit.W_im), -np.inf, np.inf)
        if np.any(w_im != 0):
            raise ExplainError("NPU: imaginary exponents W_im round to nonzero values; "
                               "the formula is complex, which explain does not support")
        distances["W_im"] = np.abs(numpy_of(unit.W_im))
    w = w * g  # a closed relevance gate turns its input into the constant 1
    return LayerFormula(type(unit).__name__, [npu_output(row, inputs) for row in w], distances)


def npu_output(row: np.ndarray, inputs: Sequence[sympy.Expr]) -> sympy.Expr:
    """exp(Σ w log|x|) cos(π Σ w [x<0]) with rounded exponents.

    An integer exponent folds its share of the cosine into the power: |x|^w (-1)^(w[x<0]) = x^w.
    Half-integer exponents keep |x|^w and their share of the cosine, which is 0 or ±1
    depending on which of their inputs are negative (it vanishes for positive inputs).
    """
    factors, phase = [], []
    for w, x in zip(row, inputs):
        if w == 0:
            continue
        if float(w).is_integer():
            factors.append(x ** to_sympy(w))
        else:
            factors.append(sympy.Abs(x) ** to_sympy(w))
            phase.append(to_sympy(w) * sympy.Heaviside(-x, 0))
    if phase:
        factors.append(sympy.cos(sympy.pi * sympy.Add(*phase)))
    return sympy.Mul(*factors)


def nru_rule(unit, inputs, probe, grid: Grid) -> LayerFormula:
    """In evaluation, Π_i (sign(x_i)|x_i|^w |w| + 1 - |w|): x^w at |w| = 1, 1 at w = 0."""
    w, d = grid.round(numpy_of(unit.weight), -1, 1)
    outputs = []
    for row in w:
        factors = []
        for v, x in zip(row, inputs):
            size = to_sympy(abs(v))
            if size == 1:
                factors.append(x ** to_sympy(v))
            elif size != 0:
                factors.append(sympy.sign(x) * sympy.Abs(x) ** to_sympy(v) * size + 1 - size)
        outputs.append(sympy.Mul(*factors))
    return LayerFormula("NRU", outputs, {"weight": d})


def nmru_rule(unit, inputs, probe, grid: Grid) -> LayerFormula:
    """In evaluation, Π_k (w|x̃_k| + 1 - w) cos(π Σ_k w [x̃_k < 0]) over x̃ = [x, 1/x]; with weights
    of 0 and 1 the cosine returns the signs the magnitudes dropped: Π_{w_k = 1} x̃_k."""
    w, d = grid.round(numpy_of(unit.weight), 0, 1)
    both = list(inputs) + [1 / x for x in inputs]
    outputs = []
    for row in w:
        if set(row.tolist()) <= {0.0, 1.0}:
            outputs.append(sympy.Mul(*(x for v, x in zip(row, both) if v == 1)))
            continue
        magnitude = [sympy.Abs(x) if v == 1 else to_sympy(v) * sympy.Abs(x) + 1 - to_sympy(v)
                     for v, x in zip(row, both) if v != 0]
        phase = sympy.Add(*(to_sympy(v) * sympy.Heaviside(-x, 0) for v, x in zip(row, both) if v != 0))
        outputs.append(sympy.Mul(*magnitude) * sympy.cos(sympy.pi * phase))
    return LayerFormula("NMRU", outputs, {"weight": d})


RULES: list[tuple[type, Callable]] = [
    (INALU, inalu_rule), (NALU, nalu_rule), (LogSpaceProduct, log_product_rule), (NAU, nac_rule), (NAC, nac_rule),
    (MCFC, nac_rule), (NMU, nmu_rule), (RealNPU, npu_rule), (NRU, nru_rule), (NMRU, nmru_rule),
]
"""Unit classes and their rules, the first match wins; subclasses (NPU, G-NALU) match their parents'
entries, and the log-space product (NAC•, a NAC) is matched before the NAC."""


def linear_map(unit: torch.nn.Module) -> np.ndarray | None:
    """The matrix W of a unit that computes x Wᵀ (its fused-kernel layer is ``linear``: NAC, NAU), else None."""
    kernel_layer = getattr(unit, "kernel_layer", None)
    layer = None if kernel_layer is None else kernel_layer()
    return None if layer is None or layer.kind != "linear" else numpy_of(layer.effective_weight())


def composed_formula(units: Sequence[torch.nn.Module], inputs: Sequence[sympy.Expr], grid: Grid) -> LayerFormula:
    """A chain of linear units read as the one matrix they compute together, rounded to ``grid``.

    Two NACs whose weights are 1/2 and 1 compute x0 + x1 together though neither layer rounds
    to it; the composed map, unlike each layer's, may hold any rational (2·x0 is a sum).
    """
    for unit in units:
        check_standalone(unit)
    weight = linear_map(units[0])
    for unit in units[1:]:
        weight = linear_map(unit) @ weight
    rounded, distances = grid.round(weight, -np.inf, np.inf)
    return LayerFormula("→".join(type(unit).__name__ for unit in units), linear(rounded, inputs),
                        {"composed weight": distances})


def check_standalone(unit: torch.nn.Module) -> None:
    if getattr(unit, "members", None) is not None:
        raise ExplainError(f"{type(unit).__name__} holds a population of {unit.members} members; "
                           "explain a standalone unit (see nalm.units.load_network)")


def layer_formula(unit: torch.nn.Module, inputs: Sequence[sympy.Expr], probe: torch.Tensor,
                  grid: Grid = Grid()) -> LayerFormula:
    """The formula of one unit, its weights rounded to ``grid``, its outputs in terms of ``inputs``.

    ``probe`` is the unit's own input on the probe samples, shape ``(batch, in_features)``.
    """
    check_standalone(unit)
    for cls, rule in RULES:
        if isinstance(unit, cls):
            return rule(unit, inputs, probe, grid)
    name = getattr(type(unit), "base", type(unit)).__name__  # a unit of one's own trained as a population: its own name
    if name in ("FauxNALU", "Linear"):
        raise ExplainError(f"{name} has an unconstrained linear layer (weight and bias): its weights "
                           "have no values to round to, so there is no formula to extract")
    raise ExplainError(f"no symbolic rule for {name}; explain supports NAC, NAC•, NAC•,σ, NAC•,NMU, NALU, G-NALU, iNALU, NAU, "
                       "NMU, NPU, RealNPU, NRU, NMRU and MC-FC (docs/units.md: what a unit of your own gets)")
