"""``nalm run --ray``: a local two-CPU Ray cluster stores what a local run stores, and a task
whose worker is killed is retried from its checkpoint. Needs ``pip install 'nalm[ray]'``
(CI installs it before the slow tests)."""
from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from nalm.experiments import EXPERIMENTS  # noqa: E402
from nalm.results import ResultsStore, StoreError  # noqa: E402
from nalm.runner import execute, prepare, run_experiment  # noqa: E402
from nalm.runner.cluster import in_ray  # noqa: E402
from tests.runner.test_progress import counting_into, long_parts, told_before_finishing  # noqa: E402
from tests.same_runs import assert_same_runs  # noqa: E402

pytestmark = pytest.mark.slow  # a Ray cluster takes some seconds to start

EXPERIMENT = EXPERIMENTS["madsen2020-static"]
SELECTION = {"models": ["nau/nmu"], "targets": ["add", "mul"], "seeds": 2}


@pytest.fixture(scope="module")
def local_cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def stored(path, config, **execution):
    with ResultsStore(path) as store:
        run_experiment(EXPERIMENT, store, **SELECTION, overrides=config, **execution)
        assert store.checkpoints() == []
        return {r.key: r for r in store.runs()}


def test_a_run_on_ray_stores_what_a_local_run_stores(tmp_path, local_cluster):
    config = {"iterations": 300, "eval_every": 100, "eval_samples": 64}
    on_ray = stored(tmp_path / "ray.sqlite", config, ray="auto", workers=None)  # two tasks, one per CPU
    assert_same_runs(on_ray, stored(tmp_path / "local.sqlite", config), count=4)


def task_processes() -> list[int]:
    """Ray worker processes running a part (Ray titles them after the task)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and b"ray::_train_task" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds Ray's worker processes through /proc")
def test_a_task_whose_worker_is_killed_is_retried_from_its_checkpoint(tmp_path, local_cluster):
    config = {"iterations": 3000, "eval_every": 500, "eval_samples": 64, "dtype": "float64"}
    path = tmp_path / "ray.sqlite"
    killed = []

    def kill_a_worker_after_a_checkpoint():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            try:
                with ResultsStore(path) as store:
                    saved = store.checkpoints()
            except (StoreError, FileNotFoundError):
                saved = []
            pids = task_processes()
            if saved and pids:
                os.kill(pids[0], signal.SIGKILL)
                killed.append((pids[0], saved[0].step))
            time.sleep(0.05)

    killer = threading.Thread(target=kill_a_worker_after_a_checkpoint)
    killer.start()
    on_ray = stored(path, config, ray="auto", workers=2, checkpoint_every=0.05)
    killer.join()
    assert killed and killed[0][1] > 0
    assert_same_runs(on_ray, stored(tmp_path / "local.sqlite", config), count=4)


def test_ray_tasks_report_their_steps_while_they_train(tmp_path, local_cluster):
    parts, told = long_parts(2, 10_000), Counter()
    with ResultsStore(tmp_path / "r.sqlite") as store:
        outcomes = in_ray(parts, counting_into(told, store))
        seen = told_before_finishing(outcomes, told)
    assert set(seen) == {"p0", "p1"}
    assert all(0 < steps <= 10_000 for steps in seen.values()), seen


def test_a_data_set_experiment_on_ray_stores_what_a_local_run_stores(tmp_path, local_cluster, monkeypatch):
    from nalm.experiments.trask2018_program import EXPERIMENT
    from nalm.runner import backends

    on_ray, original = [], backends.cluster.in_ray  # the populations that came back from Ray tasks

    def in_ray(*args, **kwargs):
        for part, outcome in original(*args, **kwargs):
            on_ray.append(part.model)
            yield part, outcome
    monkeypatch.setattr(backends.cluster, "in_ray", in_ray)
    overrides = {"iterations": 6, "eval_every": 3, "dtype": "float64"}
    plan = prepare(EXPERIMENT, models=["lstm", "lstm+nau"], targets=["add"], seeds=2, overrides=overrides)
    stores = {}
    for where, execution in {"ray": {"ray": "auto"}, "here": {}}.items():
        with ResultsStore(tmp_path / f"{where}.sqlite") as store:
            assert execute(plan, store, **execution).trained == 4
            assert store.checkpoints() == []
            stores[where] = {(r.model, r.seed): r for r in store.runs()}
    assert sorted(on_ray) == ["lstm", "lstm+nau"] and stores["ray"].keys() == stores["here"].keys()
    for key, run in stores["here"].items():
        assert stores["ray"][key].metrics == run.metrics and stores["ray"][key].curve == run.curve
        for name, value in run.weights.items():
            assert (stores["ray"][key].weights[name] == value).all(), name
