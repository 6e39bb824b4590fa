"""``nalm report EXPERIMENT``: Markdown and CSV from the results store, no training."""
from __future__ import annotations

from ..experiments import get_experiment
from ..report import write_report
from .common import add_report_dir_option, add_results_option, add_selection_options, open_store, report_dir


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="tables (Markdown, CSV) of an experiment's stored runs")
    p.add_argument("experiment")
    add_selection_options(p)
    add_report_dir_option(p)
    add_results_option(p)


def main(args) -> int:
    experiment = get_experiment(args.experiment)
    folder = report_dir(args.results, experiment.name, args.report_dir)
    with open_store(args.results, experiment.name) as store:
        text, paths = write_report(experiment, store, folder, models=args.models, targets=args.targets,
                                   versions=args.versions)
    print(text)
    print("Report written to " + ", ".join(map(str, paths)))
    return 0
