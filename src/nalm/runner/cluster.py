"""Parts as Ray tasks on a Ray cluster (``nalm run --ray [ADDRESS]``; ``pip install 'nalm[ray]'``).

Each part (a population or a share of one, :mod:`nalm.runner.parts`) is one Ray task asking
for one CPU, or one GPU for ``--device cuda``. Tasks cannot reach the main process's
SQLite file, so their checkpoints go through a small Ray actor, the *board*: it holds each
part's latest checkpoint (the store's, to begin with), a task resumes from it (a task whose
worker died is retried by Ray and resumes from its part's latest checkpoint), and the main
process moves new checkpoints from the board into the store as they come. Results come back
to the main process, which alone scores and stores runs.
"""
from __future__ import annotations

import socket
import time
from typing import Iterator

from ..results import Checkpoint, ResultsStore
from .parts import Outcome, Part, Session, train_part
from .progress import POLL, Watch

RETRIES = 3
"""How many times Ray reruns a part whose worker died (each time from its latest checkpoint)."""

STOP_POLL = 1.0
"""Seconds between a task's looks at the board for a stop request (a remote call each)."""

_remote: dict = {}  # the Ray task and actor classes, made once Ray is imported


def import_ray():
    try:
        import ray
    except ImportError:
        raise ValueError("--ray needs Ray, an optional extra: pip install 'nalm[ray]'") from None
    return ray


CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a cluster's head to accept a connection (Ray itself retries for minutes)."""


def check_reachable(address: str) -> None:
    """Raise a ValueError unless ``host:port`` (or ``ray://host:port``) accepts a TCP connection
    within :data:`CONNECT_TIMEOUT`; ``auto`` is left to Ray, which fails at once without a cluster."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"a Ray address is auto or HOST:PORT (e.g. 10.0.0.1:6379), got {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT).close()
    except OSError as error:
        raise ValueError(f"cannot reach a Ray cluster at {address!r} ({error.strerror or error}); start one with "
                         "'ray start --head' or give the address its head prints") from None


def connect(address: str) -> dict:
    """Join the Ray cluster at ``address`` (``auto``: the one this machine belongs to) unless this
    process already has; the cluster's resources (``{"CPU": 4.0, ...}``)."""
    ray = import_ray()
    if not ray.is_initialized():
        check_reachable(address)
        try:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        except ConnectionError as error:
            raise ValueError(f"cannot reach a Ray cluster at {address!r}: {error}") from None
    return ray.cluster_resources()


def in_ray(parts: list[Part], session: Session) -> Iterator[tuple[Part, Outcome]]:
    """Train the parts as Ray tasks, yielding each as it finishes (see the module docstring); the
    run's progress hears of each part's steps as its task reports them to the board (every
    :data:`STOP_POLL` seconds)."""
    ray = import_ray()
    task, board_class = _remotes(ray)
    store = session.store
    saved = {part.population: store.checkpoint(part.population) for part in parts}
    board = board_class.remote({k: v for k, v in saved.items() if v is not None})
    gpus = any(part.config.device != "cpu" for part in parts)
    resources = {"num_gpus": 1, "num_cpus": 0} if gpus else {"num_cpus": 1}
    running = {task.options(max_retries=RETRIES, **resources).remote(part, board, session.every): part
               for part in parts}
    index = {part.population: i for i, part in enumerate(parts)}
    finished: set[str] = set()
    watch = Watch(parts, session.progress, session.stop, lambda: ray.get(board.stop.remote()))
    try:
        while running:
            done, _ = ray.wait(list(running), num_returns=1, timeout=POLL)
            _save_new(ray, board, store, finished)
            watch.poll({index[population]: steps for population, steps in ray.get(board.steps.remote()).items()})
            for ref in done:
                part = running.pop(ref)
                outcome = ray.get(ref)
                if outcome.finished:
                    finished.add(part.population)
                yield part, outcome
    finally:  # on any way out, tasks save and stop within STOP_POLL seconds; their checkpoints are kept
        ray.get(board.stop.remote())
        if running:
            ray.wait(list(running), num_returns=len(running), timeout=60 * STOP_POLL)
        _save_new(ray, board, store, finished)
        ray.kill(board)


def _save_new(ray, board, store: ResultsStore, finished: set[str]) -> None:
    for checkpoint in ray.get(board.drain.remote()):
        if checkpoint.population not in finished:  # a finished part's runs replaced its checkpoint
            store.put_checkpoint(checkpoint)


class _BoardClient:
    """A task's :class:`~nalm.runner.parts.Channel` to the board: its count of the part's steps
    is reported when it asks whether to stop."""

    def __init__(self, ray, board, population: str, every: float):
        self.ray, self.board, self.population, self.every = ray, board, population, every
        self.asked, self.stopping, self.steps = 0.0, False, 0

    def count(self, n: int) -> None:
        self.steps += n

    def checkpoint(self, population: str) -> Checkpoint | None:
        return self.ray.get(self.board.checkpoint.remote(population))

    def put_checkpoint(self, checkpoint: Checkpoint) -> None:
        self.ray.get(self.board.put_checkpoint.remote(checkpoint))

    def stop(self) -> bool:
        now = time.monotonic()
        if not self.stopping and now - self.asked >= STOP_POLL:
            self.asked, self.stopping = now, self.ray.get(self.board.stopped.remote(self.population, self.steps))
        return self.stopping


class _Board:
    """Each part's latest checkpoint, the ones the main process has not yet stored, each part's
    steps as its task last reported them, and the stop flag."""

    def __init__(self, saved: dict[str, Checkpoint]):
        self.latest, self.new, self.stopping, self.counted = dict(saved), {}, False, {}

    def checkpoint(self, population: str) -> Checkpoint | None:
        return self.latest.get(population)

    def put_checkpoint(self, checkpoint: Checkpoint) -> None:
        self.latest[checkpoint.population] = self.new[checkpoint.population] = checkpoint

    def drain(self) -> list[Checkpoint]:
        new, self.new = list(self.new.values()), {}
        return new

    def stop(self) -> None:
        self.stopping = True

    def stopped(self, population: str, steps: int) -> bool:
        self.counted[population] = steps
        return self.stopping

    def steps(self) -> dict[str, int]:
        return dict(self.counted)

def _train_task(part: Part, board, every: float) -> Outcome:
    import ray

    return train_part(part, _BoardClient(ray, board, part.population, every))


def _remotes(ray):
    if not _remote:
        _remote["task"] = ray.remote(_train_task)
        _remote["board"] = ray.remote(num_cpus=0)(_Board)
    return _remote["task"], _remote["board"]
