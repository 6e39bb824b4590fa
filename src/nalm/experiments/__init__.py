"""The benchmarks, one module per paper table: each an :class:`Experiment` whose workload says
what its networks learn from and how they are judged.

Each name is imported from its module when first used (:func:`nalm.lazy.lazy_exports`), and each
experiment when it is looked up in :data:`~nalm.experiments.registry.EXPERIMENTS`.
"""
from ..lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    ".arithmetic": ("ArithmeticTasks",),
    ".datasets": ("DataSet",),
    ".spec": ("Deviation", "Experiment", "Workload"),
    ".registry": ("EXPERIMENTS", "get_experiment"),
})
