"""Running experiments: a command planned into runs (:mod:`~nalm.runner.plan`), trained where the
user asks (:mod:`~nalm.runner.backends`, :mod:`~nalm.runner.cluster`), scored and stored
(:mod:`~nalm.runner.execute`), or estimated without training (:mod:`~nalm.runner.estimate`).
Each name is imported from its module when first used (:func:`nalm.lazy.lazy_exports`)."""
from ..lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    ".execute": ("RunInterrupted", "RunSummary", "execute", "run_experiment"),
    ".plan": ("Plan", "Run", "prepare"),
})
