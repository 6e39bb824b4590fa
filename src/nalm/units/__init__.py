"""Arithmetic units as ``torch.nn.Module``s, the MLP baseline, and the unit registry.

Each name is imported from its module when first used (:func:`nalm.lazy.lazy_exports`), so that
the registry's names (:mod:`~nalm.units.registry`) are read without importing PyTorch.
"""
from ..lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    ".base": ("ArithmeticUnit", "KernelLayer", "PlateauReset", "evaluating", "reinitialize_member_", "seed_members_"),
    ".gated": ("GatedNAUNMU",),
    ".inalu": ("INALU", "SharedINALU"),
    ".mcfc": ("MCFC", "MulMCFC"),
    ".mlp": ("Linear",),
    ".nac": ("NAC", "MultiplicativeNAC"),
    ".nac_mul_variants": ("MultiplicativeNACNMU", "MultiplicativeNACSigma"),
    ".nalu": ("GNALU", "NALU", "FauxNALU", "SeparateNALU"),
    ".nau_nmu": ("NAU", "NMU"),
    ".network": ("MLP", "Network", "build_model", "is_baseline", "load_network", "parse_model", "sparsity_error"),
    ".npu": ("ModifiedRealNPU", "NaiveNPU", "NPU", "RealNPU"),
    ".nru_nmru": ("NMRU", "NRU"),
    ".recurrent": ("GRUCell", "LSTMCell", "RecurrentNetwork", "RNNCell"),
    "..errors": ("UnknownNameError",),
    ".registry": ("ACTIVATIONS", "UNITS", "unit_class"),
})
