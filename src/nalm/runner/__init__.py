"""Running experiments: a command planned into runs (:mod:`~nalm.runner.plan`), trained where the
user asks (:mod:`~nalm.runner.backends`, :mod:`~nalm.runner.cluster`), scored and stored
(:mod:`~nalm.runner.execute`), or estimated without training (:mod:`~nalm.runner.estimate`)."""
from .execute import RunInterrupted, RunSummary, execute, run_experiment
from .plan import Plan, Run, prepare

__all__ = ["Plan", "Run", "RunInterrupted", "RunSummary", "execute", "prepare", "run_experiment"]
