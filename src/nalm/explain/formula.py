"""``explain``: the closed-form formula a trained network of units computes, after rounding.

Each unit's weights are rounded to the values at which it does exact arithmetic (see
:mod:`nalm.explain.layers`), the layers are composed symbolically (layer 2's inputs are
layer 1's output expressions) and the result is tidied with SymPy. The explanation also
says how far rounding moved the weights and whether it changed what the network outputs on
the probe inputs, so a formula is never presented without its cost.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import sympy
import torch
from torch import nn

from ..units.recurrent import RecurrentNetwork
from .layers import ExplainError, LayerFormula, layer_formula
from .printing import compact_str

CHANGED_TOLERANCE = 1e-3
"""Rounding "changed the output" when the formula and the network differ by more than this
relative error somewhere on the probe (float32 networks alone differ by about 1e-6)."""

SIMPLIFY_MAX_SYMBOLS = 8
"""``sympy.simplify`` is only tried on formulas of at most this many inputs: on a product of
two 25-term sums it is slow and tends to expand what reads best factored."""

DEFAULT_PROBE = (1000, (1.0, 2.0))
"""Without a probe: 1000 inputs from U[1, 2] (the interpolation range of Madsen & Johansen)."""


def relative_error(value: np.ndarray, reference: np.ndarray) -> float:
    """max |value - reference| / |reference| over all entries (nan and inf count as inf).

    The denominator is floored at 1e-12 so an exact zero reference gives a large, finite
    error rather than a division by zero.
    """
    value, reference = np.asarray(value, float), np.asarray(reference, float)
    error = np.abs(value - reference) / np.maximum(np.abs(reference), 1e-12)
    error = np.where(np.isfinite(error), error, np.inf)
    return float(error.max()) if error.size else 0.0


@dataclass
class Explanation:
    """The rounded formula of a network, and what rounding cost.

    Attributes:
        outputs: one SymPy expression per network output.
        symbols: the input symbols, in input order.
        layers: per layer, its own formula and rounding distances (:class:`LayerFormula`).
        positive: whether the input symbols were declared positive (so |x| = x).
        probe_relative_change: max relative difference between the formula and the network
            on the probe inputs.
        module: the explained module (used to compare against it later).
        vector: the name used for input slices when printing (``x`` for x0, x1, ...), or
            ``None`` when the inputs were given names of their own.
    """

    outputs: list[sympy.Expr]
    symbols: tuple[sympy.Symbol, ...]
    layers: list[LayerFormula]
    positive: bool
    probe_relative_change: float
    module: nn.Module = field(repr=False)
    vector: str | None = "x"
    _function: object = field(default=None, init=False, repr=False)

    @property
    def expr(self) -> sympy.Expr:
        """The formula as a SymPy expression (a column Matrix for several outputs)."""
        return self.outputs[0] if len(self.outputs) == 1 else sympy.Matrix(self.outputs)

    @property
    def max_distance(self) -> list[float]:
        """The largest rounding distance of each layer."""
        return [layer.max_distance for layer in self.layers]

    @property
    def rounding_changed_output(self) -> bool:
        return not self.probe_relative_change <= CHANGED_TOLERANCE

    @property
    def notes(self) -> list[str]:
        return [note for layer in self.layers for note in layer.notes]

    def formula_text(self, index: int = 0) -> str:
        """One output's formula, runs of inputs printed as ``sum(x[a:b])``/``prod(x[a:b])``."""
        expr = self.outputs[index]
        if self.vector is None:
            return sympy.sstr(expr)
        return compact_str(expr, self.symbols, self.vector)

    def __str__(self) -> str:
        if len(self.outputs) == 1:
            return f"y = {self.formula_text()}"
        return "\n".join(f"y{j} = {self.formula_text(j)}" for j in range(len(self.outputs)))

    def evaluate(self, x) -> np.ndarray:
        """The rounded formula on inputs ``x`` of shape (n, d), in float64: shape (n, outputs)."""
        x = np.asarray(x, dtype=np.float64)
        if self._function is None:
            # A rounded formula can be undefined (a rounded divisor of 0 gives zoo); numpy has no
            # zoo, so undefined outputs evaluate to nan, and verification reports a mismatch.
            outputs = [sympy.nan if o.has(sympy.zoo, sympy.nan) else o for o in self.outputs]
            self._function = sympy.lambdify(self.symbols, outputs, modules="numpy")
        with np.errstate(all="ignore"):
            columns = self._function(*x.T)
        return np.stack([np.broadcast_to(np.asarray(c, dtype=np.float64), (len(x),)) for c in columns], axis=1)

    def network(self, x) -> np.ndarray:
        """The network's own output on ``x`` (n, d), as float64: shape (n, outputs)."""
        return network_output(self.module, x)


def network_output(module: nn.Module, x) -> np.ndarray:
    param = next(module.parameters())
    with torch.no_grad():
        out = module(torch.as_tensor(np.asarray(x), dtype=param.dtype, device=param.device))
    return out.detach().to("cpu", torch.float64).numpy()


def units_of(module: nn.Module) -> list[nn.Module]:
    """The layers of a Network/nn.Sequential, or the single unit itself."""
    return list(module) if isinstance(module, nn.Sequential) else [module]


def input_symbols(count: int, names: Sequence[str] | None, positive: bool) -> tuple[sympy.Symbol, ...]:
    if names is None:
        return tuple(sympy.Symbol(f"x{i}", positive=positive or None) for i in range(count))
    names = list(names)
    if len(names) != count or len(set(names)) != count:
        raise ValueError(f"input_names must be {count} distinct names, got {names!r}")
    return tuple(sympy.Symbol(n, positive=positive or None) for n in names)


def tidy(expr: sympy.Expr) -> sympy.Expr:
    """Gather powers (x*x -> x**2, sqrt(x)*sqrt(x) -> x); simplify small formulas fully.

    Products of sums are left factored: (Σa)(Σb) reads better than its 600-term expansion.
    """
    expr = sympy.powsimp(expr)
    if len(expr.free_symbols) <= SIMPLIFY_MAX_SYMBOLS and not expr.has(sympy.Float):
        simpler = sympy.simplify(expr)
        if sympy.count_ops(simpler) <= sympy.count_ops(expr):
            expr = simpler
    return expr


def explain(module: nn.Module, input_names: Sequence[str] | None = None, *, probe=None,
            positive: bool | None = None) -> Explanation:
    """The closed-form formula of a unit or a network of units, weights rounded.

    Args:
        module: a standalone unit (NAC, NAC•, NALU, iNALU, NAU, NMU, NPU, RealNPU) or a
            ``Network``/``nn.Sequential`` of them. FauxNALU and MLP layers are refused
            (:class:`~nalm.explain.layers.ExplainError`): an unconstrained linear layer has
            nothing to round to.
        input_names: names of the inputs (default x0, x1, ...). Only default names are
            printed as slices ``sum(x[a:b])``.
        probe: representative inputs, shape (n, d), e.g. the task's interpolation samples.
            They decide input-dependent gates (the NALU's σ(x Gᵀ), averaged per output) and
            measure whether rounding changed the output. Default: 1000 draws from U[1, 2].
        positive: declare the input symbols positive, so |x| simplifies to x and
            (x²)^(1/2) to x. Default: whether every probe input is positive. Say False when
            the formula must also hold for negative inputs.

    Returns:
        An :class:`Explanation`; ``str()`` of it reads ``y = ...``.

    >>> import torch
    >>> from nalm import NAC
    >>> nac = NAC(2, 1, dtype=torch.float64)
    >>> with torch.no_grad():
    ...     _ = nac.W_hat.copy_(torch.tensor([[30.0, -30.0]])), nac.M_hat.fill_(30.0)
    >>> print(explain(nac))
    y = x0 - x1
    """
    if isinstance(module, RecurrentNetwork):
        raise ExplainError("formulas are extracted from feed-forward networks of units; a recurrent "
                           "network's formula would be a sum over time steps, which is not supported yet")
    layers = units_of(module)
    if not layers:
        raise ExplainError("an empty network has no formula")
    in_features = getattr(layers[0], "in_features", None)
    if in_features is None:
        raise ExplainError(f"{type(layers[0]).__name__} is not an arithmetic unit; no formula to extract")
    param = next(module.parameters())
    if probe is None:
        n, (low, high) = DEFAULT_PROBE
        probe = np.random.default_rng(0).uniform(low, high, (n, in_features))
    probe_t = torch.as_tensor(np.asarray(probe), dtype=param.dtype, device=param.device)
    if probe_t.dim() != 2 or probe_t.shape[1] != in_features:
        raise ValueError(f"probe must have shape (n, {in_features}), got {tuple(probe_t.shape)}")
    if positive is None:
        positive = bool((probe_t > 0).all())
    symbols = input_symbols(in_features, input_names, positive)

    exprs: list[sympy.Expr] = list(symbols)
    formulas = []
    hidden = probe_t
    with torch.no_grad():
        for unit in layers:
            formula = layer_formula(unit, exprs, hidden)
            formulas.append(formula)
            exprs = formula.outputs
            hidden = unit(hidden)  # the next layer's gates see the real (unrounded) hidden values
    outputs = [tidy(e) for e in exprs]

    explanation = Explanation(outputs, symbols, formulas, positive, np.nan, module,
                              vector="x" if input_names is None else None)
    explanation.probe_relative_change = relative_error(
        explanation.evaluate(probe_t.cpu().double().numpy()), explanation.network(probe_t.cpu().numpy()))
    return explanation

