"""``nalm plot EXPERIMENT``: redraw every figure from the results store, no training."""
from __future__ import annotations

from .common import add_experiment_argument, add_importable_units_option, add_results_option, open_store, report_dir


def add_parser(sub) -> None:
    p = sub.add_parser("plot", help="figures (PNG, SVG) of an experiment's stored runs",
                       description="Draw an experiment's figures (PNG, SVG) from the runs in the results store, "
                                   "beside the store in <folder of the store>/<experiment>/; nothing is trained.",
                       epilog="examples:\n  nalm plot madsen2020-static\n"
                              "  nalm plot blog-static --linear --units myunit:MyUnit")
    add_experiment_argument(p)
    p.add_argument("--linear", action="store_true", help="linear instead of logarithmic error axes")
    add_importable_units_option(p)
    add_results_option(p)


def main(args) -> int:
    from ..experiments import get_experiment
    from ..units.custom import importing_only

    experiment = get_experiment(args.experiment)
    with open_store(args.results, experiment.name) as store:
        runs = store.runs(experiment.name)
    if not runs:
        raise ValueError(f"the store {args.results} holds no runs of {experiment.name}")
    with importing_only(args.units):
        paths = experiment.plot(runs, report_dir(args.results, experiment.name), log=not args.linear)
    print("Figures written to " + ", ".join(map(str, paths)))
    return 0
