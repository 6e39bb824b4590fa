"""``nalm explain RUN_ID``: the simplest formula a stored run's network computes, and whether it is the target."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..experiments import EXPERIMENTS, DatasetExperiment
from ..experiments.dataset_spec import CellReading
from ..explain import Explanation, Verification, explain_and_verify
from ..results import ResultsStore
from ..tasks import task_from_dict
from ..train import TrainConfig
from .common import add_results_option



def add_parser(sub) -> None:
    p = sub.add_parser("explain", help="the simplest formula a stored run computes, checked against its target")
    p.add_argument("run_id", type=int, metavar="RUN_ID", help="a run id of the results store")
    add_results_option(p)


@dataclass
class RunExplanation:
    run_id: int
    model: str
    target: str
    seed: int
    explanation: Explanation
    verification: Verification


def explain_run(results: str, run_id: int) -> RunExplanation:
    """Load a run, explain its network on its interpolation data, verify it against its target."""
    if not Path(results).exists():
        raise ValueError(f"no results store at {results}")
    with ResultsStore(results) as store:
        run = store.get(run_id)  # KeyError naming the id if absent
    experiment = EXPERIMENTS.get(run.experiment)
    if isinstance(experiment, DatasetExperiment):
        return explain_cell(experiment, run)
    task = task_from_dict(run.config["task"])
    network = TrainConfig.from_dict(run.config["train"]).load_network(run.model, task, run.weights)
    explanation, verification = explain_and_verify(network, task, run.target, run.seed)
    return RunExplanation(run_id, run.model, run.target, run.seed, explanation, verification)


@dataclass
class CellExplanation:
    """The read-back of a data-set run's arithmetic cell (trask2018-mnist)."""

    run_id: int
    model: str
    target: str
    seed: int
    reading: CellReading


def explain_cell(experiment: DatasetExperiment, run) -> CellExplanation:
    reading = experiment.read_back(run.model, run.target, run.weights, run.config["train"]["unit_options"])
    if reading is None:
        raise ValueError(f"run {run.run_id} ({run.model}) has no arithmetic unit to read a formula from")
    return CellExplanation(run.run_id, run.model, run.target, run.seed, reading)


def render(result: RunExplanation | CellExplanation) -> str:
    if isinstance(result, CellExplanation):
        e = result.reading.explanation
        return "\n".join([
            f"run {result.run_id}: {result.model} cell, target {result.target}, seed {result.seed}",
            f"{e}   (x: this step's CNN output, h: the state)",
            f"read as: {e.reading}; complexity {e.complexity} (SymPy operations)",
            f"rounding changed the output: {'yes' if e.rounding_changed_output else 'no'} "
            f"(max relative change {e.probe_relative_change:.3g} on the probe, {e.extrapolation_relative_change:.3g} "
            "with larger states)",
            f"the solved accumulator: {'yes' if result.reading.is_accumulator else 'no'}"])
    e, v = result.explanation, result.verification
    lines = [f"run {result.run_id}: {result.model}, target {result.target}, seed {result.seed}",
             str(e),
             f"read as: {e.reading}; complexity {e.complexity} (SymPy operations)",
             "max rounding distance per layer: "
             + ", ".join(f"{i} ({layer.unit}) {layer.max_distance:.3g}" for i, layer in enumerate(e.layers)),
             f"rounding changed the output: {'yes' if e.rounding_changed_output else 'no'} "
             f"(max relative change {e.probe_relative_change:.3g} on the interpolation range, "
             f"{e.extrapolation_relative_change:.3g} on the extrapolation range)"]
    lines += [f"note: {note}" for note in e.notes]
    for label, errors in (("formula vs target", v.formula_vs_target), ("formula vs network", v.formula_vs_network),
                          ("network vs target", v.network_vs_target)):
        lines.append(f"max relative error, {label}: interpolation {errors['interpolation']:.3g}, "
                     f"extrapolation {errors['extrapolation']:.3g}")
    lines.append(f"matches the target: {match_text(v)}")
    return "\n".join(lines)


def match_text(v: Verification) -> str:
    if v.matches_target:
        return "yes"
    if v.formula_is_target:
        return "no (the formula is the target, but the network computes something else: see formula vs network)"
    return "no"


def main(args) -> int:
    print(render(explain_run(args.results, args.run_id)))
    return 0
