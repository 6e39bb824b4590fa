"""trask2018-recurrent follows stable-nalu's recurrent script (c434f99) and names where it departs."""

from nalm.experiments import EXPERIMENTS
from nalm.tasks import PRESETS
from nalm.units import build_model

EXPERIMENT = EXPERIMENTS["trask2018-recurrent"]


def test_the_task_is_the_reference_dataset_with_shorter_tests_at_the_default_scale():
    reference = PRESETS["madsen2020-recurrent"]()
    assert EXPERIMENT.workload.paper_tasks == (reference,)
    (task,) = EXPERIMENT.workload.tasks
    assert task.input_size == 10 and task.placement == "ranges" and task.extrapolation_length == 100
    assert any(d.setting == "task" and "100 steps" in d.ours for d in EXPERIMENT.deviations)


def test_paper_scale_is_the_scripts_training_and_evaluation():
    # experiments/simple_function_recurrent.py:28-31,74-76,87,103: Adam lr 1e-3, batch 128,
    # 1e5 iterations, batches of 2048 evaluated every 1000 steps; batch job: 10 seeds.
    config = EXPERIMENT.config_for("nac", "add", EXPERIMENT.paper_scale)
    assert (config.optimizer, config.lr, config.batch_size, config.hidden) == ("adam", 1e-3, 128, 2)
    assert (config.iterations, config.eval_every, config.eval_samples) == (100_000, 1000, 2048)
    assert EXPERIMENT.paper_seeds == 10


def test_every_model_learns_its_first_state_from_zeros():
    for model in EXPERIMENT.models:
        config = EXPERIMENT.config_for(model, "mul")
        net = build_model(model, 10, 1, hidden=config.hidden, unit_options=config.unit_options, recurrent=True)
        state = dict(net.named_parameters())["initial_state"]
        assert not state.any()
    assert EXPERIMENT.config_for("nau/nmu", "mul").unit_options["nmu"] == {"regularizer_start": 300.0,
                                                                          "regularizer_end": 600.0}


def test_every_setting_has_a_source_and_the_regularizer_is_explained():
    for setting in ("task", "optimizer", "iterations", "network", "unit options: recurrent", "seeds"):
        assert "stable-nalu" in EXPERIMENT.sources[setting]
    assert "zero for its units" in EXPERIMENT.sources["unit options: recurrent"]  # the script's regularizer
    assert "nalm" in EXPERIMENT.sources["unit options: nmu"]
    task_deviation = next(d for d in EXPERIMENT.deviations if d.setting == "task" and "e088f71" in d.reference)
    assert "1-5" in task_deviation.reference and "c434f99" in task_deviation.ours
    assert "Madsen" not in PRESETS["nalm-recurrent-100"].__doc__


def test_the_lstm_is_read_out_as_the_reference_xavier_uniform_with_gain_1_and_a_zero_bias():
    # stable_nalu/network/simple_function_recurrent.py:32-38 (c434f99): a 'linear' BasicLayer,
    # basic.py:42-43,69-72: xavier_uniform_(gain 1), zeros_(bias). torch's Linear would draw the
    # weight from U(±1/√2) and the bias too.
    import torch

    torch.manual_seed(0)
    config = EXPERIMENT.config_for("lstm", "add")
    net = build_model("lstm", 10, 1, hidden=config.hidden, unit_options=config.unit_options, recurrent=True,
                      members=4000)
    weight, bias = net.output.weight.detach(), net.output.bias.detach()
    bound = (6 / (2 + 1)) ** 0.5  # fan in 2, fan out 1
    assert weight.shape == (4000, 1, 2) and not bias.any()
    assert weight.abs().max() <= bound and weight.abs().max() > 0.95 * bound
    assert abs(weight.var().item() - bound ** 2 / 3) < 0.05
    # The unit cells keep their own readouts and options.
    assert "linear" not in EXPERIMENT.config_for("nac", "add").unit_options


def test_every_run_stores_the_baselines_readout_and_a_report_does_not_mix_two():
    from types import SimpleNamespace

    import pytest

    from nalm.report.summary import one_table

    workload = EXPERIMENT.workload
    stored = [workload.stored_config(EXPERIMENT, SimpleNamespace(model=model, target="add", seed=0, task_index=0,
                                                                 task=workload.tasks[0],
                                                                 config=EXPERIMENT.config_for(model, "add")), None)
              for model in ("nac", "lstm")]
    for config in stored:
        assert config["baseline"] == {"model": "lstm", "count": 3, "readout": {"init": "xavier"}}
    older = {**stored[0], "baseline": {"model": "lstm", "count": 3}}  # before the readout followed the reference
    with pytest.raises(ValueError, match="normalized by the errors of different baselines"):
        one_table(stored + [older])
    one_table(stored)
    # An experiment whose baseline is an MLP stores it as before.
    madsen = EXPERIMENTS["madsen2020-static"]
    assert madsen.workload.stored_baseline(madsen, "add") == {"model": "mlp-relu6", "count": 10}
