"""``nalm plot EXPERIMENT``: redraw every figure from the results store, no training."""
from __future__ import annotations

from .common import (add_experiment_argument, add_report_dir_option, add_results_option, add_selection_options,
                     named_units, open_store, report_dir)


def add_parser(sub) -> None:
    p = sub.add_parser("plot", help="figures (PNG, SVG) of an experiment's stored runs",
                       description="Draw an experiment's figures (PNG, SVG) from the runs in the results store, "
                                   "beside the store in <folder of the store>/<experiment>/; nothing is trained.",
                       epilog="examples:\n  nalm plot madsen2020-static\n"
                              "  nalm plot blog-static --linear --units myunit:MyUnit nac")
    add_experiment_argument(p)
    p.add_argument("--linear", action="store_true", help="linear instead of logarithmic error axes")
    add_selection_options(p, figures=True)
    add_report_dir_option(p)
    add_results_option(p)


def main(args) -> int:
    from ..experiments import get_experiment
    from ..report.selection import select_stored, stale_section
    from ..units.custom import importing_only

    experiment = get_experiment(args.experiment)
    folder = report_dir(args.results, experiment.name, args.report_dir)
    with open_store(args.results, experiment.name) as store:
        selection = select_stored(store, experiment.name, models=args.models, targets=args.targets,
                                  versions=args.versions)
    if not selection.runs:
        chosen = " of the units and targets named" if args.models or args.targets else ""
        stale = f" ({len(selection.stale)} stale runs: --versions all draws them)" if selection.stale else ""
        raise ValueError(f"the store {args.results} holds no runs of {experiment.name}{chosen}{stale}")
    with importing_only(named_units(args.models)):
        paths = experiment.plot(selection.runs, folder, log=not args.linear)
    print("Figures written to " + ", ".join(map(str, paths)))
    note = stale_section(experiment.name, selection, shown_in="the figures")
    if note:
        print("\n".join(note[2:]).rstrip())  # the section without its heading
    return 0
