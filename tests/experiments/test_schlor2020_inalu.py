"""schlor2020-inalu: Schlör et al.'s experiment 1 (daschloer/inalu experiment_runs/exp1), its card, its
paper-scale plan, its inputs as the reference draws them, and its published success rates."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from scipy import stats

from nalm.experiments import EXPERIMENTS
from nalm.experiments.protocol import protocol_card
from nalm.philox import Draws
from nalm.report.markdown import comparable_cells
from nalm.report.summary import task_key
from nalm.runner.plan import prepare
from nalm.scoring.thresholds import FixedThreshold
from nalm.tasks import DistributionTask, task_from_dict, task_to_dict
from nalm.units import INALU, SharedINALU

NAME = "schlor2020-inalu"


def test_listed_and_every_setting_of_its_card_has_a_source():
    experiment = EXPERIMENTS[NAME]
    card = protocol_card(experiment)
    assert card.missing_sources() == []
    rows = {s.name: s for s in card.settings}
    assert rows["ranges"].value.split("; ") == ["U[-1, 1] -> U[-10, -5]", "U[-5, 5] -> U[-10, -5]",
                                                "N[-3, 3] -> N[8, 10]", "N[-4, 2] -> N[8, 10]",
                                                "N[-2, 4] -> N[8, 10]", "Exp(0.2) -> Exp(0.5)", "Exp(0.8) -> Exp(0.5)"]
    assert "daschloer/inalu" in rows["ranges"].source and "1e-5" in rows["threshold"].source


def test_paper_scale_plans_the_reference_runs():
    # experimentplanner.py:36-41: seeds 100..109, four operations, the NALU (m/v: one model at one
    # output) and both iNALUs; nalu_syn_simple_arith.py: 100 epochs of 1,000 batches of 64, RMSProp 0.01,
    # gradients clipped to ±0.1; the regularizer after epoch 10, re-initialization after 10,000 losses.
    plan = prepare(EXPERIMENTS[NAME].at_paper_scale())
    assert len(plan.runs) == 7 * 4 * 3 * 10
    assert {run.seed for run in plan.runs} == set(range(10))
    assert {run.model for run in plan.runs} == {"nalu", "inalu-sw", "inalu"}
    for run in plan.runs:
        c = run.config
        assert (c.iterations, c.batch_size, c.optimizer, c.lr, c.grad_clip, c.hidden) == \
            (100_000, 64, "rmsprop", 0.01, 0.1, None)
        assert c.eval_samples == 64_000
        if run.model != "nalu":
            options = c.unit_options[run.model]
            assert options["regularizer_start"] == 11_001 and options["reinitialize"]["min_stored"] == 10_000
            assert options["init_mean"] == (1.0, -1.0, 0.0) and options["init_std"] == (0.1, 0.1, 0.1)


@pytest.mark.parametrize("index", range(7))
def test_inputs_follow_the_reference_distributions(index):
    # nalu_syn_simple_arith.py:57-79: truncnorm(mean (lo+hi)/2, std (hi-lo)/6) on [lo, hi],
    # uniform(lo, hi), exponential(scale); a drawn batch against the reference's distribution.
    task = EXPERIMENTS[NAME].workload.tasks[index]
    for extrapolation, values in ((False, task.interpolation), (True, task.extrapolation)):
        (low, high), = values.intervals
        x = task.sample(20_000, Draws(seed=3, stream=1, step=7), extrapolation).ravel()
        if task.distribution == "uniform":
            reference = stats.uniform(low, high - low)
        elif task.distribution == "truncated-normal":
            mean, std = (low + high) / 2, (high - low) / 6
            reference = stats.truncnorm((low - mean) / std, (high - mean) / std, mean, std)
        else:
            assert low == 0
            reference = stats.expon(scale=high)
        assert stats.kstest(x, reference.cdf).pvalue > 0.01, (task, extrapolation)
        assert reference.support()[0] <= x.min() and x.max() <= reference.support()[1]
    assert task_from_dict(task_to_dict(task)) == task


def test_published_cells_are_the_result_csvs():
    # Success rates (last extrapolation MSE < 1e-5) over the 10 rows of each cell of
    # experiment_runs/exp1/exp1_nalu_minimal_arith_results_ext.csv.
    published = {p.task: p for p in EXPERIMENTS[NAME].published}
    tasks = EXPERIMENTS[NAME].workload.tasks
    assert sorted(published) == list(range(7))
    assert published[0].values["iNALU (iw)"]["mul"] == 1.0 and published[0].values["NALU (m)"]["mul"] == 0.8
    assert tasks[3].interpolation.intervals == ((-4.0, 2.0),)
    assert published[3].values["iNALU (sw)"]["div"] == 0.1 and published[3].values["iNALU (iw)"]["mul"] == 0
    assert tasks[5].distribution == "exponential" and tasks[5].interpolation.intervals == ((0.0, 0.2),)
    assert published[5].values["NALU (v)"]["mul"] == 0.7 and published[5].values["iNALU (sw)"]["add"] == 0
    assert published[6].values["iNALU (iw)"]["div"] == 0.7
    assert {p.models["iNALU (sw)"] for p in published.values()} == {"inalu-sw"}


def test_a_published_table_is_compared_with_the_runs_of_its_own_task():
    experiment = EXPERIMENTS[NAME]

    def cell(index, model):
        task = task_key(task_to_dict(experiment.workload.tasks[index]))
        return SimpleNamespace(setting=SimpleNamespace(task_index=index, task=task, lr=0.01), iterations=[100],
                               model=model, target="mul")

    cells = [cell(0, "inalu"), cell(3, "inalu-sw")]
    assert comparable_cells(experiment, cells, 3)[0] == {("inalu-sw", "mul"): cells[1]}
    assert comparable_cells(experiment, cells, 0)[0] == {("inalu", "mul"): cells[0]}


def test_shared_inalu_uses_one_weight_for_both_paths():
    unit = SharedINALU(2, 1, dtype=torch.float64)
    assert not hasattr(unit, "W_hat_mul") and unit.mul_weight is not None
    with torch.no_grad():
        unit.W_hat.fill_(30.0), unit.M_hat.fill_(30.0)
        unit.G.fill_(-30.0)  # the multiplicative path, through the additive path's weight
    x = torch.tensor([[-3.0, 4.0]], dtype=torch.float64)
    assert torch.allclose(unit(x), torch.tensor([[-12.0]], dtype=torch.float64))
    with torch.no_grad():
        unit.G.fill_(30.0)
    assert torch.allclose(unit(x), torch.tensor([[1.0]], dtype=torch.float64))
    assert unit.sparsity_error() == unit.largest_distance_from_integers(unit.weight)  # one weight: its distance
    with pytest.raises(ValueError, match="shares its weights"):
        SharedINALU(2, 1, shared_weights=False)


def test_inalu_init_is_an_option():
    unit = INALU(2, 1, init_mean=(1.0, -1.0, 0.5), init_std=(0.0, 0.0, 0.0), members=2)
    assert (unit.W_hat == 1).all() and (unit.M_hat == -1).all() and (unit.W_hat_mul == 1).all()
    assert (unit.G == 0.5).all()
    with pytest.raises(ValueError, match="init_mean and init_std"):
        INALU(2, 1, init_std=(0.1, 0.1))


def test_fixed_threshold_and_distribution_task_refuse_bad_values():
    assert FixedThreshold(1e-5).threshold(DistributionTask(), "div") == 1e-5
    with pytest.raises(ValueError, match="positive MSE"):
        FixedThreshold(0.0)
    with pytest.raises(ValueError, match="distribution must be one of"):
        DistributionTask("poisson")
    with pytest.raises(ValueError, match="one interval"):
        DistributionTask("truncated-normal", "[-2,-1]U[1,2]")
    assert np.isfinite(DistributionTask("exponential", [0, 1], [0, 2]).sample(10, Draws(0, 1), True)).all()
