"""The Triton trainer (kernel "triton") against the CPU's draws and autograd.

Run through Triton's interpreter, which Triton chooses when it defines a kernel or a library
function (at import): :func:`interpreter` sets TRITON_INTERPRET=1 before Triton and the kernels
are imported, for these tests only, and skips them where either was imported compiled already
(run them in a pytest process of their own then); the compile check runs in a process of its
own (tests/train/test_gpu_static.py). About a fifth of a second per member-step at batch 16, so
populations are tiny and runs short. The draws must be the CPU's bit for bit; gradients and
trained weights agree with autograd to float32 rounding; a member computes in a population
exactly what it computes alone.
"""
import copy
import dataclasses
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from nalm.tasks import StaticTask, presets
from nalm.tasks.targets import TARGETS
from nalm.train import Checkpointing, Member, TrainConfig, TrainingInterrupted, train, train_population
from nalm.train.arithmetic import ArithmeticPopulation
from nalm.train.gpu import trainer as gpu_trainer
from nalm.train.gpu.trainer import TritonSteps, default_kernel
from nalm.train.kernels.draw import draw_batch
from nalm.train.optim import PopulationOptimizer


@pytest.fixture(scope="module", autouse=True)
def interpreter():
    """TRITON_INTERPRET=1 while this module's tests run, its old value back after them."""
    old = os.environ.get("TRITON_INTERPRET")
    os.environ["TRITON_INTERPRET"] = "1"
    try:
        triton = pytest.importorskip("triton")
        from triton.runtime.interpreter import InterpretedFunction

        from nalm.train.gpu.kernel import train_kernel
        if not all(isinstance(f, InterpretedFunction) for f in (triton.language.sum, train_kernel)):
            pytest.skip("Triton or the kernels were imported compiled before these tests, which need its interpreter: "
                        "run tests/train/test_triton.py in a pytest process of its own")
        yield
    finally:
        if old is None:
            del os.environ["TRITON_INTERPRET"]
        else:
            os.environ["TRITON_INTERPRET"] = old


TASK = presets.madsen2020()
SMALL = StaticTask(input_size=12)  # operands of three inputs: the interpreter draws them again in fewer blocks
MEMBERS = [Member(0, "mul", SMALL), Member(1, "div", SMALL)]
# Ramps that are on within a few steps: the regularizers' gradients and their schedule are checked.
RAMPS = {"nau": {"regularizer_start": 0, "regularizer_end": 4}, "nmu": {"regularizer_start": 1, "regularizer_end": 3},
         "nac-mul-nmu": {"regularizer_start": 1, "regularizer_end": 3},
         "mcfc": {"regularizer_start": 0, "regularizer_end": 4}}
# Weights from parameters by each map: tanh(Ŵ)·σ(M̂) (NAC, NAC•), σ(Ŵ) (NAC•,σ), clamped W (NAC•,NMU);
# the log-space layer first and second; the NALU's gate and shared weight, G-NALU's scaled by ln φ;
# MC-FC's gate and its regularizer of squares, its junction's softmax over two outputs (first).
MAPPED = ["nac", "nac-mul", "nac/nac-mul-sigma", "nau/nac-mul-nmu", "nac-mul/nac", "nalu", "g-nalu", "nalu/nmu",
          "nau/g-nalu", "mcfc", "mcfc/nmu", "nau/mcfc", "mcfc/mcfc"]


def _config(**changes):
    values = dict(batch_size=16, iterations=3, eval_every=3, eval_samples=8, hidden=2, unit_options=RAMPS,
                  kernel="triton")
    return TrainConfig(**{**values, **changes})


def _trainer(model, members, **changes):
    config = _config(hidden=None if "/" not in model else 2, **changes)
    population = ArithmeticPopulation(model, members, config)
    return population, TritonSteps(population.net, population.data, config,
                                   PopulationOptimizer(population.net.parameters(), config.optimizer, population.rates))


def _cpu_batch(data, step):
    """Inputs and targets as the fused CPU step draws them (numba), targets computed by numpy."""
    streams, s = data.streams, len(data.keys)
    x = np.empty((s, data.batch_size, data.input_shape[0]), np.float32)
    operands = np.empty((s, data.batch_size, 2), np.float32)
    draw_batch(x, operands, streams.words(step), streams.row_blocks, streams.a_masks, streams.b_masks, streams.spans,
               *streams.ranges)
    y = np.stack([TARGETS[m.target](operands[i, :, 0], operands[i, :, 1]) for i, m in enumerate(data.members)])
    return x[data.stream_of_member], y


@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt")  # sqrt of a < 0 is nan, as on the CPU
@pytest.mark.parametrize("task, step", [(TASK, 7), (StaticTask(input_size=10, interpolation=[-1.3, 2.9]), 2 ** 32 + 5)])
def test_draws_and_targets_are_the_cpus_bit_for_bit(task, step):
    """Every target's operands and result; a row's last partial block; a step past 2^32."""
    members = [Member(seed, target, task) for seed, target in ((3, "sqrt"), (2 ** 40 + 1, "div"), (5, "sub"))]
    population, trainer = _trainer("nau", members)
    x, y = trainer.batch(step)
    x_cpu, y_cpu = _cpu_batch(population.data, step)
    assert np.array_equal(x.numpy(), x_cpu)
    assert np.array_equal(y.numpy(), y_cpu, equal_nan=True)


@pytest.mark.parametrize("model", ["nau/nmu", "nau/nau", "nmu/nau", "nmu/nmu", "nau", "nmu"])
def test_one_step_loss_and_gradients_match_autograd(model):
    """Data loss, the regularizers at a step on their ramps, and clamped weights: on a bound
    (gradient kept) and beyond it (none), as through torch.clamp."""
    population, trainer = _trainer(model, MEMBERS)
    first = population.net.units()[0]
    with torch.no_grad():
        first.W[0, 0, :3] = torch.tensor([1.0, first.lower, 1.25])
        first.W[1, 0, 3] = 0.5  # min(|W|, |1 - |W||) at a tie
    step = 2
    loss, grads = trainer.gradients(step)
    population.net.train()
    reference = population.fit(step) + population.net.regularization(step)
    reference.sum().backward()
    assert population.net.regularization(step).abs().min() > 0
    torch.testing.assert_close(loss, reference.detach(), rtol=2e-6, atol=0)
    for grad, p in zip(grads, population.net.parameters()):
        torch.testing.assert_close(grad, p.grad, rtol=1e-5, atol=1e-6 * p.grad.abs().max().item())
    first.W.grad = None
    population.net.regularization(step).sum().backward()
    regularizer = first.W.grad[0, 0]
    torch.testing.assert_close(grads[0][0, 0, 2], regularizer[2], rtol=1e-6, atol=0)  # beyond its bound: no data gradient
    assert (grads[0][0, 0, :2] - regularizer[:2]).abs().min() > 1e-3  # on a bound: a data gradient


@pytest.mark.parametrize("model", MAPPED)
def test_one_step_gradients_through_weight_maps_match_autograd(model):
    """The gradients of the parameters a weight is computed from (tanh(Ŵ) near 0, where the
    kernel takes its series, and away from it), the log-space layer's through exp and log: as
    close to float64 autograd's as float32 autograd's are (a NALU second cancels: both float32
    gradients are some 1e-5 of the largest off there)."""
    population, trainer = _trainer(model, MEMBERS)
    parameters = list(population.net.parameters())
    with torch.no_grad():
        parameters[0].view(len(MEMBERS), -1)[0, :2] = torch.tensor([1e-3, -0.3])
    step = 2
    loss, grads = trainer.gradients(step)
    population.net.train()
    reference = population.fit(step) + population.net.regularization(step)
    reference.sum().backward()
    x, y = population.data.train_batch(step)
    exact = copy.deepcopy(population.net).double()
    for p in exact.parameters():
        p.grad = None
    (((exact(x.double()) - y.double()) ** 2).mean(dim=(1, 2)) + exact.regularization(step)).sum().backward()
    torch.testing.assert_close(loss, reference.detach(), rtol=1e-5, atol=0)
    assert len(grads) == len(parameters)
    for grad, p, q in zip(grads, parameters, exact.parameters()):
        largest = q.grad.abs().max().item()
        assert largest > 0
        rounding = max((p.grad.double() - q.grad).abs().max().item(), 1e-6 * largest)
        assert (grad.double() - q.grad).abs().max().item() <= 4 * rounding


def _trained(model, members, **changes):
    config = _config(hidden=None if "/" not in model else 2, **changes)
    population = ArithmeticPopulation(model, members, config)
    initial = [p.detach().clone() for p in population.net.parameters()]
    results = train(population)
    return results, [p.detach().clone() for p in population.net.parameters()], initial


@pytest.mark.parametrize("model, optimizer, rates, changes, rel", [
    ("nau/nmu", "adam", (1e-2, 3e-2), {}, 1e-4),
    ("nmu/nau", "rmsprop", (1e-2, 1e-2), {"grad_clip": 0.01}, 1e-4),
    ("nau", "sgd", (0.1, 0.1), {}, 1e-4),
    # A quotient's error near 10^4 moves by 10^-3 between weights 10^-6 apart (the fused CPU
    # step's curve is as far from autograd's).
    ("nac/nac-mul", "adam", (1e-2, 3e-2), {}, 1e-2),
    ("nac-mul-sigma", "rmsprop", (1e-2, 1e-2), {}, 1e-4),
    ("nau/nac-mul-nmu", "sgd", (0.1, 0.1), {"grad_clip": 0.05}, 1e-4),
    ("nalu", "adam", (1e-2, 3e-2), {}, 1e-4),
    ("g-nalu/nmu", "rmsprop", (1e-2, 1e-2), {"grad_clip": 0.05}, 1e-4),
    ("mcfc", "adam", (1e-2, 3e-2), {}, 1e-4),
    ("mcfc/nau", "rmsprop", (1e-2, 1e-2), {}, 1e-4),
    ("nmu/mcfc", "adam", (1e-2, 3e-2), {}, 1e-4),
    ("nalu/nalu", "sgd", (0.1, 0.1), {}, 1e-4),  # (Adam moves a gradient near 0 by its rate either way)
])
def test_trained_weights_match_autograd(model, optimizer, rates, changes, rel):
    """Three steps through the loop in two launches (steps 0-1, then 2: the second continues
    Adam's step count), every optimizer, the regularizers ramping up; per-member learning
    rates; gradients clipped."""
    members = [dataclasses.replace(member, lr=lr) for member, lr in zip(MEMBERS, rates)]
    changes = dict(optimizer=optimizer, iterations=3, eval_every=2, **changes)
    results, weights, initial = _trained(model, members, **changes)
    fused_results, fused, _ = _trained(model, members, kernel=None, fused=False, **changes)
    for w, f, start in zip(weights, fused, initial):
        assert (w - start).abs().max() > 1e-3
        torch.testing.assert_close(w, f, rtol=1e-5, atol=1e-6)
    for r, f in zip(results, fused_results):
        assert r.best_step == f.best_step and r.diverged_at == f.diverged_at is None
        assert r.curve["interpolation"] == pytest.approx(f.curve["interpolation"], rel=rel)


@pytest.mark.parametrize("model", ["nau/nmu", "nac/nac-mul"])
def test_a_member_trains_in_a_population_exactly_as_alone(model):
    _, together, _ = _trained(model, MEMBERS, iterations=2, eval_every=1)  # two launches
    _, alone, _ = _trained(model, [MEMBERS[1]], iterations=2, eval_every=1)
    for t, a in zip(together, alone):
        assert torch.equal(t[1:2], a)


def test_a_diverged_member_stops_where_the_loop_stops_it():
    """A member whose loss is not finite is frozen at that step (the others train on), as in the
    fused step's loop."""
    def run(kernel):
        config = _config(iterations=2, eval_every=2, kernel=kernel, lr=1e-2)
        population = ArithmeticPopulation("nau/nmu", MEMBERS, config)
        with torch.no_grad():
            population.net.units()[1].W[1] = float("nan")
        results = train(population)
        return [r.diverged_at for r in results], [p.detach().clone() for p in population.net.parameters()]

    diverged, weights = run("triton")
    fused_diverged, fused = run(None)
    assert diverged == fused_diverged == [None, 0]
    for w, f in zip(weights, fused):
        torch.testing.assert_close(w, f, rtol=1e-5, atol=1e-6, equal_nan=True)


def test_the_kernel_is_stored_only_when_chosen():
    """Runs stored before the key existed keep their configs and hashes."""
    assert "kernel" not in TrainConfig().to_dict()
    assert TrainConfig(kernel="triton").to_dict()["kernel"] == "triton"
    with pytest.raises(ValueError, match="unknown kernel 'cuda'"):
        TrainConfig(kernel="cuda")


@pytest.mark.parametrize("model, changes, message", [
    ("nalu", {"unit_options": {"nalu": {"gate_bias": True}}}, "NALU is not supported yet"),
    ("nalu", {"unit_options": {"nalu": {"gate": "scalar"}}}, "NALU is not supported yet"),
    ("nalu", {"unit_options": {"nalu": {"shared_weights": False}}}, "NALU is not supported yet"),
    ("nau/nmu", {"dtype": "float64"}, "float32 only so far"),
    ("nau/nmu", {"grad_norm_clip": 1.0}, "grad_norm_clip"),
    ("nau/nmu", {"unit_options": {"nmu": {"regularizer_z": 1.0}}}, "NAU→NMU is not supported yet"),
    ("nau/mul-mcfc", {}, "NAU→MulMCFC is not supported yet"),
    ("nau/nmu", {"hidden": 17}, "hidden widths up to 16"),
])
def test_what_the_kernel_does_not_train_is_refused_in_one_line(model, changes, message):
    with pytest.raises(ValueError, match=message) as error:
        ArithmeticPopulation(model, MEMBERS, _config(**changes))
    assert "\n" not in str(error.value)


def test_a_cuda_device_picks_the_triton_trainer_unless_the_config_names_a_kernel(monkeypatch):
    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    assert default_kernel(TrainConfig(), cuda) == "triton"
    assert default_kernel(TrainConfig(), cpu) is None
    assert default_kernel(TrainConfig(kernel="autograd"), cuda) == "autograd"
    assert default_kernel(TrainConfig(kernel="triton"), cpu) == "triton"
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, package=None: None)  # Triton not installed
    assert default_kernel(TrainConfig(), cuda) is None


def test_by_default_a_population_the_kernel_does_not_train_goes_to_autograd(monkeypatch):
    """As on a CUDA device with Triton (the default chosen here on the CPU, through the
    interpreter): the Triton trainer where it trains the population, else no refusal; a config
    naming "autograd" gets PyTorch's step."""
    monkeypatch.setattr(gpu_trainer, "default_kernel", lambda config, device: config.kernel or "triton")
    optimizer = PopulationOptimizer([torch.zeros(2, 1, requires_grad=True)])
    trained = ArithmeticPopulation("nau/nmu", MEMBERS, _config(kernel=None))
    assert isinstance(trained.step_kernel(optimizer), TritonSteps) and trained.fused is None
    untrained = ArithmeticPopulation("nau/nmu", MEMBERS, _config(kernel=None, hidden=17))  # wider than it trains
    assert untrained.step_kernel(optimizer) is None
    reference = ArithmeticPopulation("nau/nmu", MEMBERS, _config(kernel="autograd"))
    assert reference.step_kernel(optimizer) is None and reference.fused is None
    # what took the steps, as results (and stored runs' environments) record it
    assert (trained.kernel, untrained.kernel, reference.kernel) == ("triton", "fused", "autograd")  # on the cpu
    assert {r.kernel for r in train_population("nau/nmu", MEMBERS[:1], _config(kernel=None, iterations=1))} == {"triton"}
    assert TrainConfig(kernel="autograd").to_dict()["kernel"] == "autograd"


def test_on_cuda_the_kernel_is_the_default_unless_the_config_asks_for_autograd():
    cuda = torch.device("cuda")  # only compared, never allocated on
    assert gpu_trainer.default_kernel(TrainConfig(), cuda) == "triton"
    assert gpu_trainer.default_kernel(TrainConfig(), torch.device("cpu")) is None
    assert gpu_trainer.default_kernel(TrainConfig(kernel="autograd"), cuda) == "autograd"
    assert gpu_trainer.default_kernel(TrainConfig(fused=False), cuda) is None  # "autograd everywhere"


def test_the_cpu_without_the_interpreter_is_refused(monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET")
    with pytest.raises(ValueError, match="set TRITON_INTERPRET=1"):
        ArithmeticPopulation("nau/nmu", MEMBERS, _config())


def test_a_population_stopped_between_launches_resumes_bit_identical():
    """Stopped at the launch boundary of step 2 and resumed from its checkpoint (the loop's,
    with the optimizer's state and step count the kernel advanced): the same weights, curves
    and metrics as never stopped."""
    config, members = _config(iterations=3, eval_every=2), MEMBERS[1:]  # launches of steps 0-1 and 2
    whole = train_population("nau/nmu", members, config)
    saved = []
    with pytest.raises(TrainingInterrupted) as stopped:
        train_population("nau/nmu", members, config, checkpointing=Checkpointing(save=saved.append, stop=lambda: True))
    assert stopped.value.step == saved[-1]["step"] == 2 and saved[-1]["optimizer"]["steps"] == 2
    resumed = train_population("nau/nmu", members, config, checkpointing=Checkpointing(save=saved.append,
                                                                                         resume=saved[-1]))
    for a, b in zip(whole, resumed):
        assert a.curve == b.curve and a.metrics == b.metrics
        for name in a.weights:
            np.testing.assert_array_equal(a.weights[name], b.weights[name])


@pytest.mark.slow
def test_the_interpreter_is_set_for_these_tests_only(tmp_path):
    """A pytest session that runs one of these tests and then another module's: the other sees
    TRITON_INTERPRET as it was (CI runs the slow tests of every module in one session)."""
    probe = tmp_path / "test_probe.py"
    probe.write_text("import os\n\n\ndef test_the_interpreter_is_off():\n"
                     "    assert 'TRITON_INTERPRET' not in os.environ\n")
    root = Path(__file__).resolve().parents[2]
    env = {key: value for key, value in os.environ.items() if key != "TRITON_INTERPRET"}
    env["PYTHONPATH"] = os.pathsep.join([str(root / "src"), *filter(None, [env.get("PYTHONPATH")])])
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(root),
                           "-c", str(root / "pyproject.toml"), f"{__file__}::test_the_kernel_is_stored_only_when_chosen",
                           str(probe)], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "2 passed" in done.stdout, done.stdout + done.stderr


def _part(**overrides):
    """One member of madsen2020-static's NAU→NMU on a·b, at a size the interpreter trains quickly."""
    from nalm.experiments import EXPERIMENTS
    from nalm.runner import prepare
    from nalm.runner.execute import part_of

    plan = prepare(EXPERIMENTS["madsen2020-static"], models=["nau/nmu"], targets=["mul"], seeds=1,
                   overrides={"iterations": 4, "eval_every": 2, "eval_samples": 16, "batch_size": 16, **overrides})
    return part_of(plan, "p", plan.runs)


def test_the_dry_runs_calibration_times_the_path_the_run_takes():
    """Its samples train through the population the run builds: the Triton trainer's launches
    where it is chosen (here forced, through the interpreter), the fused step where it is not."""
    from nalm.runner import calibration

    part = _part(kernel="triton")
    sample, _ = calibration.measure(part, part.members, 16, 3)
    assert (sample.kernel, sample.launch) == ("triton", 3) and sample.steps[1] > 0  # 3 steps in one launch
    default = _part()
    sample, _ = calibration.measure(default, default.members, 16, 3)
    assert (sample.kernel, sample.launch) == ("fused", 1)


@pytest.mark.slow
def test_a_calibration_of_the_triton_trainer_takes_launches_of_the_runs_length():
    from nalm.runner import calibration

    samples = calibration.calibrate({"shape": [_part(kernel="triton")]}, None, budget=0.1)["shape"].samples
    assert [(s.kernel, s.launch) for s in samples] == [("triton", 2), ("triton", 3)]  # steps, then evaluations
