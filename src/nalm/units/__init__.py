"""Arithmetic units as ``torch.nn.Module``s, the MLP baseline, and the unit registry."""
from .base import ArithmeticUnit, KernelLayer, PlateauReset, evaluating, reinitialize_member_, seed_members_
from .inalu import INALU
from .mcfc import MCFC, MulMCFC
from .mlp import ACTIVATIONS, Linear
from .nac import NAC, MultiplicativeNAC
from .nalu import GNALU, NALU, FauxNALU
from .nau_nmu import NAU, NMU
from .network import MLP, Network, build_model, is_baseline, load_network, parse_model, sparsity_error
from .npu import NPU, RealNPU
from .nru_nmru import NMRU, NRU
from .recurrent import GRUCell, LSTMCell, RecurrentNetwork, RNNCell
from ..errors import UnknownNameError
from .registry import UNITS, unit_class

__all__ = [
    "ACTIVATIONS", "ArithmeticUnit", "FauxNALU", "GNALU", "GRUCell", "INALU", "KernelLayer", "LSTMCell", "Linear",
    "MCFC", "MLP", "MulMCFC", "MultiplicativeNAC", "NAC", "NALU", "NAU", "NMRU", "NMU", "NPU", "NRU", "Network",
    "PlateauReset", "RNNCell",
    "RealNPU", "RecurrentNetwork", "UNITS", "UnknownNameError", "build_model", "evaluating", "is_baseline", "load_network",
    "parse_model", "reinitialize_member_", "seed_members_", "sparsity_error", "unit_class",
]
