"""The workload of the data-set experiments: arithmetic units inside larger networks, trained on
images, words or characters rather than on drawn numbers (Trask et al. 2018, sections 4.2-4.4).

Such an experiment brings its data (read once per process, or generated), the population of
its networks on one target, the formula of a trained network's arithmetic part, and its own
tables and figures (:class:`DataSet`); the store, the resume, the runner, the protocol card
and the command line are every experiment's. A run is stored with its best validation step's
metrics; success, where an experiment judges it, comes from other runs at report time (the
solved model's bound, :mod:`nalm.scoring.sequences`).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import UnknownNameError
from ..explain import READBACK_VERSION
from ..philox import GENERATOR
from ..runner.parts import Part
from ..train import Member, MemberResult, Population, TrainConfig
from ..units.custom import CustomUnitError
from . import protocol

SETTINGS = {"optimizer": "optimizer", "lr": "lr", "batch_size": "batch_size", "iterations": "iterations",
            "eval_every": "eval_every", "eval_sequences": "eval_samples", "hidden": "hidden",
            "unit_options": "unit_options", "dtype": "dtype", "threads": "threads"}
"""The training settings of a data-set experiment, by the names it stores and takes them under,
with their :class:`~nalm.train.TrainConfig` names (an evaluation set's size counts sequences)."""

COUNTS = {"batch_size", "iterations", "eval_every", "eval_sequences", "hidden", "threads"}
"""The settings that are whole numbers (at least 1; iterations at least 0)."""

_LOADED: dict = {}  # (loader, absolute path or None) -> data, once per process


@dataclass(frozen=True)
class CellReading:
    """The formula read back from a trained arithmetic part, and whether it is the solved one."""

    explanation: Any  # nalm.explain.Explanation
    is_accumulator: bool


@dataclass(frozen=True)
class DataSet:
    """A data set and the networks an experiment trains on it.

    Args:
        loader: reads the data from a path (``None``: the bundled substitute, or generated data).
        task: the task of one target.
        build: ``build(model, target, data, members, config)``, the population of ``model`` on
            ``target`` whose member m is ``members[m]``'s network, batches and evaluation sets
            (a :class:`~nalm.train.Population` given its ``fit``, ``evaluate`` and ``select``).
        summarize: the report's cells of stored runs (objects with ``as_row()``), which need not
            be scored when they are stored (a success threshold may come from other runs).
        tables: the report's Markdown tables of the cells.
        draw: ``draw(name, runs, cells)``, the report's figures by name.
        known_models: every model the experiment can build.
        evaluation: the evaluation sets, formatted with the training settings (protocol card).
        settings: protocol-card rows of the experiment's own.
        read_cell: ``read_cell(model, target, weights, unit_options)``, the formula of a trained
            run's arithmetic part (a :class:`CellReading`, or ``None`` where it has none),
            stored with each run (``None``: no model has one).
    """

    loader: Callable[[str | None], Any]
    task: Callable[[str], Any]
    build: Callable[..., Population]
    summarize: Callable[[list], list]
    tables: Callable[[list], str]
    draw: Callable[[str, list, list], dict]
    known_models: tuple[str, ...]
    evaluation: str = ""
    settings: dict[str, str] = field(default_factory=dict)
    read_cell: Callable[[str, str, dict, dict], CellReading | None] | None = None

    members_independent = False  # batched networks round by population size: a population trains whole
    worker_steps = 10_000  # these networks train about 200-500 member-steps a second on a core

    # -- choosing and planning runs ----------------------------------------------------
    def check_selection(self, experiment, models: list[str], targets: list[str]) -> None:
        for model in models:
            if model not in self.known_models:
                raise UnknownNameError(f"{experiment.name} has no model {model!r}; known: {', '.join(self.known_models)}")
        for target in targets:
            if target not in experiment.targets:
                raise UnknownNameError(f"{experiment.name} has no target {target!r}; "
                                       f"known: {', '.join(experiment.targets)}")

    def training_settings(self, experiment, overrides: dict) -> dict:
        if "device" in overrides:
            raise ValueError(f"{experiment.name} does not support --device (it trains on CPUs, from a data set)")
        unknown = sorted(set(overrides) - set(SETTINGS))
        if unknown:
            raise ValueError(f"unknown training setting(s) {', '.join(unknown)}; known: {', '.join(sorted(SETTINGS))}")
        for name in COUNTS.intersection(overrides):  # sizes of these networks: one number, not TrainConfig's list
            value = overrides[name]
            if not isinstance(value, int) or isinstance(value, bool) or value < (0 if name == "iterations" else 1):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        lr = overrides.get("lr", 1.0)
        if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not lr > 0:
            raise ValueError(f"lr must be a positive number, got {lr!r}")
        return {SETTINGS[name]: value for name, value in overrides.items()}

    def with_ranges(self, experiment, interpolation: str | None, extrapolation: str | None) -> "DataSet":
        given = [f"--{name}" for name, value in (("interpolation", interpolation), ("extrapolation", extrapolation))
                 if value is not None]
        raise ValueError(f"{experiment.name} does not support {', '.join(given)} (it trains on CPUs, from a data set)")

    def at_paper_scale(self) -> "DataSet":
        return self

    def load(self, experiment, path: str | None) -> tuple[Any, str | None]:
        path = None if path is None else os.path.abspath(path)
        return self.data_at(path), path

    def data_at(self, path: str | None) -> Any:
        """The data read from ``path`` (absolute; ``None``: bundled or generated), once per process."""
        key = (self.loader, path)
        if key not in _LOADED:
            _LOADED[key] = self.loader(path)
        return _LOADED[key]

    def check(self, experiment, configs: dict, overrides: dict | None, data) -> dict:
        """One member of each (model, target) built up front and put through a step's loss and its
        regularizers at the first and last step: bad unit options fail before anything trains.
        The networks built, per (model, target)."""
        networks = {}
        for (model, target), config in configs.items():
            try:
                population = self.build(model, target, data, [Member(0, target, self.task(target))], config)
                population.fit(0)
                for step in (0, config.iterations):
                    population.net.regularization(step)
                population.net.project_()
            except CustomUnitError:
                raise  # it names the unit itself
            except (TypeError, ValueError, RuntimeError, ArithmeticError) as error:
                options = f" (unit options {json.dumps(config.unit_options)})" if config.unit_options else ""
                raise ValueError(f"model {model}: {error}{options}") from None
            networks[model, target] = population.net
        return networks

    def tasks_for(self, target: str) -> tuple:
        return ((0, self.task(target)),)

    def task_config(self, config: TrainConfig, task_index: int) -> TrainConfig:
        return config  # one task per target, no sweep

    def stored_config(self, experiment, run, data) -> dict:
        return {"experiment": experiment.name, "model": run.model, "target": run.target, "seed": run.seed,
                "task": run.task.to_dict(), "data": data.fingerprint(), "train": self.stored_settings(run.config),
                "generator": GENERATOR}

    @staticmethod
    def stored_settings(config: TrainConfig) -> dict:
        """A run's training settings as stored: its own (:data:`SETTINGS`), by its names."""
        values = config.to_dict()
        return {name: values[setting] for name, setting in SETTINGS.items()}

    def group(self, run) -> dict:
        return {"model": run.model, "target": run.target}  # a network is built for one target

    def scoring(self, experiment, targets: list[str], overrides: dict | None) -> "SelectedStep":
        return SelectedStep()

    # -- training a part ---------------------------------------------------------------
    def population(self, part: Part) -> Population:
        target = part.members[0].target
        return self.build(part.model, target, self.data_at(part.data), part.members, part.config)

    def read_back(self, part: Part, results: list[MemberResult]) -> None:
        """Each run's cell formula, where its model has an arithmetic part."""
        for result in results:
            reading = self.reading(part.model, result.member.target, result.weights, part.config.unit_options)
            if reading is not None:
                result.metrics.update({"formula": str(reading.explanation),
                                       "formula_error": reading.explanation.relative_change,
                                       "formula_is_accumulator": reading.is_accumulator,
                                       "formula_readback": READBACK_VERSION})

    # -- reports, figures, cards and explanations ----------------------------------------
    def check_table(self, configs: list[dict]) -> None:
        """Any stored runs share a table: each model and target is its own row."""

    def render(self, experiment, cells: list) -> str:
        """Its title, its own tables and its deviations."""
        deviations = "".join(f"- **{d.setting}**: {d.ours}. Source: {d.reference}. Why: {d.reason}.\n"
                             for d in experiment.all_deviations())
        return (f"# {experiment.name}\n\n{experiment.description}\n\n{self.tables(cells)}\n"
                f"## Deviations from the source\n\n{deviations}")

    def figures(self, experiment, runs: list, cells: list, log: bool = True) -> dict:
        return self.draw(experiment.name, runs, cells) if runs else {}

    def card(self, experiment, chosen, overrides: dict | None = None) -> list:
        return protocol.dataset_card(experiment, self, chosen, overrides)

    def reading(self, model: str, target: str, weights: dict, unit_options: dict) -> CellReading | None:
        """The formula of a trained network's arithmetic part, where the experiment reads one."""
        return None if self.read_cell is None else self.read_cell(model, target, weights, unit_options)

    def explain(self, run) -> "CellExplanation":
        reading = self.reading(run.model, run.target, run.weights, run.config["train"]["unit_options"])
        if reading is None:
            raise ValueError(f"run {run.run_id} ({run.model}) has no arithmetic unit to read a formula from")
        return CellExplanation(run.run_id, run.model, run.target, run.seed, reading)


class SelectedStep:
    """How a data-set run is scored: by the metrics of the step it selects (its best validation
    step), stored with the step and its formula; nothing need train first (a :class:`Scorer`)."""

    complete = True

    @property
    def parts(self) -> list[Part]:
        return []

    def scorer(self, runs: list) -> "SelectedStep":
        return self

    def missing(self) -> list[Part]:
        return []

    def add(self, part: Part, results: list[MemberResult]) -> None:
        raise AssertionError("a data-set run's scoring needs no other part")

    def metrics(self, run, result: MemberResult) -> dict:
        return {"best_step": result.best_step, "diverged_at": result.diverged_at, **result.best, **result.metrics}


@dataclass
class CellExplanation:
    """``nalm explain`` of a data-set run: the read-back of its arithmetic cell (trask2018-mnist)."""

    run_id: int
    model: str
    target: str
    seed: int
    reading: CellReading

    def __str__(self) -> str:
        e = self.reading.explanation
        return "\n".join([
            f"run {self.run_id}: {self.model} cell, target {self.target}, seed {self.seed}",
            f"{e}   (x: this step's CNN output, h: the state)",
            f"read as: {e.reading}; complexity {e.complexity} (SymPy operations)",
            e.closeness("the probe", "larger states"),
            f"the solved accumulator: {'yes' if self.reading.is_accumulator else 'no'}"])
