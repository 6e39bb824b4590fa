"""``nalm report EXPERIMENT``: Markdown and CSV from the results store, no training; with
``--html``, also the figures and one self-contained HTML page."""
from __future__ import annotations

from .common import (add_experiment_argument, add_report_dir_option, add_results_option, add_selection_options,
                     named_units, open_store, report_dir)


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="tables (Markdown, CSV) of an experiment's stored runs",
                       description="Print an experiment's tables from the runs in the results store and write them "
                                   "(Markdown, CSV) beside the store, in <folder of the store>/<experiment>/ "
                                   "(or --report-dir); nothing is trained.",
                       epilog="examples:\n  nalm report blog-static --results results/nalm.sqlite\n"
                              "  nalm report madsen2020-static --units myunit:MyUnit nau --versions all\n"
                              "  nalm report blog-static --html   report.html: open it in any browser, offline")
    add_experiment_argument(p)
    p.add_argument("--html", action="store_true",
                   help="also draw the figures (as `nalm plot` does) and write report.html: the tables, figures, "
                        "published numbers, protocol card and the runs the tables name (formula, learning curves), "
                        "one page that needs no network and no other file")
    add_selection_options(p, figures=True)
    add_report_dir_option(p)
    add_results_option(p)


def main(args) -> int:
    from ..experiments import get_experiment
    from ..report import write_report
    from ..units.custom import importing_only

    experiment = get_experiment(args.experiment)
    folder = report_dir(args.results, experiment.name, args.report_dir)
    with open_store(args.results, experiment.name) as store, importing_only(named_units(args.models)):
        text, paths = write_report(experiment, store, folder, models=args.models, targets=args.targets,
                                   versions=args.versions, figures=args.html, html=args.html)
    print(text)
    print("Report written to " + ", ".join(map(str, paths)))
    return 0
