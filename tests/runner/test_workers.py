"""Training in worker processes: the same runs whatever the number of workers, stop and resume."""
from __future__ import annotations

import pickle

import pytest

from nalm.experiments import EXPERIMENTS
from nalm.results import ResultsStore
from nalm.runner import RunInterrupted, execute, prepare, run_experiment
from nalm.runner.backends import available_cores
from nalm.runner.execute import part_of, split
from nalm.runner.execute import workers_for as workers_for_workload
from tests.same_runs import assert_same_runs

EXPERIMENT = EXPERIMENTS["madsen2020-static"]
SELECTION = {"models": ["nau"], "targets": ["add", "mul"], "seeds": 3}  # float32 NAU: compiled by test_runner too
CONFIG = {"iterations": 200, "eval_every": 100, "eval_samples": 64}


def stored(path, overrides=CONFIG, **kwargs):
    with ResultsStore(path) as store:
        run_experiment(EXPERIMENT, store, **SELECTION, overrides=overrides, **kwargs)
        return {r.key: r for r in store.runs()}


@pytest.mark.slow  # worker processes: about 9 s on a fresh clone
def test_runs_do_not_depend_on_the_number_of_workers(tmp_path):
    alone = stored(tmp_path / "one.sqlite", workers=1)
    assert_same_runs(stored(tmp_path / "four.sqlite", workers=4), alone, count=6)  # shares of 1 and 2 members


@pytest.mark.slow  # two pools and three runs: about 10 s
def test_workers_stop_on_request_save_checkpoints_and_resume(tmp_path):
    path = tmp_path / "r.sqlite"
    config = {**CONFIG, "iterations": 3000}
    with ResultsStore(path) as store:
        plan = prepare(EXPERIMENT, **SELECTION, overrides=config)
        with pytest.raises(RunInterrupted) as stopped:
            execute(plan, store, workers=2, checkpoint_every=0.01, stop=lambda: len(store.checkpoints()) == 2)
        assert stopped.value.summary.trained == 0 and len(stopped.value.checkpoints) == 2
        assert len(store.checkpoints()) == 2 and store.runs() == []
        assert execute(plan, store, workers=2).trained == 6
        assert store.checkpoints() == []
        resumed = {r.key: r for r in store.runs()}
    with ResultsStore(tmp_path / "whole.sqlite") as store:
        run_experiment(EXPERIMENT, store, **SELECTION, overrides=config)
        assert_same_runs(resumed, {r.key: r for r in store.runs()}, count=6)


def test_the_default_workers_fit_the_cores_and_the_work():
    def workers_for(runs, slots=None):
        return workers_for_workload(EXPERIMENTS["blog-static"].workload, runs, slots)

    def runs(seeds, iterations):
        return prepare(EXPERIMENTS["blog-static"], models=["nac"], targets=["add"], seeds=seeds,
                       overrides={"iterations": iterations}).runs

    assert workers_for(runs(3, 100)) == 1  # seconds of work: no process is worth starting
    assert workers_for(runs(100, 5_000_000)) == min(available_cores(), 100)
    assert workers_for(runs(3, 400_000)) == min(available_cores(), 1)  # 1.2e6 member-steps: one worker's worth
    assert workers_for(runs(3, 400_000), slots=8) == 1 and workers_for(runs(300, 400_000), slots=8) == 8  # a cluster
    assert [len(share) for share in split(list(range(7)), 3)] == [2, 2, 3]
    assert [len(share) for share in split(list(range(2)), 4)] == [1, 1]


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_experiments_parts_reach_a_worker_whole(name):
    """A worker process or a Ray task receives its part pickled, the experiment's workload with
    it, and builds the population from it."""
    experiment = EXPERIMENTS[name]
    plan = prepare(experiment, models=experiment.models[:1], targets=experiment.targets[:1], seeds=1,
                   overrides={"iterations": 1})
    sent = part_of(plan, "p", plan.runs[:1])
    received = pickle.loads(pickle.dumps(sent))
    assert received.workload == experiment.workload and received.members == sent.members
    population = received.workload.population(received)
    assert len(population.members) == 1 and population.model == experiment.models[0]


@pytest.mark.slow  # a pool of two workers, then one: about 10 s
def test_a_rerun_with_other_workers_leaves_no_checkpoint_behind(tmp_path):
    """Checkpoints saved by two workers belong to their shares; stored by one worker, the runs
    take every checkpoint of theirs with them."""
    config = {**CONFIG, "iterations": 3000}
    with ResultsStore(tmp_path / "r.sqlite") as store:
        plan = prepare(EXPERIMENT, **SELECTION, overrides=config)
        with pytest.raises(RunInterrupted):
            execute(plan, store, workers=2, checkpoint_every=0.01, stop=lambda: len(store.checkpoints()) == 2)
        assert len(store.checkpoints()) == 2
        assert execute(plan, store, workers=1).trained == 6
        assert store.checkpoints() == []


def test_the_claims_of_a_command_killed_on_this_machine_are_taken_at_once(tmp_path):
    """A command's claims outlive it only when it is killed; another command on the same machine
    takes them over at once when the owner's process is gone, and waits for a live one's."""
    import os
    import socket
    import subprocess
    import sys
    from types import SimpleNamespace

    from nalm.runner.claims import Claims

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()  # gone, and reaped
    killed, live = f"{socket.gethostname()}:{ended.pid}:x", f"{socket.gethostname()}:{os.getpid()}:y"
    runs = [SimpleNamespace(key=SimpleNamespace(config_hash=name)) for name in ("a", "b")]
    with ResultsStore(tmp_path / "r.sqlite") as store:
        assert store.claim(["a"], killed, 60.0) == {"a"} and store.claim(["b"], live, 60.0) == {"b"}
        assert [run.key.config_hash for run in Claims(store).take(runs)] == ["a"]
