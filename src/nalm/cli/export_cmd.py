"""``nalm export EXPERIMENT --tensorboard DIR``: an experiment's stored runs as TensorBoard logs, no training."""
from __future__ import annotations

from .common import add_experiment_argument, add_results_option, add_selection_options, open_store


def add_parser(sub) -> None:
    p = sub.add_parser("export", help="an experiment's stored runs as TensorBoard logs",
                       description="Write each stored run of an experiment as a TensorBoard run under DIR: its "
                                   "learning curves and final metrics as scalars, its hyperparameters for the HParams "
                                   "tab; nothing is trained and the store is only read. Needs the optional extra: "
                                   "pip install 'nalm[tensorboard]'.",
                       epilog="examples:\n  nalm export blog-static --tensorboard runs/blog-static\n"
                              "  tensorboard --logdir runs/blog-static\n"
                              "  nalm export madsen2020-static --tensorboard runs/madsen --units nau nmu --targets mul")
    add_experiment_argument(p)
    p.add_argument("--tensorboard", required=True, metavar="DIR",
                   help="the folder for the logs, made if missing; a run's files there are rewritten, nothing else "
                        "is touched (one run a folder, MODEL/TARGET/seedK-runID)")
    add_selection_options(p)
    add_results_option(p)


def main(args) -> int:
    from ..experiments import get_experiment
    from ..errors import warn
    from ..report.selection import select_stored
    from ..report.tensorboard import export_tensorboard, tensorboard_modules

    experiment = get_experiment(args.experiment)
    tensorboard_modules()  # the extra is missing: say so before anything is read or written
    with open_store(args.results, experiment.name) as store:
        selection = select_stored(store, experiment.name, models=args.models, targets=args.targets,
                                  versions=args.versions)
    if not selection.runs:
        chosen = " of the units and targets chosen" if args.models or args.targets else ""
        raise ValueError(f"no stored runs of {experiment.name}{chosen} to export: `nalm runs list {experiment.name} "
                         f"--results {args.results}` lists the stored runs")
    if selection.stale:
        warn(f"left out {len(selection.stale)} stale runs of a unit from outside nalm, of another version than the "
             f"current one: --versions all exports every version, each its own model")
    print(export_tensorboard(selection.runs, args.tensorboard))
    return 0
