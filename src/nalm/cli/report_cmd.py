"""``nalm report EXPERIMENT``: Markdown and CSV from the results store, no training."""
from __future__ import annotations

from .common import add_experiment_argument, add_report_dir_option, add_results_option, add_selection_options, open_store, report_dir


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="tables (Markdown, CSV) of an experiment's stored runs",
                       description="Print an experiment's tables from the runs in the results store and write them "
                                   "(Markdown, CSV) beside the store, in <folder of the store>/<experiment>/ "
                                   "(or --report-dir); nothing is trained.",
                       epilog="examples:\n  nalm report blog-static --results results/nalm.sqlite\n"
                              "  nalm report madsen2020-static --units myunit:MyUnit nau --versions all")
    add_experiment_argument(p)
    add_selection_options(p)
    add_report_dir_option(p)
    add_results_option(p)


def main(args) -> int:
    from ..experiments import get_experiment
    from ..report import write_report

    experiment = get_experiment(args.experiment)
    folder = report_dir(args.results, experiment.name, args.report_dir)
    with open_store(args.results, experiment.name) as store:
        text, paths = write_report(experiment, store, folder, models=args.models, targets=args.targets,
                                   versions=args.versions)
    print(text)
    print("Report written to " + ", ".join(map(str, paths)))
    return 0
