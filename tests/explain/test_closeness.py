"""``nalm.explain.closeness``: formulas evaluated with their magnitudes, and errors on their scale."""
from __future__ import annotations

import numpy as np
import pytest
import sympy

from nalm.explain.closeness import relative_error, values

X = sympy.symbols("x0:3")
x0, x1, x2 = X
HALF, THIRD, QUARTER = sympy.Rational(1, 2), sympy.Rational(1, 3), sympy.Rational(1, 4)


@pytest.mark.parametrize("expr", [
    x0 - x1,
    (x0 + x1 / 2 + THIRD) * (x2 - x0),  # an NMU's rational reading over an NAU's sums
    sympy.Abs(x0) ** (3 * QUARTER) * (sympy.sign(x0) * 3 * QUARTER + QUARTER),  # an iNALU's fractional exponent
    sympy.Abs(x1) ** HALF * sympy.cos(sympy.pi * HALF * sympy.Heaviside(-x1, 0)),  # an NPU's half exponent
    x1 ** 3 / x0 ** 2, sympy.sqrt(x0), sympy.Float(0.77) + 0 * x0, sympy.Integer(3),
    sympy.exp(x0) + sympy.log(sympy.Abs(x1)),
])
def test_values_are_sympys_own(expr):
    x = np.random.default_rng(0).uniform(-3, 3, (200, 3))
    value, magnitude = values(expr, X, x)
    with np.errstate(all="ignore"):
        expected = np.broadcast_to(np.asarray(sympy.lambdify(X, expr, "numpy")(*x.T), dtype=float), (200,))
    np.testing.assert_allclose(value, expected, rtol=1e-12, equal_nan=True)
    defined = ~np.isnan(value)
    assert np.all(magnitude[defined] >= np.abs(value[defined]) * (1 - 1e-12))


def test_undefined_and_complex_values_are_nan():
    x = np.ones((4, 3))
    assert np.isnan(values(1 / (x0 - x0), X, x)[0]).all()  # zoo: a rounded divisor of 0
    assert np.isnan(values(sympy.I * x0, X, x)[0]).all()


def test_a_difference_is_judged_by_its_terms_a_product_by_itself():
    x = np.array([[10.0, 9.5, 2.0], [3.0, 1.0, 2.0]])
    assert values(2 * x0 - 3 * x1, X, x)[1].tolist() == [2 * 10.0 + 3 * 9.5, 9.0]
    assert values((x0 - x1) * x2, X, x)[1].tolist() == [(10.0 + 9.5) * 2.0, 8.0]  # as if expanded
    assert values(x0 / (x1 - x2), X, x)[1].tolist() == pytest.approx([10.0 / 7.5, 3.0])  # a denominator as it is
    formula, magnitude = values(x0 - x1, X, x)
    network = formula + 2e-4 * (x[:, 0] + x[:, 1])  # x0 - x1 with weights 1.0002 and -0.9998
    assert relative_error(network, formula, magnitude) == pytest.approx(2e-4, rel=1e-6)
    assert relative_error(network, formula) > 5e-3  # relative to |x0 - x1|: unbounded near 0


def test_the_error_is_symmetric_in_size():
    assert relative_error([2.0], [1.0]) == relative_error([0.5], [1.0]) == 1.0
    assert relative_error([0.0], [1.0]) > 1e9 and relative_error([1.0], [0.0]) > 1e9
    assert relative_error([0.0], [0.0]) == 0.0 and relative_error([np.nan], [1.0]) == np.inf
