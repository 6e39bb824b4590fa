"""The benchmarks, one module per paper table: each an :class:`Experiment` whose workload says
what its networks learn from and how they are judged."""
from ..errors import UnknownNameError
from . import (blog_static, madsen2020_static, mistry2022_single, trask2018_identity, trask2018_mnist,
               trask2018_program, trask2018_recurrent, trask2018_static, trask2018_translation)
from .arithmetic import ArithmeticTasks
from .datasets import DataSet
from .spec import Deviation, Experiment, Workload

EXPERIMENTS = {
    e.name: e
    for e in (blog_static.EXPERIMENT, trask2018_identity.EXPERIMENT, trask2018_static.EXPERIMENT,
              trask2018_recurrent.EXPERIMENT, madsen2020_static.EXPERIMENT, mistry2022_single.EXPERIMENT,
              trask2018_mnist.EXPERIMENT, trask2018_translation.EXPERIMENT, trask2018_program.EXPERIMENT)
}


def get_experiment(name: str) -> Experiment:
    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise UnknownNameError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}") from None


__all__ = ["ArithmeticTasks", "DataSet", "Deviation", "EXPERIMENTS", "Experiment", "Workload", "get_experiment"]
