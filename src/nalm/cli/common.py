"""Options and helpers shared by subcommands."""
from __future__ import annotations

import signal
from pathlib import Path

from ..results import ResultsStore

DEFAULT_RESULTS = "results/nalm.sqlite"
INTERRUPTED = 130  # the exit code of a command stopped by Ctrl-C: 128 + SIGINT, as a shell reports it
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""What asks a command to stop: Ctrl-C, and what schedulers and terminals send first (Slurm,
Docker, systemd and Kubernetes send SIGTERM before they kill; a closed terminal, SIGHUP)."""


class Interrupted(KeyboardInterrupt):
    """A command stopped by ``signum`` (one of :data:`STOP_SIGNALS`); it exits with 128 + signum."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def add_results_option(parser) -> None:
    parser.add_argument("--results", default=DEFAULT_RESULTS, metavar="PATH",
                        help=f"results store (SQLite; default {DEFAULT_RESULTS})")


def report_dir(results: str, experiment: str) -> Path:
    """Reports go beside the store: results/<experiment>/."""
    return Path(results).parent / experiment


def add_importable_units_option(parser) -> None:
    parser.add_argument("--units", nargs="+", default=[], metavar="MODULE:CLASS",
                        help="units from outside nalm that stored runs are made of, which nalm may import to rebuild "
                             "their networks (it imports no module a stored run names unless you name it here)")


def open_store(results: str, experiment: str) -> ResultsStore:
    """The results store at ``results``, which must exist, opened read-only (reports and figures
    write nothing there)."""
    if not Path(results).exists():
        raise ValueError(f"no results store at {results}: run `nalm run {experiment}` first")
    return ResultsStore(results, readonly=True)
