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


def add_report_dir_option(parser) -> None:
    parser.add_argument("--report-dir", metavar="DIR",
                        help="the folder for report.md, the CSV files and the figures (default: <experiment> beside "
                             "the store, e.g. results/madsen2020-static/)")


def report_dir(results: str, experiment: str, chosen: str | None = None) -> Path:
    """Where reports go: ``chosen`` (``--report-dir``), else beside the store, results/<experiment>/."""
    folder = Path(chosen) if chosen else Path(results).parent / experiment
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--report-dir {folder} is a file, not a folder" if chosen else
                         f"{folder}, where the report of {experiment} goes, is a file: name a folder with --report-dir")
    return folder


def add_selection_options(parser, figures: bool = False) -> None:
    """``--units``, ``--targets`` and ``--versions``: which stored runs a report or (``figures``) a
    figure shows."""
    imports = ("; units from outside nalm named here may be imported to redraw figures from their weights (none "
               "other is)") if figures else ""
    parser.add_argument("--units", "--models", nargs="+", dest="models", metavar="MODEL",
                        help="only these models, named as on `nalm run` (nau, nau/nmu, MODULE:CLASS), or one version "
                             f"of a unit from outside nalm as MODEL@VERSION{imports}")
    add_targets_option(parser, "only these targets")
    parser.add_argument("--versions", choices=("current", "all"), default="current",
                        help="of a unit from outside nalm, show its current version (the one the latest `nalm run` ran; the "
                             "older, stale runs are listed under the table) or all: each version its own model, "
                             "MODEL@VERSION")


def named_units(models) -> list[str]:
    """The unit names in model names (``a:X/nmu@1a2b3c4d`` -> a:X, nmu): what a reader may import."""
    return [unit for model in models or () for unit in model.partition("@")[0].split("/")]


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
