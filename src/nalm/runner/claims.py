"""Runs claimed in the store while they train, so that two commands on one store train each run once.

A command claims the runs it is about to train (:meth:`~nalm.results.ResultsStore.claim`) and
renews its claims every :data:`RENEW` seconds from a thread of its own; another command on the
same store trains only the runs nobody holds, and waits for the rest until they are stored.
Claims lapse :data:`LEASE` seconds after their last renewal, so the runs of a command that was
killed are trained by the next one that asks; at once where that command ran on this machine
and its process is gone. A command that ends, however it ends but killed, releases its claims.
"""
from __future__ import annotations

import os
import socket
import threading
import uuid

from ..results import ResultsStore

LEASE = 60.0
"""Seconds a claim holds without renewal: how long the runs of a killed command wait."""
RENEW = 15.0
"""Seconds between the renewals of a command's claims."""


class Claims:
    """This command's claims on runs of a store: take them with :meth:`take`; used as a context
    manager, they are renewed while it lasts and released at its end."""

    def __init__(self, store: ResultsStore):
        self.store = store
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._ended = threading.Event()
        self._renewer = threading.Thread(target=self._renew, daemon=True, name="nalm: renew claims")

    def take(self, runs: list) -> list:
        """The runs of ``runs`` (:class:`~nalm.runner.plan.Run`) this command holds now: those no
        other command is training."""
        hashes = [run.key.config_hash for run in runs]
        for owner in self.store.claimants(hashes):
            if gone(owner):  # a command killed on this machine: its runs need not wait for the lease
                self.store.release(owner)
        held = self.store.claim(hashes, self.owner, LEASE)
        return [run for run in runs if run.key.config_hash in held]

    def others(self, runs: list) -> set[str]:
        """The other commands training some of ``runs``."""
        return self.store.claimants(run.key.config_hash for run in runs) - {self.owner}

    def __enter__(self) -> "Claims":
        self._renewer.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._ended.set()
        self._renewer.join()
        self.store.release(self.owner)

    def _renew(self) -> None:
        with ResultsStore(self.store.path) as store:  # a connection of this thread's own
            while not self._ended.wait(RENEW):
                store.renew(self.owner, LEASE)


def gone(owner: str) -> bool:
    """Whether ``owner`` (``host:pid:tag``) was a process of this machine that no longer runs."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's process: it runs
        return False
    return False
