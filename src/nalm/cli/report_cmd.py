"""``nalm report EXPERIMENT``: Markdown and CSV from the results store, no training."""
from __future__ import annotations

from pathlib import Path

from ..experiments import get_experiment
from ..report import write_report
from ..results import ResultsStore
from .common import add_results_option, report_dir


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="tables (Markdown, CSV) of an experiment's stored runs")
    p.add_argument("experiment")
    add_results_option(p)


def main(args) -> int:
    experiment = get_experiment(args.experiment)
    if not Path(args.results).exists():
        raise ValueError(f"no results store at {args.results}: run `nalm run {experiment.name}` first")
    with ResultsStore(args.results) as store:
        text, paths = write_report(experiment, store, report_dir(args.results, experiment.name))
    print(text)
    print("Report written to " + ", ".join(map(str, paths)))
    return 0
