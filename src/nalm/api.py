"""nalm from Python (a notebook): :func:`run` any experiment with units given as classes or
names, :func:`load` a store; both give :class:`Results`, with the CLI's store, resume, tables
and figures.

Tables are pandas DataFrames (``pip install 'nalm[pandas]'``); everything else needs only
nalm's own dependencies.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .experiments import Experiment, get_experiment
from .report.selection import Selection, current_versions, pinned_versions, run_rows, select
from .results import ResultsStore, RunRecord
from .runner import RunSummary, execute, prepare
from .units.custom import register_unit

DEFAULT_RESULTS = "results/nalm.sqlite"


def run(experiment: str, *, units=None, targets=None, seeds: int | None = None, iterations: int | None = None,
        results: str | Path = DEFAULT_RESULTS, workers: int | None = 1, progress: bool = False,
        data: str | None = None, **settings) -> "Results":
    """Train what ``results`` lacks of an experiment (e.g. ``"madsen2020-static"``) and return
    its stored runs.

    Args:
        units: models: names (``"nau/nmu"``, ``"mypkg.units:MyUnit"``) or unit classes (a class is
            registered under its import path; ``(ClassA, ClassB)`` makes a two-layer model).
        targets, seeds, iterations: as on the command line (``--targets``, ``--seeds``, ``--iterations``).
        results: the SQLite store; stored runs are skipped, as with ``nalm run``.
        workers: processes to train in. A class defined in a notebook or script (module
            ``__main__``) cannot be imported by a worker process, so it trains in this one.
        data: a data-set experiment's data (``--data``; ``None``: its bundled substitute).
        settings: training settings (``lr``, ``batch_size``, ``eval_every``, ...), as ``--config``.

    Returns:
        :class:`Results` of every stored run of the experiment's selected models and targets.
    """
    spec = get_experiment(experiment)
    models = None if units is None else [model_name(unit) for unit in ([units] if _is_one(units) else units)]
    if any(getattr(unit, "__module__", None) == "__main__" for unit in _classes(units)):
        workers = 1
    overrides = dict(settings, **({} if iterations is None else {"iterations": iterations}))
    plan = prepare(spec, models=models, targets=targets, seeds=seeds, overrides=overrides, data=data)
    with ResultsStore(results) as store:
        summary = execute(plan, store, progress=progress, workers=workers)
        runs = [r for r in store.runs(spec.name) if r.model in plan.models and r.target in plan.targets]
    return Results(spec, runs, Path(results), summary, pinned_versions(run.stored for run in plan.runs))


def load(results: str | Path = DEFAULT_RESULTS, experiment: str | None = None) -> "Results":
    """The runs of a store on disk (of ``experiment``, or of its only experiment)."""
    if not Path(results).exists():
        raise ValueError(f"no results store at {results}")
    with ResultsStore(results, readonly=True) as store:
        names = store.experiments()
        if experiment is None:
            if len(names) != 1:
                raise ValueError(f"{results} holds {len(names)} experiments ({', '.join(names)}); name one")
            experiment = names[0]
        runs = store.runs(experiment)
    return Results(get_experiment(experiment), runs, Path(results), None)


def model_name(unit) -> str:
    """A model's name: a string as given, a class by its registered import path, a pair as ``a/b``."""
    if isinstance(unit, str):
        return unit
    if isinstance(unit, type):
        return register_unit(unit)  # its import path, usable at once in this process
    if isinstance(unit, tuple) and len(unit) == 2:
        return "/".join(model_name(part) for part in unit)
    raise ValueError(f"a unit is a name, a unit class or a pair of them, got {unit!r}")


def _is_one(units) -> bool:
    return isinstance(units, (str, type))


def _classes(units) -> list[type]:
    if units is None:
        return []
    flat = []
    for unit in [units] if _is_one(units) else units:
        flat += list(unit) if isinstance(unit, tuple) else [unit]
    return [unit for unit in flat if isinstance(unit, type)]


@dataclass
class Results:
    """Stored runs of one experiment, with the report's table and figures.

    Of a unit from outside nalm, the table and figures show its current version: the one
    :func:`run` trained, else that of its newest stored run; ``versions="all"`` shows every
    version, each its own model named ``MODEL@VERSION`` (:mod:`nalm.report.selection`).

    Attributes:
        experiment: the :class:`~nalm.experiments.Experiment`.
        records: the stored runs (:class:`~nalm.results.RunRecord`: config, metrics, curve, weights).
        path: the store.
        trained: what :func:`run` trained and skipped (``None`` for :func:`load`).
        pinned: the version of each unit from outside nalm that :func:`run` trained, by unit name
            (SHA-256 of its source).
    """

    experiment: Experiment
    records: list[RunRecord]
    path: Path
    trained: RunSummary | None
    pinned: dict = field(default_factory=dict)

    def summary(self, versions: str = "current"):
        """The report's table, one row per (setting, model, target): a pandas DataFrame."""
        return _frame([cell.as_row() for cell in self.experiment.summarize(self.selected(versions).runs)])

    def rows(self):
        """One row per run: model, target, seed, diverged and every metric; a pandas DataFrame."""
        return _frame([{"run_id": r.run_id, "model": r.model, "target": r.target, "seed": r.seed,
                        "diverged": r.diverged, **r.metrics} for r in self.records])

    def runs(self):
        """One row per run, as ``nalm runs list`` shows them: run id, model, target, seed, steps,
        success, unit version, whether it is stale, when it was stored (UTC); a pandas DataFrame."""
        return _frame(run_rows(self.records, current_versions(self.records, self.pinned)))

    def plot(self, versions: str = "current") -> dict:
        """The report's figures as matplotlib Figures, by name: for the arithmetic tasks ``heatmap``,
        ``success`` and ``curves`` (after the experiment's own: trask2018-identity's ``error``)."""
        return self.experiment.figures(self.selected(versions).runs)

    def selected(self, versions: str = "current") -> Selection:
        """The runs the table and figures show (:func:`nalm.report.selection.select`), with a
        warning naming the stale runs left out."""
        selection = select(self.records, versions=versions, pinned=self.pinned)
        if selection.stale:
            models = sorted({run.model for run in selection.stale})
            warnings.warn(f"left out {len(selection.stale)} stale runs of {', '.join(models)}, of another version "
                          "than the current one: versions='all' shows every version, each its own model", stacklevel=3)
        return selection

    def __repr__(self) -> str:
        models = sorted({r.model for r in self.records})
        return f"Results({self.experiment.name}: {len(self.records)} runs of {', '.join(models)}; store {self.path})"


def _frame(rows: list[dict]):
    try:
        import pandas
    except ImportError:
        raise ValueError("tables need pandas: pip install 'nalm[pandas]' (or pandas)") from None
    return pandas.DataFrame(rows)
