"""Compact printing of extracted formulas: runs of inputs become ``sum(x[a:b])``/``prod(x[a:b])``.

A network trained on a 100-input task sums dozens of consecutive inputs; SymPy's own
printer would spell out every one of them. :class:`CompactPrinter` is SymPy's
``StrPrinter`` with one change: inside a sum, a run of at least ``min_run`` consecutive
inputs with the same coefficient is printed as ``c*sum(x[a:b])``, and inside a product a run
with the same exponent as ``prod(x[a:b])**e``. Slices follow Python's convention:
``sum(x[a:b]) = x_a + x_(a+1) + ... + x_(b-1)``. Everything else prints as SymPy prints it.

>>> import sympy
>>> x = sympy.symbols("x0:10")
>>> print(compact_str(sum(x[0:6]) + 2 * sum(x[3:10]), x))
sum(x[0:3]) + 3*sum(x[3:6]) + 2*sum(x[6:10])
>>> print(compact_str(sum(x[0:3]) * sum(x[5:9]), x), compact_str(sum(x[0:3]) / sum(x[5:9]), x))
sum(x[0:3])*sum(x[5:9]) sum(x[0:3])/sum(x[5:9])
>>> print(compact_str(x[0] - x[1], x))
x0 - x1
"""
from __future__ import annotations

from typing import Sequence

import sympy
from sympy.printing.str import StrPrinter


class CompactPrinter(StrPrinter):
    """``StrPrinter`` that folds runs of consecutive input symbols into slices.

    Args:
        symbols: the input symbols in index order; only these are folded.
        vector: the name used in the slices (``x`` gives ``sum(x[0:5])``).
        min_run: the shortest run that is folded (shorter runs read better spelled out).
    """

    def __init__(self, symbols: Sequence[sympy.Symbol], vector: str = "x", min_run: int = 3):
        # order='none' keeps the term order this printer builds (indices ascending).
        super().__init__({"order": "none"})
        self.index = {s: i for i, s in enumerate(symbols)}
        self.vector = vector
        self.min_run = min_run

    # -- folding ---------------------------------------------------------------------------
    def _runs(self, items: list[tuple[int, sympy.Expr]]) -> list[tuple[int, int, sympy.Expr]]:
        """Maximal runs (start, stop, value) of consecutive indices sharing one value."""
        runs: list[tuple[int, int, sympy.Expr]] = []
        for i, value in sorted(items, key=lambda item: item[0]):
            if runs and runs[-1][1] == i and runs[-1][2] == value:
                runs[-1] = (runs[-1][0], i + 1, value)
            else:
                runs.append((i, i + 1, value))
        return runs

    def _slice(self, kind: str, start: int, stop: int) -> sympy.Symbol:
        # A placeholder symbol whose name is the text to print; never leaves the printer.
        return sympy.Symbol(f"{kind}({self.vector}[{start}:{stop}])")

    def fold_add(self, expr: sympy.Add) -> sympy.Expr:
        """The sum with runs folded, as an unevaluated Add in print order."""
        linear, other = [], []
        for term in expr.args:
            coeff, rest = term.as_coeff_Mul()
            if rest in self.index:
                linear.append((self.index[rest], coeff))
            else:
                other.append(term)
        terms = []
        for start, stop, coeff in self._runs(linear):
            if stop - start >= self.min_run:
                terms.append(sympy.Mul(coeff, self._slice("sum", start, stop), evaluate=False)
                             if coeff != 1 else self._slice("sum", start, stop))
            else:
                terms.extend(coeff * s for s in list(self.index)[start:stop])
        if other:
            terms.extend(sympy.Add(*other).as_ordered_terms() if len(other) > 1 else other)
        if len(terms) == 1:
            return terms[0]
        return sympy.Add(*terms, evaluate=False)

    def fold_mul(self, expr: sympy.Mul) -> sympy.Expr:
        """The product with runs folded, as an unevaluated Mul in print order."""
        coeff, rest = expr.as_coeff_Mul()
        powers, other = [], []
        for factor in sympy.Mul.make_args(rest):
            base, exp = factor.as_base_exp()
            if base in self.index:
                powers.append((self.index[base], exp))
            else:
                other.append(factor)
        factors = [] if coeff == 1 else [coeff]
        for start, stop, exp in self._runs(powers):
            if stop - start >= self.min_run:
                factors.append(sympy.Pow(self._slice("prod", start, stop), exp, evaluate=False)
                               if exp != 1 else self._slice("prod", start, stop))
            else:
                factors.extend(s ** exp for s in list(self.index)[start:stop])
        for factor in other:
            # A factor that folds to a single slice needs no parentheses: sum(..)*sum(..).
            base, exp = factor.as_base_exp()
            folded = self.fold_add(base) if isinstance(base, sympy.Add) else None
            if isinstance(folded, sympy.Symbol):
                factor = folded if exp == 1 else sympy.Pow(folded, exp, evaluate=False)
            factors.append(factor)
        if len(factors) == 1:
            return factors[0]
        return sympy.Mul(*factors, evaluate=False)

    # -- printer hooks ---------------------------------------------------------------------
    def _print_Add(self, expr, order=None):
        folded = self.fold_add(expr)
        if isinstance(folded, sympy.Add):
            return super()._print_Add(folded, order="none")
        return self._print(folded)

    def _print_Mul(self, expr):
        folded = self.fold_mul(expr)
        if isinstance(folded, sympy.Mul):
            return super()._print_Mul(folded)
        return self._print(folded)


def compact_str(expr: sympy.Expr, symbols: Sequence[sympy.Symbol], vector: str = "x", min_run: int = 3) -> str:
    """``expr`` as text, runs of consecutive ``symbols`` folded (see :class:`CompactPrinter`)."""
    return CompactPrinter(symbols, vector, min_run).doprint(expr)
