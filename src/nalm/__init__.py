"""nalm: neural arithmetic units for PyTorch, and their benchmarks trained as populations.

>>> import torch, nalm
>>> sorted(nalm.UNITS)
['faux-nalu', 'g-nalu', 'gated-nau-nmu', 'inalu', 'inalu-sw', 'mcfc', 'mul-mcfc', 'nac', 'nac-mul', 'nac-mul-nmu', 'nac-mul-sigma', 'naive-npu', 'nalu', 'nalu-separate', 'nau', 'nmru', 'nmu', 'npu', 'nru', 'real-npu', 'real-npu-modified', 'snmu']

Each name is imported from its module when first used (:func:`nalm.lazy.lazy_exports`):
``import nalm`` imports no PyTorch, so that the command line answers at once.
"""
from .lazy import lazy_exports

__version__ = "0.1.0"

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    ".units": ("FauxNALU", "GNALU", "INALU", "MCFC", "MLP", "MulMCFC", "MultiplicativeNAC", "MultiplicativeNACNMU",
               "MultiplicativeNACSigma", "NAC", "NaiveNPU", "NALU", "NAU", "ModifiedRealNPU",
               "NMRU", "NMU", "NPU", "NRU", "RealNPU", "SharedINALU", "UNITS", "build_model", "unit_class"),
    ".explain": ("explain",),
    ".units.custom": ("register_unit",),
    ".api": ("Results", "load", "run"),
})
