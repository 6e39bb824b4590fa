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
    from ..cache import cached_text

    print(cached_text("cards", card_inputs(args), lambda: card(args)), end="")
    return 0


def card(args) -> str:
    cmd = command(args)  # an unknown experiment is refused before PyTorch is imported
    from ..experiments.protocol import protocol_card, render_card
    from ..runner.plan import resolve

    experiment, workload = cmd.experiment, cmd.experiment.workload
    chosen = resolve(experiment, models=cmd.models, targets=cmd.targets, seeds=cmd.seeds, overrides=cmd.overrides)
    loaded, _ = workload.load(experiment, None)
    workload.check(experiment, chosen.configs, cmd.overrides, loaded)  # bad options refused as nalm run refuses them
    return render_card(protocol_card(experiment, chosen, cmd.overrides))


def card_inputs(args) -> dict | None:
    """What the card of ``args`` is a function of, besides nalm's code (the key of the cards kept
    in the user's cache, since building the models imports PyTorch, which takes a second or more);
    ``None`` where a model is a unit from outside nalm, whose source the card depends on too."""
    from ..units.registry import BASELINE_CELLS, UNITS
    from .command import read_config

    config = read_config(args.config) if getattr(args, "config", None) else {}
    names = [*(getattr(args, "models", None) or ()), *(config.get("units") or () if isinstance(config.get("units"), list) else ())]
    for name in names:
        for unit in str(name).split("/"):
            if unit not in UNITS and unit not in BASELINE_CELLS and not unit.startswith("mlp-"):
                return None
    flags = ("experiment", "models", "targets", "seeds", "iterations", "paper_scale", "interpolation", "extrapolation")
    return {"flags": {name: getattr(args, name, None) for name in flags}, "config": config}
