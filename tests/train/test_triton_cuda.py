"""The Triton trainer compiled, on a CUDA device, against the CPU's fused step.

Skipped without a CUDA device or Triton, and where the kernels were imported through Triton's
interpreter (tests/train/test_triton.py imports them so, for the rest of its process): run it in
a pytest process of its own (``pytest tests/train/test_triton_cuda.py``).
"""
import importlib.util

import pytest
import torch

from nalm.tasks import presets
from nalm.train import Member, TrainConfig, train_population
from nalm.train.arithmetic import ArithmeticPopulation
from nalm.train.gpu.trainer import TritonSteps
from nalm.train.optim import PopulationOptimizer

pytestmark = [pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
              pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="needs Triton")]
TASK = presets.madsen2020()
MEMBERS = [Member(seed, target, TASK) for seed in range(4) for target in ("add", "sub", "mul", "div", "sqrt")]


@pytest.fixture(scope="module", autouse=True)
def compiled():
    """Skips where the kernels are Triton's interpreted ones (imported so earlier in this process)."""
    from triton.runtime.interpreter import InterpretedFunction

    from nalm.train.gpu.kernel import train_kernel
    if isinstance(train_kernel, InterpretedFunction):
        pytest.skip("the kernels were imported through Triton's interpreter in this process: "
                    "run tests/train/test_triton_cuda.py in a pytest process of its own")


def test_compiled_draws_are_the_cpus_bit_for_bit():
    """Compiled without fusing low + u·width into one FMA, and with division and square root
    correctly rounded, the kernel draws the CPU's inputs and targets exactly."""
    config = TrainConfig(batch_size=128, eval_samples=8, kernel="triton", device="cuda")
    population = ArithmeticPopulation("nau/nmu", MEMBERS, config)
    trainer = TritonSteps(population.net, population.data, config, PopulationOptimizer(population.net.parameters()))
    cpu = ArithmeticPopulation("nau/nmu", MEMBERS, config.replace(device="cpu", kernel=None))
    for step in (0, 12345, 2 ** 32 + 7):
        x, y = trainer.batch(step)
        x_cpu, y_cpu = cpu.data.train_batch(step)
        assert torch.equal(x.cpu(), x_cpu)
        sqrt = torch.tensor([m.target == "sqrt" for m in MEMBERS])  # PyTorch's CPU sqrt differs in the last bit
        assert torch.equal(y.cpu()[~sqrt], y_cpu[~sqrt, :, 0])
        torch.testing.assert_close(y.cpu()[sqrt], y_cpu[sqrt, :, 0], rtol=2e-7, atol=0)


@pytest.mark.parametrize("model", ["nau/nmu", "nau", "nac", "nalu"])  # (NAC• runs are chaotic: rounding parts them)
def test_compiled_training_follows_the_fused_cpu_step(model):
    config = TrainConfig(iterations=200, eval_every=100, eval_samples=256, hidden=2 if "/" in model else None)
    cpu = train_population(model, MEMBERS, config)
    cuda = train_population(model, MEMBERS, config.replace(device="cuda", kernel="triton"))
    for a, b in zip(cpu, cuda):
        assert a.diverged_at == b.diverged_at
        for name in a.weights:
            assert abs(a.weights[name] - b.weights[name]).max() < 1e-3, (a.member, name)
