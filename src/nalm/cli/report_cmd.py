"""``nalm report EXPERIMENT``: Markdown and CSV from the results store, no training."""
from __future__ import annotations

from .common import add_experiment_argument, add_results_option, open_store, report_dir


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="tables (Markdown, CSV) of an experiment's stored runs",
                       description="Print an experiment's tables from the runs in the results store and write them "
                                   "(Markdown, CSV) beside the store, in <folder of the store>/<experiment>/; "
                                   "nothing is trained.",
                       epilog="example:\n  nalm report blog-static --results results/nalm.sqlite")
    add_experiment_argument(p)
    add_results_option(p)


def main(args) -> int:
    from ..experiments import get_experiment
    from ..report import write_report

    experiment = get_experiment(args.experiment)
    with open_store(args.results, experiment.name) as store:
        text, paths = write_report(experiment, store, report_dir(args.results, experiment.name))
    print(text)
    print("Report written to " + ", ".join(map(str, paths)))
    return 0
