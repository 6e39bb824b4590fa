"""``nalm list``: experiments, units, models and task presets (read without importing PyTorch)."""
from __future__ import annotations

from . import show_cmd
from ..experiments.registry import EXPERIMENTS, description
from ..units.registry import ACTIVATIONS, BASELINE_CELLS, UNITS
from .common import add_experiment_argument


def add_parser(sub) -> None:
    p = sub.add_parser("list", help="experiments, units, targets and presets; with an experiment, its protocol",
                       description="List what can be named on the command line: experiments, units, models, targets "
                                   "and task presets (a preset is a task that experiments train on, not an "
                                   "experiment). With an experiment, print its protocol card, as `nalm show`.",
                       epilog="examples:\n  nalm list\n  nalm list madsen2020-static")
    add_experiment_argument(p, nargs="?", help="print this experiment's protocol card (as `nalm show`)")


def listing() -> dict[str, list[str]]:
    """What can be named on the command line (computed here, printed by main)."""
    from ..tasks.presets import PRESETS  # numba, no PyTorch
    from ..tasks.targets import TARGETS

    return {
        "experiments": [f"{name}: {description(name)}" for name in EXPERIMENTS],
        "units": [f"{name}: {UNITS.name_of(name)}" for name in UNITS],
        "models": ["<unit> (every layer), <unit>/<unit> (two layers), "
                   f"mlp-<activation> with activation one of none, {', '.join(ACTIVATIONS)}",
                   f"recurrent tasks: <unit> or <unit>/<unit> (cell/readout), or {', '.join(BASELINE_CELLS)}",
                   "trask2018-mnist: <unit> (the cell), lstm or solved; trask2018-translation and trask2018-program: "
                   "lstm or lstm+<unit> (the output layer)",
                   "any unit: also MODULE:CLASS, or a name in the 'nalm.units' entry-point group (docs/units.md)"],
        "targets": list(TARGETS),
        "presets": list(PRESETS),
    }


def main(args) -> int:
    if args.experiment:
        return show_cmd.main(args)
    for section, items in listing().items():
        print(f"{section}:")
        for item in items:
            print(f"  {item}")
    return 0
