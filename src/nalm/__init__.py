"""nalm: neural arithmetic units for PyTorch, and their benchmarks trained as populations.

>>> import torch, nalm
>>> sorted(nalm.UNITS)
['faux-nalu', 'inalu', 'nac', 'nac-mul', 'nalu', 'nau', 'nmu', 'npu', 'real-npu']
"""
from .units import (
    INALU, MLP, NAC, NALU, NAU, NMU, NPU, UNITS, FauxNALU, MultiplicativeNAC, RealNPU,
    build_model, unit_class,
)
from .explain import explain

__version__ = "0.1.0"
__all__ = [
    "FauxNALU", "INALU", "MLP", "MultiplicativeNAC", "NAC", "NALU", "NAU", "NMU", "NPU",
    "RealNPU", "UNITS", "build_model", "explain", "unit_class",
]
