"""Extract the closed-form formula a trained network of arithmetic units computes.

>>> import torch, nalm
>>> nmu = nalm.NMU(3, 1)
>>> with torch.no_grad():
...     _ = nmu.W.copy_(torch.tensor([[1.0, 1.0, 0.0]]))
>>> print(nalm.explain(nmu))
y = x0*x1

Each name is imported from its module when first used (:func:`nalm.lazy.lazy_exports`): SymPy
only when a formula is read.
"""
from ..lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    ".closeness": ("relative_error",),
    ".formula": ("READBACK_VERSION", "READINGS", "Explanation", "Reading", "explain"),
    ".layers": ("ExplainError", "Grid", "LayerFormula"),
    ".printing": ("compact_str",),
    ".verify": ("Verification", "explain_and_verify", "target_expression", "verify"),
})
