"""``nalm list``: experiments, units, models and task presets."""
from __future__ import annotations

from ..experiments import EXPERIMENTS
from . import show_cmd
from ..tasks import PRESETS, TARGETS
from ..units import ACTIVATIONS, UNITS
from ..units.recurrent import BASELINE_CELLS


def add_parser(sub) -> None:
    p = sub.add_parser("list", help="experiments, units, targets and presets; with an experiment, its protocol")
    p.add_argument("experiment", nargs="?", help="print this experiment's protocol card (as `nalm show`)")


def listing() -> dict[str, list[str]]:
    """What can be named on the command line (computed here, printed by main)."""
    return {
        "experiments": [f"{name}: {e.description}" for name, e in EXPERIMENTS.items()],
        "units": [f"{name}: {cls.__name__}" for name, cls in UNITS.items()],
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
