"""``nalm show EXPERIMENT``: the experiment's protocol card, every setting with its source."""
from __future__ import annotations

from .common import add_experiment_argument


def add_parser(sub) -> None:
    p = sub.add_parser("show", help="an experiment's protocol: every setting, its source, every deviation",
                       description="Print an experiment's protocol card: every setting it runs with (each model as "
                                   "built, with its options), where each comes from, and where it departs from its "
                                   "source.",
                       epilog="example:\n  nalm show madsen2020-static")
    add_experiment_argument(p)


def main(args) -> int:
    from ..experiments import get_experiment

    experiment = get_experiment(args.experiment)  # an unknown name is refused before PyTorch is imported
    from ..experiments.protocol import protocol_card, render_card

    print(render_card(protocol_card(experiment)), end="")
    return 0
