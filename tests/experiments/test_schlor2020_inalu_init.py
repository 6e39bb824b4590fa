"""schlor2020-inalu-init: Schlör et al.'s experiment 3 (daschloer/inalu experiment_runs/exp3), the
iNALU's initialization study: the card, the paper-scale plan with each initialization in the runs
that train it, and the published success rates."""
from __future__ import annotations

import dataclasses
import itertools

import pytest

from nalm.experiments import EXPERIMENTS
from nalm.experiments.protocol import protocol_card
from nalm.experiments.schlor2020_inalu_init import COUNTS, Init, initialization
from nalm.results import ResultsStore
from nalm.runner import run_experiment
from nalm.runner.plan import populations_of, prepare
from nalm.train import ArithmeticPopulation, TrainConfig

NAME = "schlor2020-inalu-init"
# experimentplanner.py:19-22: the means of G, Ŵ and M̂ in -1, 0, 1 and one standard deviation, 0.1 or 0.5.
PLANNED = {(w, m, g, s) for g, w, m, s in itertools.product((-1, 0, 1), (-1, 0, 1), (-1, 0, 1), (0.1, 0.5))}


def test_listed_and_every_setting_of_its_card_has_a_source():
    experiment = EXPERIMENTS[NAME]
    card = protocol_card(experiment)
    assert card.missing_sources() == []
    rows = {s.name: s for s in card.settings}
    assert "exp3/experimentplanner.py:19-22" in rows["axis"].source
    assert rows["ranges"].value == "interpolation [-2.0, 2.0], extrapolation [8.0, 12.0]"
    assert {d.setting for d in card.deviations} >= {"task", "models", "optimizer", "targets", "seeds"}
    assert {(i.w, i.m, i.g, i.std) for i in experiment.workload.axis.values} == PLANNED
    assert len(experiment.workload.axis.values) == 54


def test_paper_scale_plans_every_initialization_of_four_operations_over_20_seeds():
    experiment = EXPERIMENTS[NAME]
    assert experiment.targets == ("add", "sub")  # the default: the operations any initialization solves
    plan = prepare(experiment.at_paper_scale())
    assert len(plan.runs) == 54 * 4 * 20
    assert {run.target for run in plan.runs} == {"add", "sub", "mul", "div"}
    assert {run.seed for run in plan.runs} == set(range(20))
    inits = experiment.workload.axis.values
    for run in plan.runs:
        c, task = run.config, run.task
        assert (c.iterations, c.batch_size, c.optimizer, c.lr, c.grad_clip, c.hidden, c.eval_samples) == \
            (100_000, 64, "rmsprop", 0.01, 0.1, 2, 64_000)
        assert (task.in_features, task.std, task.interpolation.intervals, task.extrapolation.intervals) == \
            (100, 1.0, ((-2.0, 2.0),), ((8.0, 12.0),))
        init, options = inits[run.task_index], c.unit_options["inalu"]
        assert options["init_mean"] == init.means and options["init_std"] == (init.std,) * 3
        assert options["regularizer_start"] == 11_001


def test_each_initialization_reaches_the_network_that_trains():
    inits = EXPERIMENTS[NAME].workload.axis.values
    plan = prepare(EXPERIMENTS[NAME], overrides={"iterations": 100})
    populations = populations_of(plan.runs)
    assert len(populations) == 54  # one per initialization: their configs differ
    for init in (Init(1, -1, 0, 0.1), Init(-1, 1, 1, 0.1)):
        runs = next(p for p in populations if p[0].task_index == inits.index(init))
        first = next(ArithmeticPopulation(runs[0].model, [runs[0].member], runs[0].config).net.children())
        for weights, mean in ((first.W_hat, init.w), (first.M_hat, init.m), (first.G, init.g)):
            assert float(weights.detach().mean()) == pytest.approx(mean, abs=0.05 if weights.numel() > 50 else 0.3)


def test_initialization_changes_only_the_units_that_set_an_init():
    config = TrainConfig(unit_options={"inalu": {"init_mean": (1.0, -1.0, 0.0), "eps": 1e-7}, "nau": {"x": 1}})
    changed = initialization(config, Init(-1, 0, 1, 0.5)).unit_options
    assert changed["inalu"] == {"init_mean": (-1.0, 0.0, 1.0), "init_std": (0.5, 0.5, 0.5), "eps": 1e-7}
    assert changed["nau"] == {"x": 1}


def test_published_cells_are_the_result_csv():
    # Success (last extrapolation MSE < 1e-5) over the ext rows of results_ext.csv, recounted by hand
    # from the runs' file names (ig-im-iw, sg-sm-sw): 0.0--1.0-1.0 σ0.1 on ADD: 14 of 14; 1.0-0.0-0.0
    # σ0.1 on SUB: 1 of 8 (1.26e-7); 1.0-0.0-1.0 σ0.5 on SUB: 0 of 14.
    experiment = EXPERIMENTS[NAME]
    assert set(COUNTS) == PLANNED
    assert COUNTS[1, -1, 0, 0.1]["add"] == (14, 14)
    assert COUNTS[0, 0, 1, 0.1]["sub"] == (1, 8)
    assert COUNTS[1, 0, 1, 0.5]["sub"] == (0, 14)
    assert sum(n for cells in COUNTS.values() for _, n in cells.values()) == 2160
    assert all(5 <= n <= 16 for cells in COUNTS.values() for _, n in cells.values())
    assert all(cells[op][0] == 0 for cells in COUNTS.values() for op in ("mul", "div"))
    published = {p.task: p for p in experiment.published}
    assert sorted(published) == list(range(54))
    index = experiment.workload.axis.values.index(Init(0, 0, 1, 0.1))
    assert published[index].values == {"iNALU": {"add": 2 / 11, "sub": 1 / 8, "mul": 0.0, "div": 0.0}}
    assert published[index].models == {"iNALU": "inalu"} and "sub 8" in published[index].source


def test_a_tiny_run_of_two_initializations_is_stored_and_reported_beside_the_published_rates(tmp_path):
    experiment = EXPERIMENTS[NAME]
    workload = experiment.workload
    two = dataclasses.replace(workload, tasks=workload.tasks[:2], task_labels=workload.task_labels[:2],
                              axis=dataclasses.replace(workload.axis, values=workload.axis.values[:2]),
                              baseline_models=1)
    tiny = dataclasses.replace(experiment, workload=two, published=experiment.published[:2])
    with ResultsStore(tmp_path / "r.sqlite") as store:
        summary = run_experiment(tiny, store, seeds=1, overrides={"iterations": 20, "eval_every": 10,
                                                                  "eval_samples": 16})
        runs = store.runs(NAME)
    assert summary.trained == len(runs) == 2 * 2  # two initializations of + and −
    inits = {run.config["task_index"]: run.config["train"]["unit_options"]["inalu"] for run in runs}
    assert inits[0]["init_mean"] == [-1.0, -1.0, -1.0] and inits[1]["init_std"] == [0.5, 0.5, 0.5]
    assert all("formula" not in run.metrics for run in runs)  # read_formulas off: nalm explain reads them
    report = tiny.render(tiny.summarize(runs))
    assert "Beside the published numbers: Schlör et al. 2020, experiment 3, init -1,-1,-1 σ0.1" in report
    assert "/ 100%" in report  # + and − from -1,-1,-1 σ0.1: 11 of 11 and 9 of 9 published
