"""Tables and figures from the results store."""
from __future__ import annotations

from pathlib import Path

from .markdown import render
from .summary import Cell, baseline_name, one_generator, one_table, summarize


def plot_experiment(experiment, runs, folder: Path, log: bool = True, cells: list[Cell] | None = None) -> list[Path]:
    """Every figure of an experiment, redrawn from its stored runs (``cells``: their
    :func:`summarize`, when the caller has it)."""
    from . import figures, identity, lengths  # matplotlib only when figures are asked for
    from ..experiments.dataset_spec import DatasetExperiment

    if isinstance(experiment, DatasetExperiment):
        return experiment.plot(runs, experiment.summarize(runs) if cells is None else cells, Path(folder))
    one_table(run.config for run in runs)
    paths = []
    if experiment.targets == ("identity",):
        paths += identity.plot_identity_experiment(experiment, runs, Path(folder), log=log)
    if experiment.tasks[0].recurrent:
        paths += lengths.plot_length_experiment(experiment, runs, Path(folder))
    paths += figures.plot_all(experiment.name, runs, summarize(runs) if cells is None else cells, folder,
                              baseline=baseline_name(experiment.baseline_model))
    return paths


from .write import write_report  # noqa: E402  (it draws through plot_experiment)

__all__ = ["Cell", "one_generator", "one_table", "plot_experiment", "render", "summarize", "write_report"]
