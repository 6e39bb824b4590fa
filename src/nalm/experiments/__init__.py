"""The benchmarks, one module per paper table, and the runner that stores their results."""
from ..errors import UnknownNameError
from . import (blog_static, madsen2020_static, mistry2022_single, trask2018_identity, trask2018_mnist,
               trask2018_program, trask2018_recurrent, trask2018_static, trask2018_translation)
from .runner import RunSummary, run_experiment
from .dataset_spec import DatasetExperiment
from .spec import Deviation, Experiment, Published

EXPERIMENTS = {
    e.name: e
    for e in (blog_static.EXPERIMENT, trask2018_identity.EXPERIMENT, trask2018_static.EXPERIMENT,
              trask2018_recurrent.EXPERIMENT, madsen2020_static.EXPERIMENT, mistry2022_single.EXPERIMENT,
              trask2018_mnist.EXPERIMENT, trask2018_translation.EXPERIMENT, trask2018_program.EXPERIMENT)
}


def get_experiment(name: str) -> Experiment | DatasetExperiment:
    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise UnknownNameError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}") from None


__all__ = ["EXPERIMENTS", "DatasetExperiment", "Deviation", "Experiment", "Published", "RunSummary", "get_experiment", "run_experiment"]
