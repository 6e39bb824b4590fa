"""``nalm show EXPERIMENT``: the experiment's protocol card, every setting with its source; with
``nalm run``'s selection options, the card of that command."""
from __future__ import annotations

from .command import add_command_options, command


def add_parser(sub) -> None:
    p = sub.add_parser("show", help="an experiment's protocol: every setting, its source, every deviation")
    p.add_argument("experiment")
    add_command_options(p)


def main(args) -> int:
    from ..experiments.protocol import protocol_card, render_card
    from ..runner.plan import resolve

    cmd = command(args)
    chosen = resolve(cmd.experiment, models=cmd.models, targets=cmd.targets, seeds=cmd.seeds, overrides=cmd.overrides)
    print(render_card(protocol_card(cmd.experiment, chosen, cmd.overrides)), end="")
    return 0
