"""Extract the closed-form formula a trained network of arithmetic units computes.

>>> import torch, nalm
>>> nmu = nalm.NMU(3, 1)
>>> with torch.no_grad():
...     _ = nmu.W.copy_(torch.tensor([[1.0, 1.0, 0.0]]))
>>> print(nalm.explain(nmu))
y = x0*x1
"""
from .closeness import relative_error
from .formula import READBACK_VERSION, READINGS, Explanation, Reading, explain
from .layers import ExplainError, Grid, LayerFormula
from .printing import compact_str
from .verify import Verification, explain_and_verify, target_expression, verify

__all__ = ["READBACK_VERSION", "READINGS", "ExplainError", "Explanation", "Grid", "LayerFormula", "Reading", "Verification", "compact_str",
           "explain", "explain_and_verify", "relative_error", "target_expression", "verify"]
