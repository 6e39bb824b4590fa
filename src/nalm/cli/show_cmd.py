"""``nalm show EXPERIMENT``: the experiment's protocol card, every setting with its source; with
``nalm run``'s selection options, the card of that command."""
from __future__ import annotations

from .command import add_command_options, command
from .common import add_experiment_argument


def add_parser(sub) -> None:
    p = sub.add_parser("show", help="an experiment's protocol: every setting, its source, every deviation",
                       description="Print an experiment's protocol card: every setting it runs with (each model as "
                                   "built, with its options), where each comes from, and where it departs from its "
                                   "source. With nalm run's options, the card of that command: the models, targets "
                                   "and settings it would train, and the schedules each model would run.",
                       epilog="examples:\n  nalm show madsen2020-static\n"
                              "  nalm show madsen2020-static --units myunit:MyUnit nau --iterations 2000")
    add_experiment_argument(p)
    add_command_options(p)


def main(args) -> int:
    cmd = command(args)  # an unknown experiment is refused before PyTorch is imported
    from ..experiments.protocol import protocol_card, render_card
    from ..runner.plan import resolve

    chosen = resolve(cmd.experiment, models=cmd.models, targets=cmd.targets, seeds=cmd.seeds, overrides=cmd.overrides)
    print(render_card(protocol_card(cmd.experiment, chosen, cmd.overrides)), end="")
    return 0
