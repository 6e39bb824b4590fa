"""``explain``: the simplest closed-form formula that a trained network of units computes.

Each unit's weights are rounded to the values at which it does exact arithmetic (see
:mod:`nalm.explain.layers`), the layers are composed symbolically (layer 2's inputs are
layer 1's output expressions) and the result is tidied with SymPy. When rounding each layer to
integers changes what the network computes, other readings are tried (:data:`READINGS`): chains
of linear units composed into one matrix before rounding, and grids of small rationals; of the
readings that reproduce the network, the simplest formula wins. The explanation says which
reading it used and how far rounding moved the weights and the output, so a formula is never
presented without its cost. When no reading reproduces the network, the closest one is kept (the
simplest of those about as close, :data:`AS_CLOSE`; none where no reading is within a factor of 2
of the network, :data:`FAR`), and says how close it is.

How close a formula is to the network is measured on the scale of the formula's terms (see
:mod:`nalm.explain.closeness`): a formula reproduces the network when the network is the
formula with each term off by at most ``CHANGED_TOLERANCE``, which stays meaningful where a
difference such as x0 - x1 is near 0.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np
import sympy
import torch
from torch import nn

from ..units import evaluating
from ..units.recurrent import RecurrentNetwork
from .closeness import relative_error, values
from .layers import MAX_DENOMINATOR, ExplainError, Grid, LayerFormula, composed_formula, layer_formula, linear_map
from .printing import compact_str

CHANGED_TOLERANCE = 1e-3
"""Rounding "changed the output" when the formula and the network differ by more than this
fraction of the formula's terms (:func:`~nalm.explain.closeness.relative_error`) somewhere on
the probe or the extrapolation inputs (float32 networks alone differ by about 1e-6). A network
this close to its target on extrapolation reads back as the target (issue #17's bar for an
accurate network)."""

FAR = 1.0
"""When no reading reproduces the network, the closest one is kept if it is off by less than
this (where nothing cancels: within a factor 2 of the network everywhere); a formula off by
more tells nothing of the network's values, and the integer reading (the simplest, what every
unit is built to end at) is kept instead, with how far it is off."""

AS_CLOSE = 2.0
"""Of the readings that do not reproduce the network, those off by at most this factor times
the closest one's change count as close as it, and the simplest of them is kept: a formula
with four times the terms for a few percent less change reads worse, not better."""

SIMPLIFY_MAX_SYMBOLS = 8
"""``sympy.simplify`` is only tried on formulas of at most this many inputs: on a product of
two 25-term sums it is slow and tends to expand what reads best factored."""

DEFAULT_PROBE = (1000, (1.0, 2.0))
"""Without a probe: 1000 inputs from U[1, 2] (the interpolation range of Madsen & Johansen)..."""
DEFAULT_EXTRAPOLATION = (1000, (2.0, 6.0))
"""... and 1000 from U[2, 6] (their extrapolation range)."""


@dataclass(frozen=True)
class Reading:
    """How a network's weights are read: the grid they are rounded to, and whether each chain of
    linear units (NAC, NAU) is first composed into the one matrix it computes."""

    grid: Grid = Grid()
    composed: bool = False

    def __str__(self) -> str:
        return f"composed linear maps, {self.grid}" if self.composed else f"each layer, {self.grid}"


READBACK_VERSION = 3
"""The version of the read-back, stored with each run's formula (``formula_readback``): runs
without one were read by version 1, which rounded each layer to integers and matched the
target on the formula alone; version 2 measured closeness relative to the network's output
(unbounded where a difference is near 0, so accurate subtracting networks matched nothing) and
kept the integer reading when none reproduced the network. Reports count formulas of the
current version only."""

READINGS = tuple(Reading(Grid(q), composed) for q in range(1, MAX_DENOMINATOR + 1) for composed in (False, True))
"""The readings :func:`explain` tries, in order: each layer rounded to integers first (what
every unit is built to end at); then the composed maps, then rationals with denominators
2, 3 and 4, each per layer and composed. Of equally simple formulas the earlier reading wins."""


@dataclass
class Explanation:
    """The rounded formula of a network, and what rounding cost.

    Attributes:
        outputs: one SymPy expression per network output.
        symbols: the input symbols, in input order.
        layers: per layer, its own formula and rounding distances (:class:`LayerFormula`).
        positive: whether the input symbols were declared positive (so |x| = x).
        probe_relative_change: max difference between the formula and the network on the
            probe inputs, on the scale of the formula's terms
            (:func:`~nalm.explain.closeness.relative_error`).
        extrapolation_relative_change: the same on the extrapolation inputs (``None``
            without them).
        module: the explained module (used to compare against it later).
        vector: the name used for input slices when printing (``x`` for x0, x1, ...), or
            ``None`` when the inputs were given names of their own.
        reading: how the weights were read (:data:`READINGS`).
        as_read: the outputs as the layers compose them, before SymPy tidies them (the same
            functions): what is evaluated, and whose terms set the scale of its errors
            (default: ``outputs``).
    """

    outputs: list[sympy.Expr]
    symbols: tuple[sympy.Symbol, ...]
    layers: list[LayerFormula]
    positive: bool
    probe_relative_change: float
    module: nn.Module = field(repr=False)
    vector: str | None = "x"
    reading: Reading = Reading()
    extrapolation_relative_change: float | None = None
    as_read: list[sympy.Expr] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.as_read is None:
            self.as_read = list(self.outputs)

    @property
    def expr(self) -> sympy.Expr:
        """The formula as a SymPy expression (a column Matrix for several outputs)."""
        return self.outputs[0] if len(self.outputs) == 1 else sympy.Matrix(self.outputs)

    @property
    def max_distance(self) -> list[float]:
        """The largest rounding distance of each layer."""
        return [layer.max_distance for layer in self.layers]

    @property
    def relative_change(self) -> float:
        """How far the formula is from the network: the larger of the probe's and the
        extrapolation's change (:func:`~nalm.explain.closeness.relative_error`)."""
        changes = [c for c in (self.probe_relative_change, self.extrapolation_relative_change) if c is not None]
        return float(np.max(changes))  # nan, not yet measured, stays nan (Python's max would skip it)

    @property
    def rounding_changed_output(self) -> bool:
        """Whether the formula does not reproduce the network: it is off by more than
        ``CHANGED_TOLERANCE`` somewhere (nan counts as off)."""
        return not self.relative_change <= CHANGED_TOLERANCE

    def closeness(self, probe: str = "the probe", extrapolation: str = "the extrapolation inputs") -> str:
        """What rounding changed, in words (``nalm explain``'s lines), naming the two sets of
        inputs ``probe`` and ``extrapolation``; a formula that does not reproduce the network
        says that it is the closest reading, or the integer one where none is close."""
        changes = f"max relative change {self.probe_relative_change:.3g} on {probe}"
        if self.extrapolation_relative_change is not None:
            changes += f", {self.extrapolation_relative_change:.3g} on {extrapolation}"
        changes += ", on the scale of the formula's terms"
        if not self.rounding_changed_output:
            return f"rounding changed the output: no ({changes})"
        which = ("no reading reproduces the network; this is the closest (or a simpler one nearly as close)"
                 if self.relative_change < FAR else
                 "no reading comes within a factor of 2 of the network; this is the integer one")
        return (f"rounding changed the output: yes ({changes})\n"
                f"{which}, off by up to {self.relative_change:.3g} relative")

    @property
    def complexity(self) -> int:
        """The formula's size: SymPy's operation count (``sympy.count_ops``) over its outputs."""
        return sum(int(sympy.count_ops(output)) for output in self.outputs)

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
        """The rounded formula on inputs ``x`` of shape (n, d), in float64: shape (n, outputs).
        An undefined value (a rounded divisor of 0) is nan, and verification reports a mismatch."""
        return self.with_magnitudes(x)[0]

    def with_magnitudes(self, x) -> tuple[np.ndarray, np.ndarray]:
        """The formula on ``x`` (n, d) and its magnitude (:mod:`nalm.explain.closeness`): two
        arrays of shape (n, outputs)."""
        pairs = [values(output, self.symbols, x) for output in self.as_read]
        return np.stack([p[0] for p in pairs], axis=1), np.stack([p[1] for p in pairs], axis=1)

    def change(self, x, network: np.ndarray) -> float:
        """How far the formula is from ``network`` (its outputs on ``x``, shape (n, outputs)), on
        the formula's scale (:func:`~nalm.explain.closeness.relative_error`)."""
        formula, magnitude = self.with_magnitudes(x)
        return relative_error(network, formula, magnitude)

    def network(self, x) -> np.ndarray:
        """The network's own output on ``x`` (n, d), as float64: shape (n, outputs)."""
        return network_output(self.module, x)


def network_output(module: nn.Module, x) -> np.ndarray:
    """The module's output in evaluation mode (:func:`nalm.units.evaluating`), as float64."""
    param = next(module.parameters())
    with torch.no_grad(), evaluating(module):
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
    Only exponents are combined: combining bases (sqrt(a)·sqrt(b) -> sqrt(a·b)) multiplies the
    sums out to compare them: minutes for a product of four roots of 25-term sums, read back
    from a NAC• network of hidden size 4 (``madsen2020-hidden-size``).
    """
    expr = sympy.powsimp(expr, combine="exp")
    if len(expr.free_symbols) <= SIMPLIFY_MAX_SYMBOLS and not expr.has(sympy.Float):
        simpler = sympy.simplify(expr)
        if sympy.count_ops(simpler) <= sympy.count_ops(expr):
            expr = simpler
    return expr


def explain(module: nn.Module, input_names: Sequence[str] | None = None, *, probe=None, extrapolation=None,
            positive: bool | None = None) -> Explanation:
    """The simplest closed-form formula of a unit or a network of units that reproduces it.

    Each layer's weights are rounded to integers first. If that changes the network's output
    (by more than ``CHANGED_TOLERANCE`` on the scale of the formula's terms, on the probe or
    the extrapolation inputs), the other :data:`READINGS` are tried: linear chains composed
    before rounding, and grids of small rationals. Of those that reproduce the network, the
    formula with the fewest operations wins; if none does, the closest one (the simplest of
    those within ``AS_CLOSE`` of it) is returned, and says how far it is off
    (:meth:`Explanation.closeness`); if none comes within ``FAR``, the integer reading is.

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
        extrapolation: more inputs, shape (m, d), on which a formula must reproduce the
            network too, e.g. the task's extrapolation samples. Default: 1000 draws from
            U[2, 6] when ``probe`` is the default too, else none.
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

    Two layers whose weights are halves read back through their composed map:

    >>> from nalm import build_model
    >>> net = build_model("nau/nau", 2, 1, hidden=2, dtype=torch.float64)
    >>> with torch.no_grad():
    ...     _ = net[0].W.fill_(0.5), net[1].W.fill_(1.0)
    >>> explanation = explain(net)
    >>> print(explanation, "|", explanation.reading)
    y = x0 + x1 | composed linear maps, integers
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
        probe = default_inputs(*DEFAULT_PROBE, in_features, seed=0)
        if extrapolation is None:
            extrapolation = default_inputs(*DEFAULT_EXTRAPOLATION, in_features, seed=1)
    checks = [as_inputs(probe, in_features, param, "probe")]
    if extrapolation is not None:
        checks.append(as_inputs(extrapolation, in_features, param, "extrapolation"))
    if positive is None:
        positive = bool((checks[0] > 0).all())
    symbols = input_symbols(in_features, input_names, positive)
    networks = [network_output(module, x.cpu().numpy()) for x in checks]
    points = [x.cpu().double().numpy() for x in checks]
    inputs = layer_inputs(layers, checks[0])

    def read(reading: Reading) -> Explanation:
        """The reading's explanation, untidied (tidy() does not change values, and costs)."""
        formulas = read_layers(layers, symbols, inputs, reading)
        explanation = Explanation(formulas[-1].outputs, symbols, formulas, positive, np.nan, module,
                                  vector="x" if input_names is None else None, reading=reading)
        changes = [explanation.change(x, net) for x, net in zip(points, networks)]
        explanation.probe_relative_change = changes[0]
        explanation.extrapolation_relative_change = changes[1] if len(changes) > 1 else None
        return explanation

    chosen = read(READINGS[0])  # refusals (ExplainError) come from here
    if chosen.rounding_changed_output:
        chains = any(len(chain) > 1 for chain in linear_chains(layers))
        candidates = [chosen]
        for reading in READINGS[1:]:
            if reading.composed and not chains:
                continue
            try:
                candidates.append(read(reading))
            except ExplainError:  # e.g. a rational grid that makes an NPU's exponents complex
                continue
        exact = [c for c in candidates if not c.rounding_changed_output]
        if exact:
            chosen = min(exact, key=lambda e: e.complexity)  # min keeps the earliest of equals
        else:
            best = min(e.relative_change for e in candidates)
            near = [e for e in candidates if e.relative_change <= AS_CLOSE * best and e.relative_change < FAR]
            if near:
                chosen = min(near, key=lambda e: e.complexity)
    if any(output.has(sympy.zoo, sympy.nan) for output in chosen.outputs):
        raise ExplainError("no reading of the weights gives a real formula: each divides by zero (a hidden value "
                           "that rounds to 0 under a negative exponent), where the network adds eps")
    return replace(chosen, outputs=[tidy(e) for e in chosen.outputs])


def layer_inputs(layers: list[nn.Module], probe: torch.Tensor) -> list[torch.Tensor]:
    """Each layer's own input on the probe: the real (unrounded) hidden values, which decide the
    gates of the layers after the first."""
    inputs = [probe]
    with torch.no_grad():
        for unit in layers[:-1]:
            with evaluating(unit):
                inputs.append(unit(inputs[-1]))
    return inputs


def read_layers(layers: list[nn.Module], symbols, inputs: list[torch.Tensor], reading: Reading) -> list[LayerFormula]:
    """The layers' formulas under ``reading`` (a composed chain is one), each one's inputs the
    previous one's outputs: the last one's outputs are the network's. ``inputs``: :func:`layer_inputs`."""
    exprs: list[sympy.Expr] = list(symbols)
    read, first = [], 0
    with torch.no_grad():
        for chain in linear_chains(layers) if reading.composed else [[unit] for unit in layers]:
            if len(chain) > 1:
                formula = composed_formula(chain, exprs, reading.grid)
            else:
                formula = layer_formula(chain[0], exprs, inputs[first], reading.grid)
            exprs = formula.outputs
            read.append(formula)
            first += len(chain)
    return read


def linear_chains(layers: list[nn.Module]) -> list[list[nn.Module]]:
    """The layers in order, consecutive linear units (:func:`~nalm.explain.layers.linear_map`) grouped."""
    chains: list[list[nn.Module]] = []
    for unit in layers:
        linear = linear_map(unit) is not None
        if linear and chains and linear_map(chains[-1][-1]) is not None:
            chains[-1].append(unit)
        else:
            chains.append([unit])
    return chains


def default_inputs(n: int, bounds: tuple[float, float], features: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(*bounds, (n, features))


def as_inputs(x, features: int, param: torch.Tensor, name: str) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(x), dtype=param.dtype, device=param.device)
    if x.dim() != 2 or x.shape[1] != features:
        raise ValueError(f"{name} must have shape (n, {features}), got {tuple(x.shape)}")
    return x
