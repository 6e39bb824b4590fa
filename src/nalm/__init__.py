"""nalm: neural arithmetic units for PyTorch, and their benchmarks trained as populations.

>>> import torch, nalm
>>> sorted(nalm.UNITS)
['faux-nalu', 'g-nalu', 'inalu', 'mcfc', 'mul-mcfc', 'nac', 'nac-mul', 'nalu', 'nau', 'nmru', 'nmu', 'npu', 'nru', 'real-npu', 'snmu']
"""
from .units import (
    GNALU, INALU, MCFC, MLP, NAC, NALU, NAU, NMRU, NMU, NPU, NRU, UNITS, FauxNALU, MulMCFC, MultiplicativeNAC,
    RealNPU, build_model, unit_class,
)
from .explain import explain

__version__ = "0.1.0"

from .units.custom import register_unit  # noqa: E402
from .api import Results, load, run  # noqa: E402  (the API reads __version__ through the runner)
__all__ = [
    "FauxNALU", "GNALU", "INALU", "MCFC", "MLP", "MulMCFC", "MultiplicativeNAC", "NAC", "NALU", "NAU", "NMRU",
    "NMU", "NPU", "NRU", "RealNPU", "Results", "UNITS", "build_model", "explain", "load", "register_unit", "run",
    "unit_class",
]
