"""``UNITS``: the one registry of unit names; the CLI, networks and experiments use only it."""
from __future__ import annotations

from .custom import find_unit, population_class, unknown_unit
from .inalu import INALU
from .mcfc import MCFC, MulMCFC
from .nac import NAC, MultiplicativeNAC
from .nalu import GNALU, NALU, FauxNALU
from .nau_nmu import NAU, NMU, StochasticNMU
from .npu import NPU, RealNPU
from .nru_nmru import NMRU, NRU

UNITS = {
    "nac": NAC,
    "nac-mul": MultiplicativeNAC,
    "nalu": NALU,
    "faux-nalu": FauxNALU,
    "nau": NAU,
    "nmu": NMU,
    "snmu": StochasticNMU,
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
    """The unit class called ``name``: a built-in unit, or one from outside nalm (an import path
    ``MODULE:CLASS``, an entry point of the ``nalm.units`` group, or :func:`~nalm.units.custom.register_unit`),
    as a class that builds populations (:func:`~nalm.units.custom.population_class`). An unknown
    name lists the known ones."""
    if name in UNITS:
        return UNITS[name]
    found = find_unit(name)
    if found is None:
        raise unknown_unit(name, UNITS)
    return population_class(found)


def custom_unit(name: str) -> type | None:
    """The user's own class behind a unit name from outside nalm; ``None`` for a built-in unit."""
    return None if name in UNITS else find_unit(name)
