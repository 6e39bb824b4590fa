"""trask2018-mnist's R_z ablation (Madsen & Johansen 2020, appendix "Sequential MNIST"): the NAU
and NMU without R_z, the NAC+ with it, their published success rates, and the plan."""
from __future__ import annotations

import torch

from nalm.experiments.trask2018_mnist import EXPERIMENT, R_Z_ABLATION, population
from nalm.runner.plan import resolve
from nalm.train import Member
from nalm.units import unit_class

ABLATION = {"nau-no-rz": "sum", "nmu-no-rz": "prod", "nac-rz": "sum", "nac-mul-nmu-rz": "prod", "nac-mul-nmu-no-rz": "prod"}


def published(model: str) -> dict:
    return next(figure.values[model] for figure in EXPERIMENT.published if model in figure.values)


def test_published_rates_are_the_figures_values():
    """Spot checks against the plotted points of stable-nalu b3296ac paper/results/
    sequential_mnist_{sum,prod}_long{,_ablation}.pdf (10 seeds: tenths)."""
    assert published("nau-no-rz") == {1: 0, 10: .1, 100: .2, 1000: .4}
    assert published("nac-rz")[1000] == .6 and published("nac-rz")[1] == .1
    assert published("nmu-no-rz")[15] == 1 and published("nmu-no-rz")[5] == .7
    assert published("nac-mul-nmu-no-rz")[1] == .4 and published("nac-mul-nmu-rz") == {1: 1, 2: .9, 5: .8, 10: .7,
                                                                                       15: .8, 20: .6}
    assert published("nau")[1000] == .8 and published("nac")[1000] == 0  # with R_z / without: unchanged
    assert published("nac-mul-sigma") == {1: .6, 2: .6, 5: .6, 10: 0, 15: .3, 20: 0}
    for figure in EXPERIMENT.published:
        lengths = set(EXPERIMENT.workload.task(figure.target).test_lengths)
        assert all(set(values) == lengths for values in figure.values.values()), figure.source


def test_the_ablation_runs_only_when_named_each_on_its_target():
    default = resolve(EXPERIMENT)
    assert not set(ABLATION) & {model for model, _ in default.configs}  # the default run is unchanged
    chosen = resolve(EXPERIMENT, models=list(ABLATION))
    assert sorted(chosen.configs) == sorted(ABLATION.items())
    assert list(resolve(EXPERIMENT, models=["nac-mul-sigma"]).configs) == [("nac-mul-sigma", "prod")]
    paper = resolve(EXPERIMENT.at_paper_scale(), models=list(ABLATION))
    assert {config.iterations for config in paper.configs.values()} == {100_000}


def test_rz_options_of_the_ablation_and_of_the_published_models():
    options = {model: EXPERIMENT.config_for(model, target).unit_options for model, target in ABLATION.items()}
    assert options["nac-rz"] == {"nac": {"regularizer_z": 1.0}}
    assert "regularizer_z" not in options["nau-no-rz"]["nau"] and "nmu" not in options["nau-no-rz"]
    assert "regularizer_z" not in options["nmu-no-rz"]["nmu"]
    assert options["nac-mul-nmu-rz"]["nac-mul-nmu"]["regularizer_z"] == 1.0
    assert options["nac-mul-nmu-no-rz"]["nac-mul-nmu"]["regularizer_end"] == 1500.0  # the experiment's ramp
    assert options["nau-no-rz"]["nau"]["regularizer_scale"] == 10.0  # the sparsity regularizer stays
    ramp = {"regularizer_scale": 10.0, "regularizer_start": 150.0, "regularizer_end": 1500.0, "regularizer_z": 1.0}
    for model, target in (("nau", "sum"), ("nmu", "prod"), ("lstm", "sum"), ("nac", "sum")):  # as stored before
        assert EXPERIMENT.config_for(model, target).unit_options == {"nau": ramp, "nmu": ramp}


def test_each_ablation_cell_has_r_z_on_or_off_as_named():
    data = EXPERIMENT.workload.data_at(None)  # read once per process
    for model, target in ABLATION.items():
        config = EXPERIMENT.config_for(model, target).replace(batch_size=4, eval_samples=4)
        pop = population(model, target, data, [Member(0, target, EXPERIMENT.workload.task(target))], config)
        cell = pop.net.cell
        assert type(cell) is unit_class(R_Z_ABLATION[model][0])
        assert pop.net.initial_value == (1.0 if target == "prod" else 0.0)  # a product's state starts at 1
        assert cell.regularizer_z == R_Z_ABLATION[model][1]
        pop.fit(0)
        z = cell.input_regularizer()
        assert (z.abs().sum() > 0) == bool(cell.regularizer_z), model
        total = pop.net.regularization(0)
        assert torch.isfinite(total).all()
