"""Seeded data generators for the arithmetic benchmarks (no I/O).

Each name is imported from its module when first used (:func:`nalm.lazy.lazy_exports`): the
targets' names (:mod:`~nalm.tasks.targets`) are read without importing numba or PyTorch.
"""
from ..lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "..philox": ("Draws", "GENERATOR"),
    ".distributions": ("DISTRIBUTIONS", "BoundedDistributionTask", "DistributionTask", "SelectorTask"),
    ".halves": ("HalvesTask",),
    ".presets": ("MISTRY2022_RANGES", "PRESETS"),
    ".protocol": ("Task",),
    ".ranges": ("Range",),
    ".recurrent": ("RecurrentTask",),
    ".registry": ("TASK_KINDS", "task_from_dict", "task_to_dict"),
    ".sobol": ("SobolTask",),
    ".static": ("PoolTask", "PrefixTask", "StaticTask", "stream"),
    ".targets": ("TARGETS", "check_target"),
})
