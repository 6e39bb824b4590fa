"""Madsen & Johansen's sweeps (madsen2020-<axis>): each plans its reference script's runs at paper
scale, each value of its axis reaches the populations that train, and reports draw each metric
against the axis."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from nalm.experiments import EXPERIMENTS
from nalm.experiments.protocol import protocol_card
from nalm.report.axis import PANELS, axis_data, axis_figure
from nalm.report.summary import Cell
from nalm.results import ResultsStore
from nalm.runner import run_experiment
from nalm.runner.plan import populations_of, prepare
from nalm.train import ArithmeticPopulation

# Per experiment: the values of its script and its seeds (stable-nalu lfs_batch_jobs/), and the
# rows nalm runs: the script's six (NAC•, NAC•,σ, NALU, NMU, NAC•,NMU, gated NAU/NMU); NAU on + and −, NMU on × for λ.
SCRIPTS = {
    "madsen2020-hidden-size": ((2, 3, 4, 5, 6, 7, 8, 9, 10), 50, 6),  # function_task_static_mul_hidden_size.sh:5, 7
    "madsen2020-input-size": ((4, 10, 25, 50, 75, 100, 125, 150, 175, 200, 225, 250, 275, 300), 50, 6),  # :5, 10
    "madsen2020-overlap-ratio": ((0.0, 0.1, 0.25, 0.5, 0.75, 1.0), 50, 6),  # function_task_static_mul_overlap.sh:5, 7
    "madsen2020-subset-ratio": ((0.05, 0.10, 0.25, 0.50), 50, 6),  # function_task_static_mul_subset.sh:5, 7
    "madsen2020-interpolation-range": (("[-2,-1]", "[-2,2]", "[0,1]", "[0.1,0.2]", "[1,2]", "[1.1,1.2]", "[10,20]"),
                                       50, 6),  # function_task_static_mul_range.sh:5, 8
    "madsen2020-regularization": ((0, 0.01, 0.1, 1, 10, 100), 25, 3),  # function_task_static_regualization.sh:4, 6
}


def quick(experiment):
    """The experiment with its thresholds simulated on 8 samples (the plan computes every one)."""
    workload = experiment.workload
    return dataclasses.replace(experiment, workload=dataclasses.replace(
        workload, threshold_rule=dataclasses.replace(workload.threshold_rule, samples=8)))


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_each_sweep_is_listed_and_every_setting_of_its_card_has_a_source(name):
    experiment = EXPERIMENTS[name]
    card = protocol_card(experiment)
    assert card.missing_sources() == []
    rows = {s.name: s for s in card.settings}
    assert rows["axis"].value.endswith(", ".join(map(str, SCRIPTS[name][0])))
    assert "stable-nalu" in rows["axis"].source and "figure" in rows["metric"].source  # published only as figures


def test_a_card_names_what_the_axis_changes_per_value():
    hidden = {s.name: s.value for s in protocol_card(EXPERIMENTS["madsen2020-hidden-size"]).settings}
    assert hidden["network"] == "two layers, hidden size 2, 3, 4, 5, 6, 7, 8, 9, 10 (one per value of the axis)"
    longer = {s.name: s.value for s in protocol_card(EXPERIMENTS["madsen2020-input-size"]).settings}
    assert longer["iterations"].startswith("20,000, " * 6 + "40,000, ")  # 125 inputs on run twice as long
    assert longer["iterations"].endswith("(--paper-scale: 5,000,000 times the same factors)")
    assert longer["network"] == "two layers, hidden size 2"


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_paper_scale_plans_the_scripts_runs(name):
    values, seeds, rows = SCRIPTS[name]
    experiment = quick(EXPERIMENTS[name]).at_paper_scale()
    plan = prepare(experiment)
    assert len(plan.runs) == len(values) * rows * seeds
    assert {run.seed for run in plan.runs} == set(range(seeds))
    for run in plan.runs:
        options = run.config.unit_options
        if run.model in ("nau/nmu", "gated-nau-nmu"):  # the script's default ramp, 1e6 → 2e6, every run and value
            unit = run.model.split("/")[-1]
            assert (options[unit]["regularizer_start"], options[unit]["regularizer_end"]) == (1e6, 2e6)
        expected = 5_000_000
        if name == "madsen2020-input-size":  # --max-iterations ${max_miters}000000 (:7)
            expected = {125: 10_000_000, 150: 10_000_000, 175: 10_000_000, 200: 10_000_000}.get(
                run.task.input_size, 15_000_000 if run.task.input_size > 200 else 5_000_000)
        assert run.config.iterations == expected, (run.task, run.config.iterations)


def value_of(name: str, run, population):
    """The value of the swept setting in what trains ``run`` (its task, or the network built)."""
    net = population.net
    if name == "madsen2020-hidden-size":
        return next(net.children()).out_features
    if name == "madsen2020-input-size":
        return next(net.children()).in_features
    if name == "madsen2020-overlap-ratio":
        a, b = run.task.subsets(run.seed)
        return len(set(a.tolist()) & set(b.tolist())) / len(a)
    if name == "madsen2020-subset-ratio":
        return len(run.task.subsets(run.seed)[0]) / run.task.input_size
    if name == "madsen2020-interpolation-range":
        return run.task.interpolation
    return {unit.regularizer_scale for unit in net.children()}


@pytest.mark.filterwarnings("ignore:model nau:UserWarning")  # 10 steps cut the NAU's ramp short, as meant
@pytest.mark.parametrize("name", list(SCRIPTS))
def test_each_value_reaches_the_populations_that_train(name):
    experiment = quick(EXPERIMENTS[name])
    axis = experiment.workload.axis
    plan = prepare(experiment, seeds=1, overrides={"iterations": 10})
    built = {}
    for runs in populations_of(plan.runs):
        assert len({run.task_index for run in runs}) == 1 or axis.configure is None  # a value per config
        first = {run.task_index: run for run in reversed(runs)}
        population = ArithmeticPopulation(runs[0].model, [run.member for run in first.values()], runs[0].config)
        for run in first.values():
            built.setdefault(run.task_index, value_of(name, run, population))
    assert sorted(built) == list(range(len(axis.values)))
    for index, found in built.items():
        value = axis.values[index]
        if name == "madsen2020-interpolation-range":
            assert str(found) == str(experiment.workload.tasks[index].interpolation)
            assert experiment.workload.task_labels[index].startswith(value)
        elif name == "madsen2020-regularization":
            assert found == {float(value)}
        elif name == "madsen2020-overlap-ratio":
            assert found == pytest.approx(np.floor(value * 25) / 25)  # floor(overlap · 25) of 25 inputs
        elif name == "madsen2020-subset-ratio":
            assert found == pytest.approx(value)
        else:
            assert found == value


@pytest.mark.filterwarnings("ignore:model nau:UserWarning")
def test_the_axis_figure_draws_each_metric_against_the_values_from_a_store(tmp_path):
    experiment = quick(EXPERIMENTS["madsen2020-regularization"])
    experiment = dataclasses.replace(experiment, workload=dataclasses.replace(experiment.workload, baseline_models=1))
    tiny = {"iterations": 3, "eval_every": 2, "eval_samples": 8, "batch_size": 8, "fused": False}
    with ResultsStore(tmp_path / "r.sqlite") as store:
        run_experiment(experiment, store, models=["nau"], seeds=1, overrides=tiny)
        runs = store.runs(experiment.name)
    figure = axis_figure(experiment.summarize(runs), experiment.workload.axis, ["nau"], experiment.name)
    axes = figure.axes
    assert [ax.get_xlabel() for ax in axes[:4]] == ["regularizer λ"] * 4
    lines = axes[0].get_lines()  # one per (model, target): the NAU on + and on −
    assert sorted(line.get_label() for line in lines) == ["nau, add", "nau, sub"]
    assert all(len(line.get_xdata()) == 6 for line in lines)  # every λ of the script
    assert [t.get_text() for t in axes[0].get_xticklabels()] == ["0", "0.01", "0.1", "1", "10", "100"]


def test_axis_data_puts_each_cell_at_its_value_and_keeps_the_longest_runs():
    def cell(index, successes, iterations, solved=None):
        return Cell(index, "nau/nmu", "mul", 4, 0, (0, 0, 0), (0, 0, 0), successes, (0.1, 0.9), solved, 1e-3,
                    iterations={iterations})

    data = axis_data([cell(0, 1, 100), cell(0, 4, 1000, (600.0, 400.0, 1000.0)), cell(2, 2, 1000)], 3)
    series = data["nau/nmu", "mul"]
    assert series["success"][:, 0].tolist()[0] == 1.0 and np.isnan(series["success"][1, 0])
    assert series["success"][2, 0] == 0.5
    assert series["solved_at"][0].tolist() == [700.0, 400.0, 1000.0]  # the mean: the middle of its interval
    assert [name for name, _ in PANELS] == ["success", "solved_at", "sparsity", "normalized"]
