"""Each experiment's unit settings against its reference protocol (issue #11, items 4-7, 10)."""
import dataclasses
import math

import pytest
import torch

from nalm.experiments import EXPERIMENTS
from nalm.units import build_model
from nalm.units.nac import nac_w_optimal_r

MADSEN, MISTRY, BLOG = (EXPERIMENTS[n] for n in ("madsen2020-static", "mistry2022-single", "blog-static"))


def options(experiment, model, target="add", overrides=None):
    return experiment.config_for(model, target, overrides).unit_options


# -- madsen2020-static: stable-nalu's lfs_batch_jobs/function_task_static.sh ----------------------
def test_madsen_nmu_row_gives_both_layers_one_regularizer_scaled_with_the_run():
    """simple_function_static.py:374 scales the sum of all layers' terms by one λ(t)."""
    schedule = {"regularizer_scale": 10.0, "regularizer_start": 1e6, "regularizer_end": 2e6}
    paper = options(MADSEN, "nau/nmu", "mul", {"iterations": 5_000_000})
    assert paper == {"nau": schedule, "nmu": schedule}
    quick = options(MADSEN, "nau/nmu", "mul")  # 50k steps: 20%-40%
    assert quick["nau"] == quick["nmu"] == {"regularizer_scale": 10.0, "regularizer_start": 1e4, "regularizer_end": 2e4}


def test_madsen_nau_row_uses_its_own_schedule():
    """function_task_static.sh:61-65: --regualizer 0.01 --regualizer-scaling-start 5000 --end 50000."""
    for iterations in (50_000, 5_000_000):
        assert options(MADSEN, "nau", "add", {"iterations": iterations}) == {
            "nau": {"regularizer_scale": 0.01, "regularizer_start": 5e3, "regularizer_end": 5e4}}


def test_madsen_nac_rows_use_stable_nalus_init_and_no_regularizer():
    assert options(MADSEN, "nac") == {"nac": {"init": "stable-nalu"}}
    assert options(MADSEN, "nac/nac-mul") == {"nac": {"init": "stable-nalu"},
                                              "nac-mul": {"init": "stable-nalu", "eps": 1e-7}}
    assert options(MADSEN, "nalu") == {"nalu": {"init": "stable-nalu", "eps": 1e-7}}
    net = build_model("nac/nac-mul", 100, 1, hidden=2, unit_options=options(MADSEN, "nac/nac-mul"))
    assert torch.equal(net.regularization(10**7), torch.tensor(0.0))


def test_madsen_nac_mul_ablation_rows_follow_their_batch_jobs():
    """function_task_static.sh:42-46 (PosNAC under a NAC, no regularizer) and :48-52
    (ReRegualizedLinearPosNAC under ReRegualizedLinearNAC, the default λ 10 over 1e6 → 2e6)."""
    schedule = {"regularizer_scale": 10.0, "regularizer_start": 1e6, "regularizer_end": 2e6}
    assert options(MADSEN, "nau/nac-mul-nmu", "mul", {"iterations": 5_000_000}) == {
        "nau": schedule, "nac-mul-nmu": {"eps": 1e-7, **schedule}}
    assert options(MADSEN, "nac/nac-mul-sigma") == {"nac": {"init": "stable-nalu"}, "nac-mul-sigma": {"eps": 1e-7}}
    assert {"nac/nac-mul-sigma", "nau/nac-mul-nmu"} <= set(MADSEN.models)
    net = build_model("nac/nac-mul-sigma", 100, 1, hidden=2, unit_options=options(MADSEN, "nac/nac-mul-sigma"))
    assert torch.equal(net.regularization(10**7), torch.tensor(0.0))


@pytest.mark.parametrize("model", ["mlp-none", "mlp-relu", "mlp-relu6"])
def test_madsen_mlps_use_stable_nalus_basic_layer_init(model):
    """basic.py:20-73: zero biases; kaiming (ReLU gain) before ReLU/ReLU6, xavier gain 1 otherwise."""
    assert options(MADSEN, model) == {"mlp": {"init": "stable-nalu"}}
    torch.manual_seed(0)
    net = build_model(model, 100, 1, hidden=2, unit_options=options(MADSEN, model), dtype=torch.float64)
    first, last = net.units()
    bound = math.sqrt(6 / 102) if model == "mlp-none" else math.sqrt(6 / 100)
    assert first.weight.abs().max() <= bound and first.weight.abs().max() > 0.9 * bound
    assert last.weight.abs().max() <= math.sqrt(6 / 3)
    assert all(torch.equal(u.bias, torch.zeros_like(u.bias)) for u in (first, last))


def test_madsen_nac_layer_draws_from_r_0_504():
    torch.manual_seed(0)
    net = build_model("nac", 100, 1, hidden=2, unit_options=options(MADSEN, "nac"))
    r = nac_w_optimal_r(100, 2)
    assert r == pytest.approx(0.504, abs=5e-4)
    assert net[0].W_hat.abs().max() <= r and net[0].W_hat.abs().max() > 0.99 * r


# -- mistry2022-single: nalm-benchmark's single_layer_benchmark.sh ----------------------------
@pytest.mark.parametrize("model", ["npu", "real-npu"])
@pytest.mark.parametrize("target, beta", [("add", (1e-7, 1e-5)), ("mul", (1e-7, 1e-5)), ("div", (1e-9, 1e-7))])
def test_mistry_npu_beta_schedule_per_target(model, target, beta):
    """single_layer_benchmark.sh:63 (mul) and :132 (div)."""
    o = options(MISTRY, model, target)[model]
    assert (o["beta_start"], o["beta_end"], o["beta_growth"], o["beta_step"]) == (*beta, 10.0, 10_000)
    assert o["eps"] == torch.finfo(torch.float32).eps  # stable_nalu/layer/npu.py:31
    unit = build_model(model, 2, 1, hidden=None, unit_options=options(MISTRY, model, target))[0]
    assert [unit.beta_at(s) for s in (0, 10_000, 20_000, 49_999)] == [beta[0], beta[0] * 10, beta[1], beta[1]]


def test_mistry_nau_and_nmu_ramp_from_20k_to_35k():
    """single_layer_benchmark.sh:200-202 (NAU, λ 0.01) and :31-32 (NMU, default λ 10)."""
    assert options(MISTRY, "nau") == {"nau": {"regularizer_scale": 0.01, "regularizer_start": 20_000,
                                              "regularizer_end": 35_000}}
    assert options(MISTRY, "nmu", "mul") == {"nmu": {"regularizer_scale": 10.0, "regularizer_start": 20_000,
                                                     "regularizer_end": 35_000}}


def test_mistry_nac_units_use_stable_nalus_init():
    torch.manual_seed(0)
    for model in ("nac", "nac-mul", "nalu"):
        unit = build_model(model, 2, 1, hidden=None, unit_options=options(MISTRY, model))[0]
        assert unit.init == "stable-nalu"
        r = nac_w_optimal_r(2, 1)
        assert r == pytest.approx(9.47, abs=5e-3) and unit.W_hat.abs().max() <= r
        if model != "nac":
            assert unit.eps == 1e-7


# -- blog-static: vrxacs/NALU-pytorch ---------------------------------------------------------
def test_blog_units_use_the_blogs_init_and_eps():
    """models/nac.py:29-30, models/nalu.py:25,31, models/fauxnalu.py:22,28."""
    assert options(BLOG, "nac") == {"nac": {"init": "blog"}}
    for model in ("nalu", "faux-nalu"):
        unit = build_model(model, 100, 1, hidden=2, unit_options=options(BLOG, model))[0]
        assert (unit.init, unit.eps) == ("blog", 1e-10)
    mlp = build_model("mlp-relu6", 100, 1, hidden=2, unit_options=options(BLOG, "mlp-relu6"))
    assert mlp.init == "torch"


@pytest.mark.parametrize("name", ["trask2018-static", "trask2018-identity"])
def test_trask_experiments_say_where_their_init_comes_from(name):
    experiment = EXPERIMENTS[name]
    for key in ("init: nac", "init: nalu", "init: mlp"):
        assert "no init" in experiment.sources[key]
    unit = build_model("nalu", 100, 1, hidden=2, unit_options=options(experiment, "nalu"))[0]
    assert (unit.init, unit.eps) == ("blog", 1e-10)
    assert options(experiment, "nac") == {"nac": {"init": "blog"}}


@pytest.mark.parametrize("experiment", [MADSEN, MISTRY, BLOG], ids=lambda e: e.name)
def test_unit_settings_have_sources(experiment):
    for model in experiment.models:
        for unit in options(experiment, model):
            assert f"init: {unit}" in experiment.sources or f"unit options: {unit}" in experiment.sources, (model, unit)


def test_an_experiments_training_settings_merge_unit_options_per_unit_across_levels():
    """model_train's own unit options, target_train's, then the model's on the target: a later level
    replaces the options of the units it names, not every unit's (as the user's overrides merge)."""
    base = EXPERIMENTS["heim2020-npu-arithmetic"]
    experiment = dataclasses.replace(
        base, target_train={"mul": {"lr": 0.5, "unit_options": {"nmu": {"regularizer_start": 7}}}},
        model_train={"nau/nmu": {"lr": 0.1, "unit_options": {"nau": {"regularizer_scale": 1.0}},
                                 "targets": {"mul": {"iterations": 30, "unit_options": {"nmu": {"clip": False}}}}}})
    assert experiment.train_overrides("nau/nmu", "mul") == {
        "lr": 0.5, "iterations": 30, "unit_options": {"nau": {"regularizer_scale": 1.0}, "nmu": {"clip": False}}}
    assert experiment.train_overrides("nau/nmu", "add") == {
        "lr": 0.1, "unit_options": {"nau": {"regularizer_scale": 1.0}}}
    assert experiment.config_for("nau/nmu", "mul").unit_options["nau"] == {"regularizer_scale": 1.0}
