"""The training loop on populations that give their own fit and evaluation (the data-set
experiments'): a member trains as it would alone, a diverging member is frozen while the rest
train on, and each member keeps its best evaluation."""
import numpy as np
import pytest
import torch

from nalm.experiments.trask2018_mnist import EXPERIMENT as MNIST
from nalm.experiments.trask2018_translation import EXPERIMENT as TRANSLATION
from nalm.tasks.digits import bundled_digits
from nalm.tasks import StaticTask
from nalm.tasks.numbers import number_words
from nalm.train import Member, Population, TrainConfig, train

TINY = TrainConfig(batch_size=4, iterations=12, eval_every=4, eval_samples=6, hidden=3, dtype="float64")


@pytest.fixture(scope="module")
def digits():
    return bundled_digits()


def population(experiment, model, target, data, seeds, config):
    """``model``'s population of ``seeds`` on ``target`` as the experiment builds it."""
    workload = experiment.workload
    return workload.build(model, target, data, [Member(seed, target, workload.task(target)) for seed in seeds], config)


def trained(experiment, model, target, data, seeds, config=TINY):
    config = experiment.config_for(model, target, workload_settings(config))
    return train(population(experiment, model, target, data, seeds, config))


def workload_settings(config: TrainConfig) -> dict:
    """A config's settings as the data-set experiments take them (``eval_sequences``, ...)."""
    return MNIST.workload.stored_settings(config)


@pytest.mark.parametrize("model, target", [("nau", "sum")] + [
    pytest.param(model, target, marks=pytest.mark.slow) for model, target in (("nmu", "prod"), ("lstm", "count"),
                                                                              ("nalu", "sum"))])
def test_a_member_trains_as_it_would_alone(digits, model, target):
    population = trained(MNIST, model, target, digits, [0, 1, 2])
    alone = trained(MNIST, model, target, digits, [1])[0]
    member = population[1]
    assert member.best_step == alone.best_step
    for name, value in alone.weights.items():
        assert np.allclose(member.weights[name], value, rtol=0, atol=1e-10), name
    for name, value in alone.best.items():
        assert member.best[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name
    assert not np.allclose(population[0].weights["cnn.fc2.weight"], member.weights["cnn.fc2.weight"])


@pytest.mark.parametrize("model, target", [("nau", "sum"), ("nmu", "prod")])
def test_the_mnist_cells_are_trained_with_their_input_regularizer(digits, model, target):
    """R_z at weight 1 (the published runs' --regualizer-z 1): at step 0, before the sparsity
    ramp, the regularizer is R_z of the cell's inputs over every time step of the batch."""
    config = MNIST.config_for(model, target, workload_settings(TINY))
    trainable = population(MNIST, model, target, digits, [0, 1], config)
    cell = trainable.net.cell
    assert cell.regularizer_z == 1.0
    assert (trainable.net.regularization(0) == 0).all()
    trainable.fit(0)
    steps = {"sum": 10, "prod": 2}[target]
    assert len(cell._inputs) == steps
    torch.testing.assert_close(trainable.net.regularization(0), cell.input_regularizer(), rtol=0, atol=0)
    assert (cell.input_regularizer() > 0).all()


def test_a_translation_member_trains_as_it_would_alone():
    data = number_words()
    population = trained(TRANSLATION, "lstm+nalu", "number", data, [0, 1])
    alone = trained(TRANSLATION, "lstm+nalu", "number", data, [1])[0]
    for name, value in alone.weights.items():
        assert np.allclose(population[1].weights[name], value, rtol=0, atol=1e-10), name
    assert population[1].best["test_mae"] == pytest.approx(alone.best["test_mae"], rel=1e-9)


def test_a_program_member_trains_as_it_would_alone():
    from nalm.experiments.trask2018_program import EXPERIMENT as PROGRAM, Generated
    population = trained(PROGRAM, "lstm+nau", "ifelse", Generated(), [0, 1])
    alone = trained(PROGRAM, "lstm+nau", "ifelse", Generated(), [1])[0]
    for name, value in alone.weights.items():
        assert np.allclose(population[1].weights[name], value, rtol=0, atol=1e-10), name
    assert population[1].best["accuracy_3"] == alone.best["accuracy_3"]


def test_training_lowers_the_loss_and_the_best_step_is_the_lowest_validation_error(digits):
    config = TINY.replace(iterations=60, eval_every=10, batch_size=8, dtype="float32")
    result = trained(MNIST, "solved", "sum", digits, [0], config)[0]
    valid = result.curve["valid_mse"]
    assert result.curve["step"] == list(range(0, 61, 10))
    assert result.best_step == result.curve["step"][int(np.argmin(valid))]
    assert result.best["valid_mse"] == pytest.approx(min(valid))
    assert min(valid) < valid[0]


def test_a_diverging_member_is_frozen_and_the_others_train_on():
    weight = torch.nn.Parameter(torch.ones(3, 2, dtype=torch.float64))

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = weight

        def regularization(self, step, error=None):
            return torch.zeros(3, dtype=torch.float64)

        def project_(self):
            pass

    def fit(step):
        loss = (weight ** 2).sum(dim=1)
        return torch.where(torch.tensor([False, step >= 3, False]), torch.tensor(float("nan")), loss)

    def evaluate():
        return {"error": (weight.detach() ** 2).sum(dim=1)}

    members = [Member(seed, "add", StaticTask()) for seed in range(3)]
    config = TrainConfig(lr=0.1, iterations=10, eval_every=1, dtype="float64")
    results = train(Population("net", Net(), members, config, fit=fit, evaluate=evaluate, select="error"))
    assert [r.diverged_at for r in results] == [None, 3, None]
    assert results[1].diverged and not results[0].diverged
    assert results[1].best_step == 3  # its last evaluation before the nan step
    assert np.array_equal(results[0].weights["weight"], results[2].weights["weight"])
    assert results[0].best["error"] < results[1].best["error"]
    frozen = weight.detach()[1]
    assert torch.allclose(frozen, torch.as_tensor(results[1].weights["weight"]))  # not stepped after step 3


def test_config_rejects_bad_settings():
    def settings(**overrides):  # a data-set experiment's config with the user's overrides
        return MNIST.config_for("nau", "sum", overrides)

    with pytest.raises(ValueError, match="unknown training setting"):
        settings(hidden_size=3)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        settings(batch_size=0)
    with pytest.raises(ValueError, match="lr must be a positive number"):
        settings(lr=-1)
    for bad in ({"lr": [0.01, 0.001]}, {"hidden": [8, 8]}, {"hidden": None}, {"batch_size": True}):
        with pytest.raises(ValueError, match=next(iter(bad))):  # one network size, one rate, as these networks take
            settings(**bad)


@pytest.mark.parametrize("model, target", [("snmu", "prod"), ("lstm", "sum")])
def test_a_population_resumed_from_a_checkpoint_ends_bit_identical(digits, model, target):
    from nalm.train import Checkpointing, TrainingInterrupted

    config = MNIST.config_for(model, target, workload_settings(TINY.replace(iterations=10, eval_every=3)))
    seeds = [0, 1]
    whole = train(population(MNIST, model, target, digits, seeds, config))
    saved, calls = [], []

    def stop():
        calls.append(1)
        return len(calls) == 5  # asked before step 6: mid-run, between evaluations

    with pytest.raises(TrainingInterrupted) as interrupted:
        train(population(MNIST, model, target, digits, seeds, config),
              checkpointing=Checkpointing(save=saved.append, every=1e9, stop=stop))
    assert interrupted.value.step == 5 and saved[-1]["step"] == 5
    resumed = train(population(MNIST, model, target, digits, seeds, config),
                    checkpointing=Checkpointing(save=saved.append, every=1e9, resume=saved[-1]))
    for a, b in zip(whole, resumed):
        assert a.best_step == b.best_step and a.best == b.best and a.curve == b.curve
        for name in a.weights:
            assert np.array_equal(a.weights[name], b.weights[name]), name


def test_a_checkpoint_saved_before_the_one_training_loop_resumes_bit_identical():
    """tests/train/checkpoints/format1-translation.pt is what nalm a4faf14's data-set trainer saved
    at step 6 of this population (checkpoint format 1)."""
    from pathlib import Path

    from nalm.train import Checkpointing

    config = TRANSLATION.config_for("lstm+nau", "number", {"batch_size": 4, "iterations": 12, "eval_every": 4,
                                                          "hidden": 4, "dtype": "float64"})
    data = number_words()
    saved = torch.load(Path(__file__).parent / "checkpoints" / "format1-translation.pt", weights_only=True)
    assert saved["version"] == 1 and saved["step"] == 6 and "model" not in saved
    whole = train(population(TRANSLATION, "lstm+nau", "number", data, [0, 1], config))
    resumed = train(population(TRANSLATION, "lstm+nau", "number", data, [0, 1], config),
                    checkpointing=Checkpointing(save=[].append, resume=saved))
    for a, b in zip(whole, resumed):
        assert a.best_step == b.best_step and a.best == b.best and a.curve == b.curve
        for name in a.weights:
            assert np.array_equal(a.weights[name], b.weights[name]), name
