"""The device is checked when training starts: a store written on a GPU machine is explained,
reported and plotted on a CPU-only one, and training on a missing GPU fails before a store is
touched. Every test here pretends that PyTorch sees no CUDA device."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from nalm.experiments import EXPERIMENTS
from nalm.results import ResultsStore
from nalm.runner import run_experiment
from nalm.train import TrainConfig

TINY = {"iterations": 4, "eval_every": 2, "eval_samples": 8, "batch_size": 8}


@pytest.fixture(autouse=True)
def _no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def as_if_trained_on_cuda(runs):
    """The runs as a store written with ``--device cuda`` holds them."""
    out = []
    for run in runs:
        config = {**run.config, "train": {**run.config["train"], "device": "cuda"}}
        environment = {**run.environment, "device": "cuda", "cuda_device": "NVIDIA H200"}
        out.append(dataclasses.replace(run, config=config, environment=environment, run_id=None, created=""))
    return out


@pytest.fixture(scope="module")
def cuda_store(tmp_path_factory):
    """trask2018-identity (its figure loads every run's network) and trask2018-recurrent (its
    figure loads them as populations) trained on the CPU, stored as if trained on a GPU."""
    folder = tmp_path_factory.mktemp("cuda")
    runs = []
    for name, models in (("trask2018-identity", ["nac", "mlp-relu6"]), ("trask2018-recurrent", ["nau/nmu"])):
        workload = EXPERIMENTS[name].workload
        rule = dataclasses.replace(workload.threshold_rule, samples=8)
        experiment = dataclasses.replace(EXPERIMENTS[name], workload=dataclasses.replace(workload, threshold_rule=rule,
                                                                                         baseline_models=1))
        with ResultsStore(folder / f"{name}.sqlite") as store:
            run_experiment(experiment, store, models=models, targets=experiment.targets[:1], seeds=1,
                           overrides=TINY)
            runs += store.runs(name)
    path = folder / "cuda.sqlite"
    with ResultsStore(path) as store:
        store.put_many(as_if_trained_on_cuda(runs))
    return path


def test_a_stored_cuda_config_builds_on_a_cpu_only_machine():
    config = TrainConfig.from_dict({**TrainConfig().to_dict(), "device": "cuda"})
    assert config.device == "cuda"
    with pytest.raises(ValueError, match="device cuda requested, but this PyTorch has no CUDA device"):
        config.check_device()
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        TrainConfig(device="tpu")


@pytest.mark.parametrize("experiment", ["trask2018-identity", "trask2018-recurrent"])
def test_a_cuda_store_is_reported_and_plotted_without_cuda(run_nalm, cuda_store, experiment):
    for command in ("report", "plot"):
        code, out, err = run_nalm([command, experiment, "--results", cuda_store])
        assert code == 0, err


def test_a_cuda_run_is_explained_without_cuda(run_nalm, cuda_store):
    with ResultsStore(cuda_store) as store:
        run = next(r for r in store.runs("trask2018-identity") if r.model == "nac")
    assert run.config["train"]["device"] == "cuda"
    code, out, err = run_nalm(["explain", run.run_id, "--results", cuda_store])
    assert code == 0, err
    assert f"run {run.run_id}: nac, target identity" in out


def test_a_dry_run_for_a_missing_gpu_fails_in_one_line(run_nalm, blog_argv, tmp_path, monkeypatch):
    """Its estimate would come from a calibration on the device, which this machine lacks."""
    monkeypatch.setenv("NALM_CACHE_DIR", str(tmp_path / "cache"))
    code, out, err = run_nalm(blog_argv(tmp_path / "r.sqlite", "--device", "cuda", "--dry-run"))
    assert (code, out) == (2, "") and not (tmp_path / "cache").exists()  # no calibration kept
    assert err == "nalm: error: device cuda requested, but this PyTorch has no CUDA device available\n"


def test_training_on_a_missing_gpu_fails_in_one_line_before_the_store_is_touched(run_nalm, blog_argv, tmp_path):
    store = tmp_path / "new" / "r.sqlite"
    code, out, err = run_nalm(blog_argv(store, "--device", "cuda"))
    assert code == 2
    assert err == "nalm: error: device cuda requested, but this PyTorch has no CUDA device available\n"
    assert not store.parent.exists()
