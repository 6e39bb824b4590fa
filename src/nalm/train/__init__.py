"""Training: one loop (:func:`train`) for every population, the populations of arithmetic
tasks, and the optimizers. Each name is imported from its module when first used
(:func:`nalm.lazy.lazy_exports`)."""
from ..lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    ".arithmetic": ("ArithmeticPopulation", "train_population"),
    ".config": ("TrainConfig",),
    ".data": ("PopulationData",),
    ".defaults": ("CHECKPOINT_EVERY",),
    ".loop": ("Checkpointing", "TrainingInterrupted", "train"),
    ".optim": ("PopulationOptimizer",),
    ".population": ("Member", "MemberResult", "Population"),
})
