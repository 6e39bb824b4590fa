"""``UNITS``: the one registry of unit names; the CLI, networks and experiments use only it."""
from __future__ import annotations

from ..errors import UnknownNameError
from .inalu import INALU
from .mcfc import MCFC, MulMCFC
from .nac import NAC, MultiplicativeNAC
from .nalu import GNALU, NALU, FauxNALU
from .nau_nmu import NAU, NMU
from .npu import NPU, RealNPU
from .nru_nmru import NMRU, NRU

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
    "g-nalu": GNALU,
    "nru": NRU,
    "nmru": NMRU,
    "mcfc": MCFC,
    "mul-mcfc": MulMCFC,
}


def unit_class(name: str) -> type:
    """The unit class registered as ``name``; an unknown name lists the known ones."""
    try:
        return UNITS[name]
    except KeyError:
        raise UnknownNameError(f"unknown unit {name!r}; known units: {', '.join(UNITS)}") from None
