"""Options and helpers shared by subcommands (imported while the parser is built: nothing heavy
here, see :mod:`nalm.cli.main`)."""
from __future__ import annotations

import signal
from pathlib import Path

from ..experiments.registry import EXPERIMENTS
from ..tasks.targets import TARGETS

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


def completing(words, what: str) -> dict:
    """A shell completion of one of ``words`` (shtab's ``action.complete``, for bash, zsh and
    tcsh); ``what`` names the bash function that offers them. The command's own code still
    checks the name (an argparse ``choices`` would print a usage block instead of nalm's one-line error)."""
    listed = " ".join(words)
    function = f"_nalm_{what}"
    return {"bash": function, "zsh": f"({listed})", "tcsh": f"({listed})",
            "preamble": {"bash": f'{function}() {{\n  compgen -W "{listed}" -- "$1"\n}}\n'}}


def add_experiment_argument(parser, nargs=None, help: str = "the experiment") -> None:
    """The ``EXPERIMENT`` positional: its help lists the experiments, the shell completes them.
    An unknown name is refused by :func:`~nalm.experiments.registry.get_experiment`."""
    action = parser.add_argument("experiment", nargs=nargs, metavar="EXPERIMENT",
                                 help=f"{help}: {', '.join(EXPERIMENTS)} (`nalm list` describes them)")
    action.complete = completing(EXPERIMENTS, "experiments")


def add_targets_option(parser, help: str) -> None:
    """``--targets``: its help lists every target, the shell completes them."""
    action = parser.add_argument("--targets", nargs="+", metavar="TARGET", help=f"{help}: any of {' '.join(TARGETS)}")
    action.complete = completing(TARGETS, "targets")


def add_results_option(parser) -> None:
    parser.add_argument("--results", default=DEFAULT_RESULTS, metavar="PATH", help="the results store, an SQLite file")


def report_dir(results: str, experiment: str) -> Path:
    """Reports go beside the store: results/<experiment>/."""
    return Path(results).parent / experiment


def add_importable_units_option(parser) -> None:
    parser.add_argument("--units", nargs="+", default=[], metavar="MODULE:CLASS",
                        help="units from outside nalm that stored runs are made of, which nalm may import to rebuild "
                             "their networks (it imports no module a stored run names unless you name it here); "
                             "the module must be importable: run from its folder with PYTHONPATH=., or install it")


def open_store(results: str, experiment: str):
    """The results store at ``results``, which must exist, opened read-only (reports and figures
    write nothing there)."""
    from ..results import ResultsStore

    if not Path(results).exists():
        raise ValueError(f"no results store at {results}: run `nalm run {experiment}` first")
    return ResultsStore(results, readonly=True)
