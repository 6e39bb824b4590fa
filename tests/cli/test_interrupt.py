"""Interrupted runs: Ctrl-C saves and says so, ``kill -9`` loses at most the work since the last
checkpoint, and the same command resumes to the runs an uninterrupted command stores."""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from nalm.cli.common import INTERRUPTED
from nalm.experiments import EXPERIMENTS
from nalm.results import ResultsStore, StoreError
from nalm.runner import run_experiment
from tests.same_runs import assert_same_runs

CONFIG = {"eval_samples": 64, "eval_every": 500}  # float32 NAU: the kernel tests/experiments compile too
ITERATIONS = 2000


def argv(results, iterations=ITERATIONS) -> list[str]:
    """Two NAU members for some seconds, a checkpoint every 30 ms."""
    return ["run", "madsen2020-static", "--units", "nau", "--targets", "add", "--seeds", "2", "--iterations",
            str(iterations), "--config", json.dumps(CONFIG), "--checkpoint-every", "0.0005", "--quiet",
            "--results", str(results)]


def said(err: str) -> list[str]:
    """What a command printed on stderr beyond the warning of its run, which cuts the NAU's
    regularizer schedule (5,000 → 50,000 steps) short."""
    return [line for line in err.strip().splitlines() if not line.startswith("nalm: warning: model nau:")]


def wait_for_checkpoint(path, timeout=60.0):
    """The first checkpoint of the store at ``path`` (polled), once there is one."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        time.sleep(0.02)
    while time.monotonic() < deadline:
        try:
            with ResultsStore(path) as store:
                found = store.checkpoints()
        except StoreError:  # the command is creating the store this moment
            found = []
        if found:
            return found[0]
        time.sleep(0.02)
    raise AssertionError("no checkpoint appeared")


def assert_resumed(path, uninterrupted):
    with ResultsStore(path) as store:
        runs = {r.key: r for r in store.runs()}
        assert store.checkpoints() == []  # deleted with the population's runs
    assert_same_runs(runs, uninterrupted, count=2)


def uninterrupted_runs(tmp_path, iterations=ITERATIONS):
    with ResultsStore(tmp_path / "whole.sqlite") as store:
        run_experiment(EXPERIMENTS["madsen2020-static"], store, models=["nau"], targets=["add"], seeds=2,
                       overrides={**CONFIG, "iterations": iterations})
        return {r.key: r for r in store.runs()}


@pytest.mark.slow  # a run interrupted and resumed: about 5 s, 20 s on a fresh clone
def test_ctrl_c_saves_a_checkpoint_says_so_in_one_line_and_the_same_command_resumes(tmp_path, run_nalm):
    path = tmp_path / "r.sqlite"

    def press_ctrl_c():
        wait_for_checkpoint(path)
        os.kill(os.getpid(), signal.SIGINT)

    presser = threading.Thread(target=press_ctrl_c)
    presser.start()
    code, out, err = run_nalm(argv(path))
    presser.join()
    assert code == INTERRUPTED == 130
    assert len(said(err)) == 1 and "Traceback" not in err
    assert "interrupted: 0 runs stored and the population in training at step" in err
    assert "the same command resumes" in err
    with ResultsStore(path) as store:
        (checkpoint,) = store.checkpoints()
        assert store.runs() == [] and 0 < checkpoint.step < ITERATIONS and checkpoint.runs == 2
    code, out, err = run_nalm(argv(path))
    assert code == 0, err
    assert_resumed(path, uninterrupted_runs(tmp_path))


@pytest.mark.slow  # two fresh processes: about 10 s
def test_kill_9_at_any_moment_leaves_the_store_intact_and_the_same_command_resumes(tmp_path):
    path = tmp_path / "r.sqlite"
    command = [sys.executable, "-m", "nalm.cli.main", *argv(path)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_checkpoint(path)
        time.sleep(0.1)  # mid-step, possibly mid-write
    finally:
        process.kill()
        process.wait()
    with ResultsStore(path) as store:
        (checkpoint,) = store.checkpoints()
        assert 0 < checkpoint.step < ITERATIONS
    finished = subprocess.run(command, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert_resumed(path, uninterrupted_runs(tmp_path))


@pytest.mark.slow  # three runs: about 5 s
def test_a_full_disk_stops_the_run_in_one_line_keeping_the_last_checkpoint(tmp_path, run_nalm, monkeypatch):
    """SQLite's own 'database or disk is full' (the file may grow no further after the first
    checkpoint): one line, exit code 1, the previous checkpoint kept, and the same command resumes."""
    path = tmp_path / "r.sqlite"
    saved = []
    original = ResultsStore.put_checkpoint

    def put_checkpoint(store, checkpoint):
        if saved:  # the disk fills up after the first checkpoint
            pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
            store._conn.execute(f"PRAGMA max_page_count = {pages}")
            checkpoint = dataclasses.replace(checkpoint, state=checkpoint.state + bytes(1 << 20))
        original(store, checkpoint)
        saved.append(checkpoint.step)

    monkeypatch.setattr(ResultsStore, "put_checkpoint", put_checkpoint)
    code, out, err = run_nalm(argv(path))
    assert code == 1 and len(said(err)) == 1 and "Traceback" not in err
    assert "cannot write (database or disk is full)" in err and "what the store held before is intact" in err
    with ResultsStore(path) as store:
        (checkpoint,) = store.checkpoints()
        assert checkpoint.step == saved[0] and store.runs() == []
    monkeypatch.setattr(ResultsStore, "put_checkpoint", original)
    code, out, err = run_nalm(argv(path))
    assert code == 0, err
    assert_resumed(path, uninterrupted_runs(tmp_path))


@pytest.mark.slow  # a pool of two workers in a fresh process: about 15 s
def test_a_killed_worker_stops_the_run_in_one_line_and_the_same_command_resumes(tmp_path):
    path = tmp_path / "r.sqlite"
    command = [sys.executable, "-m", "nalm.cli.main", *argv(path), "--workers", "2"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_for_checkpoint(path)
    def children(pid):
        return [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]

    workers = [worker for server in children(process.pid) for worker in children(server)]  # forked by the server
    assert workers, "no worker process found"
    os.kill(workers[0], signal.SIGKILL)
    err = process.communicate(timeout=120)[1]
    assert process.returncode == 1, err
    assert "a worker process died" in err and "the same command resumes" in err and "Traceback" not in err
    finished = subprocess.run(command, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert_resumed(path, uninterrupted_runs(tmp_path))


@pytest.mark.slow  # two fresh processes: about 10 s
def test_two_commands_writing_one_store_store_each_run_once(tmp_path):
    path = tmp_path / "r.sqlite"
    command = [sys.executable, "-m", "nalm.cli.main", *argv(path)]
    processes = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    errors = [p.communicate(timeout=300)[1] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], errors
    assert_resumed(path, uninterrupted_runs(tmp_path))


LONG = 40_000  # two workers of one member each: tens of seconds, so that a signal finds them training


def live_processes(session: int) -> list[int]:
    """The processes of ``session`` (a command started in a session of its own) that have not
    exited: whatever is left of a command that ended."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()  # after the command name: state, ppid, pgrp, session
        except (OSError, IndexError):
            continue
        if entry.isdigit() and int(fields[3]) == session and fields[0] != "Z":
            found.append(int(entry))
    return found


def assert_nothing_outlives(session: int, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while live_processes(session) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert live_processes(session) == [], "processes outlived the command"


def start_with_two_workers(path) -> tuple[list[str], subprocess.Popen]:
    """The long two-member command with two workers, in a session of its own, once it has saved a checkpoint."""
    command = [sys.executable, "-m", "nalm.cli.main", *argv(path, LONG), "--workers", "2"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    wait_for_checkpoint(path)
    return command, process


@pytest.mark.slow  # two workers, stopped, then resumed: about 30 s
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds the command's processes through /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_schedulers_signal_stops_every_worker_as_ctrl_c_does_and_the_same_command_resumes(tmp_path, signum):
    """SIGTERM (what Slurm, Docker, systemd and Kubernetes send before they kill) and SIGHUP (a closed
    terminal) stop the workers at the end of their step, which save their checkpoints: one line,
    exit code 128 + the signal, no process left behind."""
    path = tmp_path / "r.sqlite"
    command, process = start_with_two_workers(path)
    process.send_signal(signum)
    err = process.communicate(timeout=120)[1]
    assert process.returncode == 128 + signum, err
    assert len(said(err)) == 1 and "Traceback" not in err
    assert "in training at step" in err and "the same command resumes" in err
    assert_nothing_outlives(process.pid)
    with ResultsStore(path) as store:
        assert store.runs() == [] and store.checkpoints()
    finished = subprocess.run(command, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert_resumed(path, uninterrupted_runs(tmp_path, LONG))


@pytest.mark.slow  # two workers, killed, then resumed: about 30 s
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds the command's processes through /proc")
def test_workers_end_with_a_killed_main_process_and_the_same_command_resumes(tmp_path):
    """kill -9 of the main process: its workers stop within seconds, saving their checkpoints (their
    parent is the fork server, which would outlive the main process as long as they live)."""
    path = tmp_path / "r.sqlite"
    command, process = start_with_two_workers(path)
    process.kill()
    process.wait()
    assert_nothing_outlives(process.pid)
    with ResultsStore(path) as store:
        assert store.runs() == [] and store.checkpoints()  # saved by the workers as they ended, or before
    finished = subprocess.run(command, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert_resumed(path, uninterrupted_runs(tmp_path, LONG))


@pytest.mark.slow  # two fresh processes, one after the other's first checkpoint: about 15 s
def test_a_second_command_waits_for_the_runs_the_first_trains_and_replaces_no_row(tmp_path):
    """The second command finds the runs claimed (the first is training them): it waits, and
    stores nothing twice; the rows the first stored keep their ids."""
    path = tmp_path / "r.sqlite"
    command = [sys.executable, "-m", "nalm.cli.main", *argv(path, LONG)]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_checkpoint(path)
    second = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outs = [process.communicate(timeout=300) for process in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outs
    assert "trained 2 runs, skipped 0" in outs[0][0] and "trained 0 runs, skipped 2" in outs[1][0]
    with ResultsStore(path) as store:
        assert sorted(r.run_id for r in store.runs()) == [1, 2]


def test_a_second_signal_stops_at_once_and_says_the_checkpoints_saved_are_kept(tmp_path, run_nalm, monkeypatch):
    """The second Ctrl-C (or SIGTERM) raises where the run is: the line says what is kept (it
    said "nothing in flight was saved", though workers had saved their checkpoints)."""
    from nalm.cli.common import Interrupted

    def interrupted_twice(*args, **kwargs):
        raise Interrupted(signal.SIGTERM)

    monkeypatch.setattr("nalm.runner.execute", interrupted_twice)  # as `nalm run` imports it
    code, out, err = run_nalm(argv(tmp_path / "r.sqlite"))
    assert code == 128 + signal.SIGTERM and len(said(err)) == 1
    assert "interrupted again, at once" in err and "checkpoints saved so far are kept" in err
    assert "nothing in flight was saved" not in err
