"""Madsen & Johansen (2020)'s appendix tables in nalm: the NMU ablation (madsen2020-ablation) and
the gating experiment's rows of madsen2020-static, their published cells as transcribed from the
stable-nalu .tex files, the runs they plan, and tiny runs of each end to end."""
from __future__ import annotations

import dataclasses

import pytest

from nalm.experiments import EXPERIMENTS
from nalm.experiments.protocol import protocol_card
from nalm.report import render, summarize
from nalm.results import ResultsStore
from nalm.runner import run_experiment
from nalm.runner.plan import prepare

from .test_sweeps import quick

TINY = {"iterations": 4, "eval_every": 2, "eval_samples": 8, "batch_size": 8}


def test_ablation_cells_as_transcribed_from_function_task_static_ablation_tex():
    """stable-nalu@b3296ac paper/results/function_task_static_ablation.tex, rows read there (mean ± half-width)."""
    tables = EXPERIMENTS["madsen2020-ablation"].published
    assert [t.task for t in tables] == [0, 1, 2, 3]
    first, no_bias, no_clamp, neither = tables
    assert first.models == {"NAC•,σ": "nac/nac-mul-sigma", "NAC•": "nac/nac-mul", "NMU": "nau/nmu"}
    assert first.values["NAC•"] == {"mul": 0.24} and first.values["NMU"] == {"mul": 1.0}
    assert first.solved_at["NAC•,σ"]["mul"] == pytest.approx((2.5e6, 2.6e6, 2.44e6, 2.76e6))
    assert first.sparsity_error["NMU"]["mul"] == pytest.approx((4.4e-7, 3.71e-7, 5.09e-7))
    assert no_bias.solved_at["NMU, no R_bias"]["mul"] == pytest.approx((1.9e6, 1.9e6, 1.78e6, 2.02e6))
    assert no_clamp.sparsity_error["NMU, no W-clamp"]["mul"] == pytest.approx((8.8e-5, 2.6e-5, 1.5e-4))
    assert neither.models == {"NMU, no R_bias, no W-clamp": "nau/nmu"}
    assert neither.solved_at["NMU, no R_bias, no W-clamp"]["mul"][:2] == (1.5e6, 1.5e6)
    assert all(t.protocol["seeds"] == 25 and "not the paper" in t.source for t in tables)


def test_ablation_card_names_a_source_for_every_setting():
    card = protocol_card(EXPERIMENTS["madsen2020-ablation"])
    assert card.missing_sources() == []
    rows = {s.name: s for s in card.settings}
    assert rows["axis"].value == "removed: nothing, R_bias, W-clamp, R_bias and W-clamp"
    assert "function_task_static_ablation.sh@5f0d4e4" in rows["seeds"].source
    assert "which paper/ does not include" in rows["metric"].source


def test_ablation_at_paper_scale_removes_what_each_value_names_from_both_layers():
    experiment = quick(EXPERIMENTS["madsen2020-ablation"]).at_paper_scale()
    plan = prepare(experiment)
    assert len(plan.runs) == 4 * 25 and {run.seed for run in plan.runs} == set(range(25))
    static = EXPERIMENTS["madsen2020-static"].at_paper_scale().config_for("nau/nmu", "mul")
    by_value = {run.task_index: run.config for run in plan.runs}
    assert by_value[0].unit_options == static.unit_options  # nothing removed: madsen2020-static's NMU row
    assert all(config.iterations == 5_000_000 for config in by_value.values())
    for index, (scale, clip) in enumerate([(10.0, True), (0.0, True), (10.0, False), (0.0, False)]):
        for unit in ("nau", "nmu"):
            options = by_value[index].unit_options[unit]
            assert options["regularizer_scale"] == scale and options.get("clip", True) is clip
            assert (options["regularizer_start"], options["regularizer_end"]) == (1e6, 2e6)


@pytest.mark.filterwarnings("ignore::UserWarning")  # four steps cut the ramps short, as meant
def test_ablation_runs_end_to_end_and_reports_each_value_beside_its_row(tmp_path):
    experiment = quick(EXPERIMENTS["madsen2020-ablation"])
    experiment = dataclasses.replace(experiment, workload=dataclasses.replace(experiment.workload, baseline_models=1))
    with ResultsStore(tmp_path / "r.sqlite") as store:
        run_experiment(experiment, store, seeds=1, overrides=TINY)
        runs = store.runs(experiment.name)
    assert sorted(run.config["train"]["unit_options"]["nmu"].get("clip", True) for run in runs) == [False, False, True, True]
    text = render(experiment, summarize(runs))
    for label in ("NMU (`nau/nmu`)", "NMU, no R_bias (`nau/nmu`)", "NMU, no W-clamp (`nau/nmu`)",
                  "NMU, no R_bias, no W-clamp (`nau/nmu`)"):
        assert f"| {label} | 0% / 100% |" in text


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_gating_rows_of_the_static_experiment_run_end_to_end(tmp_path):
    experiment = quick(EXPERIMENTS["madsen2020-static"])
    experiment = dataclasses.replace(experiment, workload=dataclasses.replace(experiment.workload, baseline_models=1))
    with ResultsStore(tmp_path / "r.sqlite") as store:
        run_experiment(experiment, store, models=["nau/gated-nau-nmu", "nac/nalu-separate"], targets=["mul"],
                       seeds=1, overrides=TINY)
        runs = store.runs(experiment.name)
    assert {run.model for run in runs} == {"nau/gated-nau-nmu", "nac/nalu-separate"}
    gated = next(run for run in runs if run.model == "nau/gated-nau-nmu")
    assert {"1.G", "1.add.W", "1.mul.W"} <= set(gated.weights)
    assert gated.config["train"]["unit_options"]["gated-nau-nmu"]["regularizer_scale"] == 10.0
    text = render(experiment, summarize(runs))
    assert "| Gated NAU/NMU (`nau/gated-nau-nmu`) | 0% / 62% |" in text
    assert "| NALU (separate) (`nac/nalu-separate`) | 0% / 22% |" in text


def test_simple_mul_task_sums_a_subset_and_its_superset():
    from nalm.tasks import Draws, PrefixTask, task_from_dict, task_to_dict

    task = EXPERIMENTS["madsen2020-simple-mul"].workload.tasks[0]
    assert task == PrefixTask(a_size=4, b_size=2) and task.in_features == 4
    assert task_from_dict(task_to_dict(task)) == task
    x = task.sample(5, Draws(3, 1))
    a, b = (x @ task.layout(3)).T
    assert a.tolist() == x.sum(1).tolist() and b.tolist() == (x[:, 0] + x[:, 1]).tolist()
    with pytest.raises(ValueError, match="b_size must be a positive integer"):
        PrefixTask(b_size=0)


def test_simple_mul_cells_as_transcribed_from_simple_mul_tex_and_the_paper_scale_plan():
    """stable-nalu@b3296ac paper/results/simple_mul.tex, rows read there."""
    experiment = EXPERIMENTS["madsen2020-simple-mul"]
    (table,) = experiment.published
    assert table.values == {"NAC•": {"mul": 0.13}, "NALU": {"mul": 0.26}, "NMU": {"mul": 0.94}}
    assert table.solved_at["NALU"]["mul"] == pytest.approx((7.0e4, 7.8e4, 6.94e4, 8.42e4))
    assert table.sparsity_error["NMU"]["mul"] == pytest.approx((2.6e-8, 1.96e-8, 3.24e-8))
    assert protocol_card(experiment).missing_sources() == []
    plan = prepare(quick(experiment).at_paper_scale())
    assert len(plan.runs) == 3 * 100 and {run.config.iterations for run in plan.runs} == {200_000}
    nmu = next(run for run in plan.runs if run.model == "nau/nmu").config.unit_options
    assert nmu["nau"]["regularizer_scale"] == nmu["nmu"]["regularizer_scale"] == 0.0  # the ramp starts after 2e5


def test_simple_mul_threshold_perturbs_the_scripts_subsets():
    """The script's simple case: a = x[1:2], b = x[1:4] (R, inclusive), every weight off by eps."""
    workload = EXPERIMENTS["madsen2020-simple-mul"].workload
    rule = workload.threshold_rule
    a, b = rule.masks(workload.tasks[0])
    assert a.tolist() == [1, 1, 1, 1] and b.tolist() == [1, 1, 0, 0]
    assert rule.eps == 1e-5 and rule.samples == 1_000_000 and not rule.moves_output_weights(a, b)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_simple_mul_runs_end_to_end_beside_its_table(tmp_path):
    experiment = quick(EXPERIMENTS["madsen2020-simple-mul"])
    experiment = dataclasses.replace(experiment, workload=dataclasses.replace(experiment.workload, baseline_models=1))
    with ResultsStore(tmp_path / "r.sqlite") as store:
        run_experiment(experiment, store, seeds=1, overrides=TINY)
        runs = store.runs(experiment.name)
    assert {run.model for run in runs} == {"nac/nac-mul", "nalu", "nau/nmu"}
    text = render(experiment, summarize(runs))
    assert "| NMU (`nau/nmu`) | 0% / 94% |" in text
