"""How close a formula is to a network or to a target, on the scale of the formula's terms.

A formula is judged against its *magnitude*: the formula with every sum replaced by the sum of
its terms' absolute values (through products and positive integer powers; anything else, a
denominator, a root, a function, counts by its absolute value). For a formula ``Σ t_i``,
``|network - formula| ≤ ε·Σ|t_i|`` holds exactly when the network is the formula with each term
off by at most a fraction ε: the backward error of a sum, by which floating-point sums are
judged, and the spirit of Madsen & Johansen's success criterion, which accepts a network as good
as the exact weights each moved by ε. For a formula of one term (a product, a quotient, a power,
a sum of positive terms) the magnitude is its absolute value; for a difference it stays away
from 0 where the difference is near 0: x0 - x1 computed with weights 1.0002 and -0.9998 is off
by 2e-4 of |x0| + |x1| everywhere, while its error relative to |x0 - x1| has no bound.

The error is symmetric in how the two differ in size: it is measured against the smaller of the
two values plus what cancels in the reference's terms (``min(|value|, |reference|) + magnitude
- |reference|``), so that a formula twice the network's output and one half of it are equally
far (1), and a formula of 0 is never close to a network that is not 0.

The scale of the target over the whole range (its mean absolute value) was the alternative: it
judges a product at its small values by its large ones, and a difference by what it is on
average rather than by the terms that cancel in it.

>>> import numpy as np, sympy
>>> a, b = sympy.symbols("a b")
>>> x = np.array([[10.0, 9.5], [2.0, 1.0]])
>>> formula, magnitude = values(a - b, (a, b), x)
>>> formula, magnitude
(array([0.5, 1. ]), array([19.5,  3. ]))
>>> network = np.array([0.52, 1.0])  # 4% off a - b at the first row, 0.1% of |a| + |b|
>>> relative_error(network, formula, magnitude)  # 0.02 / (min(0.52, 0.5) + 19.5 - 0.5)
0.001025...
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import sympy

FUNCTIONS = {sympy.Abs: np.abs, sympy.sign: np.sign, sympy.cos: np.cos, sympy.sin: np.sin, sympy.exp: np.exp,
             sympy.log: np.log}
"""SymPy functions of one argument and their NumPy counterparts (the layer rules use Abs, sign
and cos)."""


def values(expr: sympy.Expr, symbols: Sequence[sympy.Symbol], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``expr`` and its magnitude (see the module docstring) on the rows of ``x`` (n, d), in
    float64: two arrays of shape (n,). Undefined values (a rounded divisor of 0) are nan.

    One walk of the expression tree with NumPy arrays, shared sub-expressions computed once: far
    cheaper than ``sympy.lambdify``, whose code generation dominates the cost of checking a formula.
    """
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    columns = {s: x[:, i] for i, s in enumerate(symbols)}
    memo: dict[sympy.Expr, tuple[np.ndarray, np.ndarray]] = {}

    def walk(e: sympy.Expr) -> tuple[np.ndarray, np.ndarray]:
        if e in memo:
            return memo[e]
        if e in columns:
            value = columns[e]
            out = value, np.abs(value)
        elif e.is_number:  # a constant; an infinite, undefined or complex one is nan
            value = np.full(n, constant(e))
            out = value, np.abs(value)
        elif e.is_Add or e.is_Mul:
            parts = [walk(arg) for arg in e.args]
            combine = np.add if e.is_Add else np.multiply
            out = combine.reduce([p[0] for p in parts]), combine.reduce([p[1] for p in parts])
        elif e.is_Pow:
            (base, base_size), (exponent, _) = walk(e.base), walk(e.exp)
            value = np.power(base, exponent)
            out = value, (base_size ** int(e.exp) if e.exp.is_Integer and e.exp > 0 else np.abs(value))
        elif isinstance(e, sympy.Heaviside):
            value = np.heaviside(walk(e.args[0])[0], float(e.args[1]) if len(e.args) > 1 else 0.5)
            out = value, np.abs(value)
        elif e.func in FUNCTIONS and len(e.args) == 1:
            value = FUNCTIONS[e.func](walk(e.args[0])[0])
            out = value, np.abs(value)
        else:  # nothing the layer rules write (e.g. the imaginary unit); SymPy's own numeric code
            value = np.asarray(sympy.lambdify(symbols, e, modules="numpy")(*x.T))
            if np.iscomplexobj(value):  # not the network's real output
                value = np.where(value.imag == 0, value.real, np.nan)
            value = np.broadcast_to(value.astype(np.float64), (n,))
            out = value, np.abs(value)
        memo[e] = out
        return out

    with np.errstate(all="ignore"):
        value, size = walk(sympy.sympify(expr))
    return value.astype(np.float64, copy=False), size.astype(np.float64, copy=False)


def constant(e: sympy.Expr) -> float:
    """A constant expression's real value (nan where it is infinite, undefined or complex)."""
    try:
        value = complex(e)
    except (TypeError, ValueError):  # zoo, nan
        return np.nan
    return value.real if value.imag == 0 and np.isfinite(value.real) else np.nan


def relative_error(value, reference, magnitude=None) -> float:
    """max over all entries of ``|value - reference| / scale`` (nan and inf count as inf), where
    ``scale = min(|value|, |reference|) + magnitude - |reference|``: the smaller of the two, plus
    what cancels in the reference's terms (``magnitude``: the reference's magnitude, by default
    ``|reference|``, where the scale is the smaller of the two values).

    The scale is floored at 1e-12 so that two zeros agree and a zero against a nonzero value
    gives a large, finite error rather than a division by zero.

    >>> relative_error([2.0, 1.0], [1.0, 1.0]), relative_error([0.5, 1.0], [1.0, 1.0])
    (1.0, 1.0)
    """
    value, reference = np.asarray(value, float), np.asarray(reference, float)
    magnitude = np.abs(reference) if magnitude is None else np.asarray(magnitude, float)
    with np.errstate(all="ignore"):
        scale = np.minimum(np.abs(value), np.abs(reference)) + (magnitude - np.abs(reference))
        error = np.abs(value - reference) / np.maximum(scale, 1e-12)
    error = np.where(np.isfinite(error), error, np.inf)
    return float(error.max()) if error.size else 0.0
