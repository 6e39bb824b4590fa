"""The CUDA path: the same seeds start from the same weights and train to the same models on
a GPU as on the CPU. Skipped where PyTorch has no CUDA device (the CPU suite cannot run it);
see also the divergence test in test_engine.py and tests/cli/test_cuda_run.py."""
import numpy as np
import pytest
import torch

from nalm.tasks import presets
from nalm.train import Member, TrainConfig, train_population

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.mark.parametrize("model", ["nalu", "nau/nmu", "mlp-relu6"])
def test_a_population_trains_on_cuda_as_on_the_cpu(model):
    members = [Member(seed, target, presets.madsen2020()) for seed in range(4) for target in ("add", "mul")]
    config = TrainConfig(iterations=100, eval_every=50, eval_samples=256, dtype="float64")
    on_cpu = train_population(model, members, config)
    on_cuda = train_population(model, members, config.replace(device="cuda"))
    start_cpu = train_population(model, members, config.replace(iterations=0))
    start_cuda = train_population(model, members, config.replace(iterations=0, device="cuda"))
    for cpu, cuda, cpu_start, cuda_start in zip(on_cpu, on_cuda, start_cpu, start_cuda):
        for name in cpu.weights:
            assert np.array_equal(cuda_start.weights[name], cpu_start.weights[name]), name
            np.testing.assert_allclose(cuda.weights[name], cpu.weights[name], rtol=1e-6, atol=1e-9, err_msg=name)
        np.testing.assert_allclose(cuda.curve["extrapolation"], cpu.curve["extrapolation"], rtol=1e-6)
