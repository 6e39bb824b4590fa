"""``nalm show EXPERIMENT``: the experiment's protocol card, every setting with its source."""
from __future__ import annotations

from ..experiments import get_experiment
from ..experiments.protocol import protocol_card, render_card


def add_parser(sub) -> None:
    p = sub.add_parser("show", help="an experiment's protocol: every setting, its source, every deviation")
    p.add_argument("experiment")


def main(args) -> int:
    print(render_card(protocol_card(get_experiment(args.experiment))), end="")
    return 0
