"""The CUDA path: the same seeds start from the same weights and train to the same models on
a GPU as on the CPU. Skipped where PyTorch has no CUDA device (the CPU suite cannot run it);
see also the divergence test in test_arithmetic.py and tests/cli/test_cuda_run.py."""
import numpy as np
import pytest
import torch

from nalm.tasks import presets
from nalm.train import Member, TrainConfig, train_population
from nalm.train.data import PopulationData

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _largest_difference(a, b) -> float:
    return max(float(np.abs(a.weights[name] - b.weights[name]).max()) for name in a.weights)


@pytest.mark.parametrize("model, task", [
    # A NALU on madsen2020's 100 inputs is chaotic under Adam (see tests/train/test_fused.py).
    ("nalu", presets.mistry2022("[1,2]", "[2,6]")),
    ("nau/nmu", presets.madsen2020()),
    ("mlp-relu6", presets.madsen2020()),
])
def test_a_population_trains_on_cuda_as_on_the_cpu(model, task):
    """Compared for the members whose trajectories the CPU's two exact implementations (the
    fused step and autograd) agree on to 1e-9: one that parts even between those (a NALU whose
    rounding-noise gradients Adam turns into lr-sized steps: seed 3 on add here, 3e-3 apart
    after 100 steps) cannot follow cuBLAS's sums either."""
    members = [Member(seed, target, task) for seed in range(4) for target in ("add", "mul")]
    config = TrainConfig(iterations=100, eval_every=50, eval_samples=256, dtype="float64", fused=False)
    on_cpu = train_population(model, members, config)
    fused_cpu = train_population(model, members, config.replace(fused=True))
    on_cuda = train_population(model, members, config.replace(device="cuda"))
    start_cpu = train_population(model, members, config.replace(iterations=0))
    start_cuda = train_population(model, members, config.replace(iterations=0, device="cuda"))
    stable = [i for i in range(len(members)) if _largest_difference(on_cpu[i], fused_cpu[i]) < 1e-9]
    assert len(stable) >= len(members) - 2, stable
    for i in range(len(members)):
        for name in on_cpu[i].weights:
            assert np.array_equal(start_cuda[i].weights[name], start_cpu[i].weights[name]), name
    for i in stable:
        cpu, cuda = on_cpu[i], on_cuda[i]
        for name in cpu.weights:
            np.testing.assert_allclose(cuda.weights[name], cpu.weights[name], rtol=1e-6, atol=1e-9, err_msg=name)
        np.testing.assert_allclose(cuda.curve["extrapolation"], cpu.curve["extrapolation"], rtol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("task", [presets.madsen2020(), presets.madsen2020_recurrent()], ids=["static", "recurrent"])
def test_training_batches_are_drawn_on_the_device_with_the_cpus_numbers(dtype, task):
    members = [Member(seed, "mul", task) for seed in (0, 5, 2 ** 33)]
    on_cpu = PopulationData(members, batch_size=64, eval_samples=8, device="cpu", dtype=dtype)
    on_cuda = PopulationData(members, batch_size=64, eval_samples=8, device="cuda", dtype=dtype)
    for step in (0, 17):
        (x_cpu, y_cpu), (x_cuda, y_cuda) = on_cpu.train_batch(step), on_cuda.train_batch(step)
        assert x_cuda.device.type == "cuda"
        torch.testing.assert_close(x_cuda.cpu(), x_cpu, rtol=0, atol=0)
        torch.testing.assert_close(y_cuda.cpu(), y_cpu, rtol=1e-5 if dtype == torch.float32 else 1e-12, atol=0)


def test_the_fused_cpu_step_and_cuda_train_to_the_same_models():
    members = [Member(seed, target, presets.madsen2020()) for seed in range(4) for target in ("add", "mul")]
    config = TrainConfig(iterations=100, eval_every=50, eval_samples=256, dtype="float64")
    for cpu, cuda in zip(train_population("nau/nmu", members, config),
                         train_population("nau/nmu", members, config.replace(device="cuda"))):
        for name in cpu.weights:
            np.testing.assert_allclose(cuda.weights[name], cpu.weights[name], rtol=1e-6, atol=1e-9, err_msg=name)
