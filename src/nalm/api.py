"""nalm from Python (a notebook): :func:`run` any experiment with units given as classes or
names, :func:`load` a store; both give :class:`Results`, with the CLI's store, resume, tables
and figures.

Tables are pandas DataFrames (``pip install 'nalm[pandas]'``) with a column per quantity:
counts are integers, numbers floats, and a missing value (no seed solved the task, no
threshold) is NaN, or ``<NA>`` in a column of counts. Everything else needs only nalm's own
dependencies.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from pathlib import Path

from .errors import warn
from .experiments import Experiment, get_experiment
from .report.selection import Selection, current_versions, run_rows, select
from .report.tensorboard import Export, export_tensorboard
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
        pinned = store.pinned_versions(spec.name)  # the versions this run ran, among those of earlier runs
    return Results(spec, runs, Path(results), summary, pinned)


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
        runs, pinned = store.runs(experiment), store.pinned_versions(experiment)
    return Results(get_experiment(experiment), runs, Path(results), None, pinned)


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

    Of a unit from outside nalm, the table and figures show its current version: the one the
    latest :func:`run` (or ``nalm run``) ran, as the store records; ``versions="all"`` shows every
    version, each its own model named ``MODEL@VERSION`` (:mod:`nalm.report.selection`).

    Attributes:
        experiment: the :class:`~nalm.experiments.Experiment`.
        records: the stored runs (:class:`~nalm.results.RunRecord`: config, metrics, curve, weights).
        path: the store.
        trained: what :func:`run` trained and skipped (``None`` for :func:`load`).
        pinned: the current version of each unit from outside nalm, by unit name (SHA-256 of its
            source), as the store records it (:meth:`~nalm.results.ResultsStore.pinned_versions`).

    Examples:
        >>> import tempfile, nalm
        >>> results = nalm.run("blog-static", units="nac", targets=["add"], seeds=2, iterations=20,
        ...                    results=tempfile.mkdtemp() + "/nalm.sqlite")
        >>> table = results.summary()
        >>> print(table[["model", "target", "seeds", "iterations", "success_rate"]].to_string(index=False))
        model target  seeds  iterations  success_rate
          nac    add      2          20           0.0
        >>> table["solved_at_median"].dtype, table["iterations"].dtype
        (dtype('float64'), dtype('int64'))
        >>> curves = results.curves()
        >>> list(curves.columns)
        ['run_id', 'model', 'target', 'seed', 'step', 'metric', 'value']
        >>> sorted(set(curves["metric"])), sorted(set(curves["step"]))
        (['extrapolation', 'interpolation'], [0, 20])
        >>> len(curves)  # 2 runs, 2 metrics, 2 evaluations
        8
    """

    experiment: Experiment
    records: list[RunRecord]
    path: Path
    trained: RunSummary | None
    pinned: dict = field(default_factory=dict)

    def summary(self, versions: str = "current"):
        """The report's table, one row per (setting, model, target) for the arithmetic tasks (per
        model, target and test length, or per model, for the data-set experiments): a pandas
        DataFrame, whose columns are those of the report's ``summary.csv``. Of a unit from outside
        nalm, its current version, or with ``versions="all"`` each version its own model."""
        return _frame([cell.as_row() for cell in self.experiment.summarize(self.selected(versions).runs)], "summary")

    def rows(self):
        """One row per run: run_id, model, target, seed, diverged and every stored metric; a pandas
        DataFrame."""
        return _frame([{"run_id": r.run_id, "model": r.model, "target": r.target, "seed": r.seed,
                        "diverged": r.diverged, **r.metrics} for r in self.records], "rows")

    def curves(self):
        """Every stored point of the runs' learning curves, one row each: a pandas DataFrame of
        run_id, model, target, seed, step, metric (a curve's name: ``interpolation`` and
        ``extrapolation`` MSE for the arithmetic tasks; ``valid_mae``, ``mse_20``, ... for the
        data-set experiments) and value."""
        pandas = _pandas("curves")
        columns: dict[str, list] = {name: [] for name in CURVE_COLUMNS}
        for run in self.records:
            steps = run.curve.get("step", [])
            for metric, values in run.curve.items():
                if metric == "step":
                    continue
                points = min(len(steps), len(values))
                for name, value in (("run_id", run.run_id), ("model", run.model), ("target", run.target),
                                    ("seed", run.seed), ("metric", metric)):
                    columns[name] += [value] * points
                columns["step"] += steps[:points]
                columns["value"] += values[:points]
        return pandas.DataFrame({name: pandas.Series(values, dtype=CURVE_COLUMNS[name])
                                 for name, values in columns.items()})

    def runs(self):
        """One row per run, as ``nalm runs list`` shows them: run id, model, target, seed, steps,
        success, unit version, whether it is stale, when it was stored (UTC); a pandas DataFrame."""
        return _frame(run_rows(self.records, current_versions(self.records, self.pinned)), "runs")

    def plot(self, versions: str = "current") -> dict:
        """The report's figures as matplotlib Figures, by name: for the arithmetic tasks ``heatmap``,
        ``success`` and ``curves`` (after the experiment's own: trask2018-identity's ``error``)."""
        return self.experiment.figures(self.selected(versions).runs)

    def to_tensorboard(self, folder: str | Path, versions: str = "current") -> Export:
        """Write the runs the table shows as TensorBoard logs under ``folder``, as ``nalm export
        --tensorboard`` does (:mod:`nalm.report.tensorboard`): each run's curves and final metrics
        as scalars, its hyperparameters for the HParams tab. Needs TensorBoard, an optional extra:
        ``pip install 'nalm[tensorboard]'``. View them with ``tensorboard --logdir FOLDER``."""
        return export_tensorboard(self.selected(versions).runs, folder)

    def selected(self, versions: str = "current") -> Selection:
        """The runs the table and figures show (:func:`nalm.report.selection.select`), with a
        warning naming the stale runs left out."""
        selection = select(self.records, versions=versions, pinned=self.pinned)
        if selection.stale:
            models = sorted({run.model for run in selection.stale})
            warn(f"left out {len(selection.stale)} stale runs of {', '.join(models)}, of another version than the "
                 "current one: versions='all' shows every version, each its own model")
        return selection

    def __repr__(self) -> str:
        models = sorted({r.model for r in self.records})
        return f"Results({self.experiment.name}: {len(self.records)} runs of {', '.join(models)}; store {self.path})"


CURVE_COLUMNS = {"run_id": "int64", "model": "str", "target": "str", "seed": "int64", "step": "int64",
                 "metric": "str", "value": "float64"}


def _pandas(method: str):
    try:
        import pandas
    except ImportError:
        raise ImportError(f"Results.{method}() needs pandas, an optional extra: pip install 'nalm[pandas]'",
                          name="pandas") from None
    return pandas


def _frame(rows: list[dict], method: str):
    """``rows`` as a DataFrame, where ``None`` (or a row without the column) is a missing value:
    a column of whole numbers and missing values is ``Int64`` (``<NA>``), of flags ``boolean``,
    of other numbers ``float64`` (NaN), and one of nothing but missing values ``float64``."""
    pandas = _pandas(method)
    frame = pandas.DataFrame(rows)
    for column in frame.columns:
        values = [row.get(column) for row in rows]
        present = [value for value in values if value is not None]
        if len(present) == len(values):
            continue  # pandas' own types: int64, float64, bool, str
        if all(isinstance(value, bool) for value in present):
            dtype = "boolean" if present else "float64"
        elif all(isinstance(value, numbers.Integral) for value in present):
            dtype = "Int64"
        elif all(isinstance(value, numbers.Real) for value in present):
            dtype = "float64"
        else:
            continue  # text, lists: missing values stay as pandas has them
        frame[column] = pandas.Series(values, dtype=dtype, index=frame.index)
    return frame
