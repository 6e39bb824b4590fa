"""``UNITS``: the one registry of unit names; the CLI, networks and experiments use only it."""
from __future__ import annotations

from ..errors import UnknownNameError
from .inalu import INALU
from .nac import NAC, MultiplicativeNAC
from .nalu import NALU, FauxNALU
from .nau_nmu import NAU, NMU
from .npu import NPU, RealNPU

UNITS = {
    "nac": NAC,
    "nac-mul": MultiplicativeNAC,
    "nalu": NALU,
    "faux-nalu": FauxNALU,
    "nau": NAU,
    "nmu": NMU,
    "npu": NPU,
    "real-npu": RealNPU,
    "inalu": INALU,
}


def unit_class(name: str) -> type:
    """The unit class registered as ``name``; an unknown name lists the known ones."""
    try:
        return UNITS[name]
    except KeyError:
        raise UnknownNameError(f"unknown unit {name!r}; known units: {', '.join(UNITS)}") from None
