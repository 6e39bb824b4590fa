"""Check an extracted formula against the task's true target, symbolically and numerically.

A network matches its target when its formula is the target and the formula is what the
network computes: the formula minus the target expression (built from the task's layout)
must simplify to zero, symbolically, and the formula must reproduce the network's outputs
within ``CHANGED_TOLERANCE`` of its terms on interpolation and extrapolation data. A
network whose weights merely round to the target's (0.7 to 1) computes something else and does
not match; small numeric errors never turn a mismatch into a match.

Every error is measured on the scale of the terms of what is compared against
(:mod:`nalm.explain.closeness`): the formula's for formula vs network, the target's for the
comparisons with the target (|a| + |b| for a - b; |a·b|, |a/b|, a², √a for the others, where a
and b are sums of positive inputs).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from ..philox import Draws
from ..tasks.targets import TARGETS, check_target
from ..streams import EXTRAPOLATION, INTERPOLATION, VERIFY
from .closeness import relative_error, values
from .formula import CHANGED_TOLERANCE, Explanation, explain


SYMBOLIC_TARGETS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "square": lambda a, b: a ** 2,
    "sqrt": lambda a, b: sympy.sqrt(a),
    "identity": lambda a, b: a,
    "reciprocal": lambda a, b: 1 / a,
}
""":data:`nalm.tasks.targets.TARGETS` written for SymPy expressions."""


def target_expression(task, target: str, seed: int, symbols) -> sympy.Expr:
    """The target as a formula of the inputs: a and b are sums over the layout's subsets."""
    check_target(target)
    layout = np.asarray(task.layout(seed))
    if layout.shape[0] != len(symbols):
        raise ValueError(f"the task has {layout.shape[0]} inputs, the formula {len(symbols)}")
    a, b = (sympy.Add(*(int(c) * s for c, s in zip(layout[:, k], symbols) if c)) for k in (0, 1))
    return SYMBOLIC_TARGETS[target](a, b)


def equal(formula: sympy.Expr, target: sympy.Expr) -> bool:
    """Whether the two expressions are identical as functions (symbolic proof, no sampling)."""
    if formula.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        return False  # a rounded formula that is undefined somewhere (e.g. 1/0) is not the target
    difference = formula - target
    if differs_somewhere(difference):
        return False
    # Cheap canonical forms first: they settle polynomials and products of powers.
    for form in (sympy.expand(sympy.powsimp(difference)), sympy.expand(sympy.powdenest(difference, force=False))):
        if form == 0:
            return True
    if len(difference.free_symbols) <= 30:  # simplify is slow on large sums
        return sympy.simplify(difference) == 0
    return sympy.simplify(sympy.factor_terms(sympy.together(difference))) == 0


def differs_somewhere(difference: sympy.Expr, points: int = 3) -> bool:
    """Whether ``difference`` is nonzero at some random rational point in [1, 2]^d.

    A nonzero value proves the expressions differ, and costs far less than ``simplify``
    failing on a 100-input formula. A zero value proves nothing; the caller goes on.
    """
    rng = np.random.default_rng(0)
    symbols = sorted(difference.free_symbols, key=str)
    for _ in range(points):
        point = {s: sympy.Rational(int(v), 64) for s, v in zip(symbols, rng.integers(65, 128, len(symbols)))}
        value = difference.xreplace(point)
        if value.free_symbols:
            return False  # symbols the point does not cover (none expected); let SymPy decide
        if value.has(sympy.zoo, sympy.nan) or (value != 0 and abs(sympy.N(value, 30)) > 1e-20):
            return True
    return False


@dataclass
class Verification:
    """How the rounded formula compares with the target and with the network.

    ``formula_is_target``: the formula equals the target symbolically; ``matches_target``:
    that, and the formula reproduces the network (``formula_vs_network`` at most
    ``CHANGED_TOLERANCE`` on both ranges). The errors are max relative errors (see
    :func:`~nalm.explain.closeness.relative_error`), keyed by range: ``interpolation`` and
    ``extrapolation``; each on the scale of the terms of the second thing named: the target's,
    or the formula's for ``formula_vs_network``.
    """

    target: str
    target_expr: sympy.Expr
    formula_is_target: bool
    formula_vs_target: dict[str, float]
    formula_vs_network: dict[str, float]
    network_vs_target: dict[str, float]

    @property
    def reproduces_network(self) -> bool:
        return all(error <= CHANGED_TOLERANCE for error in self.formula_vs_network.values())

    @property
    def matches_target(self) -> bool:
        return self.formula_is_target and self.reproduces_network


def verify(explanation: Explanation, task, target: str, seed: int, n: int = 1000) -> Verification:
    """Compare the formula with ``TARGETS[target]`` on the task's data of ``seed``.

    Draws ``n`` interpolation and ``n`` extrapolation samples (the draws of the seed's
    ``nalm.streams.VERIFY``), computes the true target from ``[a, b] = x @ task.layout(seed)``, the
    network's output and the formula's, and decides whether the formula is the target
    symbolically.
    """
    if len(explanation.outputs) != 1:
        raise ValueError(f"the tasks have one output; the formula has {len(explanation.outputs)}")
    layout = np.asarray(task.layout(seed))
    expected = target_expression(task, target, seed, explanation.symbols)
    errors = {"formula_vs_target": {}, "formula_vs_network": {}, "network_vs_target": {}}
    for which in ("interpolation", "extrapolation"):
        x = task.sample(n, Draws(seed, VERIFY), extrapolation=which == "extrapolation")
        if explanation.positive and not (x > 0).all():
            raise ValueError(f"the formula assumed positive inputs, but the task's {which} range has "
                             "others: explain it again with positive=False")
        ab = x @ layout
        truth = np.asarray(TARGETS[target](ab[:, 0], ab[:, 1]))
        magnitude = values(expected, explanation.symbols, x)[1]
        formulas, sizes = explanation.with_magnitudes(x)  # once: the formula against the target and the network
        formula, network = formulas[:, 0], explanation.network(x)[:, 0]
        errors["formula_vs_target"][which] = relative_error(formula, truth, magnitude)
        errors["formula_vs_network"][which] = relative_error(network[:, None], formulas, sizes)
        errors["network_vs_target"][which] = relative_error(network, truth, magnitude)
    return Verification(target, expected, equal(explanation.expr, expected), **errors)


def positive_ranges(task) -> bool:
    """Whether every input of both ranges is positive (so the formula may assume it)."""
    return all(low > 0 for r in task.input_ranges for low, _ in r.intervals)


def explain_and_verify(network, task, target: str, seed: int, probe_samples: int = 1000):
    """Explain a trained network on its seed's interpolation and extrapolation data, then
    verify it against the target."""
    probe = task.sample(probe_samples, Draws(seed, INTERPOLATION))
    extrapolation = task.sample(probe_samples, Draws(seed, EXTRAPOLATION), extrapolation=True)
    explanation = explain(network, probe=probe, extrapolation=extrapolation, positive=positive_ranges(task))
    return explanation, verify(explanation, task, target, seed)
