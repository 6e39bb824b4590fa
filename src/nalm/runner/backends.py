"""Where parts train: in this process, in worker processes (one thread each), or on a Ray
cluster (:mod:`nalm.runner.cluster`). Each backend yields every part with its
:class:`~nalm.runner.parts.Outcome` as it finishes; closing the iterator stops the parts in
training (they save a checkpoint). All three report progress to the run's one
:class:`~nalm.runner.progress.Progress` and stop on the run's one request; worker processes
pass nalm's warnings on to the main process, which warns each once.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import select
import signal
import sys
import threading
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Iterator

from ..errors import Fault, NalmWarning, warn
from ..results import ResultsStore
from . import cluster
from .parts import Outcome, Part, Session, StoreChannel, train_part
from .progress import POLL, Watch


def available_cores() -> int:
    """The cores this process may run on (its affinity, where the platform has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def train_parts(parts: list[Part], session: Session, *, workers: int, ray: str | None = None
                ) -> Iterator[tuple[Part, Outcome]]:
    """Each part with its outcome as it finishes: as Ray tasks with ``ray`` (a cluster address),
    else in this process for one worker or one part, else in ``workers`` worker processes."""
    if ray is not None:
        return cluster.in_ray(parts, session)
    if workers == 1 or len(parts) == 1:
        return in_process(parts, session)
    return in_processes(parts, workers, session)


def in_process(parts: list[Part], session: Session) -> Iterator[tuple[Part, Outcome]]:
    """Train the parts one after another in this process, until one stops."""
    for part in parts:
        outcome = train_part(part, session.channel(part))
        yield part, outcome
        if not outcome.finished:
            return


def in_processes(parts: list[Part], workers: int, session: Session) -> Iterator[tuple[Part, Outcome]]:
    """Train the parts in ``workers`` processes, yielding each as it finishes.

    Workers ignore Ctrl-C, SIGTERM and SIGHUP. When ``session.stop()`` turns true (polled every
    :data:`POLL` seconds), they are told through a flag in shared memory, save a checkpoint at
    the end of their step and return; parts not yet begun are not begun. A worker whose main
    process is gone stops the same way and ends (:func:`_end_with`). Each part counts its steps
    in a shared array, which the main process reads as it polls; a worker's nalm warnings come
    through a queue, and the main process warns each message once, as it polls.
    """
    context = multiprocessing.get_context("forkserver" if sys.platform.startswith("linux") else "spawn")
    if context.get_start_method() == "forkserver":  # the server imports nalm once; each worker forks from it
        context.set_forkserver_preload([__name__, "nalm.experiments"])
    stopping = context.RawValue(ctypes.c_bool, False)  # shared memory, no lock: one writer, read every step
    steps = context.RawArray(ctypes.c_int64, max(len(parts), 1))  # each part's steps, written by its worker only
    said, warned = context.SimpleQueue(), set()  # the workers' warnings, and those warned here

    def warn_once() -> None:  # each worker says what it says once: the run says it once
        while not said.empty():
            category, message = said.get()
            if (category, message) not in warned:
                warned.add((category, message))
                warn(message, category)

    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                             initargs=(str(session.store.path), session.every, stopping, steps, os.getpid(),
                                       said)) as pool:
        running = {pool.submit(_train_in_worker, part, index): (index, part) for index, part in enumerate(parts)}

        def signal_stop() -> None:
            stopping.value = True
            for future in running:
                future.cancel()

        watch = Watch(parts, session.progress, session.stop, signal_stop)
        try:
            while running:
                done, _ = wait(running, timeout=POLL, return_when=FIRST_COMPLETED)
                watch.poll({index: steps[index] for index, _ in running.values()})
                warn_once()
                for future in done:
                    _, part = running.pop(future)
                    if not future.cancelled():
                        try:
                            outcome = future.result()
                        except BrokenProcessPool:
                            raise Fault("a worker process died (killed, or out of memory; from a Python script, "
                                        "one without an `if __name__ == '__main__':` guard): the runs stored and "
                                        "the checkpoints saved so far are kept; the same command resumes") from None
                        yield part, outcome
        finally:  # on any way out (a second Ctrl-C, an error), workers save and stop within a step
            stopping.value = True
    warn_once()  # the workers have ended: what they said last is in the queue


_worker: dict = {}  # in a worker process: its channel's store, seconds between checkpoints, stop() and step counts

ORPHAN_GRACE = 10.0
"""Seconds a worker whose main process is gone gives its part to stop and save before it ends."""


def _start_worker(store_path: str, every: float, stopping, steps, main: int, said) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # sent to the whole process group: the main
        signal.signal(signum, signal.SIG_IGN)  # process decides when to stop, and tells its workers
    _worker.update(store=ResultsStore(store_path), every=every, steps=steps, orphaned=False, training=False)
    _worker["stop"] = lambda: stopping.value or _worker["orphaned"]
    threading.Thread(target=_end_with, args=(main,), daemon=True, name="nalm: end with the main process").start()
    warnings.showwarning = _to_main(said, warnings.showwarning)


def _to_main(said, show):
    """A worker's ``warnings.showwarning``: nalm's warnings go to the main process (``said``, a
    queue), which warns each once; others are shown here, as Python shows them."""
    def showwarning(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, NalmWarning):
            said.put((category, str(message)))
        else:
            show(message, category, filename, lineno, file, line)
    return showwarning


def _train_in_worker(part: Part, index: int) -> Outcome:
    steps = _worker["steps"]

    def count(n: int) -> None:
        steps[index] += n
    _worker["training"] = True
    try:
        return train_part(part, StoreChannel(_worker["store"], _worker["every"], _worker["stop"], count))
    finally:
        _worker["training"] = False


def _end_with(main: int) -> None:
    """A worker's watch on its main process: once that is gone, however it died (kill -9 too), the
    part in training stops at the end of its step, saving a checkpoint, and the worker ends.
    Nothing else would end it: its parent is the fork server, which lives as long as its workers."""
    wait_for_exit(main)
    _worker["orphaned"] = True
    deadline = time.monotonic() + ORPHAN_GRACE
    while _worker["training"] and time.monotonic() < deadline:
        time.sleep(0.05)
    os._exit(1)


def wait_for_exit(pid: int) -> None:
    """Return once process ``pid`` has exited: at once through a pidfd (Linux 5.3 and later), else
    within a second of polling."""
    try:
        descriptor = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except (AttributeError, OSError):
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(1.0)
    select.select([descriptor], [], [])
